import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import PuenteAccess
import PuenteCore
import PuenteReference
import PuenteReintegration
import PuenteServices
import PuenteStatistics
import ServiceLifecycle

/// Builds Puente's HTTP application: health, the read API under `/api/v1/`, the OpenAPI document and
/// the dashboard.
public enum PuenteServer {
    /// Settings of `puente serve`.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Disclosure protection of every figure the server publishes.
        public var disclosure: DisclosurePolicy
        /// Whether anonymous visitors may see the node's disclosure-protected statistics (the
        /// dashboard and `/api/v1/stats`). Off by default: the node decides to publish.
        public var publicStatistics: Bool
        /// Session cookies are marked `Secure` (sent over HTTPS only, and to localhost). Turn off only
        /// for a plain-HTTP test bench on another host.
        public var secureCookies: Bool
        /// Password attempts allowed per client address in `loginAttemptWindow`: a burst of that many,
        /// then evenly over the window.
        public var loginAttempts = 10
        /// Ten a minute by default; tests lengthen it, so no attempt comes back while a loaded machine
        /// answers their requests.
        public var loginAttemptWindow: Duration = .seconds(60)
        /// How passwords are hashed (OWASP's minimum by default; tests use a cheaper cost, as CPU there is
        /// shared by many servers at once).
        public var passwordHasher = PasswordHasher()
        /// Addresses of the reverse proxies in front of the node: from them alone, `Forwarded` and
        /// `X-Forwarded-For` name the client (for the login limiter and the audit trail).
        public var trustedProxies: Set<String> = []
        /// This node's identity in the exchange; without one it neither receives packages nor signs.
        public var node: NodeIdentity?
        /// A regional hub: the dashboard's home is the region's page.
        public var hub = false
        /// The sustainability survey's instrument and weight table; Puente's own when nil.
        public var survey: (instrument: SurveyInstrument, weights: WeightTable)?
        /// HTTPS: the server's certificate chain and private key (PEM files); plain HTTP when nil, for a
        /// node behind a reverse proxy that speaks TLS (docs/reliability.md).
        public var tls: (certificate: String, key: String)?
        /// Requests a minute for one session or API token; more answer 429 until the bucket refills.
        public var rateLimit = 600

        public init(
            host: String = "127.0.0.1", port: Int = 8080, disclosure: DisclosurePolicy = .standard,
            publicStatistics: Bool = false, secureCookies: Bool = true
        ) {
            self.host = host
            self.port = port
            self.disclosure = disclosure
            self.publicStatistics = publicStatistics
            self.secureCookies = secureCookies
        }
    }

    /// The routes over `store`, area by area; `statistics` is the statistics service whose cube the node
    /// warms up beside the server (a new one by default).
    public static func router(
        store: any PuenteStore, configuration: Configuration = .init(), reference: ReferenceData = .shared,
        statistics: StatisticsService? = nil
    ) -> Router<PuenteContext> {
        let router = Router(context: PuenteContext.self, options: .autoGenerateHeadEndpoints)
        let access = AccessService(store: store, hasher: configuration.passwordHasher)
        let limiter = RateLimiter()
        router.add(middleware: ClientAddressMiddleware(trusted: configuration.trustedProxies))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(
            middleware: AccessMiddleware(
                access: access, publicStatistics: configuration.publicStatistics, limiter: limiter,
                rateLimit: .perMinute(configuration.rateLimit)))
        let statistics =
            statistics ?? StatisticsService(store: store, disclosure: configuration.disclosure, reference: reference)

        SystemRoutes.add(to: router, store: store)
        StatisticsRoutes.add(to: router, statistics: statistics, reference: reference)
        ImportRoutes.add(to: router, store: store)
        AccountRoutes.add(to: router, auditTrail: AuditTrailService(store: store))
        LoginRoutes.add(to: router, access: access, limiter: limiter, configuration: configuration)
        LinkageReviewRoutes.add(to: router, review: LinkageReviewService(store: store))
        ConsentRoutes.add(to: router, store: store)
        let followUps =
            configuration.survey.map { FollowUpService(store: store, instrument: $0.instrument, weights: $0.weights) }
            ?? (try? FollowUpService(store: store))
        CaseRoutes.add(to: router, store: store, node: configuration.node, followUps: followUps)
        CaseScreenRoutes.add(
            to: router,
            screens: CaseScreens(store: store, node: configuration.node, followUps: followUps, reference: reference))
        let programme = ProgrammeStatistics(store: store, disclosure: configuration.disclosure)
        CaseRoutes.addStatistics(to: router, programme: programme)
        ExchangeRoutes.add(
            to: router, store: store,
            exchange: configuration.node.map {
                ExchangeService(store: store, node: $0, disclosure: configuration.disclosure, reference: reference)
            })
        LinkageUnitRoutes.add(to: router, unit: configuration.node.map { LinkageUnitService(store: store, node: $0) })
        let regional = configuration.node.map { _ in RegionalStatistics(store: store, reference: reference) }
        // At a national node its own published cells are one side; a hub has no records of its own.
        let mirror = configuration.node.flatMap { node in
            regional.map { MirrorStatistics(regional: $0, node: node, disclosure: configuration.disclosure) }
        }
        RegionalRoutes.add(to: router, regional: regional, mirror: mirror, reference: reference)
        SDMXRestRoutes.add(
            to: router, statistics: statistics, store: store, hub: configuration.hub, reference: reference,
            programme: configuration.hub ? nil : programme, country: configuration.node?.country)
        DashboardRoutes.add(
            to: router,
            pages: DashboardPages(
                engine: statistics.engine, store: store, reference: reference,
                policy: configuration.disclosure, regional: regional, mirror: mirror, hub: configuration.hub),
            reference: reference)
        // Last: it wraps only the answer for what no route takes.
        router.add(
            middleware: MethodNotAllowedMiddleware(
                routes: router.routes.map { ($0.method.rawValue, $0.path.description) }))
        return router
    }

    /// The server's TLS from its PEM files, each named in the refusal when it cannot be read.
    public static func serverTLS(_ files: (certificate: String, key: String)) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(files.certificate) } catch {
            throw PuenteError(
                .invalidArgument, "--tls-certificate: expected the server's certificate chain in PEM format.",
                at: InputLocation(file: (files.certificate as NSString).lastPathComponent))
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: files.key, format: .pem) } catch {
            throw PuenteError(
                .invalidArgument, "--tls-key: expected the certificate's private key in PEM format.",
                at: InputLocation(file: (files.key as NSString).lastPathComponent))
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    /// Routes of a router that `RoutePolicy` has no rule for (they refuse everyone); a test keeps it empty.
    public static func routesWithoutRule(_ router: Router<PuenteContext>) -> [String] {
        router.routes.map { RoutePolicy.key(method: $0.method.rawValue, path: $0.path.description) }
            .filter { RoutePolicy.rules[$0] == nil }.sorted()
    }

    /// The HTTP application. It starts listening once `beforeServing` has returned (the store migrated
    /// and its keys checked), so no request meets a store that is not ready.
    public static func buildApplication(
        store: any PuenteStore, configuration: Configuration = .init(), statistics: StatisticsService,
        logger: Logger, beforeServing: @escaping @Sendable () async throws -> Void
    ) throws -> some Service {
        var app = Application(
            router: router(store: store, configuration: configuration, statistics: statistics),
            server: try configuration.tls.map { try .tls(.http1(), tlsConfiguration: try serverTLS($0)) } ?? .http1(),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "puente"),
            logger: logger)
        app.beforeServerStarts(perform: beforeServing)
        return app
    }
}
