import Hummingbird
import PuenteCore

/// A known path asked with a method it does not take answers 405 with `Allow` naming the methods it
/// takes (RFC 9110 §15.5.6), not 404: a client then knows the address is right and what to send.
/// Added last, so it wraps only the router's not-found answer, after every route is known.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = PuenteContext

    /// Each route's path segments (`nil` for a parameter) with the methods it takes.
    private let patterns: [(segments: [String?], methods: Set<String>)]

    init(routes: [(method: String, path: String)]) {
        var methods: [[String?]: Set<String>] = [:]
        for route in routes {
            let segments = route.path.split(separator: "/").map { part -> String? in
                part.hasPrefix(":") || part.hasPrefix("{") ? nil : String(part)
            }
            methods[segments, default: []].insert(route.method)
            // HEAD is answered wherever GET is (the router generates it).
            if route.method == "GET" { methods[segments]!.insert("HEAD") }
        }
        patterns = methods.map { ($0.key, $0.value) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path.split(separator: "/").map(String.init)
        let allowed = patterns.filter { pattern in
            pattern.segments.count == path.count
                && zip(pattern.segments, path).allSatisfy { expected, given in expected.map { $0 == given } ?? true }
        }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        let list = allowed.sorted().joined(separator: ", ")
        var response = Responses.error(
            status: .methodNotAllowed, code: "method_not_allowed", message: "This address takes \(list) only.")
        response.headers[.allow] = list
        return response
    }
}
