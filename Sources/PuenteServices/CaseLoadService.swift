import Crypto
import Foundation
import PuenteAccess
import PuenteCore
import PuenteReintegration

/// Replays a folder of case work (`staff.json`, `partners.json`, `actions.jsonl`: see `CaseAction`)
/// through the same services as the screens, each action as the staff member who took it and on its
/// day, so every guard applies: a step the rules refuse stops the load, naming the line. Referrals
/// not acknowledged in time are escalated day by day as `puente serve` would.
///
/// For generated cohorts (`puente generate --reintegration`) and migrations from another case
/// system. Every action is its own transaction: load into a store that does not hold these cases.
public struct CaseLoadService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    public struct Summary: Codable, Sendable {
        public var accounts: Int
        public var partners: Int
        public var actions: Int
        public var cases: Int
        public var referrals: Int
        public var escalated: Int
    }

    public func load(folder: URL, by actor: Actor) async throws -> Summary {
        guard actor.role == .admin else { throw PuenteError(.forbidden, "Loading case work is an administrator's.") }
        func read(_ name: String) throws -> Data {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                throw PuenteError(.notFound, "\(name): not found in the folder.")
            }
            return data
        }
        func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ source: String) throws -> T {
            do { return try JSONDecoder().decode(type, from: data) } catch {
                throw PuenteError(.invalidInput, "\(source): not in the expected form (docs/reintegration.md).")
            }
        }
        let staff = try decode([CaseStaff].self, try read("staff.json"), "staff.json")
        let partners = try decode([Partner].self, try read("partners.json"), "partners.json")
        let actionsData = try read("actions.jsonl")
        // Every line is read before anything is stored.
        var actions: [CaseAction] = []
        for (i, line) in String(decoding: actionsData, as: UTF8.self).split(separator: "\n").enumerated() {
            actions.append(try decode(CaseAction.self, Data(line.utf8), "actions.jsonl line \(i + 1)"))
        }
        var actors: [String: Actor] = [:]
        for member in staff {
            actors[member.username] = Actor(name: member.username, role: member.role, organisation: member.organisation)
        }

        let access = AccessService(store: store)
        var created = 0
        for member in staff {
            if let existing = try await store.user(named: member.username) {
                guard existing.role == member.role, existing.organisation == member.organisation else {
                    throw PuenteError(
                        .conflict, "staff.json: account \(member.username) exists with another role or organisation.")
                }
                continue
            }
            try await access.createUser(
                username: member.username, role: member.role, password: nil, organisation: member.organisation,
                by: actor)
            created += 1
        }
        let referralService = ReferralService(store: store)
        for partner in partners { try await referralService.register(partner, by: actor) }

        var replay = Replay(store: store, actors: actors)
        var escalated = 0
        var lastEscalation: CivilDate?
        for (i, action) in actions.enumerated() {
            // Escalation runs every day before that day's work, as the server's daily job does.
            var day = lastEscalation.map { $0.adding(days: 1) } ?? action.day
            while day <= action.day {
                escalated += try await referralService.escalate(by: .system("escalation"), today: day).count
                lastEscalation = day
                day = day.adding(days: 1)
            }
            do { try await replay.apply(action) } catch let error as PuenteError {
                throw PuenteError(error.code, "actions.jsonl line \(i + 1) (\(action.op.rawValue)): \(error.message)")
            }
        }
        let digest = SHA256.hash(data: actionsData).map { String(format: "%02x", $0) }.joined()
        try await audit.record(
            .init(
                actor: actor.name, action: "cases_loaded",
                target: "actions:\(actions.count) cases:\(replay.cases.count) sha256:\(digest)", address: actor.address)
        )
        return Summary(
            accounts: created, partners: partners.count, actions: actions.count, cases: replay.cases.count,
            referrals: replay.referrals.count, escalated: escalated)
    }

    /// The services an action goes to, and the ids the store gave what earlier actions made.
    struct Replay {
        let store: any PuenteStore
        let actors: [String: Actor]
        var cases: [String: Int64] = [:]
        var referrals: [String: Int64] = [:]
        var referralsPerCase: [String: Int] = [:]
        var grants: [String: Int64] = [:]

        func actor(_ name: String) throws -> Actor {
            guard let actor = actors[name] else {
                throw PuenteError(.invalidInput, "actor: \(name) is not in staff.json.")
            }
            return actor
        }

        mutating func apply(_ a: CaseAction) async throws {
            let who = try actor(a.actor)
            let day = a.day
            let key = "\(a.agency)|\(a.recordKey)"
            func caseID() throws -> Int64 {
                guard let id = cases[key] else { throw PuenteError(.invalidInput, "the case is not open yet.") }
                return id
            }
            func referralID() throws -> Int64 {
                guard let n = a.referral, let id = referrals["\(key)|\(n)"] else {
                    throw PuenteError(.invalidInput, "referral: no such referral on the case.")
                }
                return id
            }
            func grantID() throws -> Int64 {
                guard let id = grants[key] else { throw PuenteError(.invalidInput, "the case has no grant yet.") }
                return id
            }
            func required<T>(_ value: T?, _ field: String) throws -> T {
                guard let value else { throw PuenteError(.invalidInput, "\(field): required for this action.") }
                return value
            }
            let caseService = CaseService(store: store)
            let referralService = ReferralService(store: store)
            let grantService = GrantService(store: store)
            switch a.op {
            case .open:
                let file = try await caseService.open(
                    .init(agency: a.agency, recordKey: a.recordKey, office: a.to, phone: a.phone), by: who, today: day)
                cases[key] = file.id
            case .consent:
                try await ConsentService(store: store).record(
                    .init(
                        agency: a.agency, recordKey: a.recordKey, purpose: try required(a.purpose, "purpose"),
                        recipients: a.recipients ?? [], givenOn: day.description), by: who, today: day)
            case .move:
                try await caseService.move(
                    try caseID(), to: try CaseStatus.named(try required(a.to, "to")),
                    update: .init(
                        vulnerabilities: a.vulnerabilities, skills: a.skills, intentions: a.intentions, plan: a.plan,
                        note: a.note), by: who, today: day)
            case .close:
                try await caseService.close(
                    try caseID(), reason: try ClosureReason.named(try required(a.to, "to")), note: a.note, by: who,
                    today: day)
            case .reopen:
                try await caseService.reopen(try caseID(), note: a.note, by: who)
            case .refer:
                let referral = try await referralService.refer(
                    .init(
                        caseID: try caseID(), partner: try required(a.partner, "partner"),
                        service: try required(a.service, "service"), fields: a.fields ?? [], override: a.override),
                    by: who, today: day)
                // Numbered as the file numbers it, else in the order they were made.
                referralsPerCase[key, default: 0] += 1
                referrals["\(key)|\(a.referral ?? referralsPerCase[key]!)"] = referral.id
            case .referral:
                try await referralService.update(
                    try referralID(), to: try ReferralStatus.named(try required(a.to, "to")), reason: a.reason,
                    note: a.note, by: who, today: day)
            case .feedback:
                try await referralService.feedback(
                    try referralID(), received: try required(a.received, "received"), usefulness: a.usefulness, by: who,
                    today: day)
            case .survey:
                guard let occasion = FollowUpService.Occasion(rawValue: try required(a.occasion, "occasion")),
                    let mode = FollowUpService.Mode(rawValue: try required(a.mode, "mode"))
                else { throw PuenteError(.invalidInput, "occasion, mode: not values a survey takes.") }
                try await FollowUpService(store: store).record(
                    caseID: try caseID(), occasion: occasion, mode: mode, answers: try required(a.answers, "answers"),
                    on: day, by: who, today: day)
            case .grantApply:
                let grant = try await grantService.apply(
                    caseID: try caseID(), amount: try required(a.amount, "amount"),
                    currency: try required(a.currency, "currency"), businessPlan: try required(a.plan, "plan"), by: who,
                    today: day)
                grants[key] = grant.id
            case .grantReview:
                try await grantService.review(try grantID(), score: try required(a.score, "score"), by: who)
            case .grantDecide:
                try await grantService.decide(
                    try grantID(), approve: a.amount, rejectionReason: a.reason, by: who, today: day)
            case .grantSchedule:
                try await grantService.schedule(
                    try grantID(), tranches: try required(a.tranches, "tranches").map { ($0, nil) }, by: who)
            case .trancheRequest:
                try await grantService.requestTranche(
                    try grantID(), number: try required(a.tranche, "tranche"), by: who)
            case .trancheApprove:
                try await grantService.approveTranche(
                    try grantID(), number: try required(a.tranche, "tranche"), by: who)
            case .trancheDisburse:
                try await grantService.disburse(
                    try grantID(), number: try required(a.tranche, "tranche"), reference: a.reference, on: day, by: who,
                    today: day)
            case .grantVisit:
                guard let business = Grant.BusinessStatus(rawValue: try required(a.business, "business")) else {
                    throw PuenteError(.invalidInput, "business: not a business status.")
                }
                try await grantService.visit(try grantID(), business: business, on: day, by: who, today: day)
            }
        }
    }
}
