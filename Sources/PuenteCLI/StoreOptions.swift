import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuentePostgres
import PuenteSQLite

/// Chooses the store: `--database`, else `PUENTE_DATABASE_URL`, else `puente.sqlite` in the working
/// directory; and the keys that seal its personal data: `--key-file`, else `PUENTE_KEYS` (the keys
/// themselves), else `PUENTE_KEY_FILE`, else `<sqlite file>.keys` or `puente.keys`, created on first use.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where Puente keeps its data: a SQLite file (path or sqlite:PATH) or postgres://USER@HOST:PORT/DB.",
            discussion: "Default: $PUENTE_DATABASE_URL, else puente.sqlite in the working directory.", valueName: "url")
    )
    var database: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Key file sealing personal data at rest (never inside the database).",
            discussion:
                "Default: $PUENTE_KEYS (the keys), else $PUENTE_KEY_FILE, else FILE.keys beside a SQLite database, else ./puente.keys.",
            valueName: "file"))
    var keyFile: String?

    func validate() throws {
        if let path = Self.sqlitePath(resolvedURL), path.isEmpty {
            throw ValidationError("Give --database a SQLite file path or a postgres:// URL.")
        }
    }

    var resolvedURL: String {
        database ?? ProcessInfo.processInfo.environment["PUENTE_DATABASE_URL"] ?? "sqlite:puente.sqlite"
    }

    /// The key file in use, when the keys come from a file.
    var keyFileURL: URL? {
        let environment = ProcessInfo.processInfo.environment
        if keyFile == nil, environment["PUENTE_KEYS"] != nil { return nil }
        if let path = keyFile ?? environment["PUENTE_KEY_FILE"] { return URL(fileURLWithPath: path) }
        if let path = Self.sqlitePath(resolvedURL) { return URL(fileURLWithPath: path + ".keys") }
        return URL(fileURLWithPath: "puente.keys")
    }

    /// The keys, from the key file or `PUENTE_KEYS`. A missing key file gives new keys, not written yet
    /// (`isNew`): `open()` writes them once it knows the store holds nothing sealed with other keys.
    func keyring() throws -> (ring: Keyring, isNew: Bool) {
        guard let url = keyFileURL else {
            return (try Keyring.parse(ProcessInfo.processInfo.environment["PUENTE_KEYS"] ?? ""), false)
        }
        if !FileManager.default.fileExists(atPath: url.path) { return (Keyring.generate(file: url), true) }
        return (try Keyring.load(file: url), false)
    }

    /// A store chosen by the options with its keys, not yet running nor prepared.
    struct Unprepared {
        var store: any PuenteStore
        var keys: Keyring
        var keysAreNew: Bool
    }

    func makeStore() throws -> Unprepared {
        let (ring, isNew) = try keyring()
        return Unprepared(store: try StoreOptions.open(resolvedURL, cipher: ring), keys: ring, keysAreNew: isNew)
    }

    /// Applies pending migrations and checks that the keys open the store's personal data; the store
    /// must be running. New keys are written to their file only then: keys created beside a database
    /// that holds data sealed with other keys (a command run from another folder) would seal new rows
    /// nobody can read.
    func prepare(_ opened: Unprepared) async throws {
        do {
            try await opened.store.migrate()
            try await opened.store.checkKeys()
            if opened.keysAreNew {
                try opened.keys.save()
                printError(
                    "Created the key file \(keyFileURL!.path) that seals personal data. Back it up apart from the database: without it names and documents cannot be read."
                )
            }
        } catch let error as PuenteError where error == .keysDoNotOpenStore && opened.keysAreNew {
            throw PuenteError(
                .conflict,
                "There is no key file at \(keyFileURL!.path), and this database holds personal data sealed "
                    + "with other keys. Give the node's key file with --key-file or PUENTE_KEY_FILE; no new key was created."
            )
        }
    }

    /// A prepared SQLite store to hold beyond one call (tests, the demo's files): SQLite needs nothing
    /// running. Anything else goes through `withStore` or a service group, which run the store.
    func open() async throws -> any PuenteStore {
        guard Self.sqlitePath(resolvedURL) != nil else {
            throw PuenteError(
                .invalidArgument, "A PostgreSQL store runs beside the work that uses it: open it with withStore.")
        }
        let opened = try makeStore()
        do {
            try await prepare(opened)
            return opened.store
        } catch {
            try? await opened.store.close()
            throw error
        }
    }

    static func sqlitePath(_ url: String) -> String? {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return nil }
        var path = url
        for prefix in ["sqlite://", "sqlite:"] where path.hasPrefix(prefix) {
            path = String(path.dropFirst(prefix.count)); break
        }
        return path
    }

    static func open(_ url: String, cipher: any PersonalDataCipher) throws -> any PuenteStore {
        guard let path = sqlitePath(url) else { return try PostgresStore(url: url, cipher: cipher) }
        guard !path.isEmpty else {
            throw PuenteError(.invalidArgument, "Give --database a SQLite file path or a postgres:// URL.")
        }
        return try SQLiteStore(path: path, cipher: cipher)
    }
}

/// Runs `body` with the store running and prepared, and closes it however `body` ends.
func withStore<T>(_ options: StoreOptions, _ body: (any PuenteStore) async throws -> T) async throws -> T {
    let opened = try options.makeStore()
    do {
        let result = try await withRunningStore(opened.store) {
            try await options.prepare(opened)
            return try await body(opened.store)
        }
        try await opened.store.close()
        return result
    } catch {
        try? await opened.store.close()
        throw error
    }
}

/// Prints a line to standard output at once, unbuffered, so progress reaches a log file or pipe while
/// the command runs (`print` holds it in a block buffer when output is not a terminal).
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Prints to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
