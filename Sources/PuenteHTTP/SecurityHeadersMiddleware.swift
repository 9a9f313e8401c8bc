import Hummingbird

/// Adds the headers every response needs: a strict content security policy (pages use only their
/// own stylesheet and script), no framing, no MIME sniffing, no referrer; personal or signed-in
/// answers are not cached.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var policy: String {
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // Oversized headers are refused before any work (the HTTP parser's own limit is far larger).
        let headerBytes = request.headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count }
        if headerBytes > 16 * 1024 {
            return Responses.error(
                status: .init(code: 431), code: "headers_too_large", message: "The request's headers are too large.")
        }
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] =
                request.headers[.cookie] != nil || request.headers[.authorization] != nil ? "no-store" : "no-cache"
        }
        return response
    }
}
