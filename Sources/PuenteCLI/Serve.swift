import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteLinkage
import PuenteReintegration
import PuenteServices
import PuenteStatistics
import ServiceLifecycle
import Synchronization
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
    @Option(
        name: .customLong("trusted-proxy"),
        help: ArgumentHelp(
            "Address of a reverse proxy in front of the node (repeat for several): from it, Forwarded or X-Forwarded-For names the client.",
            valueName: "ip"))
    var trustedProxies: [String] = []
    @OptionGroup var retention: RetentionOptions
    @OptionGroup var survey: FollowUpsCommand.SurveyOptions
    @Flag(
        help: "Link the stored events into persons in the background once the server is up (as `puente link persons`).")
    var linkPersons = false
    @Flag(
        help:
            "Serve as the regional hub: the dashboard shows the region's figures received from member countries (needs `puente node init`)."
    )
    var hub = false
    @Option(
        help:
            "Every N minutes, export changed years under agreements marked automatic and push queued packages to their receivers (as `puente exchange push`)."
    )
    var pushEvery: Int?
    @Option(help: "The receiver's base URL for scheduled pushes (default: its endpoint in the trusted registry).")
    var pushTo: String?
    @Option(help: "A file holding this node's API token at the receiver (default: $PUENTE_EXCHANGE_TOKEN).")
    var pushTokenFile: String?
    @Option(help: "Requests a minute allowed to one session or API token; more answer 429.") var rateLimit = 600
    @Option(help: "Serve HTTPS with this certificate chain (PEM); with --tls-key.") var tlsCertificate: String?
    @Option(help: "The private key (PEM) of --tls-certificate.") var tlsKey: String?

    func validate() throws {
        guard threshold >= 1 else {
            throw ValidationError("--threshold must be 1 or more; every published figure is protected.")
        }
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together: the chain and its private key.")
        }
        guard (1...1_000_000).contains(rateLimit) else {
            throw ValidationError("--rate-limit: expected 1 to 1000000 requests a minute.")
        }
        if let pushEvery, !(1...1440).contains(pushEvery) {
            throw ValidationError("--push-every: expected 1 to 1440 minutes.")
        }
    }

    func run() async throws {
        let opened = try store.makeStore()
        let options = store
        var background: [BackgroundWork] = []
        if linkPersons {
            let linking = PersonLinking(config: try PersonLinking.defaultConfig())
            let store = opened.store
            background.append(BackgroundWork(name: "person linking", run: { _ = try await linking.run(store: store) }))
        }
        if let pushEvery {
            let node = try options.nodeIdentity()
            let token = try exchangeToken(pushTokenFile)
            let store = opened.store, endpoint = pushTo
            // The node keeps working while a receiver is down: what is not delivered waits for the next round.
            background.append(
                BackgroundWork(
                    name: "scheduled pushes",
                    run: {
                        let exchange = ExchangeService(store: store, node: node)
                        let client = try ExchangeClient(exchange: exchange, store: store)
                        let logger = Logger(label: "puente")
                        while !Task.isCancelled {
                            // Agreements marked automatic: a package for each year whose figures changed.
                            let exported = try await exchange.exportChanged(by: .system("exchange"))
                            if !exported.isEmpty {
                                logger.info("Packages exported", metadata: ["packages": "\(exported.count)"])
                            }
                            let report = try await client.push(
                                endpoint: endpoint, token: token, by: .system("exchange"))
                            if !report.delivered.isEmpty || !report.refused.isEmpty || report.unreachable != nil {
                                logger.info(
                                    "Packages pushed",
                                    metadata: [
                                        "delivered": "\(report.delivered.count)", "refused": "\(report.refused.count)",
                                        "queued": "\(report.queued)", "unreachable": "\(report.unreachable != nil)",
                                    ])
                            }
                            try await Task.sleep(for: .seconds(60 * pushEvery))
                        }
                    }))
        }
        do {
            try await serve(
                store: opened.store, prepare: { try await options.prepare(opened) }, host: host, port: port,
                threshold: threshold, publicStatistics: publicStatistics, trustedProxies: Set(trustedProxies),
                node: hub ? try options.nodeIdentity() : try? options.nodeIdentity(), hub: hub,
                retention: retention.policy, survey: try survey.loaded(), background: background,
                tls: tlsCertificate.flatMap { certificate in tlsKey.map { (certificate, $0) } }, rateLimit: rateLimit)
        } catch {
            try? await opened.store.close()
            throw error
        }
        try await opened.store.close()
    }
}

/// Work run beside the server once the store is ready (the demo's person linking): its failure is
/// logged and leaves the server running; a graceful shutdown cancels it.
struct BackgroundWork: Sendable {
    var name: String
    var run: @Sendable () async throws -> Void
}

/// Runs the node until SIGTERM or Ctrl-C, as one service group with graceful shutdown: the store first
/// (so it stops last); then, once `prepare` has made the store ready (migrations, keys; the demo's
/// import), the HTTP server, the statistics cube's warm-up, the daily retention job when periods are
/// set, and any `background` work.
func serve(
    store: any PuenteStore, prepare: @escaping @Sendable () async throws -> Void, host: String, port: Int,
    threshold: Int = 5, publicStatistics: Bool, trustedProxies: Set<String> = [], node: NodeIdentity? = nil,
    hub: Bool = false, retention: RetentionPolicy = RetentionPolicy(),
    survey: (instrument: SurveyInstrument, weights: WeightTable)? = nil, background: [BackgroundWork] = [],
    tls: (certificate: String, key: String)? = nil, rateLimit: Int = 600
) async throws {
    let logger = {
        var logger = Logger(label: "puente"); logger.logLevel = .info; return logger
    }()
    var configuration = PuenteServer.Configuration(
        host: host, port: port, disclosure: DisclosurePolicy(method: .cellKey, threshold: threshold),
        publicStatistics: publicStatistics)
    configuration.trustedProxies = trustedProxies
    configuration.node = node
    configuration.hub = hub
    configuration.survey = survey
    configuration.tls = tls
    configuration.rateLimit = rateLimit
    let ready = Readiness()
    let statistics = StatisticsService(store: store, disclosure: configuration.disclosure)
    let app = try PuenteServer.buildApplication(
        store: store, configuration: configuration, statistics: statistics, logger: logger,
        beforeServing: { try await cancelWhenGracefulShutdown { try await ready.wait() } })
    // Load the statistics cube before the first visitor asks for it; if that fails, the first query loads it.
    var work =
        [BackgroundWork(name: "statistics cube warm-up", run: { _ = try await statistics.engine.warmUp() })]
        + background
    if let node {
        // The receiver's side of each agreement: what it received is kept as long as the agreement says.
        let exchange = ExchangeService(store: store, node: node, disclosure: configuration.disclosure)
        work.append(
            BackgroundWork(
                name: "exchange retention",
                run: {
                    while !Task.isCancelled {
                        let years = try await exchange.applyRetention(by: .system("retention"))
                        if years > 0 { logger.info("Received figures expired", metadata: ["years": "\(years)"]) }
                        try await Task.sleep(for: .seconds(24 * 3600))
                    }
                }))
    }
    work.append(
        BackgroundWork(
            name: "referral escalation", run: { try await EscalationService(store: store, logger: logger).run() }))
    if retention.isSet {
        work.append(
            BackgroundWork(
                name: "retention",
                run: { try await RetentionService(store: store, policy: retention, logger: logger).run() }))
    }
    let services: [ServiceGroupConfiguration.ServiceConfiguration] =
        [
            .init(service: StoreService(store: store, prepare: prepare, ready: ready)),
            .init(service: app),
        ]
        + work.map { .init(service: BackgroundService(work: $0, ready: ready, logger: logger)) }
    let group = ServiceGroup(
        configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// Runs the store (PostgreSQL's connection pool) for the whole life of the group, prepares it, and
/// tells the other services it is ready. First in the group, so it shuts down after everything that
/// uses it.
struct StoreService: Service {
    let store: any PuenteStore
    let prepare: @Sendable () async throws -> Void
    let ready: Readiness

    func run() async throws {
        let store = self.store
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await store.run() }
            do {
                try await prepare()
                ready.open()
            } catch {
                ready.fail(error)
                throw error
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// One piece of background work as a service: waits for the store, runs once, logs how it ended, and
/// then stays until shutdown: a service group shuts its services down in reverse order and takes one
/// that returns while another is stopping for a failure.
struct BackgroundService: Service {
    let work: BackgroundWork
    let ready: Readiness
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await ready.wait()
                logger.info("Background work started", metadata: ["puente.work": "\(work.name)"])
                try await work.run()
                logger.info("Background work done", metadata: ["puente.work": "\(work.name)"])
            }
        } catch is CancellationError {
            logger.info("Stopped for shutdown", metadata: ["puente.work": "\(work.name)"])
        } catch {
            // The type only: an error's text may quote data.
            logger.error(
                "Background work failed",
                metadata: ["puente.work": "\(work.name)", "puente.error.type": "\(type(of: error))"])
        }
        try? await gracefulShutdown()
    }
}

/// Opened once the store is ready, or failed with why it is not; services wait on it.
final class Readiness: Sendable {
    private struct State {
        var result: Result<Void, any Error>?
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter = 0
    }
    private let state = Mutex(State())

    func open() { settle(.success(())) }
    func fail(_ error: any Error) { settle(.failure(error)) }

    private func settle(_ result: Result<Void, any Error>) {
        let waiters = state.withLock { state in
            state.result = result
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    /// Returns once the store is ready; throws why it is not, or `CancellationError` when the waiting
    /// task is cancelled first (a shutdown during start-up).
    func wait() async throws {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let settled: Result<Void, any Error>? = state.withLock { state in
                    if let result = state.result { return result }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let settled { continuation.resume(with: settled) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}

/// Applies the retention policy once a day while the server runs (and once at start).
struct RetentionService {
    let store: any PuenteStore
    let policy: RetentionPolicy
    let logger: Logger

    func run() async throws {
        let protection = DataProtection(store: store)
        while !Task.isCancelled {
            do {
                let erased = try await protection.applyRetention(policy, by: .system("retention"))
                logger.info(
                    "Retention applied", metadata: ["events": "\(erased.events)", "rejects": "\(erased.rejects)"])
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.error(
                    "Retention failed; it runs again tomorrow", metadata: ["puente.error.type": "\(type(of: error))"])
            }
            try await Task.sleep(for: .seconds(24 * 3600))
        }
    }
}

/// Marks referrals no partner acknowledged in time as escalated, once a day while the server runs (and
/// once at start). A failure is logged and tried again the next day; it never stops the node.
struct EscalationService {
    let store: any PuenteStore
    let logger: Logger

    func run() async throws {
        let referrals = ReferralService(store: store)
        while !Task.isCancelled {
            do {
                let escalated = try await referrals.escalate(by: .system("escalation"))
                if !escalated.isEmpty {
                    logger.info("Referrals escalated", metadata: ["referrals": "\(escalated.count)"])
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.error(
                    "Referral escalation failed; it runs again tomorrow",
                    metadata: ["puente.error.type": "\(type(of: error))"])
            }
            try await Task.sleep(for: .seconds(24 * 3600))
        }
    }
}

/// How long personal data is kept: shared by `serve` and `retention run`.
/// Unset periods keep that data: retention is the data owner's decision, never a default.
struct RetentionOptions: ParsableArguments {
    @Option(help: "Years after the event date that names, birth dates and document numbers are kept (default: kept).")
    var personalDataYears: Int?
    @Option(
        help:
            "Days that rejected rows (raw personal data awaiting correction) are kept after their import (default: kept)."
    )
    var rejectsDays: Int?

    var policy: RetentionPolicy { RetentionPolicy(personalDataYears: personalDataYears, rejectsDays: rejectsDays) }
}

struct Retention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the retention policy now (the server applies it daily).",
        discussion: "Events keep their statistical columns, so published figures do not change.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var retention: RetentionOptions

    func validate() throws {
        guard retention.policy.isSet else {
            throw ValidationError("Give --personal-data-years, --rejects-days or both.")
        }
    }

    func run() async throws {
        let erased = try await withStore(store) {
            try await DataProtection(store: $0).applyRetention(retention.policy, by: commandOperator)
        }
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
    @Option(name: .customLong("record-key"), help: "A record key in the agency's system (repeat for several).")
    var recordKeys: [String]
    @Option(help: "The request and who approved it.") var reason: String

    func run() async throws {
        let n = try await withStore(store) {
            try await DataProtection(store: $0).erase(
                agency: agency, recordKeys: recordKeys, reason: reason, by: commandOperator)
        }
        print("Erased the personal data of \(n) of \(recordKeys.count) records.")
    }
}
