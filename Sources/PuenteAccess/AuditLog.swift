import Crypto
import Foundation
import PuenteCore
import Synchronization

/// The append-only, hash-chained audit trail over a store. Each entry's hash covers its fields and the
/// previous entry's hash, so an edited entry, a deleted one or a reordering shows in `verify()`. The
/// hash is keyed (HMAC-SHA-256 with a key from the key file, never in the database), so nobody who can
/// only write the database can rebuild the chain after a change; and each new head is recorded beside
/// the key file, so entries cut from the end show too.
public struct AuditLog: Sendable {
    let store: any AccessStore
    let key: (any AuditChainKey)?

    public init(store: any AccessStore) {
        self.store = store
        key = store.auditChainKey
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

    /// Appends through this log (and its copies), one at a time: each builds on the head the previous one
    /// left, so they never race each other for it. Under load, 32 exports of one service at once, each
    /// retrying on the same head, starved some past any retry limit (HTTP bench, CSV statistics). Per log,
    /// not per process: a store that hangs (an unreachable server) must not hold up the others.
    private let appends = Serializer()

    /// Appends an entry on the current head; when another writer (another log, another process) got there
    /// first, builds it again on the new head at once. Pausing first let a writer with appends queued win
    /// every round while the other slept: under load one lost 20 in a row (AccessTests/concurrentAppends
    /// on PostgreSQL). Only after many lost rounds does it pause, briefly, to let a crowd thin out.
    @discardableResult
    public func record(_ event: Event) async throws -> AuditEntry {
        try await appends.run { try await append(event) }
    }

    private func append(_ event: Event) async throws -> AuditEntry {
        for attempt in 0..<50 {
            if attempt >= 10 { try await Task.sleep(for: .milliseconds(Int.random(in: 0...attempt))) }
            let head = try await store.lastAudit()
            var entry = AuditEntry(
                sequence: (head?.sequence ?? 0) + 1, at: Timestamp.now(), actor: event.actor, action: event.action,
                target: event.target, purpose: event.purpose, address: event.address,
                previousHash: head?.hash ?? AuditEntry.genesisHash, hash: "")
            entry.hash = hash(of: entry)
            do {
                try await store.appendAudit(entry)
                // The first keyed entry of a trail that started unkeyed marks where keying began.
                try key?.anchorAuditHead(
                    AuditHead(sequence: entry.sequence, hash: entry.hash, keyedFrom: entry.sequence))
                return entry
            } catch let error as PuenteError where error.code == .conflict {
                continue
            }
        }
        throw PuenteError(.storeFailure, "The audit trail is too busy to append to; try again.")
    }

    func hash(of entry: AuditEntry) -> String {
        key?.auditHash(of: entry.chainedText) ?? Self.unkeyedHash(of: entry)
    }

    /// The hash of trails written before keying (and of stores without a keyring).
    static func unkeyedHash(of entry: AuditEntry) -> String {
        SHA256.hash(data: Data(entry.chainedText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// What `verify()` found.
    public struct Verification: Sendable, Equatable {
        public var entries: Int
        /// The first entry that does not fit the chain, and why; nil when the whole trail is intact.
        public var brokenAt: Int64?
        public var problem: String?
        /// Whether a head recorded outside the database was checked (so a shortened trail would show).
        public var anchored = false
        /// Entries from before keying, hashed with plain SHA-256.
        public var unkeyedEntries = 0
        public var intact: Bool { brokenAt == nil }
    }

    /// Walks the whole trail, recomputing every hash and link. An edited, deleted or reordered entry
    /// breaks the chain. Entries removed from the end leave a shorter chain, which shows against the head
    /// recorded beside the key file, or against a head recorded elsewhere (`expectedHead`, e.g. from a
    /// daily report): each must be the hash of an entry still in the trail.
    public func verify(expectedHead: String? = nil, pageSize: Int = 5_000) async throws -> Verification {
        let anchor = try key?.anchoredAuditHead()
        var result = Verification(entries: 0, anchored: anchor != nil)
        func broken(_ at: Int64, _ problem: String) -> Verification {
            result.brokenAt = at
            result.problem = problem
            return result
        }
        var previous = AuditEntry.genesisHash
        var expected: Int64 = 1
        var keyedSeen = false
        var headFound = expectedHead == nil || expectedHead == AuditEntry.genesisHash
        var anchorFound = anchor == nil
        while true {
            let page = try await store.auditEntries(after: expected - 1, limit: pageSize)
            for entry in page {
                result.entries += 1
                if entry.sequence != expected { return broken(expected, "entry \(expected) is missing (deleted)") }
                if entry.previousHash != previous {
                    return broken(entry.sequence, "entry \(entry.sequence) does not follow the one before it")
                }
                if hash(of: entry) == entry.hash {
                    keyedSeen = keyedSeen || key != nil
                } else if key != nil, Self.unkeyedHash(of: entry) == entry.hash {
                    // Plain SHA-256 is only believed before keying began: anyone can compute it.
                    guard !keyedSeen, entry.sequence < (anchor?.keyedFrom ?? .max) else {
                        return broken(
                            entry.sequence,
                            "entry \(entry.sequence) is not hashed with the node's audit key: it was rewritten")
                    }
                    result.unkeyedEntries += 1
                } else {
                    return broken(entry.sequence, "entry \(entry.sequence) was changed after it was written")
                }
                if entry.hash == expectedHead { headFound = true }
                if let anchor, entry.sequence == anchor.sequence {
                    guard entry.hash == anchor.hash else {
                        return broken(
                            entry.sequence,
                            "entry \(entry.sequence) differs from the head recorded outside the database")
                    }
                    anchorFound = true
                }
                previous = entry.hash
                expected += 1
            }
            if page.count < pageSize { break }
        }
        guard anchorFound else {
            return broken(
                expected,
                "entries \(expected) to \(anchor!.sequence) were removed from the end "
                    + "(the head recorded outside the database is entry \(anchor!.sequence))")
        }
        guard headFound else {
            return broken(
                expected,
                "the expected head is not in the trail: entries after \(expected - 1) were removed from the end")
        }
        return result
    }
}

/// Runs bodies one at a time, in the order they arrive.
final class Serializer: Sendable {
    private struct Queue {
        var busy = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let queue = Mutex(Queue())

    func run<T>(_ body: () async throws -> T) async rethrows -> T {
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = queue.withLock { (queue: inout Queue) -> Bool in
                if queue.busy {
                    queue.waiting.append(turn)
                    return false
                }
                queue.busy = true
                return true
            }
            if now { turn.resume() }
        }
        defer {
            let next = queue.withLock { (queue: inout Queue) -> CheckedContinuation<Void, Never>? in
                guard !queue.waiting.isEmpty else {
                    queue.busy = false
                    return nil
                }
                return queue.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
