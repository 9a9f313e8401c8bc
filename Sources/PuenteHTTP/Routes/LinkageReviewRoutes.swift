import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore
import PuenteServices

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
        var decision: ReviewVerdict
        enum CodingKeys: String, CodingKey { case eventL = "event_l", eventR = "event_r", decision }
    }

    static func add(to router: Router<PuenteContext>, review: LinkageReviewService) {
        router.get("/api/v1/linkage/review") { request, context -> Response in
            let limit = try request.uri.queryParameters.integer("limit", in: 1...200) ?? 20
            let items = try await review.queue(limit: limit, by: .account(context.identity, address: context.address))
            var response = try Responses.json(
                items.map {
                    Item(pair: $0.pair, left: $0.left.map(ReviewedEvent.init), right: $0.right.map(ReviewedEvent.init))
                })
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.post("/api/v1/linkage/review/decision") { request, context -> Response in
            let decision = try await JSONBody.decode(Decision.self, from: request, context: context)
            try await review.decide(
                eventL: decision.eventL, eventR: decision.eventR, decision.decision,
                by: .account(context.identity, address: context.address))
            return try Responses.json(["status": "recorded"])
        }
    }
}
