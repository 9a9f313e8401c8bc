import Hummingbird
import PuenteCore

/// What operators and clients ask of the node itself: liveness, readiness and the API's description.
enum SystemRoutes {
    static func add(to router: Router<PuenteContext>, store: any PuenteStore) {
        router.get("/health") { _, _ in ["status": "ok"] }
        router.get("/ready") { _, _ -> Response in
            do {
                _ = try await store.imports(limit: 1)
            } catch {
                return Responses.error(
                    status: .serviceUnavailable, code: "store_unavailable", message: "The store does not answer.")
            }
            return try Responses.json(["status": "ready"])
        }
        router.get("/openapi.json") { _, _ in
            Responses.text(OpenAPIDocument.json, type: "application/json")
        }
    }
}
