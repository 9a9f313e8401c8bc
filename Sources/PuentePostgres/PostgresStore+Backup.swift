import Foundation
import PostgresNIO
import PuenteCore

extension PostgresStore {
    static let backupFile = "puente.pgdump"

    /// `pg_dump` in its custom format: one consistent snapshot (a repeatable-read transaction) while the
    /// server goes on writing.
    public func backup(into directory: URL) async throws -> [String] {
        try Self.run(
            "pg_dump",
            [
                "--format=custom", "--no-owner", "--no-privileges", "--file",
                directory.appendingPathComponent(Self.backupFile).path,
                "--dbname", url,
            ])
        return [Self.backupFile]
    }

    public func isEmpty() async throws -> Bool {
        try await guarded {
            let rows = try await client.query(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", logger: logger)
            for try await count in rows.decode(Int.self) { return count == 0 }
            return true
        }
    }

    public func restore(from directory: URL) async throws {
        try Self.run(
            "pg_restore",
            [
                "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", url,
                directory.appendingPathComponent(Self.backupFile).path,
            ])
    }

    /// Runs one of PostgreSQL's client programs: from `PUENTE_PG_BIN`, the `PATH`, or the newest
    /// `/usr/lib/postgresql/*/bin`. Its error output is not repeated (it may quote the URL); its first
    /// line's kind is.
    static func run(_ program: String, _ arguments: [String]) throws {
        guard let executable = locate(program) else {
            throw PuenteError(
                .storeUnavailable,
                "\(program) was not found: install PostgreSQL's client programs (Debian: postgresql-client) or set PUENTE_PG_BIN to their folder."
            )
        }
        let process = Process()
        process.executableURL = executable
        // A password in the URL would show in the process list: it goes by PGPASSWORD instead.
        var environment = ProcessInfo.processInfo.environment
        process.arguments = arguments.map { argument in
            guard var url = URLComponents(string: argument), ["postgres", "postgresql"].contains(url.scheme ?? ""),
                let password = url.password
            else { return argument }
            environment["PGPASSWORD"] = password
            url.password = nil
            return url.string ?? argument
        }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: output, as: UTF8.self)
            let hint =
                text.contains("version mismatch")
                ? " The server is newer than \(program): install the client programs of the server's version."
                : text.contains("connection") ? " It could not connect to the database." : ""
            throw PuenteError(.storeFailure, "\(program) failed (exit \(process.terminationStatus)).\(hint)")
        }
    }

    static func locate(_ program: String) -> URL? {
        let environment = ProcessInfo.processInfo.environment
        var folders = environment["PUENTE_PG_BIN"].map { [$0] } ?? []
        folders += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        folders += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        return folders.map { URL(fileURLWithPath: $0).appendingPathComponent(program) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
