import Foundation
import GRDB
import PuenteCore

extension SQLiteStore {
    static let backupFile = "puente.sqlite"

    /// SQLite's online backup API: a consistent copy while readers and the writer go on.
    public func backup(into directory: URL) async throws -> [String] {
        let target = directory.appendingPathComponent(Self.backupFile)
        let copy = try DatabaseQueue(path: target.path)
        try writer.backup(to: copy)
        try copy.close()
        return [Self.backupFile]
    }

    public func isEmpty() async throws -> Bool {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") == 0
        }
    }

    /// The same API the other way: the backup's pages become this store's.
    public func restore(from directory: URL) async throws {
        var configuration = Configuration()
        configuration.readonly = true
        let source = try DatabaseQueue(
            path: directory.appendingPathComponent(Self.backupFile).path, configuration: configuration)
        try writer.restore(from: source)
        try source.close()
    }
}
