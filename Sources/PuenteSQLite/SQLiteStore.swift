import Foundation
import GRDB
import GRDBSQLite
import PuenteCore

/// The embedded store: one SQLite file (or memory), through GRDB.
///
/// A file store uses WAL and a `DatabasePool`, so the server answers queries while an import writes.
public struct SQLiteStore: EventStore {
    let writer: SQLiteDatabase
    /// Seals personal columns and quarantined values before they are written; opens them when read.
    public let cipher: any PersonalDataCipher
    private let closing = StoreClosing()

    /// Opens (creating if needed) the database at `path`; `:memory:` gives a private in-memory store.
    public init(path: String, cipher: any PersonalDataCipher) throws {
        self.cipher = cipher
        var config = Configuration()
        // Another process (a second import, the server's audit appends) may hold the write lock for the
        // length of one batch: wait for it rather than fail at once. Readers never wait under WAL.
        config.busyMode = .timeout(Self.busyTimeout)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            if path == ":memory:" {
                writer = SQLiteDatabase(base: try DatabaseQueue(configuration: config))
            } else {
                writer = SQLiteDatabase(base: try DatabasePool(path: path, configuration: config))
            }
        } catch let error as DatabaseError where error.resultCode.primaryResultCode != .SQLITE_CANTOPEN {
            var translated = SQLiteDatabase.translated(error)
            translated.location = InputLocation(file: (path as NSString).lastPathComponent)
            throw translated
        } catch {
            throw PuenteError(
                .storeUnavailable, "Cannot open the SQLite database; check that its folder exists and is writable.",
                at: InputLocation(file: (path as NSString).lastPathComponent))
        }
    }

    /// How long a write waits for another process's write to finish before it is refused as busy.
    static let busyTimeout: TimeInterval = 30

    @discardableResult
    public func migrate() async throws -> Int {
        let writer = self.writer
        try writer.migrate(SQLiteSchema.migrator)
        return try await writer.read { db in try SQLiteSchema.migrator.appliedIdentifiers(db).count }
    }

    public func startImport(_ request: ImportRequest) async throws -> Int64 {
        try await writer.write { db in
            // A pending batch of the same content is what an interrupted import left: discard it.
            let stale = try Int64.fetchAll(
                db, sql: "SELECT id FROM import_batch WHERE content_hash = ? AND status = 'pending'",
                arguments: [request.contentHash])
            for id in stale {
                try Self.retire(id, db, cipher: cipher)
                try db.execute(sql: "DELETE FROM import_batch WHERE id = ?", arguments: [id])
            }
            try db.execute(
                sql: """
                    INSERT INTO import_batch (profile, agency, file, content_hash, mode, status, started_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', ?)
                    """,
                arguments: [
                    request.profile, request.agency, request.file, request.contentHash, request.mode.rawValue,
                    Timestamp.now(),
                ])
            return db.lastInsertedRowID
        }
    }

    public func committedImport(contentHash: String) async throws -> ImportRecord? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM import_batch WHERE content_hash = ? AND status = 'committed'",
                arguments: [contentHash]
            ).map(Self.importRecord)
        }
    }

    /// Inserts a row as the one that counts, unless its record already counts somewhere (the partial
    /// unique index on counted rows refuses it, in the same descent that inserts)…
    static let insertSQL = insertUncountedSQL + " ON CONFLICT (agency, record_key) WHERE counted = 1 DO NOTHING"
    /// … in which case it is stored as a copy that does not count.
    static let insertUncountedSQL =
        "INSERT INTO movement_event (\(EventColumns.names.joined(separator: ", ")), counted) VALUES ("
        + Array(repeating: "?", count: EventColumns.names.count + 1).joined(separator: ", ") + ")"

    public var auditChainKey: (any AuditChainKey)? { cipher as? any AuditChainKey }

    public func append(_ events: SealedEvents, to importID: Int64) async throws -> AppendResult {
        guard !events.isEmpty else { return AppendResult(stored: 0, duplicatePositions: []) }
        return try await writer.write { db in
            // Bound through SQLite's C API on GRDB's prepared statement: about twice as fast as
            // building StatementArguments for each of millions of rows.
            let statement = try db.cachedStatement(sql: Self.insertSQL).sqliteStatement
            var row = SQLiteRow()
            var duplicates: [Int] = []
            for position in 0..<events.count {
                row.removeAll()
                EventColumns.visit(events, at: position, importID: importID, &row)
                row.integer(1)
                var status = row.bound(to: statement) { sqlite3_step(statement) }
                sqlite3_reset(statement)
                if status == SQLITE_DONE, sqlite3_changes(db.sqliteConnection) == 0 {
                    // A copy of a record already counted: kept, not counted (`finishImport` settles it).
                    duplicates.append(position)
                    let uncounted = try db.cachedStatement(sql: Self.insertUncountedSQL).sqliteStatement
                    row.setLast(integer: 0)
                    status = row.bound(to: uncounted) { sqlite3_step(uncounted) }
                    sqlite3_reset(uncounted)
                }
                guard status == SQLITE_DONE else {
                    throw PuenteError(
                        .storeFailure, "Storing an event failed: " + String(cString: sqlite3_errstr(status)) + ".")
                }
            }
            return AppendResult(stored: events.count - duplicates.count, duplicatePositions: duplicates)
        }
    }

    static let insertCellSQL =
        "INSERT INTO event_cell (import_id, "
        + CellColumn.allCases.map(\.rawValue).joined(separator: ", ") + ", n, key_sum) VALUES ("
        + Array(repeating: "?", count: CellColumn.allCases.count + 3).joined(separator: ", ") + ")"

    public func appendCells(_ cells: CellBatch, to importID: Int64) async throws {
        try await writer.write { db in try Self.writeCells(cells, to: importID, sign: 1, db) }
    }

    /// Writes a batch's cell counts, with `sign` -1 for rows that stopped counting.
    private static func writeCells(_ cells: CellBatch, to importID: Int64, sign: Int, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: insertCellSQL)
        var binder = SQLiteBinder(statement: statement.sqliteStatement)
        for i in 0..<cells.count {
            let (key, tally) = cells[i]
            binder.index = 1
            binder.integer(Int(importID))
            key.visit(&binder)
            binder.integer(sign * tally.count)
            binder.integer(sign * tally.keySum)
            let status = sqlite3_step(binder.statement)
            sqlite3_reset(binder.statement)
            guard status == SQLITE_DONE else {
                throw PuenteError(
                    .storeFailure, "Storing cell counts failed: " + String(cString: sqlite3_errstr(status)) + ".")
            }
        }
    }

    public func quarantine(_ rows: [RejectedRow], in importID: Int64) async throws {
        try await writer.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO rejected_row (import_id, file, row_number, values_json, reasons_json) VALUES (?, ?, ?, ?, ?)
                    """)
            for row in rows {
                try statement.execute(arguments: [
                    importID, row.file, row.row, try JSONText.encode(cipher.seal(values: row.values)),
                    try JSONText.encode(row.reasons),
                ])
            }
        }
    }

    public func finishImport(_ importID: Int64, counts: ImportCounts, resolving: [Int64]) async throws -> ImportCounts {
        try await writer.write { db in
            guard
                let mode = try String.fetchOne(
                    db, sql: "SELECT mode FROM import_batch WHERE id = ? AND status = 'pending'",
                    arguments: [importID])
            else {
                throw PuenteError(.conflict, "Import \(importID) is not pending; it may have been rolled back.")
            }
            try Self.prepareWorkTables(db)
            try db.execute(
                sql: CountedRecords.collectTakeovers(batch: importID, replace: mode == ImportMode.replace.rawValue))
            try db.execute(sql: CountedRecords.collectDisplaced)
            let replaced =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM counted_off o JOIN import_batch b ON b.id = o.batch_id WHERE b.status = 'committed'
                        """) ?? 0
            try Self.switchCounting(db, cipher: cipher)
            let duplicates =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM movement_event WHERE import_id = ? AND counted = 0",
                    arguments: [importID]) ?? 0
            var final = counts
            final.accepted = counts.accepted + counts.duplicates - duplicates
            final.duplicates = duplicates
            final.replaced = replaced
            let resolve = try db.cachedStatement(
                sql: "UPDATE rejected_row SET resolved_by = ? WHERE id = ? AND resolved_by IS NULL")
            for id in resolving { try resolve.execute(arguments: [importID, id]) }
            try db.execute(
                sql: """
                    UPDATE import_batch SET status = 'committed', rows_read = ?, rows_accepted = ?, rows_rejected = ?,
                    rows_duplicate = ?, rows_replaced = ? WHERE id = ?
                    """,
                arguments: [final.read, final.accepted, final.rejected, final.duplicates, final.replaced, importID])
            return final
        }
    }

    public func rollbackImport(_ importID: Int64) async throws {
        try await writer.write { db in
            guard
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM import_batch WHERE id = ?", arguments: [importID]) == 1
            else {
                throw PuenteError(.notFound, "There is no import \(importID); `puente imports list` shows them.")
            }
            try Self.retire(importID, db, cipher: cipher)
            try db.execute(
                sql: "UPDATE rejected_row SET resolved_by = NULL WHERE resolved_by = ?", arguments: [importID])
            try db.execute(sql: "UPDATE import_batch SET status = 'rolled_back' WHERE id = ?", arguments: [importID])
        }
    }

    public func imports(limit: Int) async throws -> [ImportRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM import_batch ORDER BY id DESC LIMIT ?", arguments: [limit]).map(
                Self.importRecord)
        }
    }

    public func rejectedRows(importID: Int64?, includeResolved: Bool, limit: Int) async throws -> [RejectedRow] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.* FROM rejected_row r JOIN import_batch b ON b.id = r.import_id AND b.status = 'committed'
                    WHERE (? IS NULL OR r.import_id = ?) AND (? OR r.resolved_by IS NULL)
                    ORDER BY r.import_id, r.row_number LIMIT ?
                    """, arguments: [importID, importID, includeResolved, limit])
            return try rows.map { r in
                RejectedRow(
                    id: r["id"], importID: r["import_id"], file: r["file"], row: r["row_number"],
                    values: try cipher.open(values: JSONText.decode(r["values_json"])),
                    reasons: try JSONText.decode(r["reasons_json"]),
                    resolvedBy: r["resolved_by"])
            }
        }
    }

    public func rejectionCounts(imports: Int) async throws -> [RejectionCount] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT b.id, b.started_at, b.file, json_extract(reason.value, '$.rule') AS rule, COUNT(DISTINCT r.id) AS n
                    FROM (SELECT id, started_at, file FROM import_batch WHERE status = 'committed' ORDER BY id DESC LIMIT ?) b
                    JOIN rejected_row r ON r.import_id = b.id, json_each(r.reasons_json) reason
                    GROUP BY b.id, rule ORDER BY b.id, rule
                    """, arguments: [imports]
            ).map {
                RejectionCount(
                    importID: $0["id"], startedAt: $0["started_at"], file: $0["file"], rule: $0["rule"], rows: $0["n"])
            }
        }
    }

    public func events(importID: Int64, limit: Int) async throws -> [MovementEvent] {
        try await writer.read { db in
            let columns = EventColumns.readColumns
            let sql =
                "SELECT \(columns.joined(separator: ", ")) FROM movement_event WHERE import_id = ? AND counted = 1 ORDER BY source_row LIMIT ?"
            return try Row.fetchAll(db, sql: sql, arguments: [importID, limit]).compactMap { row in
                try EventColumns.event(
                    opening: cipher,
                    from: columns.indices.map {
                        Self.cellValue(
                            row[$0] as DatabaseValue, integer: EventColumns.integerColumns.contains(columns[$0]))
                    })
            }
        }
    }

    public func committedImports() async throws -> [CommittedImport] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, revision FROM import_batch WHERE status = 'committed' ORDER BY id")
                .map {
                    CommittedImport(id: $0[0], revision: $0[1])
                }
        }
    }

    public func forEachCell(importID: Int64, _ body: (CellKey, CellTally) throws -> Void) async throws {
        // A read transaction on the calling task: the closure is not Sendable, so no pool hop.
        let sql =
            "SELECT \(CellColumn.allCases.map(\.rawValue).joined(separator: ", ")), n, key_sum FROM event_cell WHERE import_id = ?"
        try writer.unsafeReentrantRead { db in
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: [importID])
            let columns = CellColumn.allCases
            while let row = try cursor.next() {
                let values = columns.enumerated().map { i, c in
                    Self.cellValue(row[i] as DatabaseValue, integer: c.isInteger)
                }
                guard let key = CellKey(values: values) else { continue }
                try body(key, CellTally(count: row[columns.count], keySum: row[columns.count + 1]))
            }
        }
    }

    /// SQLite needs nothing in the background: waits until cancelled or closed, like the server store.
    public func run() async {
        await closing.wait()
    }

    public func close() async throws {
        closing.close()
        try writer.close()
    }

    // MARK: Helpers

    /// Removes a batch's rows; each record it counted counts in its successor's row (`CountedRecords`).
    private static func retire(_ importID: Int64, _ db: Database, cipher: any PersonalDataCipher) throws {
        try prepareWorkTables(db)
        try db.execute(sql: CountedRecords.collectSuccessors(of: importID))
        // Its events leave their persons; person statistics wait for the next link run (see `LinkRun`).
        try db.execute(
            sql: "DELETE FROM person_link WHERE event_id IN (SELECT id FROM movement_event WHERE import_id = ?)",
            arguments: [importID])
        try db.execute(sql: "DELETE FROM movement_event WHERE import_id = ?", arguments: [importID])
        try db.execute(sql: "DELETE FROM rejected_row WHERE import_id = ?", arguments: [importID])
        try db.execute(sql: "DELETE FROM event_cell WHERE import_id = ?", arguments: [importID])
        try switchCounting(db, cipher: cipher)
    }

    /// Moves counting from `counted_off` to `counted_on`; the cells of both follow, counted as the
    /// importer counts them.
    private static func switchCounting(_ db: Database, cipher: any PersonalDataCipher) throws {
        try changeCells("counted_off", sign: -1, db, cipher: cipher)
        for statement in CountedRecords.switchCounting { try db.execute(sql: statement) }
        try changeCells("counted_on", sign: 1, db, cipher: cipher)
    }

    /// Counts the rows of a work table by cell, as the importer counts (the opened events), and adds
    /// the cells to their batches with `sign`.
    private static func changeCells(_ table: String, sign: Int, _ db: Database, cipher: any PersonalDataCipher) throws {
        let columns = EventColumns.readColumns
        let integer = columns.map { EventColumns.integerColumns.contains($0) }
        var cells: [Int64: CellAccumulator] = [:]
        let cursor = try Row.fetchCursor(db, sql: CountedRecords.rows(of: table))
        while let row = try cursor.next() {
            let values = columns.indices.map { cellValue(row[$0] as DatabaseValue, integer: integer[$0]) }
            if let event = try EventColumns.event(opening: cipher, from: values, withCellKey: true) {
                cells[event.source.importID, default: CellAccumulator()].add(event)
            }
        }
        for (batch, var accumulated) in cells { try writeCells(accumulated.take(), to: batch, sign: sign, db) }
    }

    /// The work tables of `CountedRecords`, empty, for this transaction.
    private static func prepareWorkTables(_ db: Database) throws {
        for table in ["counted_on", "counted_off"] {
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS \(table) \(CountedRecords.workTableColumns)")
            try db.execute(sql: "DELETE FROM \(table)")
        }
    }

    private static func importRecord(_ r: Row) -> ImportRecord {
        ImportRecord(
            id: r["id"],
            request: ImportRequest(
                profile: r["profile"], agency: r["agency"], file: r["file"],
                contentHash: r["content_hash"], mode: ImportMode(rawValue: r["mode"]) ?? .add),
            status: ImportStatus(rawValue: r["status"]) ?? .pending, startedAt: r["started_at"],
            counts: ImportCounts(
                read: r["rows_read"], accepted: r["rows_accepted"], rejected: r["rows_rejected"],
                duplicates: r["rows_duplicate"], replaced: r["rows_replaced"]))
    }

    /// Binds column values in order to a raw statement (`index` is 1-based).
    /// One row's values gathered in a reused buffer, then bound without copies (SQLITE_STATIC) for one
    /// step: SQLite would otherwise allocate and copy each text of millions of rows.
    struct SQLiteRow: EventColumnVisitor {
        private enum Value { case text(Int, Int), integer(Int64), null }
        private var bytes: [UInt8] = []
        private var values: [Value] = []

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
        }

        mutating func text(_ value: String?) {
            guard var value else { values.append(.null); return }
            let start = bytes.count
            value.withUTF8 { bytes.append(contentsOf: $0) }
            values.append(.text(start, bytes.count - start))
        }

        mutating func integer(_ value: Int?) { values.append(value.map { .integer(Int64($0)) } ?? .null) }

        /// Replaces the last value (the `counted` flag of a row stored again as a copy).
        mutating func setLast(integer value: Int) { values[values.count - 1] = .integer(Int64(value)) }

        /// Binds the values as parameters 1… of `statement` and runs `body` while the texts stay valid.
        func bound<T>(to statement: OpaquePointer, _ body: () -> T) -> T {
            bytes.withUnsafeBufferPointer { buffer in
                for (i, value) in values.enumerated() {
                    let index = Int32(i + 1)
                    switch value {
                    case .text(let start, let count):
                        // An empty text still needs a non-null pointer, or SQLite binds NULL.
                        let pointer = count == 0 ? Self.empty : buffer.baseAddress! + start
                        sqlite3_bind_text(statement, index, pointer, Int32(count), Self.static)
                    case .integer(let v): sqlite3_bind_int64(statement, index, v)
                    case .null: sqlite3_bind_null(statement, index)
                    }
                }
                return body()
            }
        }

        /// SQLITE_STATIC: SQLite reads the bytes in place, during the step `bound` runs.
        private static let `static` = unsafeBitCast(0, to: sqlite3_destructor_type.self)
        private static var empty: UnsafePointer<UInt8> { ("" as StaticString).utf8Start }
    }

    struct SQLiteBinder: EventColumnVisitor {
        let statement: OpaquePointer
        var index: Int32 = 1

        /// SQLITE_TRANSIENT: SQLite copies the bytes, which live only as long as the Swift string.
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

        mutating func text(_ value: String?) {
            if var value {
                _ = value.withUTF8 {
                    sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), Self.transient)
                }
            } else {
                sqlite3_bind_null(statement, index)
            }
            index += 1
        }

        mutating func integer(_ value: Int?) {
            if let value {
                sqlite3_bind_int64(statement, index, Int64(value))
            } else {
                sqlite3_bind_null(statement, index)
            }
            index += 1
        }
    }

    static func cellValue(_ v: DatabaseValue, integer: Bool) -> CellValue? {
        if v.isNull { return nil }
        if integer, let i = Int.fromDatabaseValue(v) { return .integer(i) }
        return String.fromDatabaseValue(v).map(CellValue.text)
    }
}
