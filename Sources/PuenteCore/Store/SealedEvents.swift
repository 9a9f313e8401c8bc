/// Events ready for a store: each with its personal fields already sealed (`EventColumns.names`'
/// `person_sealed`). Sealing is the costliest part of storing an event and needs no database, so an
/// import seals the next batch on its own threads while the store writes the previous one.
public struct SealedEvents: Sendable {
    public var events: [MovementEvent]
    /// The sealed personal bundle of `events[i]`; nil when the event has no personal fields.
    public var personal: [String?]

    /// The cell key of `events[i]` (`PersonalDataCipher.cellKey`): kept beside the events rather than
    /// written into them, which would copy every event of the batch.
    public var cellKeys: [UInt8]

    /// Seals the events' personal fields and computes their cell keys.
    public init(_ events: [MovementEvent], sealing cipher: some PersonalDataCipher) {
        self.events = events
        cellKeys = cipher.cellKeys(events)
        var bundles: [(clear: String, field: String)] = [], sealedAt: [Int] = []
        bundles.reserveCapacity(events.count)
        // Through a buffer: an array's subscript would copy each event (retaining all its strings).
        events.withUnsafeBufferPointer { events in
            for i in events.indices {
                guard let bundle = PersonalBundle.encode(events[i].person) else { continue }
                bundles.append(
                    (
                        bundle,
                        EventColumns.sealContext(agency: events[i].source.agency, recordKey: events[i].source.recordKey)
                    ))
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
        cellKeys = Array(repeating: 0, count: events.count)
    }

    public init() { events = []; personal = []; cellKeys = [] }

    public var count: Int { events.count }
    public var isEmpty: Bool { events.isEmpty }

    /// Joins batches sealed apart (by parallel workers), in order.
    public mutating func append(contentsOf other: SealedEvents) {
        events.append(contentsOf: other.events)
        personal.append(contentsOf: other.personal)
        cellKeys.append(contentsOf: other.cellKeys)
    }
}
