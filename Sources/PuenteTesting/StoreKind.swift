import Foundation
import GRDB
import Logging
import PostgresNIO
import PuenteAccess
import PuenteCore
import PuentePostgres
import PuenteSQLite

/// The stores the behaviour tests run against: SQLite always, PostgreSQL when
/// `PUENTE_TEST_POSTGRES_URL` names a server (the test script starts a throwaway one).
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqliteMemory = "sqlite-memory"
    case sqliteFile = "sqlite-file"
    case postgres

    public var description: String { rawValue }

    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["PUENTE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Kinds available here. Without PostgreSQL the run says so on standard error; under CI
    /// (`CI=true`) a missing PostgreSQL is a failure of the run, never a silent skip.
    public static let available: [StoreKind] = {
        if postgresURL != nil { return allCases }
        let message =
            "NOTE: PUENTE_TEST_POSTGRES_URL is not set: store tests run on SQLite only. "
            + "Run scripts/test to include PostgreSQL.\n"
        FileHandle.standardError.write(Data(message.utf8))
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            FileHandle.standardError.write(Data("CI=true requires PostgreSQL for the store tests.\n".utf8))
            return allCases  // the postgres case then fails loudly in makeStore()
        }
        return [.sqliteMemory, .sqliteFile]
    }()

    /// The test stores' keys: fixed, so a test can reopen a store it made.
    public static let keyring = Keyring.forTesting()

    /// A new, empty, migrated store of this kind.
    public func makeStore() async throws -> any PuenteStore {
        try await makeStoreWithLocation().store
    }

    /// A new store and where it lives: the SQLite file's path (`:memory:` for memory) or the PostgreSQL
    /// URL, so a test can reach the data behind the store's back (as an attacker with the files would).
    public func makeStoreWithLocation() async throws -> (store: any PuenteStore, location: String) {
        let made = try await makeEmptyStoreWithLocation()
        try await made.store.migrate()
        return made
    }

    /// A new store with no schema at all (not migrated): what a backup is restored into.
    public func makeEmptyStoreWithLocation() async throws -> (store: any PuenteStore, location: String) {
        let store: any PuenteStore
        let location: String
        switch self {
        case .sqliteMemory:
            location = ":memory:"
            store = try SQLiteStore(path: location, cipher: Self.keyring)
        case .sqliteFile:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("puente-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            location = dir.appendingPathComponent("store.sqlite").path
            store = try SQLiteStore(path: location, cipher: Self.keyring)
        case .postgres:
            guard let url = Self.postgresURL else {
                throw PuenteError(
                    .storeUnavailable, "PUENTE_TEST_POSTGRES_URL is not set but CI=true requires PostgreSQL.")
            }
            location = try await Self.freshDatabase(serverURL: url)
            store = Self.running(try PostgresStore(url: location, cipher: Self.keyring))
        }
        return (store, location)
    }

    /// Opens another store on an existing location, with other keys (to test rotation).
    public static func reopen(_ location: String, cipher: any PersonalDataCipher) throws -> any PuenteStore {
        location.hasPrefix("postgres")
            ? running(try PostgresStore(url: location, cipher: cipher))
            : try SQLiteStore(path: location, cipher: cipher)
    }

    /// A test holds a store from making it to `close()`, which ends its run: the run is a task of its own
    /// here, where the node runs it in its service group or beside a command.
    static func running(_ store: PostgresStore) -> PostgresStore {
        Task { await store.run() }
        return store
    }

    /// The first column of a query run directly on a store's database, as text.
    public static func fetchBehindTheStore(_ sql: String, at location: String) async throws -> [String?] {
        guard location.hasPrefix("postgres") else {
            return try await DatabaseQueue(path: location).read { db in try String?.fetchAll(db, sql: sql) }
        }
        return try await withPostgres(location) { client in
            var out: [String?] = []
            for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(String?.self) {
                out.append(value)
            }
            return out
        }
    }

    /// Runs statements directly on a store's database, bypassing Puente (to simulate tampering).
    public static func executeBehindTheStore(_ statements: [String], at location: String) async throws {
        guard location.hasPrefix("postgres") else {
            return try await DatabaseQueue(path: location).write { db in
                for sql in statements { try db.execute(sql: sql) }
            }
        }
        try await withPostgres(location) { client in
            for sql in statements { try await client.query(PostgresQuery(unsafeSQL: sql)) }
        }
    }

    /// Creates an empty database on the server for one test and returns its URL.
    static func freshDatabase(serverURL: String) async throws -> String {
        guard var c = URLComponents(string: serverURL) else {
            throw PuenteError(.invalidArgument, "PUENTE_TEST_POSTGRES_URL is not a postgres:// URL.")
        }
        let name = "puente_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        c.path = "/postgres"
        _ = try await withPostgres(c.string!) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        c.path = "/" + name
        return c.string!
    }

    /// Runs `body` with a client of the database at `url`, outside any store.
    private static func withPostgres<T: Sendable>(_ url: String, _ body: @Sendable (PostgresClient) async throws -> T)
        async throws -> T
    {
        guard let c = URLComponents(string: url), let host = c.host else {
            throw PuenteError(.invalidArgument, "Not a postgres:// URL.")
        }
        let database = c.path.count > 1 ? String(c.path.dropFirst()) : "postgres"
        let client = PostgresClient(
            configuration: .init(
                host: host, port: c.port ?? 5432, username: c.user ?? "postgres",
                password: c.password, database: database, tls: .disable))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
