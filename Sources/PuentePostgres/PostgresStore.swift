import Foundation
import Logging
import PostgresNIO
import PuenteCore
import Synchronization
import _ConnectionPoolModule

/// The server store for larger deployments: PostgreSQL through PostgresNIO, same behaviour as SQLite.
public final class PostgresStore: EventStore {
    let client: PostgresClient
    /// Ends `run()` (and with it the client's connection pool) on `close()`.
    private let closing = StoreClosing()
    let logger: Logger
    /// Seals personal columns and quarantined values before they are written; opens them when read.
    public let cipher: any PersonalDataCipher
    /// As given, for PostgreSQL's own client programs (backup and restore).
    let url: String
    /// How the watchdog of a slow operation reaches the server itself, beside the pool.
    let probeConfiguration: PostgresConnection.Configuration
    /// When a watchdog last found the server unreachable: for a second after, operations fail at once.
    let lastOutage = Mutex<ContinuousClock.Instant?>(nil)

    /// Connects to `postgres://user:password@host:port/database?sslmode=…` (the password may also come
    /// from `PGPASSWORD`); `sslmode` and `sslrootcert` as libpq reads them (`Self.tls`).
    public init(url: String, cipher: any PersonalDataCipher, logger: Logger = PostgresStore.quietLogger) throws {
        self.cipher = cipher
        self.url = url
        guard let c = URLComponents(string: url), ["postgres", "postgresql"].contains(c.scheme ?? ""),
            let host = c.host, !host.isEmpty
        else {
            throw PuenteError(
                .invalidArgument, "Give the PostgreSQL database as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        }
        let database = c.path.count > 1 ? String(c.path.dropFirst()) : "postgres"
        let password = c.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        var config = PostgresClient.Configuration(
            host: host, port: c.port ?? 5432, username: c.user ?? "postgres",
            password: password, database: database, tls: try Self.tls(c.queryItems ?? []))
        config.options.maximumConnections = 8
        client = PostgresClient(configuration: config, backgroundLogger: logger)
        var probe = PostgresConnection.Configuration(
            host: host, port: c.port ?? 5432, username: c.user ?? "postgres", password: password, database: database,
            tls: try Self.connectionTLS(c.queryItems ?? []))
        probe.options.connectTimeout = .seconds(Int64(Self.probeTimeout.components.seconds))
        probeConfiguration = probe
        self.logger = logger
    }

    /// PostgresNIO logs routine pool events; only errors matter to Puente's users.
    public static var quietLogger: Logger {
        var logger = Logger(label: "puente.postgres")
        logger.logLevel = .error
        return logger
    }

    @discardableResult
    public func migrate() async throws -> Int {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                // One migrator at a time, even with several servers starting together.
                try await conn.query("SELECT pg_advisory_xact_lock(7301)", logger: logger)
                try await conn.query(
                    "CREATE TABLE IF NOT EXISTS puente_migration (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
                    logger: logger)
                var applied = Set<String>()
                for try await id in (try await conn.query("SELECT id FROM puente_migration", logger: logger)).decode(
                    String.self)
                {
                    applied.insert(id)
                }
                for migration in PostgresSchema.migrations where !applied.contains(migration.id) {
                    for statement in migration.statements {
                        try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await conn.query(
                        "INSERT INTO puente_migration (id, applied_at) VALUES (\(migration.id), \(Timestamp.now()))",
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
                try await conn.query("SELECT pg_advisory_xact_lock(\(Self.countingLock))", logger: logger)
                // A pending batch of the same content is what an interrupted import left: discard it.
                let stale = try await Self.ids(
                    conn.query(
                        """
                        SELECT id FROM import_batch WHERE content_hash = \(request.contentHash) AND status = 'pending'
                        """, logger: logger))
                for id in stale {
                    try await Self.retire(id, conn, logger, cipher: cipher)
                    try await conn.query("DELETE FROM import_batch WHERE id = \(id)", logger: logger)
                }
                let rows = try await Self.ids(
                    conn.query(
                        """
                        INSERT INTO import_batch (profile, agency, file, content_hash, mode, status, started_at)
                        VALUES (\(request.profile), \(request.agency), \(request.file), \(request.contentHash), \(request.mode.rawValue),
                                'pending', \(Timestamp.now()))
                        RETURNING id
                        """, logger: logger))
                return rows[0]
            }
        }
    }

    public func committedImport(contentHash: String) async throws -> ImportRecord? {
        try await guarded {
            try await fetchImports(
                "SELECT \(Self.importColumns) FROM import_batch WHERE content_hash = $1 AND status = 'committed'",
                [.text(contentHash)]
            ).first
        }
    }

    public var auditChainKey: (any AuditChainKey)? { cipher as? any AuditChainKey }

    public func append(_ events: SealedEvents, to importID: Int64) async throws -> AppendResult {
        guard !events.isEmpty else { return AppendResult(stored: 0, duplicatePositions: []) }
        return try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                // The batch's keys are looked up, then its rows COPYed straight into the table, each marked
                // counted or not. Writers of counted rows take turns, so no counted copy of a key can be
                // stored in between (and no COPY fails on the unique index, which would log the row).
                try await conn.query("SELECT pg_advisory_xact_lock(\(Self.countingLock))", logger: logger)
                // One pass through the buffer, as for the rows themselves, so no event is copied.
                var agencies: [String] = [], keys: [String] = []
                agencies.reserveCapacity(events.count); keys.reserveCapacity(events.count)
                events.events.withUnsafeBufferPointer { batch in
                    for e in batch { agencies.append(e.source.agency); keys.append(e.source.recordKey) }
                }
                var counted = Set<SourceKey>()
                // One index probe per key, whatever the planner believes: while a large import runs, the
                // table's statistics still describe it as small, and a plain join was planned as a sort of
                // every counted row per batch (quadratic over the import).
                let stored = try await conn.query(
                    """
                    SELECT k.agency, k.record_key FROM unnest(\(agencies)::text[], \(keys)::text[]) AS k (agency, record_key)
                    CROSS JOIN LATERAL (SELECT 1 FROM movement_event m
                        WHERE m.agency = k.agency AND m.record_key = k.record_key AND m.counted = 1 LIMIT 1) AS found
                    """, logger: logger)
                for try await (agency, key) in stored.decode((String, String).self) {
                    counted.insert(SourceKey(agency: agency, key: key))
                }
                // The first copy of a key not counted yet counts; any other is a duplicate.
                var duplicates: [Int] = []
                var counts = [Bool](repeating: false, count: events.count)
                for i in 0..<events.count where counted.insert(SourceKey(agency: agencies[i], key: keys[i])).inserted {
                    counts[i] = true
                }
                for i in 0..<events.count where !counts[i] { duplicates.append(i) }
                try await conn.copyRows(
                    into: "movement_event", columns: EventColumns.names + ["counted"], count: events.count,
                    logger: logger
                ) { position, line in
                    EventColumns.visit(events, at: position, importID: importID, &line)
                    line.integer(counts[position] ? 1 : 0)
                }
                return AppendResult(stored: events.count - duplicates.count, duplicatePositions: duplicates)
            }
        }
    }

    public func appendCells(_ cells: CellBatch, to importID: Int64) async throws {
        guard !cells.isEmpty else { return }
        try await guarded {
            try await client.withConnection { conn in
                try await Self.writeCells(cells, to: importID, sign: 1, conn, logger)
            }
        }
    }

    /// COPYs a batch's cell counts, with `sign` -1 for rows that stopped counting.
    private static func writeCells(
        _ cells: CellBatch, to importID: Int64, sign: Int, _ conn: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let columns = ["import_id"] + CellColumn.allCases.map(\.rawValue) + ["n", "key_sum"]
        try await conn.copyRows(into: "event_cell", columns: columns, count: cells.count, logger: logger) { i, line in
            let (key, tally) = cells[i]
            line.integer(Int(importID))
            key.visit(&line)
            line.integer(sign * tally.count)
            line.integer(sign * tally.keySum)
        }
    }

    public func quarantine(_ rows: [RejectedRow], in importID: Int64) async throws {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                for row in rows {
                    try await conn.query(
                        """
                        INSERT INTO rejected_row (import_id, file, row_number, values_json, reasons_json)
                        VALUES (\(importID), \(row.file), \(row.row), \(try JSONText.encode(cipher.seal(values: row.values))), \(try JSONText.encode(row.reasons)))
                        """, logger: logger)
                }
            }
        }
    }

    public func finishImport(_ importID: Int64, counts: ImportCounts, resolving: [Int64]) async throws -> ImportCounts {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query("SELECT pg_advisory_xact_lock(\(Self.countingLock))", logger: logger)
                var mode: String?
                for try await m in try await conn.query(
                    """
                    SELECT mode FROM import_batch WHERE id = \(importID) AND status = 'pending' FOR UPDATE
                    """, logger: logger
                ).decode(String.self) { mode = m }
                guard let mode else {
                    throw PuenteError(.conflict, "Import \(importID) is not pending; it may have been rolled back.")
                }
                try await Self.prepareWorkTables(conn, logger)
                try await conn.query(
                    PostgresQuery(
                        unsafeSQL: CountedRecords.collectTakeovers(
                            batch: importID,
                            replace: mode == ImportMode.replace.rawValue)),
                    logger: logger)
                try await conn.query(PostgresQuery(unsafeSQL: CountedRecords.collectDisplaced), logger: logger)
                let replaced = try await Self.count(
                    conn.query(
                        """
                        SELECT COUNT(*) FROM counted_off o JOIN import_batch b ON b.id = o.batch_id WHERE b.status = 'committed'
                        """, logger: logger))
                try await Self.switchCounting(conn, logger, cipher: cipher)
                let duplicates = try await Self.count(
                    conn.query(
                        """
                        SELECT COUNT(*) FROM movement_event WHERE import_id = \(importID) AND counted = 0
                        """, logger: logger))
                var final = counts
                final.accepted = counts.accepted + counts.duplicates - duplicates
                final.duplicates = duplicates
                final.replaced = replaced
                if !resolving.isEmpty {
                    try await conn.query(
                        """
                        UPDATE rejected_row SET resolved_by = \(importID) WHERE id = ANY(\(resolving)) AND resolved_by IS NULL
                        """, logger: logger)
                }
                try await conn.query(
                    """
                    UPDATE import_batch SET status = 'committed', rows_read = \(final.read), rows_accepted = \(final.accepted),
                    rows_rejected = \(final.rejected), rows_duplicate = \(final.duplicates), rows_replaced = \(final.replaced)
                    WHERE id = \(importID)
                    """, logger: logger)
                return final
            }
        }
    }

    public func rollbackImport(_ importID: Int64) async throws {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query("SELECT pg_advisory_xact_lock(\(Self.countingLock))", logger: logger)
                let found = try await Self.ids(
                    conn.query("SELECT id FROM import_batch WHERE id = \(importID) FOR UPDATE", logger: logger))
                guard found.count == 1 else {
                    throw PuenteError(.notFound, "There is no import \(importID); `puente imports list` shows them.")
                }
                try await Self.retire(importID, conn, logger, cipher: cipher)
                try await conn.query(
                    "UPDATE import_batch SET status = 'rolled_back' WHERE id = \(importID)", logger: logger)
                try await conn.query(
                    "UPDATE rejected_row SET resolved_by = NULL WHERE resolved_by = \(importID)", logger: logger)
            }
        }
    }

    public func imports(limit: Int) async throws -> [ImportRecord] {
        try await guarded {
            try await fetchImports(
                "SELECT \(Self.importColumns) FROM import_batch ORDER BY id DESC LIMIT $1", [.integer(limit)])
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
            for try await (id, batch, file, row, values, reasons, resolvedBy) in rows.decode(
                (Int64, Int64, String, Int, String, String, Int64?).self)
            {
                out.append(
                    RejectedRow(
                        id: id, importID: batch, file: file, row: row,
                        values: try cipher.open(values: JSONText.decode(values)),
                        reasons: try JSONText.decode(reasons), resolvedBy: resolvedBy))
            }
            return out
        }
    }

    public func events(importID: Int64, limit: Int) async throws -> [MovementEvent] {
        try await guarded {
            let columns = EventColumns.readColumns
            let sql =
                "SELECT \(columns.joined(separator: ", ")) FROM movement_event WHERE import_id = $1 AND counted = 1 ORDER BY source_row LIMIT $2"
            var out: [MovementEvent] = []
            let integer = columns.map { EventColumns.integerColumns.contains($0) }
            for try await row in try await client.query(
                Self.query(sql, [.integer(Int(importID)), .integer(limit)]), logger: logger)
            {
                let cells = row.makeRandomAccess()
                let values = try (0..<cells.count).map { try Self.cellValue(cells[$0], integer: integer[$0]) }
                if let event = try EventColumns.event(opening: cipher, from: values) { out.append(event) }
            }
            return out
        }
    }

    public func committedImports() async throws -> [CommittedImport] {
        try await guarded {
            var out: [CommittedImport] = []
            let rows = try await client.query(
                "SELECT id, revision FROM import_batch WHERE status = 'committed' ORDER BY id", logger: logger)
            for try await (id, revision) in rows.decode((Int64, Int).self) {
                out.append(CommittedImport(id: id, revision: revision))
            }
            return out
        }
    }

    public func forEachCell(importID: Int64, _ body: (CellKey, CellTally) throws -> Void) async throws {
        let columns = CellColumn.allCases
        let sql =
            "SELECT \(columns.map(\.rawValue).joined(separator: ", ")), n, key_sum FROM event_cell WHERE import_id = $1"
        try await guarded {
            for try await row in try await client.query(Self.query(sql, [.integer(Int(importID))]), logger: logger) {
                let cells = row.makeRandomAccess()
                let values = try columns.enumerated().map { i, c in try Self.cellValue(cells[i], integer: c.isInteger) }
                guard let key = CellKey(values: values) else { continue }
                try body(
                    key,
                    CellTally(
                        count: try cells[columns.count].decode(Int.self),
                        keySum: try cells[columns.count + 1].decode(Int.self)))
            }
        }
    }

    /// Runs the client's connection pool until the task is cancelled or the store closed.
    public func run() async {
        let client = self.client
        await withDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            await closing.wait()
            group.cancelAll()
        }
    }

    public func close() async throws {
        closing.close()
    }

    // MARK: Helpers

    private static let importColumns =
        "id, profile, agency, file, content_hash, status, started_at, rows_read, rows_accepted, rows_rejected, rows_duplicate, mode, rows_replaced"

    private func fetchImports(_ sql: String, _ bindings: [CellValue]) async throws -> [ImportRecord] {
        var out: [ImportRecord] = []
        let rows = try await client.query(Self.query(sql, bindings), logger: logger)
        for try await row in rows {
            let (
                id, profile, agency, file, hash, status, started, read, accepted, rejected, duplicates, mode, replaced
            ) =
                try row.decode(
                    (Int64, String, String, String, String, String, String, Int, Int, Int, Int, String, Int).self)
            out.append(
                ImportRecord(
                    id: id,
                    request: ImportRequest(
                        profile: profile, agency: agency, file: file, contentHash: hash,
                        mode: ImportMode(rawValue: mode) ?? .add),
                    status: ImportStatus(rawValue: status) ?? .pending, startedAt: started,
                    counts: ImportCounts(
                        read: read, accepted: accepted, rejected: rejected, duplicates: duplicates,
                        replaced: replaced)))
        }
        return out
    }

    static func ids(_ rows: PostgresRowSequence) async throws -> [Int64] {
        var out: [Int64] = []
        for try await id in rows.decode(Int64.self) { out.append(id) }
        return out
    }

    static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var out = 0
        for try await n in rows.decode(Int.self) { out = n }
        return out
    }

    /// Removes a batch's rows; each record it counted counts in its successor's row (`CountedRecords`).
    private static func retire(
        _ importID: Int64, _ conn: PostgresConnection, _ logger: Logger, cipher: any PersonalDataCipher
    ) async throws {
        try await prepareWorkTables(conn, logger)
        try await conn.query(PostgresQuery(unsafeSQL: CountedRecords.collectSuccessors(of: importID)), logger: logger)
        // Its events leave their persons; person statistics wait for the next link run (see `LinkRun`).
        try await conn.query(
            "DELETE FROM person_link WHERE event_id IN (SELECT id FROM movement_event WHERE import_id = \(importID))",
            logger: logger)
        try await conn.query("DELETE FROM movement_event WHERE import_id = \(importID)", logger: logger)
        try await conn.query("DELETE FROM rejected_row WHERE import_id = \(importID)", logger: logger)
        try await conn.query("DELETE FROM event_cell WHERE import_id = \(importID)", logger: logger)
        try await switchCounting(conn, logger, cipher: cipher)
    }

    /// Moves counting from `counted_off` to `counted_on`; the cells of both follow, counted as the
    /// importer counts them.
    private static func switchCounting(_ conn: PostgresConnection, _ logger: Logger, cipher: any PersonalDataCipher)
        async throws
    {
        try await changeCells("counted_off", sign: -1, conn, logger, cipher: cipher)
        for statement in CountedRecords.switchCounting {
            try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        try await changeCells("counted_on", sign: 1, conn, logger, cipher: cipher)
    }

    /// Counts the rows of a work table by cell, as the importer counts (the opened events), and adds
    /// the cells to their batches with `sign`.
    private static func changeCells(
        _ table: String, sign: Int, _ conn: PostgresConnection, _ logger: Logger,
        cipher: any PersonalDataCipher
    ) async throws {
        let integer = EventColumns.readColumns.map { EventColumns.integerColumns.contains($0) }
        var cells: [Int64: CellAccumulator] = [:]
        for try await row in try await conn.query(
            PostgresQuery(unsafeSQL: CountedRecords.rows(of: table)), logger: logger)
        {
            let columns = row.makeRandomAccess()
            let values = try (0..<columns.count).map { try cellValue(columns[$0], integer: integer[$0]) }
            if let event = try EventColumns.event(opening: cipher, from: values, withCellKey: true) {
                cells[event.source.importID, default: CellAccumulator()].add(event)
            }
        }
        for (batch, var accumulated) in cells where !accumulated.isEmpty {
            try await writeCells(accumulated.take(), to: batch, sign: sign, conn, logger)
        }
    }

    /// The work tables of `CountedRecords`, empty, for this transaction.
    private static func prepareWorkTables(_ conn: PostgresConnection, _ logger: Logger) async throws {
        for table in ["counted_on", "counted_off"] {
            try await conn.query(
                PostgresQuery(
                    unsafeSQL:
                        "CREATE TEMP TABLE IF NOT EXISTS \(table) \(CountedRecords.workTableColumns) ON COMMIT DELETE ROWS"
                ),
                logger: logger)
            try await conn.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
        }
    }

    static func query(_ sql: String, _ bindings: [CellValue?]) -> PostgresQuery {
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

    /// Turns connection failures into a sentence; PostgresNIO's own errors keep bound values out; and
    /// never waits long on a server that is down (`watched`).
    func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do {
            let now = ContinuousClock.now
            if lastOutage.withLock({ $0.map { now - $0 < .seconds(1) } ?? false }) { throw Self.unreachable }
            return try await watched(body)
        } catch let error as PuenteError { throw error } catch let error
            as PostgresTransactionError
        {
            // Our own errors inside a transaction arrive wrapped; the transaction was rolled back.
            if let inner = error.closureError as? PuenteError { throw inner }
            let state = (error.closureError as? PSQLError)?.serverInfo?[.sqlState]
            throw Self.refused(state)
                ?? PuenteError(
                    .storeFailure, "A PostgreSQL transaction failed and was rolled back (\(state ?? "no SQLSTATE")).")
        } catch let error as PSQLError {
            if error.code == .connectionError || error.code == .serverClosedConnection {
                throw await whyUnreachable()
            }
            if error.code == .failedToAddSSLHandler { throw Self.unreachable }
            let state = error.serverInfo?[.sqlState]
            throw Self.refused(state)
                ?? PuenteError(.storeFailure, "PostgreSQL refused a statement (\(state ?? "no SQLSTATE")).")
        } catch is ConnectionPoolError {
            // The pool gave up connecting: the server is down, its certificate is not the one trusted, or
            // it refuses new connections for a reason of its own.
            throw await whyUnreachable()
        }
    }

    /// The server's own reason when it refuses a new connection (asked on a connection of its own), else
    /// `unreachable`. A backend that cannot write while it starts (its relation cache file, on a full
    /// disk) ends the connection with a FATAL error of its own: without the reason, a full disk reads
    /// as a server that is down.
    func whyUnreachable() async -> PuenteError {
        guard case .refused(let state, let message)? = await probe() else { return Self.unreachable }
        return Self.refusal(state, message)
    }

    /// A refused connection as a sentence: by its SQLSTATE where it says what to do, by the server's
    /// own message otherwise (a backend's startup message holds no data).
    static func refusal(_ state: String?, _ message: String) -> PuenteError {
        if let known = refused(state) { return known }
        if message.hasPrefix("could not write") || message.contains("No space left on device") {
            return PuenteError(
                .storeUnavailable,
                "The disk holding the PostgreSQL database is full, or the server cannot write there: it refuses new "
                    + "connections (\(message)). Free space on the database server, then try again.")
        }
        return PuenteError(
            .storeUnavailable,
            "The PostgreSQL server refuses new connections: \(message) (SQLSTATE \(state ?? "none")).")
    }

    /// What a user can do about a statement the server refused for want of resources, by its SQLSTATE (the
    /// statement and its values stay out); nil for the others. The transaction was rolled back.
    static func refused(_ sqlState: String?) -> PuenteError? {
        switch sqlState {
        case "53100":
            PuenteError(
                .storeUnavailable,
                "The disk holding the PostgreSQL database is full: what was being written was not stored. Free space on the database server, then try again."
            )
        case "53200":
            PuenteError(
                .storeUnavailable, "The PostgreSQL server ran out of memory: nothing was stored. Try again later.")
        case "53300":
            PuenteError(.storeUnavailable, "The PostgreSQL server has too many connections; try again later.")
        default: nil
        }
    }

    /// How long an operation runs before its watchdog checks that the server still answers, and how
    /// long that check may take.
    static let probeTimeout = Duration.seconds(3)

    /// A value carried out of a task group whatever its type: the group ends before the caller goes on.
    struct Carried<Value>: @unchecked Sendable { let value: Value }

    /// Runs `body`; while it runs longer than `probeTimeout`, a watchdog asks the server itself, on a
    /// connection of its own, whether it answers. When the server is down the pool keeps requests waiting
    /// for a minute while it retries: the watchdog then cancels `body` (its request leaves the pool's
    /// queue) and the operation is `unreachable` within seconds, so `/ready` and every request answer 503
    /// instead of hanging. A slow operation on a server that answers is left to finish.
    func watched<T>(_ body: () async throws -> T) async throws -> T {
        try await withoutActuallyEscaping(body) { escapable in
            // The group ends before this closure returns, so the closure does not outlive its caller.
            nonisolated(unsafe) let run = escapable
            return try await withThrowingTaskGroup(of: Carried<T>?.self) { group in
                group.addTask { Carried(value: try await run()) }
                group.addTask {
                    // Ends quietly when cancelled: the operation decides what a cancellation means.
                    while (try? await Task.sleep(for: Self.probeTimeout)) != nil {
                        // nil: cancelled while asking, so the operation ended and the check proves nothing.
                        guard let probe = await self.probe() else { break }
                        switch probe {
                        case .answers: continue
                        case .silent:
                            self.lastOutage.withLock { $0 = .now }
                            throw Self.unreachable
                        case .refused(let state, let message):
                            // Too many clients, or starting up: busy, and the pool's turn will come. Any
                            // other refusal (a full disk, a database gone) will not pass by waiting.
                            if state == "53300" || state == "57P03" { continue }
                            throw Self.refusal(state, message)
                        }
                    }
                    return nil
                }
                defer { group.cancelAll() }
                // The operation's result, or the watchdog's verdict; a watchdog that ended waits for it.
                for try await finished in group {
                    if let result = finished { return result.value }
                }
                throw CancellationError()
            }
        }
    }

    /// How long a server may take to answer a fresh connection before the watchdog counts it as down:
    /// generous, for a busy server must not be taken for a dead one.
    static let answerDeadline = Duration.seconds(10)

    /// What a new connection meets (`serverAnswers`): a server that answers, one that refuses with an
    /// error of its own, or silence; within `answerDeadline`, or nil when the caller is cancelled first.
    /// The probe runs in a task of its own that is never cancelled and that the caller never waits for:
    /// PostgresNIO's connect can miss a cancellation that arrives mid-handshake and then never return
    /// (the operation it watched would wait for it forever), and a server that accepts connections
    /// without answering must not hold the operation either.
    func probe() async -> Probe? {
        let verdict = OneShot<Probe?>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                verdict.wait(continuation)
                let deadline = Task {
                    guard (try? await Task.sleep(for: Self.answerDeadline)) != nil else { return }
                    verdict.give(.silent)
                }
                Task {
                    verdict.give(await self.serverAnswers())
                    deadline.cancel()
                }
            }
        } onCancel: {
            verdict.give(nil)
        }
    }

    enum Probe: Equatable, Sendable {
        case answers
        /// An error of the server's own (too many clients, starting up, a full disk): a server that
        /// refuses is not down.
        case refused(sqlState: String?, message: String)
        case silent
    }

    /// How the server meets a new connection: `SELECT 1` answered, or refused with its own error.
    func serverAnswers() async -> Probe {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: probeConfiguration, id: 0, logger: Self.quietLogger)
            defer { Task { try? await connection.close() } }
            try await connection.query("SELECT 1", logger: Self.quietLogger)
            return .answers
        } catch let error as PSQLError where error.code == .server {
            return .refused(
                sqlState: error.serverInfo?[.sqlState], message: error.serverInfo?[.message] ?? "no message")
        } catch {
            return .silent
        }
    }

    static let unreachable = PuenteError(
        .storeUnavailable,
        "Cannot reach the PostgreSQL server, or cannot trust it: check --database (its sslmode and sslrootcert) and that the server runs."
    )
}

/// A value given once, by whichever of several racing tasks comes first, to one waiting continuation.
final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var given: Value?
        var isGiven = false
        var waiting: CheckedContinuation<Value, Never>?
    }
    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<Value, Never>) {
        let given: Value? = state.withLock { state in
            if state.isGiven { return state.given }
            state.waiting = continuation
            return nil
        }
        if let given { continuation.resume(returning: given) }
    }

    /// Gives `value` unless a value was given already; later gifts are dropped.
    func give(_ value: Value) {
        let waiting: CheckedContinuation<Value, Never>? = state.withLock { state in
            guard !state.isGiven else { return nil }
            (state.given, state.isGiven) = (value, true)
            defer { state.waiting = nil }
            return state.waiting
        }
        waiting?.resume(returning: value)
    }
}

extension PostgresStore {
    /// The advisory lock writers of counted rows take turns on: appends, commits, rollbacks (any fixed
    /// number; this one spells "Puente").
    static let countingLock: Int64 = 0x5075_656E_7465
}

/// An event's identity in its agency's system.
private struct SourceKey: Hashable {
    var agency: String
    var key: String
}

extension PostgresConnection {
    /// COPYs `count` rows into `table`: `row(i, &line)` writes row `i`'s values; rows go to the server
    /// in chunks of about 1 MiB, so memory stays flat whatever the count.
    func copyRows(
        into table: String, columns: [String], count: Int, logger: Logger,
        _ row: (Int, inout CopyTextLine) -> Void
    ) async throws {
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
