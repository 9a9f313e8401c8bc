import PuenteAccess
import PuenteCore

/// The clerical review of record linkage: the pairs the model was unsure of, with the events a reviewer
/// needs to judge them (each one shown is a read of personal data, audited as such), and the
/// reviewer's verdict, which the next `link persons` respects.
public struct LinkageReviewService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog
    public static let purpose = "linkage review"

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    public struct QueueItem: Sendable {
        public var pair: ReviewPair
        public var left: MovementEvent?
        public var right: MovementEvent?
    }

    /// The pending pairs, at most `limit`, with their events; one audit entry per event shown.
    public func queue(limit: Int, by actor: Actor) async throws -> [QueueItem] {
        guard (1...200).contains(limit) else { throw PuenteError(.invalidArgument, "Give a limit from 1 to 200.") }
        let pairs = try await store.reviewPairs(pendingOnly: true, limit: limit)
        let ids = Array(Set(pairs.flatMap { [$0.eventL, $0.eventR] })).sorted()
        let events = Dictionary(uniqueKeysWithValues: try await store.events(ids: ids).map { ($0.id, $0) })
        // Who read which personal record, and why: one entry per event shown.
        for id in ids where events[id] != nil {
            try await audit.record(
                .init(
                    actor: actor.name, action: "read_personal", target: "event \(id)",
                    purpose: Self.purpose, address: actor.address))
        }
        return pairs.map { QueueItem(pair: $0, left: events[$0.eventL], right: events[$0.eventR]) }
    }

    /// Records a verdict on a pair and its audit entry.
    public func decide(eventL: Int64, eventR: Int64, _ verdict: ReviewVerdict, by actor: Actor) async throws {
        try await store.decideReview(eventL: eventL, eventR: eventR, match: verdict.isMatch, by: actor.name)
        try await audit.record(
            .init(
                actor: actor.name, action: "link_decision",
                target: "pair \(min(eventL, eventR))-\(max(eventL, eventR)) \(verdict.rawValue)",
                purpose: Self.purpose, address: actor.address))
    }
}
