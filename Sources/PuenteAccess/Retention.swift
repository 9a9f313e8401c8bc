import Foundation
import PuenteCore

/// How long personal data is kept (IOM principle 9): after the period, events keep only what statistics
/// count, and rows in quarantine are deleted. Published aggregates never change.
///
/// Each period is the data owner's decision, so none is assumed: an unset period keeps that data.
public struct RetentionPolicy: Sendable, Equatable {
    /// Years after the event date that names, birth dates and document numbers are kept.
    public var personalDataYears: Int?
    /// Days after an import that its rejected rows (raw personal data awaiting correction) are kept.
    public var rejectsDays: Int?

    public init(personalDataYears: Int? = nil, rejectsDays: Int? = nil) {
        self.personalDataYears = personalDataYears
        self.rejectsDays = rejectsDays
    }

    public var isSet: Bool { personalDataYears != nil || rejectsDays != nil }
}

/// Applies retention and erasure to a store, recording each in the audit trail.
public struct DataProtection: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    /// Runs the retention policy as of `now`; returns what it erased.
    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy, now: Date = Date(), by actor: Actor) async throws -> (
        events: Int, rejects: Int
    ) {
        guard policy.isSet else { return (0, 0) }
        let today = CivilDate(daysSinceEpoch: Int((now.timeIntervalSince1970 / 86_400).rounded(.down)))
        // An unset period erases nothing: the cutoff lies before any record.
        let cutoff =
            policy.personalDataYears.map {
                CivilDate(year: today.year - $0, month: today.month, day: min(today.day, 28))!
            }
            ?? CivilDate(year: 1, month: 1, day: 1)!
        let rejectsBefore =
            policy.rejectsDays.map { now.addingTimeInterval(-Double($0) * 86_400).formatted(.iso8601) } ?? "0000"
        let result = try await store.expirePersonalData(eventsBefore: cutoff, rejectsBefore: rejectsBefore)
        try await audit.record(
            .init(
                actor: actor.name, action: "retention",
                target:
                    "events before \(cutoff): \(result.events) erased; rejects before \(rejectsBefore.prefix(10)): \(result.rejects) deleted",
                purpose: "retention "
                    + [policy.personalDataYears.map { "\($0) years" }, policy.rejectsDays.map { "rejects \($0) days" }]
                    .compactMap { $0 }.joined(separator: ", ")))
        return result
    }

    /// Erases one person's records on a justified request (named by the agency's record keys).
    public func erase(agency: String, recordKeys: [String], reason: String, by actor: Actor) async throws -> Int {
        guard (10...500).contains(reason.count) else {
            throw PuenteError(
                .invalidArgument,
                "Give the reason for the erasure (10 to 500 characters): the request and who approved it.")
        }
        let n = try await store.erasePersonalData(agency: agency, recordKeys: recordKeys)
        try await audit.record(
            .init(
                actor: actor.name, action: "erasure",
                target: "agency:\(agency) records:\(recordKeys.count) erased:\(n)",
                purpose: reason))
        return n
    }
}
