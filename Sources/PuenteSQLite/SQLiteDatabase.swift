import GRDB
import PuenteCore

/// The store's database: GRDB's reads and writes, with SQLite's failures turned into Puente's errors in
/// this one place (as PostgresStore's `guarded` does for PostgreSQL), so a full disk or a busy file
/// reaches a user as a sentence and a 503, never as a bare SQLite code and a 500. GRDB rolls a failed
/// write's transaction back: nothing of it is stored.
struct SQLiteDatabase: Sendable {
    let base: any DatabaseWriter

    func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await base.read(value) } catch let error as DatabaseError { throw Self.translated(error) }
    }

    func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await base.write(updates) } catch let error as DatabaseError { throw Self.translated(error) }
    }

    func unsafeReentrantRead<T>(_ value: (Database) throws -> T) throws -> T {
        do { return try base.unsafeReentrantRead(value) } catch let error as DatabaseError {
            throw Self.translated(error)
        }
    }

    func migrate(_ migrator: DatabaseMigrator) throws {
        do { try migrator.migrate(base) } catch let error as DatabaseError { throw Self.translated(error) }
    }

    /// SQLite's online backup API, into `copy`.
    func backup(to copy: DatabaseQueue) throws {
        do { try base.backup(to: copy) } catch let error as DatabaseError { throw Self.translated(error) }
    }

    /// The online backup API the other way: `source`'s pages become this database's.
    func restore(from source: DatabaseQueue) throws {
        do { try source.backup(to: base) } catch let error as DatabaseError { throw Self.translated(error) }
    }

    func close() throws { try base.close() }

    /// What a user can do about a failure, by SQLite's primary result code. The statement's text stays
    /// out: it may hold a value.
    static func translated(_ error: DatabaseError) -> PuenteError {
        switch error.resultCode.primaryResultCode {
        case .SQLITE_FULL:
            PuenteError(
                .storeUnavailable,
                "The disk holding the SQLite database is full: what was being written was not stored. Free space, then try again."
            )
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            PuenteError(.storeUnavailable, "The SQLite database is busy with another writer; try again.")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
            PuenteError(
                .storeUnavailable,
                "The SQLite database cannot be written: check the permissions of its file and of its folder.")
        case .SQLITE_IOERR:
            PuenteError(
                .storeFailure, "The SQLite database's file could not be read or written (an I/O error): check the disk."
            )
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            PuenteError(
                .storeFailure, "The SQLite database is damaged or not a Puente database: restore it from a backup.")
        default:
            PuenteError(.storeFailure, "SQLite refused a statement (result code \(error.resultCode.rawValue)).")
        }
    }
}
