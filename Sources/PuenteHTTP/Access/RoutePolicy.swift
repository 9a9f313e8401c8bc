import PuenteCore

/// Who may call each route: the one place access is decided. A route without a rule is refused to
/// everyone (and fails the route-by-role test), so a new route cannot be open by accident.
enum RouteRule: Sendable, Equatable {
    /// Anyone, logged in or not: health, the API description, code lists, the login form.
    case open
    /// Disclosure-protected aggregates: anyone when the node publishes its statistics, else roles
    /// holding `protectedStatistics`.
    case statistics
    /// Any logged-in account.
    case signedIn
    /// Roles holding the permission.
    case requires(Permission)
    /// Roles holding any of the permissions (the service narrows further: a partner's own referrals).
    case requiresAny([Permission])
}

enum RoutePolicy {
    /// `METHOD /path` (parameters as `{name}`) → rule.
    static let rules: [String: RouteRule] = [
        "GET /health": .open,
        "GET /ready": .open,
        "GET /openapi.json": .open,
        "GET /assets/{file}": .open,
        "GET /login": .open,
        "POST /login": .open,
        "POST /logout": .signedIn,
        "GET /api/v1/me": .signedIn,
        "GET /": .statistics,
        "GET /returns": .statistics,
        "GET /movements": .statistics,
        "GET /quality": .statistics,
        "GET /imports": .requires(.imports),
        "GET /region": .statistics,
        "GET /region/mirror": .statistics,
        "GET /api/v1/regional/mirror": .statistics,
        "GET /api/v1/regional/stats": .statistics,
        "GET /api/v1/regional/coverage": .statistics,
        "GET /sdmx/{resource}/{agency}/{id}/{version}": .open,
        "GET /sdmx/data/{flow}/{key}": .statistics,
        "GET /sdmx/data/{flow}": .statistics,
        "GET /api/v1/stats": .statistics,
        "GET /api/v1/sdmx/structure": .open,
        "GET /api/v1/measures": .open,
        "GET /api/v1/codelists": .open,
        "GET /api/v1/codelists/{id}": .open,
        "GET /api/v1/imports": .requires(.imports),
        "GET /api/v1/imports/rejections": .requires(.imports),
        "GET /api/v1/audit": .requires(.audit),
        "GET /api/v1/linkage/review": .requires(.linkageReview),
        "POST /api/v1/linkage/review/decision": .requires(.linkageReview),
        "POST /api/v1/consents": .requires(.consent),
        "POST /api/v1/consents/{id}/withdraw": .requires(.consent),
        "POST /api/v1/consents/search": .requires(.consent),
        "POST /api/v1/exchange/packages": .requires(.exchangePackages),
        "GET /api/v1/exchange/registry": .open,
        "GET /api/v1/exchange/log": .requires(.audit),
        "GET /api/v1/exchange/packages": .requires(.audit),
        "POST /api/v1/linkage/encodings": .requires(.exchangePackages),
        "GET /api/v1/linkage/results/{agreement}": .requires(.exchangePackages),
        "GET /api/v1/cases": .requires(.cases),
        "POST /api/v1/cases": .requires(.cases),
        "GET /api/v1/cases/{id}": .requires(.cases),
        "POST /api/v1/cases/{id}/status": .requires(.cases),
        "POST /api/v1/cases/{id}/close": .requires(.cases),
        "POST /api/v1/cases/{id}/reopen": .requires(.cases),
        "POST /api/v1/cases/{id}/assign": .requires(.superviseCases),
        "POST /api/v1/cases/{id}/surveys": .requires(.cases),
        "GET /api/v1/followups/due": .requires(.cases),
        "GET /api/v1/partners": .requiresAny([.cases, .managePartners, .partnerReferrals]),
        "POST /api/v1/partners": .requires(.managePartners),
        "POST /api/v1/referrals": .requires(.cases),
        "POST /api/v1/referrals/{id}/status": .requiresAny([.cases, .partnerReferrals]),
        "POST /api/v1/referrals/{id}/feedback": .requires(.cases),
        "GET /api/v1/partner/referrals": .requires(.partnerReferrals),
        "GET /api/v1/partner/referrals/{id}": .requires(.partnerReferrals),
        "GET /partner/incoming/{id}": .requires(.partnerReferrals),
        "POST /partner/incoming/{id}": .requires(.partnerReferrals),
        "GET /api/v1/incoming-referrals": .requiresAny([.partnerReferrals, .superviseCases]),
        "GET /api/v1/incoming-referrals/{id}": .requiresAny([.partnerReferrals, .superviseCases]),
        "POST /api/v1/incoming-referrals/{id}/status": .requires(.partnerReferrals),
        "GET /api/v1/programme/stats": .requires(.protectedStatistics),
        "GET /cases": .requires(.cases),
        "GET /cases/{id}": .requires(.cases),
        "POST /cases/{id}": .requires(.cases),
        "GET /reception": .requires(.cases),
        "POST /reception": .requires(.cases),
        "GET /followups": .requires(.cases),
        "GET /partner": .requires(.partnerReferrals),
        "GET /partner/{id}": .requires(.partnerReferrals),
        "POST /partner/{id}": .requires(.partnerReferrals),
    ]

    /// The key of a route as Hummingbird describes it (`/api/v1/codelists/:id` or `{id}`).
    /// HEAD is GET without the body: the same rule.
    static func key(method: String, path: String) -> String {
        let method = method == "HEAD" ? "GET" : method
        let normalised = path.split(separator: "/", omittingEmptySubsequences: true).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }
        return method + " /" + normalised.joined(separator: "/")
    }

    enum Decision: Equatable {
        case allow
        /// Nobody is logged in and the route needs someone: 401 (the login page for browsers).
        case needsLogin
        /// Logged in, but the role is not entitled: 403.
        case deny
    }

    static func decide(_ rule: RouteRule?, role: Role?, publicStatistics: Bool) -> Decision {
        switch rule {
        case nil: return role == nil ? .needsLogin : .deny
        case .open?: return .allow
        case .statistics?:
            if publicStatistics { return .allow }
            return decide(.requires(.protectedStatistics), role: role, publicStatistics: false)
        case .signedIn?: return role == nil ? .needsLogin : .allow
        case .requires(let permission)?:
            guard let role else { return .needsLogin }
            return role.holds(permission) ? .allow : .deny
        case .requiresAny(let permissions)?:
            guard let role else { return .needsLogin }
            return permissions.contains(where: role.holds) ? .allow : .deny
        }
    }
}
