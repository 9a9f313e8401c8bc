import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore

/// The clerical review queue of record linkage for data officers: pairs of stored events the model was
/// unsure of, side by side, and the reviewer's decision. Each event shown is a read of personal data
/// and is audited as such.
enum LinkageReviewRoutes {
    /// What a reviewer needs to judge a pair, and no more (minimisation).
    struct ReviewedEvent: Codable, Sendable {
        var id: Int64
        var agency: String
        var eventType: String
        var eventDate: String
        var givenNames, surnames, birthDate: String?
        var sex: String
        var documentType, documentNumber, nationality, residenceDivision: String?

        init(_ e: MovementEvent) {
            id = e.id
            agency = e.source.agency
            eventType = e.type.rawValue
            eventDate = e.date.description
            givenNames = e.person.givenNames
            surnames = e.person.surnames
            birthDate = e.person.birthDate?.description
            sex = e.person.sex.rawValue
            documentType = e.person.documentType?.rawValue
            documentNumber = e.person.documentNumber
            nationality = e.person.nationality
            residenceDivision = e.person.residenceDivision
        }

        enum CodingKeys: String, CodingKey {
            case id, agency, sex, nationality
            case eventType = "event_type", eventDate = "event_date", givenNames = "given_names", surnames
            case birthDate = "birth_date", documentType = "document_type", documentNumber = "document_number"
            case residenceDivision = "residence_division"
        }
    }

    struct Item: Codable, Sendable {
        var pair: ReviewPair
        var left: ReviewedEvent?
        var right: ReviewedEvent?
    }

    struct Decision: Codable, Sendable {
        var eventL: Int64
        var eventR: Int64
        var decision: String
        enum CodingKeys: String, CodingKey { case eventL = "event_l", eventR = "event_r", decision }
    }

    static let purpose = "linkage review"

    static func add(to router: Router<PuenteContext>, store: any PuenteStore, audit: AuditLog) {
        router.get("/api/v1/linkage/review") { request, context -> Response in
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 20
            guard (1...200).contains(limit) else { throw PuenteError(.invalidArgument, "Give a limit from 1 to 200.") }
            let pairs = try await store.reviewPairs(pendingOnly: true, limit: limit)
            let ids = Array(Set(pairs.flatMap { [$0.eventL, $0.eventR] })).sorted()
            let events = Dictionary(uniqueKeysWithValues: try await store.events(ids: ids).map { ($0.id, $0) })
            // Who read which personal record, and why: one entry per event shown.
            let actor = context.identity?.user.username ?? "anonymous"
            for id in ids where events[id] != nil {
                try await audit.record(.init(actor: actor, action: "read_personal", target: "event \(id)", purpose: purpose,
                                             address: context.address))
            }
            let items = pairs.map { Item(pair: $0, left: events[$0.eventL].map(ReviewedEvent.init), right: events[$0.eventR].map(ReviewedEvent.init)) }
            var response = Responses.json(items)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.post("/api/v1/linkage/review/decision") { request, context -> Response in
            let decision = try await JSONBody.decode(Decision.self, from: request, context: context)
            let match: Bool
            switch decision.decision {
            case "match": match = true
            case "non-match": match = false
            default: throw PuenteError(.invalidArgument, "Write decision as match or non-match.")
            }
            let actor = context.identity?.user.username ?? "anonymous"
            try await store.decideReview(eventL: decision.eventL, eventR: decision.eventR, match: match, by: actor)
            try await audit.record(.init(actor: actor, action: "link_decision",
                                         target: "pair \(min(decision.eventL, decision.eventR))-\(max(decision.eventL, decision.eventR)) \(decision.decision)",
                                         purpose: purpose, address: context.address))
            return Responses.json(["status": "recorded"])
        }
    }
}
