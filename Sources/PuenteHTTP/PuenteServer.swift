import Foundation
import Hummingbird
import Logging
import PuenteCore
import PuenteReference
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

        public init(host: String = "127.0.0.1", port: Int = 8080, disclosure: DisclosurePolicy = .standard) {
            self.host = host
            self.port = port
            self.disclosure = disclosure
        }
    }

    /// The protection a request asks for. Exact values need an entitled role; until roles exist no
    /// request has one, so the API publishes protected figures only.
    static func policy(_ requested: String?, _ configuration: Configuration) throws -> DisclosurePolicy {
        guard let requested else { return configuration.disclosure }
        guard let method = DisclosurePolicy.Method(rawValue: requested) else {
            throw PuenteError(.invalidArgument, "Allowed protection: ckm (ad-hoc queries, the default) or suppression (fixed tables).")
        }
        if method == .none {
            throw PuenteError(.forbidden, "Unprotected figures are only for roles entitled to them.")
        }
        var policy = configuration.disclosure
        policy.method = method
        return policy
    }

    public static func router(store: any EventStore, configuration: Configuration = .init(),
                              reference: ReferenceData = .shared) -> Router<PuenteContext> {
        let router = Router(context: PuenteContext.self)
        router.add(middleware: ErrorMiddleware())
        let engine = StatisticsEngine(store: store, reference: reference)
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
        router.get("/api/v1/stats") { request, _ -> Response in
            let q = request.uri.queryParameters
            guard let measure = q.get("measure") else {
                throw PuenteError(.invalidArgument, "Give a measure, e.g. ?measure=returns. Allowed measures: "
                    + Measure.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            let query = try StatisticsQuery.parse(measure: measure, by: q.get("by"), filter: q.get("filter"), reference: reference)
            let format = try StatisticsFormat.named(q.get("format") ?? "json")
            let table = try await engine.run(query, policy: try Self.policy(q.get("protection"), configuration))
            return Responses.text(try table.rendered(as: format, flow: flow), type: format.mediaType)
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

        // The dashboard: server-rendered pages over the same engine and protection as the API.
        let pages = DashboardPages(engine: engine, store: store, reference: reference, policy: configuration.disclosure)
        for page in DashboardPages.Page.allCases {
            router.get(RouterPath(page.rawValue)) { request, _ -> Response in
                var query: [String: String] = [:]
                for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
                let state = try DashboardState(query: query, reference: reference)
                return Responses.text(try await pages.render(page, state: state), type: "text/html; charset=utf-8")
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

    public static func application(store: any EventStore, configuration: Configuration = .init(),
                                   logger: Logger) -> some ApplicationProtocol {
        Application(router: router(store: store, configuration: configuration),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "puente"),
                    logger: logger)
    }
}

struct CodeListSummary: Codable, Sendable {
    var id, agency, version, name: String
    var validFrom, validTo: String?
    var source: String
    var codes: Int
}
