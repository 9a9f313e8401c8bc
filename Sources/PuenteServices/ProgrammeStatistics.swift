import Foundation
import PuenteAccess
import PuenteCore
import PuenteReintegration
import PuenteStatistics

/// The reintegration programme's figures: cases, plans approved within 30 days of arrival, referrals and
/// those closed within 30 days, grants, and the share of people at or above the sustainability cut-off,
/// by the dimensions each allows. Every table is protected by the node's disclosure policy as the
/// events' tables are (each case, referral and grant carries a cell key from the node's keys); shares
/// come with their denominators, and the survey's cut-off and weight table with the figures that use them.
public struct ProgrammeStatistics: Sendable {
    let store: any PuenteStore
    let audit: AuditLog
    public let disclosure: DisclosurePolicy
    /// The follow-up schedule the response rate is measured against.
    public let schedule: FollowUpService.Schedule

    public init(
        store: any PuenteStore, disclosure: DisclosurePolicy = .standard,
        schedule: FollowUpService.Schedule = .init()
    ) {
        self.store = store
        audit = AuditLog(store: store)
        self.disclosure = disclosure
        self.schedule = schedule
    }

    public enum Measure: String, CaseIterable, Codable, Sendable {
        case cases
        /// Share of cases with an approved plan whose plan was approved within 30 days of arrival.
        case plansWithin30Days = "plans_within_30_days"
        case referrals
        /// Share of referrals the partner closed (completed, failed or rejected) within 30 days.
        case referralsClosedWithin30Days = "referrals_closed_within_30_days"
        case grants
        /// Share of the follow-ups due that were carried out (see `FollowUpRound`): published with every
        /// outcome measured at follow-ups, since those reached may not be those who were not.
        case followUpsResponded = "followups_responded"
        /// Share of people surveyed at a follow-up whose latest composite score is at or above the cut-off.
        case sustainable

        /// The dimensions its units carry.
        public var dimensions: [String] {
            switch self {
            case .cases: ["year", "office", "status", "closure", "sex", "age_group", "municipality"]
            case .plansWithin30Days: ["year", "office", "sex", "age_group"]
            case .referrals: ["year", "partner", "service", "status", "escalated"]
            case .referralsClosedWithin30Days: ["year", "partner", "service"]
            case .grants: ["year", "status", "disbursed"]
            case .followUpsResponded: ["year", "office", "sex", "age_group", "round"]
            case .sustainable: ["year", "office", "sex", "age_group", "weakest"]
            }
        }

        public static func named(_ text: String) throws -> Measure {
            guard let m = Measure(rawValue: text) else {
                throw PuenteError(
                    .unknownMeasure,
                    "measure: expected one of " + allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            return m
        }
    }

    public struct Result: Codable, Sendable {
        public var measure: Measure
        public var table: UnitStatistics.Table
        /// For `sustainable`: the cut-off and weight table of the scores counted (`official` false for
        /// Puente's equal weights), published with every figure.
        public var cutoffs: [String]?
        /// For `sustainable`: the share of follow-ups due that were carried out (protected like the
        /// table), so an outcome is never read without who it leaves out.
        public var responseRate: StatisticsCell?
    }

    /// A table. `exact` (no protection) is for those entitled to exact figures, with a purpose, audited.
    /// `asOf` is the day follow-ups are counted due by (today unless looking back).
    public func table(
        _ measure: Measure, by: [String], exact: Bool = false, purpose: String? = nil, asOf: CivilDate = .today,
        by actor: Actor
    ) async throws -> Result {
        // Every role working on cases holds protected statistics.
        try require(.protectedStatistics, for: actor)
        for d in by where !measure.dimensions.contains(d) {
            throw PuenteError(
                .unknownDimension,
                "by: \(measure.rawValue) is broken down by " + measure.dimensions.joined(separator: ", ") + ".")
        }
        let policy = try await audit.unitPolicy(
            disclosure, exact: exact, purpose: purpose, table: "programme:\(measure.rawValue)", by: actor)
        return compute(
            measure, by: by, policy: policy, units: try await Units(store: store, schedule: schedule, asOf: asOf))
    }

    /// A measure's table over loaded units.
    func compute(_ measure: Measure, by: [String], policy: DisclosurePolicy, units: Units) -> Result {
        func responseRate(by dimensions: [String]) -> UnitStatistics.Table {
            UnitStatistics.shares(
                numerator: units.rounds.filter(\.responded).map(\.unit), denominator: units.rounds.map(\.unit),
                by: dimensions, policy: policy)
        }
        switch measure {
        case .cases:
            return Result(
                measure: measure, table: UnitStatistics.counts(units.cases.map(\.unit), by: by, policy: policy))
        case .plansWithin30Days:
            let approved = units.cases.filter { $0.file.workflow.day(reached: .planApproved) != nil }
            let within = approved.filter {
                $0.file.workflow.day(reached: .planApproved)!.daysSinceEpoch - $0.file.profile.arrivalDay.daysSinceEpoch
                    <= 30
            }
            return Result(
                measure: measure,
                table: UnitStatistics.shares(
                    numerator: within.map(\.unit), denominator: approved.map(\.unit), by: by, policy: policy))
        case .referrals:
            return Result(
                measure: measure, table: UnitStatistics.counts(units.referrals.map(\.unit), by: by, policy: policy))
        case .referralsClosedWithin30Days:
            let within = units.referrals.filter { r in
                [ReferralStatus.completed, .failed, .rejected].compactMap { r.referral.day(reached: $0) }.min().map {
                    $0.daysSinceEpoch - r.referral.requestedOn.daysSinceEpoch <= 30
                } ?? false
            }
            return Result(
                measure: measure,
                table: UnitStatistics.shares(
                    numerator: within.map(\.unit), denominator: units.referrals.map(\.unit), by: by, policy: policy))
        case .grants:
            return Result(measure: measure, table: UnitStatistics.counts(units.grants, by: by, policy: policy))
        case .followUpsResponded:
            return Result(measure: measure, table: responseRate(by: by))
        case .sustainable:
            let surveyed = units.latestFollowUps
            let above = surveyed.filter { $0.scores.sustainable == true }
            let cutoffs = Set(surveyed.map { "\($0.scores.cutoff) (\($0.scores.weights))" }).sorted()
            return Result(
                measure: measure,
                table: UnitStatistics.shares(
                    numerator: above.map(\.unit), denominator: surveyed.map(\.unit), by: by, policy: policy),
                cutoffs: cutoffs, responseRate: responseRate(by: []).total)
        }
    }

    /// The store's cases, referrals, grants and surveys as statistical units.
    struct Units {
        var cases: [(file: CaseFile, unit: StatisticalUnit)] = []
        var referrals: [(referral: Referral, unit: StatisticalUnit)] = []
        var grants: [StatisticalUnit] = []
        var latestFollowUps: [(scores: SustainabilityScores, unit: StatisticalUnit)] = []
        var rounds: [(responded: Bool, unit: StatisticalUnit)] = []

        init(store: any PuenteStore, schedule: FollowUpService.Schedule, asOf: CivilDate) async throws {
            let cipher = store.cipher
            let files = try await store.caseFiles(CaseQuery(limit: Int.max))
            var byID: [Int64: (CaseFile, [String: String])] = [:]
            for file in files {
                let values = [
                    "year": String(file.profile.arrivalDay.year), "office": file.office, "status": file.status.rawValue,
                    "closure": file.workflow.closure?.rawValue ?? "_Z", "sex": file.profile.sex.rawValue,
                    "age_group": AgeGrouping.fiveYear.code(for: file.profile.age),
                    "municipality": file.profile.municipality ?? "_U",
                ]
                byID[file.id] = (file, values)
                cases.append(
                    (
                        file,
                        StatisticalUnit(
                            values: values,
                            cellKey: cipher.cellKey(agency: file.subject.agency, recordKey: file.subject.recordKey))
                    ))
            }
            func key(_ caseID: Int64, _ suffix: String) -> UInt8 {
                guard let (file, _) = byID[caseID] else { return 0 }
                return cipher.cellKey(agency: file.subject.agency, recordKey: file.subject.recordKey + "#" + suffix)
            }
            for r in try await store.referrals(ReferralQuery(limit: Int.max)) {
                let values = [
                    "year": String(r.requestedOn.year), "partner": r.partner, "service": r.service.rawValue,
                    "status": r.status.rawValue, "escalated": r.escalatedOn == nil ? "no" : "yes",
                ]
                referrals.append((r, StatisticalUnit(values: values, cellKey: key(r.caseID, "r\(r.id)"))))
            }
            for record in try await store.caseRecords(caseID: nil, kind: "grant") {
                let grant: Grant = try JSONText.decode(record.body)
                grants.append(
                    StatisticalUnit(
                        values: [
                            "year": String(grant.appliedOn.year), "status": grant.status.rawValue,
                            "disbursed": grant.disbursed.minorUnits > 0 ? "yes" : "no",
                        ], cellKey: key(record.caseID, "g\(record.id)")))
            }
            var latest: [Int64: (CivilDate, Int64, FollowUpService.Survey)] = [:]
            var followUpDays: [Int64: [CivilDate]] = [:]
            for record in try await store.caseRecords(caseID: nil, kind: "survey") {
                let survey: FollowUpService.Survey = try JSONText.decode(record.body)
                guard survey.occasion == .followUp else { continue }
                followUpDays[record.caseID, default: []].append(record.day)
                if let kept = latest[record.caseID], (kept.0, kept.1) > (record.day, record.id) { continue }
                latest[record.caseID] = (record.day, record.id, survey)
            }
            for (caseID, (_, _, survey)) in latest.sorted(by: { $0.key < $1.key }) {
                guard let (_, values) = byID[caseID], survey.scores.composite != nil else { continue }
                var v = values.filter { ["year", "office", "sex", "age_group"].contains($0.key) }
                v["weakest"] = survey.scores.weakest?.rawValue ?? "_Z"
                latestFollowUps.append((survey.scores, StatisticalUnit(values: v, cellKey: key(caseID, "s"))))
            }
            for (file, values) in cases.map({ ($0.file, byID[$0.file.id]!.1) }) {
                for round in FollowUpRound.due(for: file, schedule: schedule, asOf: asOf) {
                    var v = values.filter { ["office", "sex", "age_group"].contains($0.key) }
                    v["year"] = String(round.dueOn.year)
                    v["round"] = String(round.number)
                    rounds.append(
                        (
                            round.responded(by: followUpDays[file.id] ?? []),
                            StatisticalUnit(values: v, cellKey: key(file.id, "f\(round.number)"))
                        ))
                }
            }
        }
    }
}

/// One round of a case's follow-up schedule, for the response rate.
///
/// Round n is due on the day assistance started plus the schedule's n-th interval, and counts as due
/// once its grace has passed by `asOf`, unless the case had closed before the round's window opened (a
/// case closed for lost contact at the round counts as not reached). It was carried out when a
/// follow-up survey falls within its window: half the shortest interval between rounds either side of
/// the day it was due, so a survey answers one round at most.
public struct FollowUpRound: Hashable, Sendable {
    public var number: Int
    public var dueOn: CivilDate
    /// Days either side of `dueOn`.
    public var window: Int

    public func responded(by surveyDays: [CivilDate]) -> Bool {
        surveyDays.contains { abs($0.daysSinceEpoch - dueOn.daysSinceEpoch) <= window }
    }

    public static func due(for file: CaseFile, schedule: FollowUpService.Schedule, asOf: CivilDate)
        -> [FollowUpRound]
    {
        guard let start = file.workflow.day(reached: .inAssistance) else { return [] }
        let gaps = zip([0] + schedule.months, schedule.months).map { $1 - $0 }
        let window = (gaps.min() ?? 3) * 30 / 2
        let closed = file.status == .closed ? file.workflow.day(reached: .closed) : nil
        return schedule.months.enumerated().compactMap { i, months in
            let dueOn = start.adding(months: months)
            guard dueOn.adding(days: schedule.graceDays) <= asOf else { return nil }
            if let closed, closed.daysSinceEpoch < dueOn.daysSinceEpoch - window { return nil }
            return FollowUpRound(number: i + 1, dueOn: dueOn, window: window)
        }
    }
}
