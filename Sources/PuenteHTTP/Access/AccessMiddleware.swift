import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore

/// Resolves who is asking (a session cookie or a bearer token), applies the route's rule from
/// `RoutePolicy`, checks CSRF tokens on session-authenticated forms, and limits request rates.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = PuenteContext

    let access: AccessService
    let publicStatistics: Bool
    let limiter: RateLimiter
    let rateLimit: RateLimiter.Limit

    static let sessionCookie = "puente_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // Unknown paths carry no endpoint: they fall through to 404.
        guard let endpoint = context.endpointPath else { return try await next(request, context) }
        var context = context
        var viaSession = false
        if let bearer = Self.bearer(request) {
            guard let identity = try await access.authenticate(secret: bearer) else {
                throw PuenteError(.unauthenticated, "The API token is unknown, expired or revoked.")
            }
            context.identity = identity
        } else if let session = request.cookies[Self.sessionCookie]?.value,
            let identity = try await access.authenticate(secret: session)
        {
            context.identity = identity
            viaSession = true
        }
        if let identity = context.identity,
            !(await limiter.allow("credential:\(identity.credential.id)", cost: 1, limit: rateLimit))
        {
            throw PuenteError(
                .tooManyRequests, "Too many requests with this credential; slow down and try again in a minute.")
        }

        let rule = RoutePolicy.rules[RoutePolicy.key(method: request.method.rawValue, path: endpoint)]
        switch RoutePolicy.decide(rule, role: context.identity?.role, publicStatistics: publicStatistics) {
        case .allow: break
        case .needsLogin:
            if request.method == .get, Self.wantsHTML(request) {
                // Back to the same view after logging in, in the same language.
                let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                let english = request.uri.queryParameters.get("lang") == "en"
                return Response(
                    status: .seeOther,
                    headers: [.location: "/login?next=" + URLText.encode(next) + (english ? "&lang=en" : "")])
            }
            throw PuenteError(.unauthenticated, "Log in, or send an API token as `Authorization: Bearer …`.")
        case .deny:
            throw PuenteError(.forbidden, "Your role is not entitled to this.")
        }

        // Forms posted with a session cookie must echo the session's CSRF token; cookies are also
        // SameSite=Strict, so this is the second line.
        var request = request
        if viaSession, request.method == .post, let identity = context.identity {
            var given = request.headers[.init("X-CSRF-Token")!]
            if given == nil {
                // Collected once here; the handler reads the same buffer.
                given = try await FormBody(collecting: &request, upTo: context.maxUploadSize)["csrf"]
            }
            guard let expected = identity.credential.csrfToken, given == expected else {
                throw PuenteError(
                    .forbidden, "The form is stale or came from another site; reload the page and try again.")
            }
        }
        return try await next(request, context)
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("text/html") == true
    }

}

/// An `application/x-www-form-urlencoded` body.
struct FormBody {
    /// Every value of each name, in order (checkboxes send a name once per ticked box).
    private var fields: [String: [String]] = [:]

    /// Reads the request's body, refusing one larger than `limit` with 413. The request keeps the
    /// collected body, so later readers see it too.
    init(collecting request: inout Request, upTo limit: Int) async throws {
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: limit) } catch {
            throw HTTPError(.contentTooLarge, message: "The request body is larger than this route accepts.")
        }
        self.init(String(buffer: body))
    }

    init(_ text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first { fields[name, default: []].append(parts.count > 1 ? parts[1] : "") }
        }
    }

    /// The value of a name (the last, if sent more than once).
    subscript(name: String) -> String? { fields[name]?.last }

    /// Every value sent under a name.
    func all(_ name: String) -> [String] { fields[name] ?? [] }

    /// Names and their last values, e.g. a survey's answers by question.
    var names: [String] { Array(fields.keys) }
}
