import Foundation
import Logging
import PostgresNIO
import PuenteCore

/// The server store for larger deployments: PostgreSQL through PostgresNIO, same behaviour as SQLite.
public final class PostgresStore: EventStore {
    let client: PostgresClient
    /// Runs the client's connection pool until `close()`. The store owns it so that one-shot commands
    /// and tests need no service group; `puente serve` closes it on shutdown.
    private let runner: Task<Void, Never>
    let logger: Logger
    /// Seals personal columns and quarantined values before they are written; opens them when read.
    let cipher: any PersonalDataCipher

    /// Connects to `postgres://user:password@host:port/database` (no TLS: use it on loopback or a
    /// private network; the password may also come from `PGPASSWORD`).
    public init(url: String, cipher: any PersonalDataCipher, logger: Logger = PostgresStore.quietLogger) throws {
        self.cipher = cipher
        guard let c = URLComponents(string: url), ["postgres", "postgresql"].contains(c.scheme ?? ""),
              let host = c.host, !host.isEmpty else {
            throw PuenteError(.invalidArgument, "Give the PostgreSQL database as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        }
        let database = c.path.count > 1 ? String(c.path.dropFirst()) : "postgres"
        let password = c.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        var config = PostgresClient.Configuration(host: host, port: c.port ?? 5432, username: c.user ?? "postgres",
                                                  password: password, database: database, tls: .disable)
        config.options.maximumConnections = 8
        client = PostgresClient(configuration: config, backgroundLogger: logger)
        let client = self.client
        runner = Task { await client.run() }
        self.logger = logger
    }

    /// PostgresNIO logs routine pool events; only errors matter to Puente's users.
    public static var quietLogger: Logger {
        var logger = Logger(label: "puente.postgres")
        logger.logLevel = .error
        return logger
    }

    public func migrate() async throws -> Int {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                // One migrator at a time, even with several servers starting together.
                try await conn.query("SELECT pg_advisory_xact_lock(7301)", logger: logger)
                try await conn.query("CREATE TABLE IF NOT EXISTS puente_migration (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
                                     logger: logger)
                var applied = Set<String>()
                for try await id in (try await conn.query("SELECT id FROM puente_migration", logger: logger)).decode(String.self) {
                    applied.insert(id)
                }
                for migration in PostgresSchema.migrations where !applied.contains(migration.id) {
                    for statement in migration.statements { try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                    try await conn.query("INSERT INTO puente_migration (id, applied_at) VALUES (\(migration.id), \(Timestamp.now()))",
                                         logger: logger)
                    applied.insert(migration.id)
                }
                return applied.count
            }
        }
    }

    public func startImport(_ request: ImportRequest) async throws -> Int64 {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                let stale = try await Self.ids(conn.query("""
                    SELECT id FROM import_batch WHERE content_hash = \(request.contentHash) AND status = 'pending'
                    """, logger: logger))
                for id in stale {
                    try await Self.deleteRows(of: id, conn, logger)
                    try await conn.query("DELETE FROM import_batch WHERE id = \(id)", logger: logger)
                }
                let rows = try await Self.ids(conn.query("""
                    INSERT INTO import_batch (profile, agency, file, content_hash, status, started_at)
                    VALUES (\(request.profile), \(request.agency), \(request.file), \(request.contentHash), 'pending', \(Timestamp.now()))
                    RETURNING id
                    """, logger: logger))
                return rows[0]
            }
        }
    }

    public func committedImport(contentHash: String) async throws -> ImportRecord? {
        try await guarded {
            try await fetchImports("SELECT \(Self.importColumns) FROM import_batch WHERE content_hash = $1 AND status = 'committed'",
                                   [.text(contentHash)]).first
        }
    }

    public func seal(_ events: [MovementEvent]) -> SealedEvents { SealedEvents(events, sealing: cipher) }

    public func append(_ events: SealedEvents, to importID: Int64) async throws -> AppendResult {
        guard !events.isEmpty else { return AppendResult(stored: 0, duplicatePositions: []) }
        let columns = EventColumns.names.joined(separator: ", ")
        return try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                // COPY straight into the table is PostgreSQL's fast path, but it cannot skip a stored key:
                // it would fail, and the server would log the failing row. So the batch's keys are looked
                // up first (appends take turns, so none can be stored in between), and only a batch with a
                // key stored or repeated (a re-import, an overlapping extract) goes the slower way.
                try await conn.query("SELECT pg_advisory_xact_lock(\(Self.appendLock))", logger: logger)
                // One pass through the buffer, as for the rows themselves, so no event is copied.
                var seen = Set<SourceKey>(minimumCapacity: events.count), repeated = false
                var agencies: [String] = [], keys: [String] = []
                agencies.reserveCapacity(events.count); keys.reserveCapacity(events.count)
                events.events.withUnsafeBufferPointer { batch in
                    for i in batch.indices where !repeated {
                        agencies.append(batch[i].source.agency); keys.append(batch[i].source.recordKey)
                        repeated = !seen.insert(SourceKey(agency: agencies[i], key: keys[i])).inserted
                    }
                }
                if !repeated {
                    let stored = try await Self.ids(conn.query("""
                        SELECT m.id FROM unnest(\(agencies)::text[], \(keys)::text[]) AS k (agency, record_key)
                        JOIN movement_event m ON m.agency = k.agency AND m.record_key = k.record_key LIMIT 1
                        """, logger: logger))
                    if stored.isEmpty {
                        try await conn.copyRows(into: "movement_event", columns: EventColumns.names, count: events.count,
                                                logger: logger) { position, line in
                            EventColumns.visit(events, at: position, importID: importID, &line)
                        }
                        return AppendResult(stored: events.count, duplicatePositions: [])
                    }
                }
                // COPY into a temporary table, then one INSERT … ON CONFLICT.
                try await conn.query(PostgresQuery(unsafeSQL: """
                    CREATE TEMP TABLE event_staging ON COMMIT DROP AS SELECT \(columns) FROM movement_event WITH NO DATA
                    """), logger: logger)
                try await conn.query("ALTER TABLE event_staging ADD COLUMN position BIGINT", logger: logger)
                try await conn.copyRows(into: "event_staging", columns: EventColumns.names + ["position"], count: events.count,
                                        logger: logger) { position, line in
                    EventColumns.visit(events, at: position, importID: importID, &line)
                    line.integer(position)
                }
                // The stored keys tell which events were skipped: the first event with a key is the one
                // stored (the staging rows keep the batch's order), any later one is a duplicate.
                let inserted = try await conn.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO movement_event (\(columns)) SELECT \(columns) FROM event_staging ORDER BY position
                    ON CONFLICT (agency, record_key) DO NOTHING RETURNING agency, record_key
                    """), logger: logger)
                var stored = Set<SourceKey>(minimumCapacity: events.count)
                for try await (agency, key) in inserted.decode((String, String).self) { stored.insert(SourceKey(agency: agency, key: key)) }
                var duplicates: [Int] = []
                for (position, event) in events.events.enumerated()
                where stored.remove(SourceKey(agency: event.source.agency, key: event.source.recordKey)) == nil {
                    duplicates.append(position)
                }
                return AppendResult(stored: events.count - duplicates.count, duplicatePositions: duplicates)
            }
        }
    }

    public func appendCells(_ cells: CellBatch, to importID: Int64) async throws {
        guard !cells.isEmpty else { return }
        let columns = ["import_id"] + CellColumn.allCases.map(\.rawValue) + ["n", "key_sum"]
        try await guarded {
            try await client.withConnection { conn in
                try await conn.copyRows(into: "event_cell", columns: columns, count: cells.count, logger: logger) { i, line in
                    let (key, tally) = cells[i]
                    line.integer(Int(importID))
                    key.visit(&line)
                    line.integer(tally.count)
                    line.integer(tally.keySum)
                }
            }
        }
    }

    public func quarantine(_ rows: [RejectedRow], in importID: Int64) async throws {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                for row in rows {
                    try await conn.query("""
                        INSERT INTO rejected_row (import_id, file, row_number, values_json, reasons_json)
                        VALUES (\(importID), \(row.file), \(row.row), \(try JSONText.encode(cipher.seal(values: row.values))), \(try JSONText.encode(row.reasons)))
                        """, logger: logger)
                }
            }
        }
    }

    public func finishImport(_ importID: Int64, counts: ImportCounts, resolving: [Int64]) async throws {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                if !resolving.isEmpty {
                    try await conn.query("""
                        UPDATE rejected_row SET resolved_by = \(importID) WHERE id = ANY(\(resolving)) AND resolved_by IS NULL
                        """, logger: logger)
                }
                let updated = try await Self.ids(conn.query("""
                    UPDATE import_batch SET status = 'committed', rows_read = \(counts.read), rows_accepted = \(counts.accepted),
                    rows_rejected = \(counts.rejected), rows_duplicate = \(counts.duplicates)
                    WHERE id = \(importID) AND status = 'pending' RETURNING id
                    """, logger: logger))
                guard updated.count == 1 else {
                    throw PuenteError(.conflict, "Import \(importID) is not pending; it may have been rolled back.")
                }
            }
        }
    }

    public func rollbackImport(_ importID: Int64) async throws {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                let found = try await Self.ids(conn.query(
                    "UPDATE import_batch SET status = 'rolled_back' WHERE id = \(importID) RETURNING id", logger: logger))
                guard found.count == 1 else {
                    throw PuenteError(.notFound, "There is no import \(importID); `puente imports list` shows them.")
                }
                try await Self.deleteRows(of: importID, conn, logger)
                try await conn.query("UPDATE rejected_row SET resolved_by = NULL WHERE resolved_by = \(importID)", logger: logger)
            }
        }
    }

    public func imports(limit: Int) async throws -> [ImportRecord] {
        try await guarded {
            try await fetchImports("SELECT \(Self.importColumns) FROM import_batch ORDER BY id DESC LIMIT $1", [.integer(limit)])
        }
    }

    public func rejectionCounts(imports: Int) async throws -> [RejectionCount] {
        try await guarded {
            let sql = """
                SELECT b.id, b.started_at, b.file, reason->>'rule' AS rule, COUNT(DISTINCT r.id)
                FROM (SELECT id, started_at, file FROM import_batch WHERE status = 'committed' ORDER BY id DESC LIMIT $1) b
                JOIN rejected_row r ON r.import_id = b.id, jsonb_array_elements(r.reasons_json::jsonb) reason
                GROUP BY b.id, b.started_at, b.file, rule ORDER BY b.id, rule
                """
            var binds = PostgresBindings(capacity: 1)
            binds.append(imports)
            var out: [RejectionCount] = []
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            for try await (id, startedAt, file, rule, n) in rows.decode((Int64, String, String, String, Int).self) {
                out.append(RejectionCount(importID: id, startedAt: startedAt, file: file, rule: rule, rows: n))
            }
            return out
        }
    }

    public func rejectedRows(importID: Int64?, includeResolved: Bool, limit: Int) async throws -> [RejectedRow] {
        try await guarded {
            let sql = """
                SELECT r.id, r.import_id, r.file, r.row_number, r.values_json, r.reasons_json, r.resolved_by
                FROM rejected_row r JOIN import_batch b ON b.id = r.import_id AND b.status = 'committed'
                WHERE ($2::BIGINT IS NULL OR r.import_id = $2) AND ($3 OR r.resolved_by IS NULL)
                ORDER BY r.import_id, r.row_number LIMIT $1
                """
            var binds = PostgresBindings(capacity: 3)
            binds.append(limit)
            if let importID { binds.append(importID) } else { binds.appendNull() }
            binds.append(includeResolved)
            var out: [RejectedRow] = []
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            for try await (id, batch, file, row, values, reasons, resolvedBy) in
                rows.decode((Int64, Int64, String, Int, String, String, Int64?).self) {
                out.append(RejectedRow(id: id, importID: batch, file: file, row: row, values: try cipher.open(values: JSONText.decode(values)),
                                       reasons: try JSONText.decode(reasons), resolvedBy: resolvedBy))
            }
            return out
        }
    }

    public func events(importID: Int64, limit: Int) async throws -> [MovementEvent] {
        try await guarded {
            let columns = EventColumns.readColumns
            let sql = "SELECT \(columns.joined(separator: ", ")) FROM movement_event WHERE import_id = $1 ORDER BY source_row LIMIT $2"
            var out: [MovementEvent] = []
            let integer = columns.map { EventColumns.integerColumns.contains($0) }
            for try await row in try await client.query(Self.query(sql, [.integer(Int(importID)), .integer(limit)]), logger: logger) {
                let cells = row.makeRandomAccess()
                let values = try (0..<cells.count).map { try Self.cellValue(cells[$0], integer: integer[$0]) }
                if let event = try EventColumns.event(opening: cipher, from: values) { out.append(event) }
            }
            return out
        }
    }

    public func committedImportIDs() async throws -> [Int64] {
        try await guarded {
            try await Self.ids(client.query("SELECT id FROM import_batch WHERE status = 'committed' ORDER BY id", logger: logger))
        }
    }

    public func forEachCell(importID: Int64, _ body: (CellKey, CellTally) throws -> Void) async throws {
        let columns = CellColumn.allCases
        let sql = "SELECT \(columns.map(\.rawValue).joined(separator: ", ")), n, key_sum FROM event_cell WHERE import_id = $1"
        try await guarded {
            for try await row in try await client.query(Self.query(sql, [.integer(Int(importID))]), logger: logger) {
                let cells = row.makeRandomAccess()
                let values = try columns.enumerated().map { i, c in try Self.cellValue(cells[i], integer: c.isInteger) }
                guard let key = CellKey(values: values) else { continue }
                try body(key, CellTally(count: try cells[columns.count].decode(Int.self),
                                        keySum: try cells[columns.count + 1].decode(Int.self)))
            }
        }
    }

    public func close() async throws {
        runner.cancel()
        await runner.value
    }

    // MARK: Helpers

    private static let importColumns = "id, profile, agency, file, content_hash, status, started_at, rows_read, rows_accepted, rows_rejected, rows_duplicate"

    private func fetchImports(_ sql: String, _ bindings: [CellValue]) async throws -> [ImportRecord] {
        var out: [ImportRecord] = []
        let rows = try await client.query(Self.query(sql, bindings), logger: logger)
        for try await row in rows {
            let (id, profile, agency, file, hash, status, started, read, accepted, rejected, duplicates) =
                try row.decode((Int64, String, String, String, String, String, String, Int, Int, Int, Int).self)
            out.append(ImportRecord(id: id, request: ImportRequest(profile: profile, agency: agency, file: file, contentHash: hash),
                                    status: ImportStatus(rawValue: status) ?? .pending, startedAt: started,
                                    counts: ImportCounts(read: read, accepted: accepted, rejected: rejected, duplicates: duplicates)))
        }
        return out
    }

    static func ids(_ rows: PostgresRowSequence) async throws -> [Int64] {
        var out: [Int64] = []
        for try await id in rows.decode(Int64.self) { out.append(id) }
        return out
    }

    private static func deleteRows(of importID: Int64, _ conn: PostgresConnection, _ logger: Logger) async throws {
        // Its events leave their persons; person statistics wait for the next link run (see `LinkRun`).
        try await conn.query("DELETE FROM person_link WHERE event_id IN (SELECT id FROM movement_event WHERE import_id = \(importID))",
                             logger: logger)
        try await conn.query("DELETE FROM movement_event WHERE import_id = \(importID)", logger: logger)
        try await conn.query("DELETE FROM rejected_row WHERE import_id = \(importID)", logger: logger)
        try await conn.query("DELETE FROM event_cell WHERE import_id = \(importID)", logger: logger)
    }

    static func query(_ sql: String, _ bindings: [CellValue]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: bindings.count)
        for b in bindings { bind(b, into: &binds) }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    private static func bind(_ value: CellValue?, into binds: inout PostgresBindings) {
        switch value {
        case .text(let s)?: binds.append(s)
        case .integer(let i)?: binds.append(i)
        case nil: binds.appendNull()
        }
    }

    static func cellValue(_ cell: PostgresCell, integer: Bool) throws -> CellValue? {
        if integer { return try cell.decode(Int?.self).map(CellValue.integer) }
        return try cell.decode(String?.self).map(CellValue.text)
    }

    /// Turns connection failures into a sentence; PostgresNIO's own errors keep bound values out.
    func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as PuenteError { throw error } catch let error as PostgresTransactionError {
            // Our own errors inside a transaction arrive wrapped; the transaction was rolled back.
            if let inner = error.closureError as? PuenteError { throw inner }
            let state = (error.closureError as? PSQLError)?.serverInfo?[.sqlState] ?? "no SQLSTATE"
            throw PuenteError(.storeFailure, "A PostgreSQL transaction failed and was rolled back (\(state)).")
        } catch let error as PSQLError {
            if error.code == .connectionError || error.code == .serverClosedConnection || error.code == .failedToAddSSLHandler {
                throw PuenteError(.storeUnavailable, "Cannot reach the PostgreSQL server; check --database and that the server runs.")
            }
            throw PuenteError(.storeFailure, "PostgreSQL refused a statement (\(error.serverInfo?[.sqlState] ?? "no SQLSTATE")).")
        }
    }
}

extension PostgresStore {
    /// The advisory lock appends take turns on (any fixed number; this one spells "Puente").
    static let appendLock: Int64 = 0x5075_656E_7465
}

/// An event's identity in its agency's system.
private struct SourceKey: Hashable {
    var agency: String
    var key: String
}

extension PostgresConnection {
    /// COPYs `count` rows into `table`: `row(i, &line)` writes row `i`'s values; rows go to the server
    /// in chunks of about 1 MiB, so memory stays flat whatever the count.
    func copyRows(into table: String, columns: [String], count: Int, logger: Logger,
                  _ row: (Int, inout CopyTextLine) -> Void) async throws {
        try await copyFrom(table: table, columns: columns, logger: logger) { writer in
            var line = CopyTextLine()
            for i in 0..<count {
                row(i, &line)
                line.endRow()
                if line.buffer.readableBytes >= 1 << 20 {
                    try await writer.write(line.buffer)
                    line.buffer.clear()
                }
            }
            if line.buffer.readableBytes > 0 { try await writer.write(line.buffer) }
        }
    }
}

/// Rows in COPY's text format: tab-separated, `\\N` for null, backslash escapes for tab, newline,
/// carriage return and backslash.
struct CopyTextLine: EventColumnVisitor {
    var buffer = ByteBuffer()
    private var first = true

    mutating func text(_ value: String?) {
        separator()
        guard let value else { buffer.writeStaticString("\\N"); return }
        if !value.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            buffer.writeString(value)
            return
        }
        for b in value.utf8 {
            switch b {
            case 0x5C: buffer.writeStaticString("\\\\")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            default: buffer.writeInteger(b)
            }
        }
    }

    mutating func integer(_ value: Int?) {
        separator()
        if let value { buffer.writeString(String(value)) } else { buffer.writeStaticString("\\N") }
    }

    mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        first = true
    }

    private mutating func separator() {
        if first { first = false } else { buffer.writeInteger(UInt8(ascii: "\t")) }
    }
}
