import PuenteAccess
import PuenteCore

/// Reading and verifying the audit trail. Reading it is itself recorded.
public struct AuditTrailService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    /// Entries after `after`, at most `limit` (1 to 1,000).
    public func entries(after: Int64, limit: Int, by actor: Actor) async throws -> [AuditEntry] {
        guard after >= 0, (1...1000).contains(limit) else {
            throw PuenteError(.invalidArgument, "Give after ≥ 0 and a limit from 1 to 1000.")
        }
        let entries = try await store.auditEntries(after: after, limit: limit)
        try await audit.record(
            .init(
                actor: actor.name, action: "audit_read", target: "audit after=\(after) limit=\(limit)",
                address: actor.address))
        return entries
    }

    /// The whole chain recomputed (see `AuditLog.verify`), and the head it ends at.
    public func verify(expectedHead: String?) async throws -> (verification: AuditLog.Verification, head: AuditEntry?) {
        (try await audit.verify(expectedHead: expectedHead), try await store.lastAudit())
    }
}
