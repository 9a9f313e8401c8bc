import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteServices

/// `puente backup`: a consistent copy of the store while the node serves, with a manifest of checksums.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back the store up while the node serves: its files and a manifest of checksums.",
        discussion: """
            SQLite is copied with its online backup API, PostgreSQL with pg_dump (its client programs must be \
            installed); either way the copy is one consistent moment, and an import still running counts in it \
            as nothing. The key file is never copied: back it up apart (without it the personal data in the \
            backup cannot be read, which is the point). `puente restore` puts a backup into an empty store.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "A new or empty folder for the backup.") var out: String

    func run() async throws {
        let kind = StoreOptions.sqlitePath(store.resolvedURL) == nil ? "postgresql" : "sqlite"
        let manifest = try await withStore(store) { store in
            try await BackupService(store: store).backup(
                into: URL(fileURLWithPath: out), kind: kind, by: commandOperator)
        }
        for file in manifest.files { print("\(file.name)\t\(file.bytes) bytes\tsha256 \(file.sha256)") }
        print(
            "Backed up \(manifest.committedImports) committed imports and the audit trail to entry \(manifest.auditHead?.sequence ?? 0) into \(out); keep the key file apart."
        )
    }
}

/// `puente restore`: a backup into an empty store, checked on the way in.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into an empty store, checking its files, keys and audit trail.",
        discussion: """
            The store must be empty (a new SQLite file, or a new PostgreSQL database) and of the backup's kind; \
            give the node's key file (--key-file) as for any command. Every file is checked against the \
            manifest first; after the restore the store is migrated to this version of Puente, the keys must \
            open its sealed data, and the audit trail must be whole up to the backup's head. The head             recorded beside the key file is moved back to the restored trail's end: the restored store becomes             the node's. To restore a copy for inspection beside a node that still runs, give the copy a copy             of the key file.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The backup folder.") var from: String

    func run() async throws {
        let kind = StoreOptions.sqlitePath(store.resolvedURL) == nil ? "postgresql" : "sqlite"
        let directory = URL(fileURLWithPath: from)
        _ = try BackupService.check(directory, kind: kind)
        // No key file yet is no key at all: a restore never invents keys for sealed data.
        let hasKeys =
            ProcessInfo.processInfo.environment["PUENTE_KEYS"] != nil
            || store.keyFileURL.map { FileManager.default.fileExists(atPath: $0.path) } == true
        guard hasKeys else {
            throw PuenteError(
                .invalidArgument,
                "Give the node's key file (--key-file or PUENTE_KEY_FILE): the backup's personal data is sealed with it."
            )
        }
        let opened = try store.makeStore()
        let restored = try await withRunningStore(opened.store) {
            try await BackupService(store: opened.store).restore(
                from: directory, kind: kind, keys: opened.keys, by: commandOperator)
        }
        try await opened.store.close()
        print(
            "Restored the backup of \(restored.manifest.createdAt): audit trail intact (\(restored.audit.entries) entries), schema at \(restored.migrations) migrations."
        )
    }
}
