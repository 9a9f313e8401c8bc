/// Events ready for a store: each with its personal fields already sealed (`EventColumns.names`'
/// `person_sealed`). Sealing is the costliest part of storing an event and needs no database, so an
/// import seals the next batch on its own threads while the store writes the previous one.
public struct SealedEvents: Sendable {
    public var events: [MovementEvent]
    /// The sealed personal bundle of `events[i]`; nil when the event has no personal fields.
    public var personal: [String?]

    /// Seals the events' personal fields and gives each event its cell key (`PersonalDataCipher.cellKey`).
    public init(_ events: [MovementEvent], sealing cipher: some PersonalDataCipher) {
        var events = events
        events.withUnsafeMutableBufferPointer { events in
            for i in events.indices {
                events[i].cellKey = cipher.cellKey(agency: events[i].source.agency, recordKey: events[i].source.recordKey)
            }
        }
        self.events = events
        var bundles: [(clear: String, field: String)] = [], sealedAt: [Int] = []
        bundles.reserveCapacity(events.count)
        // Through a buffer: an array's subscript would copy each event (retaining all its strings).
        events.withUnsafeBufferPointer { events in
            for i in events.indices {
                guard let bundle = PersonalBundle.encode(events[i].person) else { continue }
                bundles.append((bundle, EventColumns.sealContext(agency: events[i].source.agency, recordKey: events[i].source.recordKey)))
                sealedAt.append(i)
            }
        }
        personal = Array(repeating: nil, count: events.count)
        for (i, sealed) in zip(sealedAt, cipher.seal(bundles)) { personal[i] = sealed }
    }

    /// Events that will not be stored (a dry run's preview): nothing is sealed, and storing them would
    /// store no personal fields.
    public init(unsealed events: [MovementEvent]) {
        self.events = events
        personal = Array(repeating: nil, count: events.count)
    }

    public init() { events = []; personal = [] }

    public var count: Int { events.count }
    public var isEmpty: Bool { events.isEmpty }

    /// Joins batches sealed apart (by parallel workers), in order.
    public mutating func append(contentsOf other: SealedEvents) {
        events.append(contentsOf: other.events)
        personal.append(contentsOf: other.personal)
    }
}
