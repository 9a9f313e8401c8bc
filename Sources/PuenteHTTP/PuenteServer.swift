import Foundation
import Hummingbird
import Logging
import PuenteAccess
import PuenteCore
import PuenteReference
import PuenteServices
import PuenteStatistics

/// Builds Puente's HTTP application: health, the read API under `/api/v1/`, the OpenAPI document and
/// the dashboard.
public enum PuenteServer {
    /// Settings of `puente serve`.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Disclosure protection of every figure the server publishes.
        public var disclosure: DisclosurePolicy
        /// Whether anonymous visitors may see the node's disclosure-protected statistics (the
        /// dashboard and `/api/v1/stats`). Off by default: the node decides to publish.
        public var publicStatistics: Bool
        /// Session cookies are marked `Secure` (sent over HTTPS only, and to localhost). Turn off only
        /// for a plain-HTTP test bench on another host.
        public var secureCookies: Bool
        /// Password attempts allowed per client address and minute (a burst of that many, then evenly).
        public var loginAttemptsPerMinute = 10
        /// How passwords are hashed (OWASP's minimum by default; tests use a cheaper cost, as CPU there is
        /// shared by many servers at once).
        public var passwordHasher = PasswordHasher()
        /// Addresses of the reverse proxies in front of the node: from them alone, `Forwarded` and
        /// `X-Forwarded-For` name the client (for the login limiter and the audit trail).
        public var trustedProxies: Set<String> = []

        public init(host: String = "127.0.0.1", port: Int = 8080, disclosure: DisclosurePolicy = .standard,
                    publicStatistics: Bool = false, secureCookies: Bool = true) {
            self.host = host
            self.port = port
            self.disclosure = disclosure
            self.publicStatistics = publicStatistics
            self.secureCookies = secureCookies
        }
    }

    public static func router(store: any PuenteStore, configuration: Configuration = .init(),
                              reference: ReferenceData = .shared) -> Router<PuenteContext> {
        let router = Router(context: PuenteContext.self)
        let access = AccessService(store: store, hasher: configuration.passwordHasher)
        let audit = access.audit
        let limiter = RateLimiter()
        router.add(middleware: ClientAddressMiddleware(trusted: configuration.trustedProxies))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AccessMiddleware(access: access, publicStatistics: configuration.publicStatistics, limiter: limiter))
        let statistics = StatisticsService(store: store, disclosure: configuration.disclosure, reference: reference)
        let engine = statistics.engine
        let flow = SDMXFlow(reference: reference)
        // Load the statistics cube now, so the first visitor does not wait for it.
        Task { try? await engine.warmUp() }

        router.get("/health") { _, _ in ["status": "ok"] }
        router.get("/ready") { _, _ -> Response in
            do {
                _ = try await store.imports(limit: 1)
                return Responses.json(["status": "ready"])
            } catch {
                return Responses.error(status: .serviceUnavailable, code: "store_unavailable", message: "The store does not answer.")
            }
        }
        router.get("/openapi.json") { _, _ in
            Responses.text(OpenAPIDocument.json, type: "application/json")
        }
        router.get("/api/v1/stats") { request, context -> Response in
            let q = request.uri.queryParameters
            guard let measure = q.get("measure") else {
                throw PuenteError(.invalidArgument, "Give a measure, e.g. ?measure=returns. Allowed measures: "
                    + Measure.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            var query = try StatisticsQuery.parse(measure: measure, by: q.get("by"), filter: q.get("filter"), reference: reference)
            switch q.get("population") ?? "any" {
            case "any": break
            case "census": query.censusPopulationOnly = true
            default: throw PuenteError(.invalidArgument, "Allowed population: any (the default: census figures, else estimates, flagged) or census.")
            }
            let format = try StatisticsFormat.named(q.get("format") ?? "json")
            let protection = try q.get("protection").map { requested in
                guard let method = DisclosurePolicy.Method(rawValue: requested) else {
                    throw PuenteError(.invalidArgument, "Allowed protection: ckm (the cell key method, the default), or suppression and none (exact values) for entitled roles.")
                }
                return method
            }
            let publication = try await statistics.publish(.init(query: query, protection: protection, purpose: q.get("purpose"), format: format),
                                                           by: .account(context.identity, address: context.address))
            return Responses.text(publication.body ?? "", type: format.mediaType)
        }
        router.get("/api/v1/sdmx/structure") { _, _ -> Response in
            Responses.text(flow.structureMessage(), type: "application/vnd.sdmx.structure+xml; version=2.1; charset=utf-8")
        }
        router.get("/api/v1/measures") { _, _ -> Response in
            Responses.json([
                "measures": Measure.allCases.map(\.rawValue), "dimensions": Dimension.allCases.map(\.rawValue)])
        }
        router.get("/api/v1/codelists") { _, _ -> Response in
            let lists = reference.codeLists.values.sorted { $0.id < $1.id }.map {
                CodeListSummary(id: $0.id, agency: $0.agency, version: $0.version, name: $0.name,
                                validFrom: $0.validFrom?.description, validTo: $0.validTo?.description,
                                source: $0.source, codes: $0.codes.count)
            }
            return Responses.json(lists)
        }
        router.get("/api/v1/codelists/{id}") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let list = reference.codeList(id) else {
                throw PuenteError(.notFound, "There is no code list with that id; GET /api/v1/codelists lists them.")
            }
            return Responses.json(list)
        }
        router.get("/api/v1/imports") { request, _ -> Response in
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 50
            guard (1...1000).contains(limit) else { throw PuenteError(.invalidArgument, "Give a limit from 1 to 1000.") }
            return Responses.json(try await store.imports(limit: limit))
        }
        router.get("/api/v1/imports/rejections") { request, _ -> Response in
            let q = request.uri.queryParameters
            let imports = q.get("imports", as: Int.self) ?? 50
            guard (1...1000).contains(imports) else { throw PuenteError(.invalidArgument, "Give imports from 1 to 1000.") }
            let counts = try await store.rejectionCounts(imports: imports)
            switch q.get("format") ?? "json" {
            case "json": return Responses.json(counts)
            case "csv":
                let csv = CSVWriter.line(["import_id", "started_at", "file", "rule", "rows"]) + counts.map {
                    CSVWriter.line([String($0.importID), $0.startedAt, $0.file, $0.rule, String($0.rows)]) }.joined()
                return Responses.text(csv, type: "text/csv; charset=utf-8")
            default: throw PuenteError(.invalidArgument, "Allowed formats: json, csv.")
            }
        }

        router.get("/api/v1/me") { _, context -> Response in
            guard let identity = context.identity else { throw PuenteError(.unauthenticated, "Nobody is logged in.") }
            let permissions = Permission.allCases.filter { identity.role.holds($0) }.map(\.rawValue)
            return Responses.json(Me(username: identity.user.username, role: identity.role.rawValue, country: identity.user.country,
                                     organisation: identity.user.organisation, permissions: permissions,
                                     expiresAt: identity.credential.expiresAt))
        }
        router.get("/api/v1/audit") { request, context -> Response in
            let q = request.uri.queryParameters
            let after = q.get("after", as: Int64.self) ?? 0
            let limit = q.get("limit", as: Int.self) ?? 100
            guard after >= 0, (1...1000).contains(limit) else {
                throw PuenteError(.invalidArgument, "Give after ≥ 0 and a limit from 1 to 1000.")
            }
            let entries = try await store.auditEntries(after: after, limit: limit)
            try await audit.record(.init(actor: context.identity?.user.username ?? "anonymous", action: "audit_read",
                                         target: "audit after=\(after) limit=\(limit)", address: context.address))
            return Responses.json(entries)
        }
        LoginRoutes.add(to: router, access: access, limiter: limiter, configuration: configuration)
        LinkageReviewRoutes.add(to: router, review: LinkageReviewService(store: store))
        ConsentRoutes.add(to: router, store: store)

        // The dashboard: server-rendered pages over the same engine and protection as the API.
        let pages = DashboardPages(engine: engine, store: store, reference: reference, policy: configuration.disclosure)
        for page in DashboardPages.Page.allCases {
            router.get(RouterPath(page.rawValue)) { request, context -> Response in
                var query: [String: String] = [:]
                for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
                let state = try DashboardState(query: query, reference: reference)
                return Responses.text(try await pages.render(page, state: state, identity: context.identity), type: "text/html; charset=utf-8")
            }
        }
        router.get("/assets/{file}") { _, context -> Response in
            let file = try context.parameters.require("file")
            guard let asset = DashboardAssets.named(file) else {
                throw PuenteError(.notFound, "No such asset.")
            }
            var response = Responses.text(asset.body, type: asset.type)
            response.headers[.cacheControl] = "public, max-age=3600"
            return response
        }
        return router
    }

    /// Routes of a router that `RoutePolicy` has no rule for (they refuse everyone); a test keeps it empty.
    public static func routesWithoutRule(_ router: Router<PuenteContext>) -> [String] {
        router.routes.map { RoutePolicy.key(method: $0.method.rawValue, path: $0.path.description) }
            .filter { RoutePolicy.rules[$0] == nil }.sorted()
    }

    public static func application(store: any PuenteStore, configuration: Configuration = .init(),
                                   logger: Logger) -> some ApplicationProtocol {
        Application(router: router(store: store, configuration: configuration),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "puente"),
                    logger: logger)
    }
}

/// The account behind a request, for `GET /api/v1/me`.
struct Me: Codable, Sendable {
    var username, role: String
    var country, organisation: String?
    var permissions: [String]
    var expiresAt: String
}

struct CodeListSummary: Codable, Sendable {
    var id, agency, version, name: String
    var validFrom, validTo: String?
    var source: String
    var codes: Int
}
