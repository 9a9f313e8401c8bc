import Hummingbird
import PuenteCore
import PuenteReference
import PuenteStatistics

/// The dashboard: server-rendered pages over the same engine and protection as the API, and their
/// stylesheet, script and map data.
enum DashboardRoutes {
    static func add(to router: Router<PuenteContext>, pages: DashboardPages, reference: ReferenceData) {
        for page in DashboardPages.Page.allCases {
            router.get(RouterPath(page.rawValue)) { request, context -> Response in
                var query: [String: String] = [:]
                for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
                let state = try DashboardState(query: query, reference: reference)
                return Responses.text(
                    try await pages.render(page, state: state, identity: context.identity),
                    type: "text/html; charset=utf-8")
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
    }
}
