import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteStatistics
import ServiceLifecycle
import UnixSignals

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
    @Option(name: .customLong("trusted-proxy"), help: ArgumentHelp(
        "Address of a reverse proxy in front of the node (repeat for several): from it, Forwarded or X-Forwarded-For names the client.",
        valueName: "ip"))
    var trustedProxies: [String] = []
    @OptionGroup var retention: RetentionOptions

    func run() async throws {
        guard threshold >= 1 else { throw ValidationError("--threshold must be 1 or more; every published figure is protected.") }
        try await withStore(store) { store in
            try await serve(store: store, host: host, port: port, threshold: threshold, publicStatistics: publicStatistics,
                            trustedProxies: Set(trustedProxies), retention: retention.policy)
        }
    }
}

/// Runs the HTTP server, and the daily retention job beside it when periods are set, until interrupted (Ctrl-C or SIGTERM shut
/// both down gracefully).
func serve(store: any PuenteStore, host: String, port: Int, threshold: Int = 5, publicStatistics: Bool,
           trustedProxies: Set<String> = [], retention: RetentionPolicy = RetentionPolicy()) async throws {
    var logger = Logger(label: "puente")
    logger.logLevel = .info
    var configuration = PuenteServer.Configuration(host: host, port: port, disclosure: DisclosurePolicy(method: .cellKey, threshold: threshold),
                                                   publicStatistics: publicStatistics)
    configuration.trustedProxies = trustedProxies
    let app = PuenteServer.application(store: store, configuration: configuration, logger: logger)
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: app)]
    if retention.isSet { services.append(.init(service: RetentionService(store: store, policy: retention, logger: logger))) }
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// Applies the retention policy once a day while the server runs (and once at start).
struct RetentionService: Service {
    let store: any PuenteStore
    let policy: RetentionPolicy
    let logger: Logger

    func run() async throws {
        let protection = DataProtection(store: store)
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let erased = try await protection.applyRetention(policy, by: "system:retention")
                    logger.info("Retention applied", metadata: ["events": "\(erased.events)", "rejects": "\(erased.rejects)"])
                } catch {
                    logger.error("Retention failed; it runs again tomorrow", metadata: ["puente.error.type": "\(type(of: error))"])
                }
                try await Task.sleep(for: .seconds(24 * 3600))
            }
        }
    }
}

/// How long personal data is kept: shared by `serve` and `retention run`.
/// Unset periods keep that data: retention is the data owner's decision, never a default.
struct RetentionOptions: ParsableArguments {
    @Option(help: "Years after the event date that names, birth dates and document numbers are kept (default: kept).")
    var personalDataYears: Int?
    @Option(help: "Days that rejected rows (raw personal data awaiting correction) are kept after their import (default: kept).")
    var rejectsDays: Int?

    var policy: RetentionPolicy { RetentionPolicy(personalDataYears: personalDataYears, rejectsDays: rejectsDays) }
}

struct Retention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the retention policy now (the server applies it daily).",
        discussion: "Events keep their statistical columns, so published figures do not change.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var retention: RetentionOptions

    func run() async throws {
        guard retention.policy.isSet else { throw ValidationError("Give --personal-data-years, --rejects-days or both.") }
        let erased = try await withStore(store) { try await DataProtection(store: $0).applyRetention(retention.policy, by: commandActor) }
        print("Personal data erased from \(erased.events) events; \(erased.rejects) rejected rows deleted.")
    }
}

struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase one person's personal data on a justified request, keeping published figures intact.",
        discussion: """
        Name the person's records by the agency and the record keys of its system. Names, birth dates and
        document numbers are removed; what statistics count stays. The request is recorded in the audit
        trail with its reason.
        """)
    @OptionGroup var store: StoreOptions
    @Option(help: "Agency whose records these are, e.g. SV-DGME.") var agency: String
    @Option(name: .customLong("record-key"), help: "A record key in the agency's system (repeat for several).") var recordKeys: [String]
    @Option(help: "The request and who approved it.") var reason: String

    func run() async throws {
        let n = try await withStore(store) {
            try await DataProtection(store: $0).erase(agency: agency, recordKeys: recordKeys, reason: reason, by: commandActor)
        }
        print("Erased the personal data of \(n) of \(recordKeys.count) records.")
    }
}
