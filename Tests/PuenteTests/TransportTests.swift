import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import NIOHTTP1
import NIOSSL
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteHTTP
import PuenteServices
import PuenteTesting
import Synchronization
import Testing

@testable import PuentePostgres

@Suite("Transport security: TLS to PostgreSQL as libpq's sslmode asks")
struct TransportTests {
    /// A CA the test PostgreSQL's certificate is signed by (scripts/test makes a throwaway one).
    static let ca = ProcessInfo.processInfo.environment["PUENTE_TEST_POSTGRES_CA"]

    /// A fresh database on the test server: its URL, and the same asking `verify-full` against `caFile`.
    static func freshDatabase(verifiedBy caFile: String) async throws -> (location: String, verified: String) {
        let (plain, location) = try await StoreKind.postgres.makeStoreWithLocation()
        try await plain.close()
        return (location, verifyFull(location, caFile: caFile))
    }

    static func verifyFull(_ location: String, caFile: String) -> String {
        location + (location.contains("?") ? "&" : "?") + "sslmode=verify-full&sslrootcert=\(caFile)"
    }

    @Test("A URL's sslmode, sslrootcert and unknown parameters are read or refused by name")
    func parameters() throws {
        for (query, expected) in [
            ("sslmode=sometimes", "sslmode"), ("sslmode=require&sslrootcert=/nonexistent/ca.pem", "sslrootcert"),
            ("connect_timeout=10", "connect_timeout"),
        ] {
            let error = #expect(throws: PuenteError.self) {
                _ = try PostgresStore(url: "postgres://postgres@127.0.0.1:1/x?\(query)", cipher: StoreKind.keyring)
            }
            #expect(error?.code == .invalidArgument && error?.message.contains(expected) == true, "\(query)")
        }
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            _ = try PostgresStore(url: "postgres://postgres@127.0.0.1:1/x?sslmode=\(mode)", cipher: StoreKind.keyring)
        }
    }

    @Test(
        "A slow operation's check of the server answers, says when nobody listens, and comes back when cancelled at any moment of its connection",
        .enabled(if: StoreKind.postgresURL != nil && ca != nil))
    func watchdogCheck() async throws {
        let (_, verified) = try await Self.freshDatabase(verifiedBy: try #require(Self.ca))
        let store = try PostgresStore(url: verified, cipher: StoreKind.keyring)
        #expect(await store.probe() == .answers)
        let nobody = try PostgresStore(url: "postgres://postgres@127.0.0.1:1/x", cipher: StoreKind.keyring)
        #expect(await nobody.probe() == .silent)

        // A server that refuses new connections for a reason of its own (here a database that is not
        // there; on a full disk, a backend that cannot write as it starts) is not said to be unreachable:
        // its reason is given, within the watchdog's seconds.
        var gone = URLComponents(string: verified)!
        gone.path = "/puente_no_such_database"
        let refusing = try PostgresStore(url: gone.string!, cipher: StoreKind.keyring)
        let started = ContinuousClock.now
        let refusal = await #expect(throws: PuenteError.self) { try await refusing.migrate() }
        #expect(refusal?.code == .storeUnavailable)
        #expect(refusal?.message.contains("refuses new connections") == true, "\(refusal?.message ?? "")")
        #expect(refusal?.message.contains("puente_no_such_database") == true)
        #expect(ContinuousClock.now - started < .seconds(30))
        try await refusing.close()

        // Cancelled at spread moments of the TLS connection (PostgresNIO's connect once missed such a
        // cancellation and never returned, holding the operation it watched): every check comes back.
        // Six at a time, so the connections left to finish in the background stay few beside other tests.
        // A check that waited for its connection could hang for good: the test waits two minutes at most.
        let checks = 60
        let returned = Tally()
        Task {
            for wave in 0..<(checks / 6) {
                await withTaskGroup(of: Void.self) { group in
                    for i in wave * 6..<(wave + 1) * 6 {
                        group.addTask {
                            let check = Task { await store.probe() }
                            try? await Task.sleep(for: .microseconds(i * 331 % 20_000))
                            check.cancel()
                            _ = await check.value
                            returned.count.withLock { $0 += 1 }
                        }
                    }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while returned.count.withLock({ $0 }) < checks && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(returned.count.withLock { $0 } == checks, "cancelled checks that never returned")
    }

    @Test(
        "verify-full connects to a server whose certificate its CA signed, and refuses one it did not; the session is encrypted",
        .enabled(if: StoreKind.postgresURL != nil && ca != nil))
    func verifiedConnection() async throws {
        let ca = try #require(Self.ca)
        let (location, verified) = try await Self.freshDatabase(verifiedBy: ca)
        let store = try StoreKind.reopen(verified, cipher: StoreKind.keyring)
        #expect(try await store.committedImports().isEmpty)
        // Seen from the server: this database's sessions are encrypted (the query's own is not counted).
        let database = try #require(URLComponents(string: location)?.path.dropFirst())
        let encrypted = try await StoreKind.fetchBehindTheStore(
            "SELECT count(*)::text FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid "
                + "WHERE s.ssl AND a.datname = '\(database)'", at: location)
        #expect(Int(encrypted.first.flatMap { $0 } ?? "0")! >= 1)
        try await store.close()

        // Another CA: the server's certificate is not trusted, and the store says it cannot connect.
        let other = URL(fileURLWithPath: ca).deletingLastPathComponent().appendingPathComponent("other-ca.pem").path
        let untrusted = try StoreKind.reopen(Self.verifyFull(location, caFile: other), cipher: StoreKind.keyring)
        let refused = await #expect(throws: PuenteError.self) { _ = try await untrusted.committedImports() }
        #expect(refused?.code == .storeUnavailable, "\(String(describing: refused))")
        try await untrusted.close()
    }

    @Test(
        "The node speaks HTTPS: a client trusting its CA gets its pages and a Secure session cookie, one that does not is refused, and the exchange client trusts the CA it is given",
        .enabled(if: ca != nil))
    func https() async throws {
        let ca = try #require(Self.ca)
        let folder = URL(fileURLWithPath: ca).deletingLastPathComponent()
        let other = folder.appendingPathComponent("other-ca.pem").path
        let store = try await StoreKind.sqliteMemory.makeStore()
        try await AccessService(store: store, hasher: PasswordHasher(logCost: 10)).createUser(
            username: "ana", role: .statistician, password: "a long enough password", by: .commandOperator("test"))
        let tls = try PuenteServer.serverTLS(
            (folder.appendingPathComponent("server.pem").path, folder.appendingPathComponent("server.key").path))
        let app = Application(
            router: PuenteServer.router(store: store), server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let trusting = try Self.client(trusting: ca), stranger = try Self.client(trusting: other)
        do {
            try await app.test(.ahc(.https)) { testClient in
                try await Self.talk(
                    to: "https://127.0.0.1:\(testClient.port!)", trusting, stranger, store: store, ca: ca, other: other)
            }
        } catch {
            try? await trusting.shutdown()
            try? await stranger.shutdown()
            throw error
        }
        try await trusting.shutdown()
        try await stranger.shutdown()
        try await store.close()
    }

    static func client(trusting file: String) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
        configuration.tlsConfiguration = tls
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func talk(
        to base: String, _ trusting: HTTPClient, _ stranger: HTTPClient, store: any PuenteStore, ca: String,
        other: String
    ) async throws {
        let health = try await trusting.execute(HTTPClientRequest(url: base + "/health"), timeout: .seconds(10))
        #expect(health.status == .ok)
        var login = HTTPClientRequest(url: base + "/login")
        login.method = .POST
        login.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        login.body = .bytes(ByteBuffer(string: "username=ana&password=a+long+enough+password"))
        let loggedIn = try await trusting.execute(login, timeout: .seconds(30))
        #expect(loggedIn.status == .seeOther)
        let cookie = try #require(loggedIn.headers["set-cookie"].first)
        #expect(cookie.contains("Secure") && cookie.contains("HttpOnly"))
        await #expect(throws: (any Error).self) {
            _ = try await stranger.execute(HTTPClientRequest(url: base + "/health"), timeout: .seconds(10))
        }
        // Fetching the hub's registry over HTTPS: with the hub's CA the hub answers (it keeps none), with
        // another CA it is not reached at all.
        let exchange = ExchangeService(store: store, node: try NodeIdentity.generate(id: "SV-DGME", country: "SLV"))
        for (file, expected) in [
            (ca, "answered 404"),
            (other, "could not be reached: its certificate is not signed by a CA this node trusts"),
        ] {
            let refused = await #expect(throws: PuenteError.self) {
                _ = try await ExchangeClient(exchange: exchange, store: store, trustedCA: file).fetchRegistry(
                    from: base, hubKey: nil, by: .commandOperator("test"))
            }
            #expect(refused?.message.contains(expected) == true, "\(refused?.message ?? "")")
        }
    }
}

/// A count several tasks add to.
private final class Tally: Sendable {
    let count = Mutex(0)
}
