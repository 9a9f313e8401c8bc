import Crypto
import Foundation
import PuenteAccess
import PuenteCore

/// Backing a node up while it serves, and restoring it into an empty store: the store's own consistent
/// copy, with a manifest of checksums and of what it held, and never the keys (they are backed up apart:
/// a backup that carried its keys would open the personal data to whoever holds it).
public struct BackupService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    /// `manifest.json`, beside the store's files.
    public struct Manifest: Codable, Sendable {
        public struct File: Codable, Sendable {
            public var name: String
            public var bytes: Int
            public var sha256: String
        }

        public static let format = "puente-backup/1"
        public var format: String
        /// `sqlite` or `postgresql`: a backup is restored into the same kind of store.
        public var store: String
        public var createdAt: String
        public var files: [File]
        /// The audit trail's head when the backup began: the restored trail must contain it.
        public var auditHead: Head?

        public struct Head: Codable, Sendable {
            public var sequence: Int64
            public var hash: String
        }
        /// Committed import batches when the backup began (the copy holds these at least).
        public var committedImports: Int
    }

    public static let manifestFile = "manifest.json"

    /// Writes a backup into `directory` (created, private; it must not hold anything yet).
    public func backup(into directory: URL, kind: String, by actor: Actor) async throws -> Manifest {
        try Self.requireAdministrator(actor)
        let manager = FileManager.default
        if manager.fileExists(atPath: directory.path) {
            guard (try manager.contentsOfDirectory(atPath: directory.path)).isEmpty else {
                throw PuenteError(
                    .conflict, "The backup folder is not empty: give a new folder, so no backup is mixed with another.")
            }
        } else {
            try manager.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let head = try await store.lastAudit().map { Manifest.Head(sequence: $0.sequence, hash: $0.hash) }
        let committed = try await store.committedImports().count
        let names = try await store.backup(into: directory)
        var files: [Manifest.File] = []
        for name in names {
            let url = directory.appendingPathComponent(name)
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
            let (bytes, sha256) = try Self.checksum(url)
            files.append(.init(name: name, bytes: bytes, sha256: sha256))
        }
        let manifest = Manifest(
            format: Manifest.format, store: kind, createdAt: Timestamp.now(), files: files, auditHead: head,
            committedImports: committed)
        let manifestURL = directory.appendingPathComponent(Self.manifestFile)
        try Data(try JSONText.encode(manifest).utf8).write(to: manifestURL)
        try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: manifestURL.path)
        try await audit.record(
            .init(
                actor: actor.name, action: "backup",
                target: "files:" + files.map(\.name).joined(separator: ",") + " imports:\(committed)",
                address: actor.address))
        return manifest
    }

    /// Reads and checks a backup's manifest and files, naming the file that is missing or changed.
    public static func check(_ directory: URL, kind: String) throws -> Manifest {
        let manifestURL = directory.appendingPathComponent(manifestFile)
        guard let data = try? Data(contentsOf: manifestURL),
            let manifest = try? JSONDecoder().decode(Manifest.self, from: data), manifest.format == Manifest.format
        else {
            throw PuenteError(
                .invalidInput, "No readable \(manifestFile) of format \(Manifest.format): not a Puente backup folder.",
                at: InputLocation(file: manifestFile))
        }
        guard manifest.store == kind else {
            throw PuenteError(
                .invalidArgument, "This is a backup of a \(manifest.store) store; restore it into one of that kind.")
        }
        for file in manifest.files {
            let url = directory.appendingPathComponent(file.name)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw PuenteError(.invalidInput, "The backup's file is missing.", at: InputLocation(file: file.name))
            }
            let (bytes, sha256) = try checksum(url)
            guard bytes == file.bytes, sha256 == file.sha256 else {
                throw PuenteError(
                    .invalidInput,
                    "The file differs from the backup's manifest (size or SHA-256): it was changed or damaged.",
                    at: InputLocation(file: file.name))
            }
        }
        return manifest
    }

    /// What a restore found.
    public struct Restored: Sendable {
        public var manifest: Manifest
        public var migrations: Int
        public var audit: AuditLog.Verification
    }

    /// Restores a checked backup into this store, which must be empty and not yet migrated; then
    /// migrates it (a backup of an older version comes up to this one), checks the keys open its sealed
    /// data, and checks the audit trail is whole and contains the head recorded at the backup. The head
    /// kept beside the key file is moved back to the restored trail's: entries after the backup are not
    /// in it, and that is what a restore means.
    public func restore(from directory: URL, kind: String, keys: Keyring?, by actor: Actor) async throws -> Restored {
        try Self.requireAdministrator(actor)
        let manifest = try Self.check(directory, kind: kind)
        guard try await store.isEmpty() else {
            throw PuenteError(
                .conflict,
                "A backup is restored into an empty store only: this one holds data, and nothing was changed.")
        }
        try await store.restore(from: directory)
        let migrations = try await store.migrate()
        try await store.checkKeys()
        if let keys, let head = try await store.lastAudit() {
            try keys.rewindAuditHead(to: AuditHead(sequence: head.sequence, hash: head.hash, keyedFrom: 1))
        }
        let verification = try await audit.verify(expectedHead: manifest.auditHead?.hash)
        guard verification.intact else {
            throw PuenteError(
                .conflict,
                "The restored audit trail is not whole (\(verification.problem ?? "broken")): the backup is not the one its manifest describes."
            )
        }
        try await audit.record(
            .init(
                actor: actor.name, action: "restore",
                target: "backup:\(manifest.createdAt) files:" + manifest.files.map(\.name).joined(separator: ","),
                address: actor.address))
        return Restored(manifest: manifest, migrations: migrations, audit: verification)
    }

    static func requireAdministrator(_ actor: Actor) throws {
        guard actor.role == .admin else {
            throw PuenteError(actor.role == nil ? .unauthenticated : .forbidden, "Backups are for administrators.")
        }
    }

    static func checksum(_ url: URL) throws -> (Int, String) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var bytes = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            bytes += chunk.count
        }
        return (bytes, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
