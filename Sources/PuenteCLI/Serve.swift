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
        discussion: "Health at /health, readiness at /ready, API under /api/v1/, its description at /openapi.json.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on; 127.0.0.1 keeps the node local.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Disclosure threshold: published counts from 1 to N-1 are suppressed.") var threshold = 5

    func run() async throws {
        guard threshold >= 1 else { throw ValidationError("--threshold must be 1 or more; every published figure is protected.") }
        try await withStore(store) { store in
            try await serve(store: store, host: host, port: port, threshold: threshold)
        }
    }
}

/// Runs the HTTP server until interrupted (Ctrl-C or SIGTERM shut it down gracefully).
func serve(store: any EventStore, host: String, port: Int, threshold: Int = 5) async throws {
    var logger = Logger(label: "puente")
    logger.logLevel = .info
    let configuration = PuenteServer.Configuration(host: host, port: port, disclosure: DisclosurePolicy(method: .cellKey, threshold: threshold))
    let app = PuenteServer.application(store: store, configuration: configuration, logger: logger)
    try await app.runService()
}
