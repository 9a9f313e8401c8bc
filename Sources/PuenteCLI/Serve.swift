import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PuenteCore
import PuenteHTTP
import PuenteStatistics

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the API and the dashboard.",
        discussion: """
        Health at /health, readiness at /ready, API under /api/v1/, its description at /openapi.json, the
        dashboard at /. Accounts log in at /login; create the first one with `puente users create --role admin`.
        """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on; 127.0.0.1 keeps the node local.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Disclosure threshold: published counts from 1 to N-1 are suppressed.") var threshold = 5
    @Flag(help: "Publish the disclosure-protected statistics (dashboard and /api/v1/stats) to anonymous visitors.")
    var publicStatistics = false

    func run() async throws {
        guard threshold >= 1 else { throw ValidationError("--threshold must be 1 or more; every published figure is protected.") }
        try await withStore(store) { store in
            try await serve(store: store, host: host, port: port, threshold: threshold, publicStatistics: publicStatistics)
        }
    }
}

/// Runs the HTTP server until interrupted (Ctrl-C or SIGTERM shut it down gracefully).
func serve(store: any PuenteStore, host: String, port: Int, threshold: Int = 5, publicStatistics: Bool) async throws {
    var logger = Logger(label: "puente")
    logger.logLevel = .info
    let configuration = PuenteServer.Configuration(host: host, port: port, disclosure: DisclosurePolicy(method: .cellKey, threshold: threshold),
                                                   publicStatistics: publicStatistics)
    let app = PuenteServer.application(store: store, configuration: configuration, logger: logger)
    try await app.runService()
}
