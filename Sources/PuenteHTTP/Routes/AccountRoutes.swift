import Hummingbird
import PuenteAccess
import PuenteCore
import PuenteServices

/// The signed-in account (`/api/v1/me`) and, for those who may read it, the audit trail.
enum AccountRoutes {
    struct Me: Codable, Sendable {
        var username, role: String
        var country, organisation: String?
        var permissions: [String]
        var expiresAt: String
    }

    static func add(to router: Router<PuenteContext>, auditTrail: AuditTrailService) {
        router.get("/api/v1/me") { _, context -> Response in
            guard let identity = context.identity else { throw PuenteError(.unauthenticated, "Nobody is logged in.") }
            let permissions = Permission.allCases.filter { identity.role.holds($0) }.map(\.rawValue)
            return try Responses.json(
                Me(
                    username: identity.user.username, role: identity.role.rawValue, country: identity.user.country,
                    organisation: identity.user.organisation, permissions: permissions,
                    expiresAt: identity.credential.expiresAt))
        }
        router.get("/api/v1/audit") { request, context -> Response in
            let q = request.uri.queryParameters
            let entries = try await auditTrail.entries(
                after: Int64(try q.integer("after", in: 0...Int.max) ?? 0),
                limit: try q.integer("limit", in: 1...1000) ?? 100,
                by: .account(context.identity, address: context.address))
            return try Responses.json(entries)
        }
    }
}
