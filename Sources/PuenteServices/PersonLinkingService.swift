import PuenteAccess
import PuenteCore
import PuenteLinkage

/// Linking the stored events into persons, and encoding them for privacy-preserving linkage with
/// another node; both in the audit trail.
public struct PersonLinkingService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    public func link(_ linking: PersonLinking, by actor: Actor) async throws -> LinkRun {
        let run = try await linking.run(store: store)
        try await audit.record(
            .init(
                actor: actor.name, action: "link_persons", target: "link run \(run.id) (\(run.mode))",
                address: actor.address))
        return run
    }

    /// Hands each stored event and its values to encode ( given names, surnames, birth date, sex,
    /// document as `CLKPersonValues` gives them) to `write`, leaving out erased records and subjects who
    /// withdrew consent to exchange (encodings are made to be shared), and events of other `types` when
    /// given. Returns how many were handed over and left out. `audited` false only to check which events
    /// are still encodable (nothing leaves).
    public func encodeStored(
        types: Set<EventType>? = nil, audited: Bool = true, by actor: Actor,
        _ write: (_ event: MovementEvent, _ values: [String]) throws -> Void
    ) async throws -> (encoded: Int, leftOut: Int) {
        let config = try PersonLinking.defaultConfig()
        let person = try CLKPersonValues(fields: config.fields)
        let columns = config.fields.map(\.readColumns)
        let withdrawn = try await ConsentGate(store: store).excluded(for: .exchange)
        var encoded = 0, leftOut = 0
        for id in try await store.committedImportIDs() {
            try await store.forEachEvent(importID: id) { e in
                if let types, !types.contains(e.type) { return }
                if PersonLinking.isListed(e, in: withdrawn) { leftOut += 1; return }
                let values = person.values { f in columns[f].map { PersonLinking.value(of: e, column: $0) } }
                // erased: nothing to encode
                guard !values[0].isEmpty || !values[1].isEmpty else { leftOut += 1; return }
                try write(e, values)
                encoded += 1
            }
        }
        if audited {
            try await audit.record(
                .init(
                    actor: actor.name, action: "export", target: "clk encodings of \(encoded) stored events",
                    address: actor.address))
        }
        return (encoded, leftOut)
    }
}
