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
            let body = try await decode(RecordBody.self, from: request, context: context)
            let consent = try await consents.record(
                .init(agency: body.agency, recordKey: body.recordKey, purpose: body.purpose, recipients: body.recipients ?? [],
                      scope: body.scope, language: body.language, guardian: body.guardian ?? false, givenOn: body.date),
                by: try actor(context), address: context.address)
            var response = Responses.json(consent)
            response.status = .created
            return response
        }
        router.post("/api/v1/consents/{id}/withdraw") { request, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
                throw PuenteError(.invalidArgument, "id: expected a consent id, a positive whole number.")
            }
            let body = try await decode(WithdrawBody.self, from: request, context: context, emptyAllowed: true)
            return Responses.json(try await consents.withdraw(id: id, on: body.date, by: try actor(context), address: context.address))
        }
        router.post("/api/v1/consents/search") { request, context -> Response in
            let body = try await decode(SearchBody.self, from: request, context: context)
            return Responses.json(try await consents.consents(agency: body.agency, recordKey: body.recordKey, by: try actor(context),
                                                              address: context.address))
        }
    }

    private static func actor(_ context: PuenteContext) throws -> String {
        guard let identity = context.identity else { throw PuenteError(.unauthenticated, "Nobody is logged in.") }
        return identity.user.username
    }

    /// Decodes a JSON body; errors name the field and the expected type, never the value sent. An empty
    /// body reads as `{}` where every field is optional.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: PuenteContext,
                                     emptyAllowed: Bool = false) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: context.maxUploadSize) } catch {
            throw HTTPError(.contentTooLarge, message: "The request body is larger than this route accepts.")
        }
        let notJSON = PuenteError(.invalidArgument, "The body must be a JSON object (Content-Type: application/json); see /openapi.json.")
        let data = buffer.readableBytes == 0 && emptyAllowed ? Data("{}".utf8) : Data(buffer.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw PuenteError(.invalidArgument, "\(key.stringValue): required in the JSON body.")
        } catch DecodingError.typeMismatch(let expected, let location), DecodingError.valueNotFound(let expected, let location) {
            guard let field = location.codingPath.last(where: { $0.intValue == nil })?.stringValue else { throw notJSON }
            throw PuenteError(.invalidArgument, "\(field): expected \(describe(expected)).")
        } catch {
            throw notJSON
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [String].Type: "a list of strings"
        default: "a value of another type"
        }
    }
}
