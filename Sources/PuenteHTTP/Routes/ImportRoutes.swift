import Hummingbird
import PuenteCore

/// The import log and its rejections, for data officers (the `imports` permission).
enum ImportRoutes {
    enum RejectionsFormat: String, CaseIterable { case json, csv }

    static func add(to router: Router<PuenteContext>, store: any PuenteStore) {
        router.get("/api/v1/imports") { request, _ -> Response in
            let limit = try request.uri.queryParameters.integer("limit", in: 1...1000) ?? 50
            return try Responses.json(try await store.imports(limit: limit))
        }
        router.get("/api/v1/imports/rejections") { request, _ -> Response in
            let q = request.uri.queryParameters
            let counts = try await store.rejectionCounts(imports: try q.integer("imports", in: 1...1000) ?? 50)
            switch try q.choice("format", RejectionsFormat.self) ?? .json {
            case .json: return try Responses.json(counts)
            case .csv:
                let csv =
                    CSVWriter.line(["import_id", "started_at", "file", "rule", "rows"])
                    + counts.map {
                        CSVWriter.line([String($0.importID), $0.startedAt, $0.file, $0.rule, String($0.rows)])
                    }.joined()
                return Responses.text(csv, type: "text/csv; charset=utf-8")
            }
        }
    }
}
