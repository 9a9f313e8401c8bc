import Foundation
import PuenteAccess
import PuenteCore
import PuenteReintegration

/// Business plans and seed grants: the application with its plan, a scored review, the decision, a
/// tranche schedule, and each disbursement requested and approved by two different people, with a
/// monitoring visit before every tranche after the first. Money is exact (`Money`, minor units).
///
/// Refused by name: a review or decision by the applicant, an approved amount above the request,
/// tranches adding up to more than the approved amount, a tranche before the previous one is paid or
/// before its visit, a disbursement approved by the person who requested it.
public struct GrantService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog
    let cases: CaseService

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
        cases = CaseService(store: store)
    }

    static let kind = "grant"

    /// A grant with its record's id, case and version.
    public struct RecordedGrant: Codable, Sendable {
        public var id: Int64
        public var caseID: Int64
        public var version: Int
        public var grant: Grant
    }

    // MARK: Application and decision

    /// Applies for a grant on a case whose plan is approved; the business plan is sealed.
    @discardableResult
    public func apply(
        caseID: Int64, amount: String, currency: String, businessPlan: String, by actor: Actor,
        today: CivilDate = .today
    ) async throws -> RecordedGrant {
        let file = try await cases.visibleCase(caseID, by: actor)
        guard [.planApproved, .inAssistance, .followUp].contains(file.status) else {
            throw PuenteError(
                .conflict,
                "A grant is applied for once the case's plan is approved (the case is \(file.status.rawValue)).")
        }
        let requested = try Money(parsing: amount, currency: currency, field: "amount")
        guard requested.minorUnits > 0 else { throw PuenteError(.invalidArgument, "amount: expected more than 0.") }
        guard let plan = try CaseService.text(businessPlan, field: "business plan", max: 20_000) else {
            throw PuenteError(.invalidArgument, "business plan: the application states the business plan.")
        }
        let existing = try await store.caseRecords(caseID: caseID, kind: Self.kind).map(Self.recorded)
        if existing.contains(where: { $0.grant.status != .rejected }) {
            throw PuenteError(.conflict, "The case has a grant already; a new one only after a rejection.")
        }
        let grant = Grant(requested: requested, appliedOn: today, appliedBy: actor.name)
        let saved = try await store.saveCase(
            CaseChange(
                records: [
                    CaseRecord(
                        caseID: caseID, kind: Self.kind, day: today, body: try JSONText.encode(grant), content: plan)
                ],
                entries: [
                    CaseEntry(caseID: caseID, at: "", actor: actor.name, kind: "grant_applied", detail: "\(requested)")
                ]))
        try await audit.record(
            .init(
                actor: actor.name, action: "grant_applied", target: "case:\(caseID) grant:\(saved.records[0].id)",
                address: actor.address))
        return try Self.recorded(saved.records[0])
    }

    /// The scored review (0 to 100), by a supervisor other than the applicant.
    @discardableResult
    public func review(_ id: Int64, score: Int, by actor: Actor) async throws -> RecordedGrant {
        try require(.superviseCases, for: actor)
        guard (0...100).contains(score) else { throw PuenteError(.invalidArgument, "score: expected 0 to 100.") }
        return try await change(id, action: "grant_reviewed", detail: "score \(score)", by: actor) { grant in
            guard grant.status == .applied else { throw Self.wrongStatus(grant, expected: "applied") }
            guard grant.appliedBy != actor.name else {
                throw PuenteError(.forbidden, "Four eyes: the applicant cannot review the application.")
            }
            grant.status = .reviewed
            (grant.reviewScore, grant.reviewedBy) = (score, actor.name)
        }
    }

    /// Approves (an amount up to the request) or rejects (with a reason) a reviewed application.
    @discardableResult
    public func decide(
        _ id: Int64, approve amount: String?, rejectionReason: String? = nil, by actor: Actor, today: CivilDate = .today
    ) async throws -> RecordedGrant {
        try require(.superviseCases, for: actor)
        let reason = try CaseService.text(rejectionReason, field: "reason", max: 500)
        guard (amount == nil) != (reason == nil) else {
            throw PuenteError(.invalidArgument, "decision: give an approved amount, or a reason to reject.")
        }
        return try await change(
            id, action: amount == nil ? "grant_rejected" : "grant_approved", detail: amount ?? "rejected", by: actor
        ) { grant in
            guard grant.status == .reviewed else { throw Self.wrongStatus(grant, expected: "reviewed") }
            guard grant.appliedBy != actor.name else {
                throw PuenteError(.forbidden, "Four eyes: the applicant cannot decide on the application.")
            }
            if let amount {
                let approved = try Money(parsing: amount, currency: grant.requested.currency, field: "amount")
                guard approved.minorUnits > 0, approved <= grant.requested else {
                    throw PuenteError(
                        .invalidArgument, "amount: expected more than 0 and at most the \(grant.requested) requested.")
                }
                (grant.status, grant.approved) = (.approved, approved)
            } else {
                (grant.status, grant.rejectionReason) = (.rejected, reason)
            }
            (grant.decidedBy, grant.decidedOn) = (actor.name, today)
        }
    }

    // MARK: Tranches

    /// Sets the tranche schedule of an approved grant, while none has been requested.
    @discardableResult
    public func schedule(_ id: Int64, tranches: [(amount: String, condition: String?)], by actor: Actor) async throws
        -> RecordedGrant
    {
        try require(.superviseCases, for: actor)
        return try await change(id, action: "grant_scheduled", detail: "tranches \(tranches.count)", by: actor) {
            grant in
            guard grant.status == .approved, let approved = grant.approved else {
                throw Self.wrongStatus(grant, expected: "approved")
            }
            guard grant.tranches.allSatisfy({ $0.status == .scheduled }) else {
                throw PuenteError(.conflict, "A tranche was requested already: the schedule cannot change.")
            }
            guard (1...24).contains(tranches.count) else {
                throw PuenteError(.invalidArgument, "tranches: expected 1 to 24.")
            }
            let scheduled = try tranches.enumerated().map { i, t in
                let amount = try Money(parsing: t.amount, currency: approved.currency, field: "tranche \(i + 1)")
                guard amount.minorUnits > 0 else {
                    throw PuenteError(.invalidArgument, "tranche \(i + 1): expected more than 0.")
                }
                return Grant.Tranche(
                    number: i + 1, amount: amount,
                    condition: try CaseService.line(t.condition, field: "condition", max: 200),
                    status: .scheduled)
            }
            let total = scheduled.reduce(Money.zero(approved.currency)) { $0 + $1.amount }
            guard total <= approved else {
                throw PuenteError(
                    .invalidArgument, "tranches: they add up to \(total), above the \(approved) approved.")
            }
            grant.tranches = scheduled
        }
    }

    /// Requests a tranche's disbursement: the previous tranche paid, and a monitoring visit since.
    @discardableResult
    public func requestTranche(_ id: Int64, number: Int, by actor: Actor) async throws -> RecordedGrant {
        try await change(id, action: "tranche_requested", detail: "tranche \(number)", by: actor) { grant in
            let i = try Self.tranche(number, of: grant, status: .scheduled)
            if i > 0 {
                guard let paid = grant.tranches[i - 1].disbursedOn else {
                    throw PuenteError(.conflict, "Tranche \(number) comes after tranche \(number - 1) is disbursed.")
                }
                guard grant.visits.contains(where: { $0.day >= paid }) else {
                    throw PuenteError(
                        .conflict,
                        "Tranche \(number) needs a monitoring visit after tranche \(number - 1) was disbursed (\(paid))."
                    )
                }
            }
            grant.tranches[i].status = .requested
            grant.tranches[i].requestedBy = actor.name
        }
    }

    /// Approves a requested disbursement: a supervisor other than the person who requested it.
    @discardableResult
    public func approveTranche(_ id: Int64, number: Int, by actor: Actor) async throws -> RecordedGrant {
        try require(.superviseCases, for: actor)
        return try await change(id, action: "tranche_approved", detail: "tranche \(number)", by: actor) { grant in
            let i = try Self.tranche(number, of: grant, status: .requested)
            guard grant.tranches[i].requestedBy != actor.name else {
                throw PuenteError(.forbidden, "Four eyes: the person who requested a disbursement cannot approve it.")
            }
            grant.tranches[i].status = .approved
            grant.tranches[i].approvedBy = actor.name
        }
    }

    /// Records an approved tranche as paid: a cash transfer's reference, or the in-kind items.
    @discardableResult
    public func disburse(
        _ id: Int64, number: Int, reference: String?, inKind: [String] = [], on day: CivilDate? = nil, by actor: Actor,
        today: CivilDate = .today
    ) async throws -> RecordedGrant {
        let reference = try CaseService.line(reference, field: "reference", max: 100)
        let items = try inKind.compactMap { try CaseService.line($0, field: "in-kind item", max: 200) }
        guard (reference == nil) != items.isEmpty else {
            throw PuenteError(.invalidArgument, "disbursement: give a cash reference, or the in-kind items, not both.")
        }
        let day = day ?? today
        guard day <= today else { throw PuenteError(.invalidArgument, "date: expected a day not after today.") }
        return try await change(id, action: "tranche_disbursed", detail: "tranche \(number)", by: actor) { grant in
            let i = try Self.tranche(number, of: grant, status: .approved)
            grant.tranches[i].status = .disbursed
            (grant.tranches[i].disbursedOn, grant.tranches[i].reference) = (day, reference)
            grant.tranches[i].inKind = items.isEmpty ? nil : items
        }
    }

    /// A monitoring visit and the business's status.
    @discardableResult
    public func visit(
        _ id: Int64, business: Grant.BusinessStatus, on day: CivilDate? = nil, by actor: Actor,
        today: CivilDate = .today
    ) async throws -> RecordedGrant {
        let day = day ?? today
        guard day <= today else { throw PuenteError(.invalidArgument, "date: expected a day not after today.") }
        return try await change(id, action: "grant_visit", detail: business.rawValue, by: actor) { grant in
            guard grant.status == .approved else { throw Self.wrongStatus(grant, expected: "approved") }
            grant.visits.append(Grant.Visit(day: day, by: actor.name, business: business))
            grant.visits.sort { $0.day < $1.day }
        }
    }

    // MARK: Reading

    /// A case's grants.
    public func grants(caseID: Int64, by actor: Actor) async throws -> [RecordedGrant] {
        _ = try await cases.visibleCase(caseID, by: actor)
        return try await store.caseRecords(caseID: caseID, kind: Self.kind).map(Self.recorded)
    }

    /// One line of the disbursement ledger.
    public struct LedgerLine: Codable, Hashable, Sendable {
        public var caseID: Int64
        public var grantID: Int64
        public var tranche: Int
        public var amount: Money
        public var disbursedOn: CivilDate
        public var reference: String?
        public var inKind: [String]?
        public var requestedBy: String
        public var approvedBy: String
    }

    /// Every disbursement of the cases the actor sees, by day, and the totals per currency.
    public func ledger(by actor: Actor) async throws -> (lines: [LedgerLine], totals: [String: Money]) {
        let visible = Set(try await cases.list(CaseQuery(limit: Int.max), by: actor).map(\.id))
        var lines: [LedgerLine] = []
        for recorded in try await store.caseRecords(caseID: nil, kind: Self.kind).map(Self.recorded)
        where visible.contains(recorded.caseID) {
            for t in recorded.grant.tranches where t.status == .disbursed {
                lines.append(
                    LedgerLine(
                        caseID: recorded.caseID, grantID: recorded.id, tranche: t.number, amount: t.amount,
                        disbursedOn: t.disbursedOn!, reference: t.reference, inKind: t.inKind,
                        requestedBy: t.requestedBy ?? "", approvedBy: t.approvedBy ?? ""))
            }
        }
        lines.sort { ($0.disbursedOn, $0.grantID, $0.tranche) < ($1.disbursedOn, $1.grantID, $1.tranche) }
        var totals: [String: Money] = [:]
        for line in lines {
            totals[line.amount.currency] = (totals[line.amount.currency] ?? .zero(line.amount.currency)) + line.amount
        }
        return (lines, totals)
    }

    // MARK: Helpers

    /// Reads a grant, applies `edit`, and saves it against the version read, with a timeline entry.
    private func change(
        _ id: Int64, action: String, detail: String, by actor: Actor, _ edit: (inout Grant) throws -> Void
    ) async throws -> RecordedGrant {
        guard var record = try await store.caseRecord(id: id), record.kind == Self.kind else {
            throw PuenteError(
                .notFound, "There is no grant with that id; `puente grants list --case ID` shows a case's.")
        }
        _ = try await cases.visibleCase(record.caseID, by: actor)
        var grant: Grant = try JSONText.decode(record.body)
        try edit(&grant)
        record.body = try JSONText.encode(grant)
        record.content = nil  // the sealed plan stays as written (`CaseRows.updateRecord`)
        let saved = try await store.saveCase(
            CaseChange(
                records: [record],
                entries: [CaseEntry(caseID: record.caseID, at: "", actor: actor.name, kind: action, detail: detail)]))
        try await audit.record(
            .init(
                actor: actor.name, action: action, target: "case:\(record.caseID) grant:\(id) \(detail)",
                address: actor.address))
        return try Self.recorded(saved.records[0])
    }

    static func tranche(_ number: Int, of grant: Grant, status: Grant.TrancheStatus) throws -> Int {
        guard grant.status == .approved else { throw wrongStatus(grant, expected: "approved") }
        guard let i = grant.tranches.firstIndex(where: { $0.number == number }) else {
            throw PuenteError(.notFound, "tranche: the grant has tranches 1 to \(grant.tranches.count).")
        }
        guard grant.tranches[i].status == status else {
            throw PuenteError(
                .conflict,
                "Tranche \(number) is \(grant.tranches[i].status.rawValue); this step needs it \(status.rawValue).")
        }
        return i
    }

    static func wrongStatus(_ grant: Grant, expected: String) -> PuenteError {
        PuenteError(.conflict, "The grant is \(grant.status.rawValue); this step needs it \(expected).")
    }

    static func recorded(_ record: CaseRecord) throws -> RecordedGrant {
        RecordedGrant(
            id: record.id, caseID: record.caseID, version: record.version, grant: try JSONText.decode(record.body))
    }
}
