import PostgresNIO
import PuenteCore

extension PostgresStore: PersonStore {
    public func forEachEvent(importID: Int64, _ body: (MovementEvent) throws -> Void) async throws {
        let columns = EventColumns.readColumns
        let integer = columns.map { EventColumns.integerColumns.contains($0) }
        let sql =
            "SELECT \(columns.joined(separator: ", ")) FROM movement_event WHERE import_id = $1 AND counted = 1 ORDER BY id"
        try await guarded {
            for try await row in try await client.query(Self.query(sql, [.integer(Int(importID))]), logger: logger) {
                let cells = row.makeRandomAccess()
                let values = try (0..<cells.count).map { try Self.cellValue(cells[$0], integer: integer[$0]) }
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
        return try await guarded {
            var binds = PostgresBindings()
            binds.append(ids)
            let sql = "SELECT \(columns.joined(separator: ", ")) FROM movement_event WHERE id = ANY($1) ORDER BY id"
            var out: [MovementEvent] = []
            for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
                let cells = row.makeRandomAccess()
                let values = try (0..<cells.count).map { try Self.cellValue(cells[$0], integer: integer[$0]) }
                if let event = try EventColumns.event(opening: cipher, from: values) { out.append(event) }
            }
            return out
        }
    }

    public func personLinks() async throws -> [Int64: Int64] {
        try await guarded {
            var out: [Int64: Int64] = [:]
            for try await (event, person) in try await client.query(
                "SELECT event_id, person_id FROM person_link", logger: logger
            )
            .decode((Int64, Int64).self) {
                out[event] = person
            }
            return out
        }
    }

    public func latestLinkRun() async throws -> LinkRun? {
        try await guarded {
            let rows = try await client.query(
                """
                SELECT id, mode, started_at, finished_at, import_ids, events, persons, candidate_pairs, linked_pairs, review_pairs,
                import_revisions FROM link_run ORDER BY id DESC LIMIT 1
                """, logger: logger)
            for try await r in rows.decode(
                (Int64, String, String, String, String, Int, Int, Int, Int, Int, String?).self)
            {
                return LinkRun(
                    id: r.0, mode: r.1, startedAt: r.2, finishedAt: r.3,
                    imports: try CommittedImport.decode(ids: r.4, revisions: r.10), events: r.5,
                    persons: r.6, candidatePairs: r.7, linkedPairs: r.8, reviewPairs: r.9)
            }
            return nil
        }
    }

    public func savePersons(_ run: LinkRun, links: PersonLinks, cells: [PersonCell], review: [ReviewPair]) async throws
        -> Int64
    {
        let importIDs = try JSONText.encode(run.importIDs), importRevisions = try JSONText.encode(run.importRevisions)
        let reviewRows = try review.map { ($0, try JSONText.encode($0.contributions)) }
        return try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                // The person index is rebuilt after the bulk COPY, which is faster than maintaining it row by row.
                try await conn.query("DELETE FROM person_link", logger: logger)
                try await conn.query("DROP INDEX person_link_person", logger: logger)
                try await conn.query("DELETE FROM person_cell", logger: logger)
                try await conn.query("DELETE FROM link_review WHERE decision IS NULL", logger: logger)
                try await conn.copyRows(
                    into: "person_link", columns: ["event_id", "person_id"], count: links.count, logger: logger
                ) { k, line in
                    line.integer(Int(links.eventIDs[k]))
                    line.integer(Int(links.personIDs[k]))
                }
                try await conn.query("CREATE INDEX person_link_person ON person_link (person_id)", logger: logger)
                let columns = ["first_level"] + CellColumn.allCases.map(\.rawValue) + ["n", "key_sum"]
                try await conn.copyRows(into: "person_cell", columns: columns, count: cells.count, logger: logger) {
                    i, line in
                    let c = cells[i]
                    line.integer(c.first.rawValue)
                    c.key.visit(&line)
                    line.integer(c.tally.count)
                    line.integer(c.tally.keySum)
                }
                for (pair, contributions) in reviewRows {
                    try await conn.query(
                        """
                        INSERT INTO link_review (event_l, event_r, probability, contributions)
                        VALUES (\(pair.eventL), \(pair.eventR), \(pair.probability), \(contributions))
                        ON CONFLICT (event_l, event_r) DO NOTHING
                        """, logger: logger)
                }
                let ids = try await Self.ids(
                    conn.query(
                        """
                        INSERT INTO link_run (mode, started_at, finished_at, import_ids, import_revisions, events, persons, candidate_pairs,
                        linked_pairs, review_pairs)
                        VALUES (\(run.mode), \(run.startedAt), \(run.finishedAt), \(importIDs), \(importRevisions), \(run.events), \(run.persons),
                                \(run.candidatePairs), \(run.linkedPairs), \(run.reviewPairs))
                        RETURNING id
                        """, logger: logger))
                return ids[0]
            }
        }
    }

    public func forEachPersonCell(_ body: (PersonCell) throws -> Void) async throws {
        let columns = CellColumn.allCases
        let sql = "SELECT \(columns.map(\.rawValue).joined(separator: ", ")), n, key_sum, first_level FROM person_cell"
        try await guarded {
            for try await row in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
                let cells = row.makeRandomAccess()
                let values = try columns.enumerated().map { i, c in try Self.cellValue(cells[i], integer: c.isInteger) }
                guard let key = CellKey(values: values),
                    let first = PersonFirst(rawValue: try cells[columns.count + 2].decode(Int.self))
                else { continue }
                try body(
                    PersonCell(
                        first: first, key: key,
                        tally: CellTally(
                            count: try cells[columns.count].decode(Int.self),
                            keySum: try cells[columns.count + 1].decode(Int.self))))
            }
        }
    }

    public func reviewPairs(pendingOnly: Bool, limit: Int) async throws -> [ReviewPair] {
        try await guarded {
            let sql =
                "SELECT event_l, event_r, probability, contributions, decision, decided_by, decided_at FROM link_review"
                + (pendingOnly ? " WHERE decision IS NULL" : "")
                + " ORDER BY probability DESC, event_l, event_r LIMIT $1"
            var out: [ReviewPair] = []
            let rows = try await client.query(Self.query(sql, [.integer(limit)]), logger: logger)
            for try await r in rows.decode((Int64, Int64, Double, String, Bool?, String?, String?).self) {
                out.append(
                    ReviewPair(
                        eventL: r.0, eventR: r.1, probability: r.2, contributions: try JSONText.decode(r.3),
                        decision: r.4, decidedBy: r.5, decidedAt: r.6))
            }
            return out
        }
    }

    public func decideReview(eventL: Int64, eventR: Int64, match: Bool, by reviewer: String) async throws {
        try await guarded {
            let ids = try await Self.ids(
                client.query(
                    """
                    UPDATE link_review SET decision = \(match), decided_by = \(reviewer), decided_at = \(Timestamp.now())
                    WHERE event_l = \(min(eventL, eventR)) AND event_r = \(max(eventL, eventR)) RETURNING event_l
                    """, logger: logger))
            guard ids.count == 1 else {
                throw PuenteError(.notFound, "That pair is not in the review queue; `puente link review` lists it.")
            }
        }
    }
}
