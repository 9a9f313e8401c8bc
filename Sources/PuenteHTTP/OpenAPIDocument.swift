import Foundation

/// The OpenAPI 3.1 description of Puente's HTTP API (`OpenAPI/openapi.json`, a file partners can read
/// without running a node), served at `/openapi.json`. A test keeps it true to the router: a route
/// missing from it, or described but not routed, fails it.
enum OpenAPIDocument {
    static let json: String = {
        guard let url = Bundle.module.resourceURL?.appendingPathComponent("OpenAPI/openapi.json"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            preconditionFailure("The OpenAPI document is missing from the module's resources.")
        }
        return text
    }()
}
