import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore

/// Recording, withdrawing and looking up consent (JSON). A record key is personal data, so it travels
/// only in request bodies, never in a URL: the lookup is a POST.
enum ConsentRoutes {
    /// `POST /api/v1/consents`.
    struct RecordBody: Decodable {
        var agency: String
        var recordKey: String
        var purpose: String
        var recipients: [String]?
        var scope: String?
        var language: String?
        var guardian: Bool?
        /// The day consent was given, `YYYY-MM-DD`; today when absent.
        var date: String?
    }

    /// `POST /api/v1/consents/{id}/withdraw`; the body may be empty.
    struct WithdrawBody: Decodable {
        var date: String?
    }

    /// `POST /api/v1/consents/search`.
    struct SearchBody: Decodable {
        var agency: String
        var recordKey: String
    }

    static func add(to router: Router<PuenteContext>, store: any PuenteStore) {
        let consents = ConsentService(store: store)

        router.post("/api/v1/consents") { request, context -> Response in
            let body = try await JSONBody.decode(RecordBody.self, from: request, context: context)
            let consent = try await consents.record(
                .init(
                    agency: body.agency, recordKey: body.recordKey, purpose: body.purpose,
                    recipients: body.recipients ?? [],
                    scope: body.scope, language: body.language, guardian: body.guardian ?? false, givenOn: body.date),
                by: try actor(context))
            return try Responses.json(consent, status: .created)
        }
        router.post("/api/v1/consents/{id}/withdraw") { request, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
                throw PuenteError(.invalidArgument, "id: expected a consent id, a positive whole number.")
            }
            let body = try await JSONBody.decode(WithdrawBody.self, from: request, context: context, emptyAllowed: true)
            return try Responses.json(
                try await consents.withdraw(id: id, on: body.date, by: try actor(context)))
        }
        router.post("/api/v1/consents/search") { request, context -> Response in
            let body = try await JSONBody.decode(SearchBody.self, from: request, context: context)
            return try Responses.json(
                try await consents.consents(
                    agency: body.agency, recordKey: body.recordKey, by: try actor(context)))
        }
    }

    /// Consent is recorded by someone signed in, never anonymously.
    private static func actor(_ context: PuenteContext) throws -> Actor {
        guard context.identity != nil else { throw PuenteError(.unauthenticated, "Nobody is logged in.") }
        return .account(context.identity, address: context.address)
    }
}
