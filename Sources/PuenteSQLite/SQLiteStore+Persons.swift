import GRDB
import GRDBSQLite
import PuenteCore

extension SQLiteStore: PersonStore {
    public func forEachEvent(importID: Int64, _ body: (MovementEvent) throws -> Void) async throws {
        let columns = EventColumns.readColumns
        let integer = columns.map { EventColumns.integerColumns.contains($0) }
        let sql =
            "SELECT \(columns.joined(separator: ", ")) FROM movement_event WHERE import_id = ? AND counted = 1 ORDER BY id"
        // A read transaction on the calling task: the closure is not Sendable, so no pool hop.
        try writer.unsafeReentrantRead { db in
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: [importID])
            while let row = try cursor.next() {
                let values = columns.indices.map { Self.cellValue(row[$0] as DatabaseValue, integer: integer[$0]) }
                // Linking counts person cells with the events' cell keys.
                if let event = try EventColumns.event(opening: cipher, from: values, withCellKey: true) {
                    try body(event)
                }
            }
        }
    }

    public func events(ids: [Int64]) async throws -> [MovementEvent] {
        guard !ids.isEmpty else { return [] }
        let columns = EventColumns.readColumns
        let integer = columns.map { EventColumns.integerColumns.contains($0) }
        return try await writer.read { db in
            let sql =
                "SELECT \(columns.joined(separator: ", ")) FROM movement_event WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ", "))) ORDER BY id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(ids)).compactMap { row in
                try EventColumns.event(
                    opening: cipher,
                    from: columns.indices.map { Self.cellValue(row[$0] as DatabaseValue, integer: integer[$0]) })
            }
        }
    }

    public func personLinks() async throws -> [Int64: Int64] {
        try await writer.read { db in
            var out: [Int64: Int64] = [:]
            let cursor = try Row.fetchCursor(db, sql: "SELECT event_id, person_id FROM person_link")
            while let row = try cursor.next() { out[row[0]] = row[1] }
            return out
        }
    }

    public func latestLinkRun() async throws -> LinkRun? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM link_run ORDER BY id DESC LIMIT 1").map { r in
                LinkRun(
                    id: r["id"], mode: r["mode"], startedAt: r["started_at"], finishedAt: r["finished_at"],
                    imports: try CommittedImport.decode(ids: r["import_ids"], revisions: r["import_revisions"]),
                    events: r["events"], persons: r["persons"],
                    candidatePairs: r["candidate_pairs"], linkedPairs: r["linked_pairs"], reviewPairs: r["review_pairs"]
                )
            }
        }
    }

    static let insertPersonCellSQL =
        "INSERT INTO person_cell (first_level, "
        + CellColumn.allCases.map(\.rawValue).joined(separator: ", ") + ", n, key_sum) VALUES ("
        + Array(repeating: "?", count: CellColumn.allCases.count + 3).joined(separator: ", ") + ")"

    public func savePersons(_ run: LinkRun, links: PersonLinks, cells: [PersonCell], review: [ReviewPair]) async throws
        -> Int64
    {
        let importIDs = try JSONText.encode(run.importIDs), importRevisions = try JSONText.encode(run.importRevisions)
        let reviewRows = try review.map { ($0, try JSONText.encode($0.contributions)) }
        return try await writer.write { db in
            // The person index is rebuilt after the bulk insert: a million inserts in person order
            // cost three times as much with it in place.
            try db.execute(sql: "DELETE FROM person_link; DROP INDEX person_link_person")
            try db.execute(sql: "DELETE FROM person_cell")
            try db.execute(sql: "DELETE FROM link_review WHERE decision IS NULL")
            let link = try db.cachedStatement(sql: "INSERT INTO person_link (event_id, person_id) VALUES (?, ?)")
            for k in 0..<links.count {
                let s = link.sqliteStatement
                sqlite3_bind_int64(s, 1, links.eventIDs[k])
                sqlite3_bind_int64(s, 2, links.personIDs[k])
                let status = sqlite3_step(s)
                sqlite3_reset(s)
                guard status == SQLITE_DONE else {
                    throw PuenteError(
                        .storeFailure, "Storing person links failed: " + String(cString: sqlite3_errstr(status)) + ".")
                }
            }
            try db.execute(sql: "CREATE INDEX person_link_person ON person_link (person_id)")
            let cell = try db.cachedStatement(sql: Self.insertPersonCellSQL)
            var binder = SQLiteBinder(statement: cell.sqliteStatement)
            for c in cells {
                binder.index = 1
                binder.integer(c.first.rawValue)
                c.key.visit(&binder)
                binder.integer(c.tally.count)
                binder.integer(c.tally.keySum)
                let status = sqlite3_step(binder.statement)
                sqlite3_reset(binder.statement)
                guard status == SQLITE_DONE else {
                    throw PuenteError(
                        .storeFailure, "Storing person cells failed: " + String(cString: sqlite3_errstr(status)) + ".")
                }
            }
            for (pair, contributions) in reviewRows {
                try db.execute(
                    sql: """
                        INSERT INTO link_review (event_l, event_r, probability, contributions) VALUES (?, ?, ?, ?)
                        ON CONFLICT (event_l, event_r) DO NOTHING
                        """, arguments: [pair.eventL, pair.eventR, pair.probability, contributions])
            }
            try db.execute(
                sql: """
                    INSERT INTO link_run (mode, started_at, finished_at, import_ids, import_revisions, events, persons, candidate_pairs,
                    linked_pairs, review_pairs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    run.mode, run.startedAt, run.finishedAt, importIDs, importRevisions, run.events, run.persons,
                    run.candidatePairs, run.linkedPairs, run.reviewPairs,
                ])
            return db.lastInsertedRowID
        }
    }

    public func forEachPersonCell(_ body: (PersonCell) throws -> Void) async throws {
        let columns = CellColumn.allCases
        let sql = "SELECT \(columns.map(\.rawValue).joined(separator: ", ")), n, key_sum, first_level FROM person_cell"
        try writer.unsafeReentrantRead { db in
            let cursor = try Row.fetchCursor(db, sql: sql)
            while let row = try cursor.next() {
                let values = columns.enumerated().map { i, c in
                    Self.cellValue(row[i] as DatabaseValue, integer: c.isInteger)
                }
                guard let key = CellKey(values: values), let first = PersonFirst(rawValue: row[columns.count + 2])
                else { continue }
                try body(
                    PersonCell(
                        first: first, key: key,
                        tally: CellTally(count: row[columns.count], keySum: row[columns.count + 1])))
            }
        }
    }

    public func reviewPairs(pendingOnly: Bool, limit: Int) async throws -> [ReviewPair] {
        try await writer.read { db in
            let sql =
                "SELECT * FROM link_review" + (pendingOnly ? " WHERE decision IS NULL" : "")
                + " ORDER BY probability DESC, event_l, event_r LIMIT ?"
            return try Row.fetchAll(db, sql: sql, arguments: [limit]).map { r in
                let decision: Int? = r["decision"]
                return ReviewPair(
                    eventL: r["event_l"], eventR: r["event_r"], probability: r["probability"],
                    contributions: try JSONText.decode(r["contributions"]), decision: decision.map { $0 == 1 },
                    decidedBy: r["decided_by"], decidedAt: r["decided_at"])
            }
        }
    }

    public func decideReview(eventL: Int64, eventR: Int64, match: Bool, by reviewer: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql:
                    "UPDATE link_review SET decision = ?, decided_by = ?, decided_at = ? WHERE event_l = ? AND event_r = ?",
                arguments: [match ? 1 : 0, reviewer, Timestamp.now(), min(eventL, eventR), max(eventL, eventR)])
            guard db.changesCount == 1 else {
                throw PuenteError(.notFound, "That pair is not in the review queue; `puente link review` lists it.")
            }
        }
    }
}
