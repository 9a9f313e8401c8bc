import ArgumentParser
import Foundation
import PuenteCore
import PuentePostgres
import PuenteSQLite

/// Chooses the store: `--database`, else `PUENTE_DATABASE_URL`, else `puente.sqlite` in the working directory.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Where Puente keeps its data: a SQLite file (path or sqlite:PATH) or postgres://USER@HOST:PORT/DB.",
        discussion: "Default: $PUENTE_DATABASE_URL, else puente.sqlite in the working directory.", valueName: "url"))
    var database: String?

    var resolvedURL: String {
        database ?? ProcessInfo.processInfo.environment["PUENTE_DATABASE_URL"] ?? "sqlite:puente.sqlite"
    }

    /// Opens the store and applies pending migrations.
    func open() async throws -> any PuenteStore {
        let store = try StoreOptions.open(resolvedURL)
        try await store.migrate()
        return store
    }

    static func open(_ url: String) throws -> any PuenteStore {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return try PostgresStore(url: url) }
        var path = url
        for prefix in ["sqlite://", "sqlite:"] where path.hasPrefix(prefix) { path = String(path.dropFirst(prefix.count)); break }
        guard !path.isEmpty else { throw ValidationError("Give --database a SQLite file path or a postgres:// URL.") }
        return try SQLiteStore(path: path)
    }
}

/// Runs `body` with an open store and closes it however `body` ends.
func withStore<T>(_ options: StoreOptions, _ body: (any PuenteStore) async throws -> T) async throws -> T {
    let store = try await options.open()
    do {
        let result = try await body(store)
        try await store.close()
        return result
    } catch {
        try? await store.close()
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
