import Foundation
import PuenteCore
import PuentePostgres
import PuenteTesting
import Testing

@Suite("Transport security: TLS to PostgreSQL as libpq's sslmode asks")
struct TransportTests {
    /// A CA the test PostgreSQL's certificate is signed by (scripts/test makes a throwaway one).
    static let ca = ProcessInfo.processInfo.environment["PUENTE_TEST_POSTGRES_CA"]

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
        "verify-full connects to a server whose certificate its CA signed, and refuses one it did not; the session is encrypted",
        .enabled(if: StoreKind.postgresURL != nil && ca != nil))
    func verifiedConnection() async throws {
        let (plain, location) = try await StoreKind.postgres.makeStoreWithLocation()
        try await plain.close()
        let separator = location.contains("?") ? "&" : "?"
        let ca = try #require(Self.ca)
        let store = try StoreKind.reopen(
            location + separator + "sslmode=verify-full&sslrootcert=\(ca)", cipher: StoreKind.keyring)
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
        let untrusted = try StoreKind.reopen(
            location + separator + "sslmode=verify-full&sslrootcert=\(other)", cipher: StoreKind.keyring)
        let refused = await #expect(throws: PuenteError.self) { _ = try await untrusted.committedImports() }
        #expect(refused?.code == .storeUnavailable, "\(String(describing: refused))")
        try await untrusted.close()
    }
}
