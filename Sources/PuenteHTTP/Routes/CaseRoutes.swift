import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore
import PuenteReintegration
import PuenteServices

/// Reintegration case management over JSON: cases, partners, referrals, the partner's inbox, surveys
/// and follow-ups. Every decision is the services'; a route parses, calls and renders. Personal data
/// travels only in bodies, never in a URL.
enum CaseRoutes {
    struct OpenBody: Decodable {
        var agency: String
        var recordKey: String
        var office: String?
        var assignee: String?
        var phone: String?
        var language: String?
    }

    struct StatusBody: Decodable {
        var to: CaseStatus
        /// The case version the change was made from; refused if it changed since.
        var version: Int?
        var vulnerabilities: [String]?
        var skills: String?
        var intentions: String?
        var plan: String?
        var note: String?
    }

    struct CloseBody: Decodable {
        var reason: ClosureReason
        var version: Int?
        var note: String?
    }

    struct ReopenBody: Decodable {
        var version: Int?
        var note: String?
    }

    struct AssignBody: Decodable {
        var to: String
        var version: Int?
    }

    struct ReferBody: Decodable {
        var caseId: Int64
        var partner: String
        var service: String
        var fields: [String]
        var override: String?
    }

    struct ReferralStatusBody: Decodable {
        var to: ReferralStatus
        var reason: String?
        var note: String?
        var version: Int?
    }

    struct FeedbackBody: Decodable {
        var received: Bool
        var usefulness: Int?
    }

    struct SurveyBody: Decodable {
        var occasion: FollowUpService.Occasion
        var mode: FollowUpService.Mode
        var answers: [String: String]
        var date: String?
    }

    /// A case as a case worker reads it: the file, its timeline, referrals, surveys and grants.
    struct CaseView: Encodable {
        var caseFile: CaseFile
        var entries: [CaseEntry]
        var referrals: [Referral]
        var surveys: [FollowUpService.RecordedSurvey]
        var grants: [GrantService.RecordedGrant]
    }

    static func add(
        to router: Router<PuenteContext>, store: any PuenteStore, node: NodeIdentity?,
        followUps survey: FollowUpService?
    ) {
        let cases = CaseService(store: store)
        let referrals = ReferralService(store: store, node: node)
        @Sendable func incoming() throws -> ReferralExchange {
            guard let node else {
                throw PuenteError(
                    .notFound, "This node takes no part in the exchange yet: it has no identity (`puente node init`).")
            }
            return ReferralExchange(store: store, node: node)
        }
        let grants = GrantService(store: store)
        @Sendable func followUps() throws -> FollowUpService {
            guard let survey else {
                throw PuenteError(.storeFailure, "The survey instrument is missing from this build of Puente.")
            }
            return survey
        }

        router.get("/api/v1/cases") { request, context -> Response in
            let q = request.uri.queryParameters
            let statuses = try q["status"].map {
                Set(try String($0).split(separator: ",").map { try CaseStatus.named(String($0)) })
            }
            let query = CaseQuery(
                office: q["office"].map(String.init), assignee: q["assignee"].map(String.init), statuses: statuses,
                limit: try limit(q["limit"].map(String.init)))
            return try Responses.json(try await cases.list(query, by: actor(context)))
        }
        router.post("/api/v1/cases") { request, context -> Response in
            let body = try await JSONBody.decode(OpenBody.self, from: request, context: context)
            let opened = try await cases.open(
                .init(
                    agency: body.agency, recordKey: body.recordKey, office: body.office, assignee: body.assignee,
                    phone: body.phone, language: body.language), by: actor(context))
            return try Responses.json(opened, status: .created)
        }
        router.get("/api/v1/cases/{id}") { _, context -> Response in
            let id = try Self.id(context)
            let actor = actor(context)
            let view = try await cases.show(id, by: actor)
            return try Responses.json(
                CaseView(
                    caseFile: view.caseFile, entries: view.entries, referrals: view.referrals,
                    surveys: try await followUps().surveys(caseID: id, by: actor),
                    grants: try await grants.grants(caseID: id, by: actor)))
        }
        router.post("/api/v1/cases/{id}/status") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(StatusBody.self, from: request, context: context)
            return try Responses.json(
                try await cases.move(
                    id, readAt: body.version, to: body.to,
                    update: .init(
                        vulnerabilities: body.vulnerabilities, skills: body.skills, intentions: body.intentions,
                        plan: body.plan, note: body.note), by: actor(context)))
        }
        router.post("/api/v1/cases/{id}/close") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(CloseBody.self, from: request, context: context)
            return try Responses.json(
                try await cases.close(
                    id, readAt: body.version, reason: body.reason, note: body.note, by: actor(context)))
        }
        router.post("/api/v1/cases/{id}/reopen") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(ReopenBody.self, from: request, context: context, emptyAllowed: true)
            return try Responses.json(
                try await cases.reopen(id, readAt: body.version, note: body.note, by: actor(context)))
        }
        router.post("/api/v1/cases/{id}/assign") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(AssignBody.self, from: request, context: context)
            return try Responses.json(try await cases.assign(id, readAt: body.version, to: body.to, by: actor(context)))
        }
        router.post("/api/v1/cases/{id}/surveys") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(SurveyBody.self, from: request, context: context)
            let day = try body.date.map { text in
                guard let day = CivilDate(iso: text) else {
                    throw PuenteError(.invalidArgument, "date: expected a date like 2026-05-31 (YYYY-MM-DD).")
                }
                return day
            }
            return try Responses.json(
                try await followUps().record(
                    caseID: id, occasion: body.occasion, mode: body.mode, answers: body.answers, on: day,
                    by: actor(context)), status: .created)
        }
        router.get("/api/v1/followups/due") { request, context -> Response in
            let until = try request.uri.queryParameters["until"].map { text in
                guard let day = CivilDate(iso: String(text)) else {
                    throw PuenteError(.invalidArgument, "until: expected a date like 2026-05-31 (YYYY-MM-DD).")
                }
                return day
            }
            return try Responses.json(
                try await followUps().due(until: until ?? CivilDate.today.adding(days: 7), by: actor(context)))
        }
        router.get("/api/v1/partners") { _, context -> Response in
            try Responses.json(try await referrals.partners(by: actor(context)))
        }
        router.post("/api/v1/partners") { request, context -> Response in
            let partner = try await JSONBody.decode(Partner.self, from: request, context: context)
            try await referrals.register(partner, by: actor(context))
            return try Responses.json(partner, status: .created)
        }
        router.post("/api/v1/referrals") { request, context -> Response in
            let body = try await JSONBody.decode(ReferBody.self, from: request, context: context)
            return try Responses.json(
                try await referrals.refer(
                    .init(
                        caseID: body.caseId, partner: body.partner, service: body.service, fields: body.fields,
                        override: body.override), by: actor(context)), status: .created)
        }
        router.post("/api/v1/referrals/{id}/status") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(ReferralStatusBody.self, from: request, context: context)
            return try Responses.json(
                try await referrals.update(
                    id, readAt: body.version, to: body.to, reason: body.reason, note: body.note, by: actor(context)))
        }
        router.post("/api/v1/referrals/{id}/feedback") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(FeedbackBody.self, from: request, context: context)
            return try Responses.json(
                try await referrals.feedback(
                    id, received: body.received, usefulness: body.usefulness, by: actor(context)))
        }
        // Referrals other nodes made to partners working here: the partner moves them on, and each
        // status goes back to the referring node in a signed package.
        router.get("/api/v1/incoming-referrals") { _, context -> Response in
            try Responses.json(try await incoming().incoming(by: actor(context)))
        }
        router.get("/api/v1/incoming-referrals/{id}") { _, context -> Response in
            try Responses.json(try await incoming().incomingReferral(try Self.id(context), by: actor(context)))
        }
        router.post("/api/v1/incoming-referrals/{id}/status") { request, context -> Response in
            let id = try Self.id(context)
            let body = try await JSONBody.decode(ReferralStatusBody.self, from: request, context: context)
            guard body.note == nil else {
                throw PuenteError(.invalidArgument, "note: a referral from another node takes no note here.")
            }
            return try Responses.json(
                try await incoming().updateIncoming(
                    id, readAt: body.version, to: body.to, reason: body.reason, by: actor(context)))
        }
        router.get("/api/v1/partner/referrals") { request, context -> Response in
            let q = request.uri.queryParameters
            let statuses = try q["status"].map {
                Set(try String($0).split(separator: ",").map { try ReferralStatus.named(String($0)) })
            }
            return try Responses.json(
                try await referrals.inbox(
                    partner: q["partner"].map(String.init), statuses: statuses, by: actor(context)))
        }
        router.get("/api/v1/partner/referrals/{id}") { _, context -> Response in
            let id = try Self.id(context)
            return try Responses.json(try await referrals.referredCase(id, by: actor(context)))
        }
    }

    /// `GET /api/v1/programme/stats?measure=…&by=…`: the programme's protected figures.
    static func addStatistics(to router: Router<PuenteContext>, programme: ProgrammeStatistics) {
        router.get("/api/v1/programme/stats") { request, context -> Response in
            let q = request.uri.queryParameters
            guard let measure = q["measure"].map(String.init) else {
                throw PuenteError(.invalidArgument, "measure: required, e.g. cases or plans_within_30_days.")
            }
            let by = q["by"].map { String($0).split(separator: ",").map(String.init) } ?? []
            let protection = q["protection"].map(String.init)
            guard protection == nil || protection == "none" else {
                throw PuenteError(.invalidArgument, "protection: leave it out, or none for exact figures.")
            }
            return try Responses.json(
                try await programme.table(
                    try ProgrammeStatistics.Measure.named(measure), by: by, exact: protection == "none",
                    purpose: q["purpose"].map(String.init), by: actor(context)))
        }
    }

    static func actor(_ context: PuenteContext) -> Actor { .account(context.identity, address: context.address) }

    static func id(_ context: PuenteContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw PuenteError(.invalidArgument, "id: expected a positive whole number.")
        }
        return id
    }

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 1000 }
        guard let n = Int(text), (1...10_000).contains(n) else {
            throw PuenteError(.invalidArgument, "limit: expected a whole number from 1 to 10000.")
        }
        return n
    }
}
