import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PuenteCore
import PuenteHTTP

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the API and the dashboard.",
        discussion: "Health at /health, readiness at /ready, API under /api/v1/, its description at /openapi.json.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on; 127.0.0.1 keeps the node local.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080

    func run() async throws {
        try await withStore(store) { store in
            try await serve(store: store, host: host, port: port)
        }
    }
}

/// Runs the HTTP server until interrupted (Ctrl-C or SIGTERM shut it down gracefully).
func serve(store: any EventStore, host: String, port: Int) async throws {
    var logger = Logger(label: "puente")
    logger.logLevel = .info
    let app = PuenteServer.application(store: store, configuration: .init(host: host, port: port), logger: logger)
    try await app.runService()
}
