import Foundation

/// The dashboard's stylesheet and script, read once from the module's resources.
enum DashboardAssets {
    struct Asset: Sendable {
        var body: String
        var type: String
    }

    private static let assets: [String: Asset] = {
        var out: [String: Asset] = [:]
        for (name, type) in [
            ("dashboard.css", "text/css; charset=utf-8"), ("dashboard.js", "text/javascript; charset=utf-8"),
        ] {
            if let url = Bundle.module.resourceURL?.appendingPathComponent("Assets/\(name)"),
                let body = try? String(contentsOf: url, encoding: .utf8)
            {
                out[name] = Asset(body: body, type: type)
            }
        }
        return out
    }()

    static func named(_ name: String) -> Asset? { assets[name] }
}
