import Crypto
import Foundation
import PuenteCore

/// The append-only, hash-chained audit trail over a store. Each entry's hash covers its fields and the
/// previous entry's hash, so an edited entry, a deleted one or a reordering shows in `verify()`.
public struct AuditLog: Sendable {
    let store: any AccessStore

    public init(store: any AccessStore) {
        self.store = store
    }

    /// Something to record; `actor` is a username, `cli:<os user>` or `anonymous`.
    public struct Event: Sendable {
        public var actor: String
        public var action: String
        public var target: String
        public var purpose: String?
        public var address: String?

        public init(actor: String, action: String, target: String, purpose: String? = nil, address: String? = nil) {
            self.actor = actor
            self.action = action
            self.target = target
            self.purpose = purpose
            self.address = address
        }
    }

    /// Appends an entry on the current head; when another writer got there first, builds it again on the
    /// new head.
    @discardableResult
    public func record(_ event: Event) async throws -> AuditEntry {
        for _ in 0..<20 {
            let head = try await store.lastAudit()
            var entry = AuditEntry(sequence: (head?.sequence ?? 0) + 1, at: Timestamp.now(), actor: event.actor, action: event.action,
                                   target: event.target, purpose: event.purpose, address: event.address,
                                   previousHash: head?.hash ?? AuditEntry.genesisHash, hash: "")
            entry.hash = Self.hash(of: entry)
            do {
                try await store.appendAudit(entry)
                return entry
            } catch let error as PuenteError where error.code == .conflict {
                continue
            }
        }
        throw PuenteError(.storeFailure, "The audit trail is too busy to append to; try again.")
    }

    public static func hash(of entry: AuditEntry) -> String {
        SHA256.hash(data: Data(entry.chainedText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// What `verify()` found.
    public struct Verification: Sendable, Equatable {
        public var entries: Int
        /// The first entry that does not fit the chain, and why; nil when the whole trail is intact.
        public var brokenAt: Int64?
        public var problem: String?
        public var intact: Bool { brokenAt == nil }
    }

    /// Walks the whole trail, recomputing every hash and link. An edited, deleted or reordered entry
    /// breaks the chain; entries removed from the end leave a shorter chain that is valid, so they show
    /// only against a head recorded earlier outside the database (`expectedHead`, e.g. from a daily
    /// report): it must be the hash of an entry still in the trail.
    public func verify(expectedHead: String? = nil, pageSize: Int = 5_000) async throws -> Verification {
        var previous = AuditEntry.genesisHash
        var expected: Int64 = 1
        var count = 0
        var headFound = expectedHead == nil || expectedHead == AuditEntry.genesisHash
        while true {
            let page = try await store.auditEntries(after: expected - 1, limit: pageSize)
            for entry in page {
                count += 1
                if entry.sequence != expected {
                    return Verification(entries: count, brokenAt: expected, problem: "entry \(expected) is missing (deleted)")
                }
                if entry.previousHash != previous {
                    return Verification(entries: count, brokenAt: entry.sequence, problem: "entry \(entry.sequence) does not follow the one before it")
                }
                if Self.hash(of: entry) != entry.hash {
                    return Verification(entries: count, brokenAt: entry.sequence, problem: "entry \(entry.sequence) was changed after it was written")
                }
                if entry.hash == expectedHead { headFound = true }
                previous = entry.hash
                expected += 1
            }
            if page.count < pageSize { break }
        }
        guard headFound else {
            return Verification(entries: count, brokenAt: expected,
                                problem: "the expected head is not in the trail: entries after \(expected - 1) were removed from the end")
        }
        return Verification(entries: count, brokenAt: nil, problem: nil)
    }
}
