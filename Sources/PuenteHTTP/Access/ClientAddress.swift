import Foundation
import HTTPTypes
import Hummingbird

/// The client's address behind reverse proxies. A proxy's own address would put every client in one
/// bucket (the login limiter would lock everybody out at once) and in the audit trail; but forwarding
/// headers are written by whoever sends the request, so they are believed only from addresses the
/// node declares as its proxies (`--trusted-proxy`).
public enum ClientAddress {
    /// The address to use: the peer's, unless the peer is a trusted proxy, in which case the nearest
    /// address of the forwarding chain (`Forwarded: for=…`, else `X-Forwarded-For`) that is not itself a
    /// trusted proxy.
    public static func resolve(peer: String?, forwarded: String?, xForwardedFor: String?, trusted: Set<String>)
        -> String?
    {
        guard let peer, trusted.contains(peer) else { return peer }
        let chain =
            forwarded.map(forValues) ?? xForwardedFor.map { $0.split(separator: ",").map { normalise($0) } } ?? []
        // Right to left: each hop appended the address it received the request from.
        for address in chain.reversed() where !address.isEmpty && !trusted.contains(address) { return address }
        return chain.first ?? peer
    }

    /// The `for=` parameters of an RFC 7239 `Forwarded` header, in order.
    static func forValues(_ header: String) -> [String] {
        header.split(separator: ",").compactMap { element in
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" {
                    return normalise(parts[1])
                }
            }
            return nil
        }
    }

    /// `"[2001:db8::1]:4711"` → `2001:db8::1`; `192.0.2.60:8080` → `192.0.2.60`.
    static func normalise(_ raw: some StringProtocol) -> String {
        var s = raw.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        if s.hasPrefix("[") { return String(s.dropFirst().prefix { $0 != "]" }) }
        if s.filter({ $0 == ":" }).count == 1, let colon = s.firstIndex(of: ":") { s = String(s[..<colon]) }
        return s
    }
}

/// Sets the request context's client address from trusted proxies' forwarding headers.
struct ClientAddressMiddleware: RouterMiddleware {
    let trusted: Set<String>
    static let forwarded = HTTPField.Name("Forwarded")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: PuenteContext, next: (Request, PuenteContext) async throws -> Response)
        async throws -> Response
    {
        guard !trusted.isEmpty else { return try await next(request, context) }
        var context = context
        context.address = ClientAddress.resolve(
            peer: context.address, forwarded: request.headers[Self.forwarded],
            xForwardedFor: request.headers[Self.xForwardedFor], trusted: trusted)
        return try await next(request, context)
    }
}
