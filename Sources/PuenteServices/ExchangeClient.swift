import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import PuenteAccess
import PuenteCore
import PuenteExchange

/// A node talking to others over HTTP: it delivers the packages it queued (`POST
/// /api/v1/exchange/packages`), oldest first, keeping each receiver's signed receipt, and fetches the
/// hub's member registry. A receiver that cannot be reached leaves the queue as it is, to drain on the
/// next push: the node never waits on another one to keep working.
public struct ExchangeClient: Sendable {
    let exchange: ExchangeService
    let store: any PuenteStore
    let configuration: HTTPClient.Configuration

    /// `connectTimeout`: how long a receiver may take to accept a connection (failed attempts are retried
    /// within it) before the push gives up and leaves its packages queued.
    ///
    /// `trustedCA`: a PEM file of the CA that signed the receiver's certificate, for a hub whose
    /// certificate comes from its own CA (`$PUENTE_EXCHANGE_CA` by default); the system's roots otherwise.
    /// The receiver's certificate is always verified, host name included.
    public init(
        exchange: ExchangeService, store: any PuenteStore, connectTimeout: Duration = .seconds(10),
        trustedCA: String? = ProcessInfo.processInfo.environment["PUENTE_EXCHANGE_CA"]
    ) throws {
        self.exchange = exchange
        self.store = store
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .init(connectTimeout), read: .seconds(300))
        if let trustedCA {
            var tls = TLSConfiguration.makeClientConfiguration()
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(trustedCA)) } catch {
                throw PuenteError(
                    .invalidArgument,
                    "The exchange CA file (PUENTE_EXCHANGE_CA) must hold a CA certificate in PEM format.",
                    at: InputLocation(file: (trustedCA as NSString).lastPathComponent))
            }
            configuration.tlsConfiguration = tls
        }
        self.configuration = configuration
    }

    /// A client for one push or fetch, shut down after it.
    func withClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public struct Report: Sendable {
        public var delivered: [(package: SentPackage, receipt: SignedReceipt)] = []
        /// Packages the receiver refused, with its code and reason; they stay queued.
        public var refused: [(package: SentPackage, code: String, message: String)] = []
        /// Set when a receiver could not be reached (the rest stays queued).
        public var unreachable: String?
        /// Packages still queued afterwards.
        public var queued = 0
    }

    /// Pushes every queued package (only those addressed to `receiver`, when given) to `endpoint` (the
    /// receiver's base URL), or to the endpoint the trusted member registry gives for each receiver,
    /// authenticated by this node's `token` there.
    public func push(endpoint: String?, receiver: String? = nil, token: String, by actor: Actor) async throws
        -> Report
    {
        try await withClient {
            try await push(endpoint: endpoint, receiver: receiver, token: token, by: actor, client: $0)
        }
    }

    func push(endpoint: String?, receiver: String? = nil, token: String, by actor: Actor, client: HTTPClient)
        async throws -> Report
    {
        var report = Report()
        // Referral messages owed since the last push (a consent withdrawn cancels a referral here).
        try await ReferralExchange(store: store, node: exchange.node).sendPending(by: actor)
        let registry = try await trustedRegistry()
        var unreachable = Set<String>()
        for package in try await exchange.sent(undelivered: true)
        where !unreachable.contains(package.receiver) && (receiver == nil || package.receiver == receiver) {
            guard let base = endpoint ?? registry?.member(package.receiver)?.endpoint else {
                report.refused.append((package, "no_endpoint", Self.noEndpoint(package.receiver)))
                continue
            }
            var request = HTTPClientRequest(url: base.trimmingSuffix("/") + "/api/v1/exchange/packages")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/vnd.puente.package")
            request.body = .bytes(ByteBuffer(string: package.file))
            let status: UInt
            let body: ByteBuffer
            do {
                let response = try await client.execute(request, timeout: .seconds(120))
                status = response.status.code
                body = try await response.body.collect(upTo: 1 << 20)
            } catch {
                unreachable.insert(package.receiver)
                report.unreachable = "\(package.receiver) at \(base) could not be reached: \(Self.why(error))"
                continue
            }
            switch status {
            case 200..<300:
                let receipt = try await exchange.recordReceipt(
                    Data(body.readableBytesView), source: "receipt from \(package.receiver)", by: actor)
                report.delivered.append((package, receipt))
            case 500...:
                unreachable.insert(package.receiver)
                report.unreachable = "\(package.receiver) answered \(status)"
            default:
                let refusal = Self.refusal(Data(body.readableBytesView))
                report.refused.append(
                    (package, refusal?.code ?? "http_\(status)", refusal?.message ?? "HTTP \(status)"))
            }
        }
        report.queued = try await exchange.sent(undelivered: true).count
        return report
    }

    /// Fetches the member registry the hub at `hub` publishes and trusts it when it verifies (see
    /// `ExchangeService.trustRegistry`).
    public func fetchRegistry(from hub: String, hubKey: String?, by actor: Actor) async throws
        -> (SignedRegistry, SignedRegistry.Verdict)
    {
        let url = hub.trimmingSuffix("/") + "/api/v1/exchange/registry"
        let body: ByteBuffer
        do {
            body = try await withClient { client in
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
                guard response.status == .ok else {
                    throw PuenteError(.storeUnavailable, "The hub answered \(response.status.code) for its registry.")
                }
                return try await response.body.collect(upTo: 16 << 20)
            }
        } catch let error as PuenteError {
            throw error
        } catch {
            throw PuenteError(.storeUnavailable, "The hub at \(hub) could not be reached: \(Self.why(error)).")
        }
        return try await exchange.trustRegistry(
            Data(body.readableBytesView), source: "registry from \(hub)", hubKey: hubKey, by: actor)
    }
}

extension ExchangeClient {
    /// The member registry this node trusts, if any: where the other nodes' endpoints are.
    func trustedRegistry() async throws -> MemberRegistry? {
        try await store.trustedRegistry().map {
            try SignedRegistry(file: Data($0.document.utf8), source: "trusted registry").registry
        }
    }

    static func noEndpoint(_ node: String) -> String {
        "No endpoint for \(node): give --to, or trust a registry that has one."
    }

    /// A receiver's refusal, `{"error": {"code", "message"}}`, when its answer is one.
    static func refusal(_ body: Data) -> (code: String, message: String)? {
        guard let error = (try? JSONDecoder().decode([String: [String: String]].self, from: body))?["error"],
            let code = error["code"], let message = error["message"]
        else { return nil }
        return (code, message)
    }

    /// What an operator can act on when a receiver could not be reached: above all an untrusted
    /// certificate, which a retry later will not cure.
    static func why(_ error: any Error) -> String {
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "its certificate does not name that host"
        }
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "its certificate is not signed by a CA this node trusts (PUENTE_EXCHANGE_CA names the hub's CA)"
        }
        if error is NIOSSLError { return "the TLS handshake failed" }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "it did not accept a connection in time"
            case .readTimeout, .deadlineExceeded: return "it did not answer in time"
            default: break
            }
        }
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return "nothing accepts connections there"
        }
        return "the connection failed"
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
