import Foundation
import PuenteAccess
import PuenteCore

/// The keys that seal personal data at rest: adding one, re-sealing stored values with it, retiring an
/// old one. Each change is in the audit trail; the keys themselves never are.
public struct KeyService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    /// Adds a key to the key file and makes it active; returns its id.
    public func addKey(file: URL, by actor: Actor) async throws -> String {
        let id = try Keyring.addKey(file: file)
        try await audit.record(
            .init(actor: actor.name, action: "config", target: "key added:\(id)", address: actor.address))
        return id
    }

    /// Re-seals every stored personal value with the active key, `batchSize` rows per transaction;
    /// returns how many rows changed.
    public func rotate(batchSize: Int, by actor: Actor) async throws -> Int {
        guard batchSize >= 1 else { throw PuenteError(.invalidArgument, "Give a batch size of 1 or more rows.") }
        let changed = try await store.resealPersonalData(batchSize: batchSize)
        try await audit.record(
            .init(actor: actor.name, action: "config", target: "keys rotated rows:\(changed)", address: actor.address))
        return changed
    }

    /// Removes a key from the file once nothing stored is sealed with it any more.
    public func retire(_ id: String, file: URL, by actor: Actor) async throws {
        _ = try await store.resealPersonalData(batchSize: 1_000)
        try Keyring.retire(id, file: file)
        try await audit.record(
            .init(actor: actor.name, action: "config", target: "key retired:\(id)", address: actor.address))
    }
}
