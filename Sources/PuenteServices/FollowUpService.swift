import Foundation
import PuenteAccess
import PuenteCore
import PuenteReintegration

/// The sustainability survey and follow-ups: administering the survey at baseline and at follow-ups
/// (by phone or visit), storing the raw answers sealed and the scores in clear, the weakest dimension
/// to guide the next referral, and the follow-ups due and overdue.
///
/// Scores are computed once, when the survey is recorded, with the instrument and weight table in use
/// then; both are stored with them, so a new instrument version or weight table never changes a score
/// already recorded.
public struct FollowUpService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog
    let cases: CaseService
    public let instrument: SurveyInstrument
    public let weights: WeightTable
    public let schedule: Schedule

    /// When follow-ups are due: months after assistance started, and the days of grace before one is
    /// overdue.
    public struct Schedule: Sendable {
        public var months: [Int]
        public var graceDays: Int

        public init(months: [Int] = [3, 6, 12], graceDays: Int = 14) {
            self.months = months
            self.graceDays = graceDays
        }
    }

    public init(
        store: any PuenteStore, instrument: SurveyInstrument, weights: WeightTable, schedule: Schedule = Schedule()
    ) {
        self.store = store
        audit = AuditLog(store: store)
        cases = CaseService(store: store)
        self.instrument = instrument
        self.weights = weights
        self.schedule = schedule
    }

    /// With the instrument and the unofficial equal weights Puente ships.
    public init(store: any PuenteStore, schedule: Schedule = Schedule()) throws {
        let instrument = try SustainabilitySurvey.defaultInstrument()
        self.init(
            store: store, instrument: instrument, weights: try SustainabilitySurvey.defaultWeights(for: instrument),
            schedule: schedule)
    }

    public enum Occasion: String, CaseIterable, Codable, Sendable {
        /// At reintegration planning, before assistance.
        case baseline
        case followUp = "follow_up"
    }

    public enum Mode: String, CaseIterable, Codable, Sendable {
        case phone
        case visit
    }

    /// A survey as stored in clear: who, when, how, and the scores (the answers are sealed apart).
    public struct Survey: Codable, Hashable, Sendable {
        public var occasion: Occasion
        public var mode: Mode
        public var administeredBy: String
        public var scores: SustainabilityScores
    }

    /// A survey with its record's id and day.
    public struct RecordedSurvey: Codable, Sendable {
        public var id: Int64
        public var caseID: Int64
        public var day: CivilDate
        public var survey: Survey
    }

    static let kind = "survey"

    /// Records a survey for a case. Baseline from screening on, follow-ups once assistance has started.
    @discardableResult
    public func record(
        caseID: Int64, occasion: Occasion, mode: Mode, answers: [String: String], on day: CivilDate? = nil,
        by actor: Actor, today: CivilDate = .today
    ) async throws -> RecordedSurvey {
        let file = try await cases.visibleCase(caseID, by: actor)
        let day = day ?? today
        guard day <= today, day >= file.profile.arrivalDay else {
            throw PuenteError(.invalidArgument, "date: expected a day between the person's arrival and today.")
        }
        guard file.status != .closed else { throw PuenteError(.conflict, "The case is closed; reopen it first.") }
        switch occasion {
        case .baseline:
            guard file.status != .registered else {
                throw PuenteError(.conflict, "The baseline survey comes after screening (the case is registered).")
            }
        case .followUp:
            guard file.workflow.day(reached: .inAssistance) != nil else {
                throw PuenteError(
                    .conflict, "A follow-up comes once assistance has started (the case is \(file.status.rawValue)).")
            }
        }
        try instrument.checkAnswers(answers)
        let survey = Survey(
            occasion: occasion, mode: mode, administeredBy: actor.name,
            scores: instrument.score(answers, weights: weights))
        let record = CaseRecord(
            caseID: caseID, kind: Self.kind, day: day, body: try JSONText.encode(survey),
            content: try JSONText.encode(answers))
        let detail =
            [occasion.rawValue, survey.scores.composite.map { String(format: "%.2f", $0) } ?? "-"]
            + [survey.scores.weakest.map { "weakest:\($0.rawValue)" }].compactMap { $0 }
        let saved = try await store.saveCase(
            CaseChange(
                records: [record],
                entries: [
                    CaseEntry(
                        caseID: caseID, at: "", actor: actor.name, kind: "survey", detail: detail.joined(separator: " ")
                    )
                ]))
        try await audit.record(
            .init(
                actor: actor.name, action: "survey_recorded", target: "case:\(caseID) \(occasion.rawValue)",
                address: actor.address))
        return RecordedSurvey(id: saved.records[0].id, caseID: caseID, day: day, survey: survey)
    }

    /// A case's surveys, oldest first, with their scores (not the answers).
    public func surveys(caseID: Int64, by actor: Actor) async throws -> [RecordedSurvey] {
        _ = try await cases.visibleCase(caseID, by: actor)
        return try await store.caseRecords(caseID: caseID, kind: Self.kind).map(Self.recorded)
    }

    /// The raw answers of a survey; audited as a read of personal data.
    public func answers(surveyID: Int64, caseID: Int64, by actor: Actor) async throws -> [String: String] {
        _ = try await cases.visibleCase(caseID, by: actor)
        guard
            let record = try await store.caseRecords(caseID: caseID, kind: Self.kind).first(where: { $0.id == surveyID }
            ),
            let content = record.content
        else {
            throw PuenteError(.notFound, "There is no survey with that id on that case.")
        }
        try await audit.record(
            .init(
                actor: actor.name, action: "read_personal", target: "case:\(caseID) survey:\(surveyID)",
                address: actor.address))
        return try JSONText.decode(content)
    }

    /// A follow-up that is due: the case, which one of the schedule, and when.
    public struct Due: Codable, Hashable, Sendable {
        public var caseID: Int64
        public var assignee: String?
        /// 1 for the first follow-up of the schedule.
        public var number: Int
        public var dueOn: CivilDate
        public var overdue: Bool
    }

    /// Follow-ups due by `until` among the cases the actor sees: the first one of each case's schedule
    /// not yet done, counted from the day assistance started; overdue once past its grace.
    public func due(until: CivilDate, by actor: Actor, today: CivilDate = .today) async throws -> [Due] {
        let open = try await cases.list(CaseQuery(statuses: [.inAssistance, .followUp], limit: Int.max), by: actor)
        let done = Dictionary(
            grouping: try await store.caseRecords(caseID: nil, kind: Self.kind).map(Self.recorded)
                .filter { $0.survey.occasion == .followUp }, by: \.caseID)
        var out: [Due] = []
        for file in open {
            guard let start = file.workflow.day(reached: .inAssistance) else { continue }
            let count = done[file.id, default: []].filter { $0.day >= start }.count
            guard count < schedule.months.count else { continue }
            let dueOn = start.adding(months: schedule.months[count])
            guard dueOn <= until else { continue }
            out.append(
                Due(
                    caseID: file.id, assignee: file.assignee, number: count + 1, dueOn: dueOn,
                    overdue: today > dueOn.adding(days: schedule.graceDays)))
        }
        return out.sorted { ($0.dueOn, $0.caseID) < ($1.dueOn, $1.caseID) }
    }

    static func recorded(_ record: CaseRecord) throws -> RecordedSurvey {
        RecordedSurvey(id: record.id, caseID: record.caseID, day: record.day, survey: try JSONText.decode(record.body))
    }
}
