import Foundation
import PuenteAccess
import PuenteCore
import PuenteStatistics

extension AuditLog {
    /// The protection a table of units is computed under: the node's `disclosure`, or none for exact
    /// figures, which need the permission, a purpose, and an entry in the audit trail naming `table`.
    func unitPolicy(
        _ disclosure: DisclosurePolicy, exact: Bool, purpose: String?, table: String, by actor: Actor
    ) async throws -> DisclosurePolicy {
        guard exact else { return disclosure }
        guard actor.holds(.exactStatistics) else {
            throw PuenteError(.forbidden, "Exact figures are for statisticians and administrators.")
        }
        guard let purpose, !purpose.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw PuenteError(.invalidArgument, "purpose: exact figures need the purpose they are for.")
        }
        try await record(
            .init(
                actor: actor.name, action: "export", target: "\(table) exact", purpose: purpose, address: actor.address)
        )
        return DisclosurePolicy(method: .none)
    }
}
