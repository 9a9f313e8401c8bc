import PostgresNIO
import PuenteCore

extension PostgresStore: ExchangeStore {
    private static let sentColumns =
        "id, agreement, receiver, sequence, period, digest, file, created_at, delivered_at, receipt"
    private static let receivedColumns =
        "id, sender, agreement, sequence, period, digest, status, received_at, published_at, file"
    private static let observationColumns =
        "sender, agreement, dataflow, series_key, period, value, obs_status, conf_status, package_id, updated_at, deleted"

    public func nextSentSequence(agreement: String) async throws -> Int {
        try await guarded {
            let rows = try await client.query(
                "SELECT COALESCE(MAX(sequence), 0) + 1 FROM exchange_sent WHERE agreement = \(agreement)",
                logger: logger)
            for try await next in rows.decode(Int.self) { return next }
            return 1
        }
    }

    public func saveSentPackage(_ p: SentPackage) async throws {
        try await guarded {
            // ON CONFLICT: two exports at once get one sequence number each, and the server logs no failure.
            let rows = try await client.query(
                """
                INSERT INTO exchange_sent (\(unescaped: Self.sentColumns))
                VALUES (\(p.id), \(p.agreement), \(p.receiver), \(p.sequence), \(p.period), \(p.digest), \(p.file),
                        \(p.createdAt), \(p.deliveredAt), \(p.receipt))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger)
            var inserted = false
            for try await _ in rows.decode(String.self) { inserted = true }
            guard inserted else { throw PuenteError.sequenceTaken }
        }
    }

    public func sentPackages(undelivered: Bool) async throws -> [SentPackage] {
        try await guarded {
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.sentColumns) FROM exchange_sent
                WHERE \(unescaped: undelivered ? "delivered_at IS NULL" : "TRUE") ORDER BY created_at, agreement, sequence
                """, logger: logger)
            var out: [SentPackage] = []
            for try await (id, agreement, receiver, sequence, period, digest, file, createdAt, deliveredAt, receipt)
                in rows.decode((String, String, String, Int, String, String, String, String, String?, String?).self)
            {
                out.append(
                    SentPackage(
                        id: id, agreement: agreement, receiver: receiver, sequence: sequence, period: period,
                        digest: digest, file: file, createdAt: createdAt, deliveredAt: deliveredAt, receipt: receipt))
            }
            return out
        }
    }

    public func markDelivered(packageID: String, at: String, receipt: String) async throws {
        try await guarded {
            let rows = try await client.query(
                "UPDATE exchange_sent SET delivered_at = \(at), receipt = \(receipt) WHERE id = \(packageID) RETURNING id",
                logger: logger)
            var updated = false
            for try await _ in rows.decode(String.self) { updated = true }
            guard updated else { throw PuenteError(.notFound, "No package with that id was sent.") }
        }
    }

    public func receivedPackage(sender: String, agreement: String, sequence: Int) async throws -> ReceivedPackage? {
        try await guarded {
            try await received(
                client.query(
                    """
                    SELECT \(unescaped: Self.receivedColumns) FROM exchange_received
                    WHERE sender = \(sender) AND agreement = \(agreement) AND sequence = \(sequence)
                    """, logger: logger)
            ).first
        }
    }

    public func receivedPackages() async throws -> [ReceivedPackage] {
        try await guarded {
            try await received(
                client.query(
                    """
                    SELECT id, sender, agreement, sequence, period, digest, status, received_at, published_at, '' AS file
                    FROM exchange_received ORDER BY sender, agreement, sequence
                    """,
                    logger: logger))
        }
    }

    public func lastPublishedSequence(sender: String, agreement: String) async throws -> Int {
        try await guarded {
            let rows = try await client.query(
                """
                SELECT COALESCE(MAX(sequence), 0) FROM exchange_received
                WHERE sender = \(sender) AND agreement = \(agreement) AND status IN ('published', 'expired')
                """, logger: logger)
            for try await last in rows.decode(Int.self) { return last }
            return 0
        }
    }

    public func holdPackage(_ package: ReceivedPackage) async throws {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in try await Self.insert(package, conn, logger) }
        }
    }

    public func publishPackage(
        _ package: ReceivedPackage, dataflow: String, observations: [ExchangeObservation], periods: [String], at: String
    ) async throws {
        let published = package.publishedAt ?? at
        let keys = observations.map(\.seriesKey), cellPeriods = observations.map(\.period)
        // NaN stands for a suppressed value in the array (a float8[] cannot hold NULL from here).
        let values = observations.map { $0.value ?? .nan }
        let obs = observations.map(\.obsStatus), conf = observations.map(\.confStatus)
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                let updated = try await conn.query(
                    """
                    UPDATE exchange_received SET status = 'published', published_at = \(published)
                    WHERE id = \(package.id) RETURNING id
                    """, logger: logger)
                var found = false
                for try await _ in updated.decode(String.self) { found = true }
                if !found {
                    var row = package
                    row.status = .published
                    row.publishedAt = published
                    try await Self.insert(row, conn, logger)
                }
                // New and changed cells; an unchanged one keeps its stamp, so `updatedAfter` lists real changes.
                try await conn.query(
                    """
                    INSERT INTO exchange_observation (\(unescaped: Self.observationColumns))
                    SELECT \(package.sender), \(package.agreement), \(dataflow), k, p, NULLIF(v, 'NaN'::float8), o, c,
                           \(package.id), \(at), FALSE
                    FROM unnest(\(keys)::text[], \(cellPeriods)::text[], \(values)::float8[], \(obs)::text[], \(conf)::text[])
                         AS t (k, p, v, o, c)
                    ON CONFLICT (sender, agreement, dataflow, series_key, period) DO UPDATE SET
                        value = EXCLUDED.value, obs_status = EXCLUDED.obs_status, conf_status = EXCLUDED.conf_status,
                        package_id = EXCLUDED.package_id, updated_at = EXCLUDED.updated_at, deleted = FALSE
                    WHERE exchange_observation.deleted OR exchange_observation.value IS DISTINCT FROM EXCLUDED.value
                       OR exchange_observation.obs_status <> EXCLUDED.obs_status
                       OR exchange_observation.conf_status <> EXCLUDED.conf_status
                    """, logger: logger)
                // Cells of these periods the package no longer has: deleted, not left stale. The table's
                // statistics do not yet count the rows this transaction wrote, so the planner may take them
                // for a few and anti-join by nested loop, comparing every cell with every other (88 s instead
                // of 0.2 s for 75,000 cells, measured): a hash or merge join it must be.
                try await conn.query("SET LOCAL enable_nestloop = off", logger: logger)
                try await conn.query(
                    """
                    UPDATE exchange_observation AS e SET deleted = TRUE, updated_at = \(at), package_id = \(package.id)
                    WHERE e.sender = \(package.sender) AND e.agreement = \(package.agreement) AND e.dataflow = \(dataflow)
                      AND e.period = ANY(\(periods)::text[]) AND NOT e.deleted
                      AND NOT EXISTS (
                          SELECT 1 FROM unnest(\(keys)::text[], \(cellPeriods)::text[]) AS t (k, p)
                          WHERE t.k = e.series_key AND t.p = e.period)
                    """, logger: logger)
            }
        }
    }

    public func expireReceived(sender: String, agreement: String, year: String, periods: [String]) async throws -> Int {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                let rows = try await conn.query(
                    """
                    WITH gone AS (
                        DELETE FROM exchange_observation
                        WHERE sender = \(sender) AND agreement = \(agreement) AND period = ANY(\(periods)::text[])
                        RETURNING 1)
                    SELECT COUNT(*) FROM gone
                    """, logger: logger)
                var deleted = 0
                for try await n in rows.decode(Int.self) { deleted = n }
                try await conn.query(
                    """
                    UPDATE exchange_received SET status = 'expired', file = ''
                    WHERE sender = \(sender) AND agreement = \(agreement) AND period = \(year) AND status = 'published'
                    """, logger: logger)
                return deleted
            }
        }
    }

    public func publicationStamp() async throws -> String {
        try await guarded {
            let rows = try await client.query(
                "SELECT COUNT(*), MAX(published_at) FROM exchange_received WHERE status = 'published'", logger: logger)
            for try await (count, last) in rows.decode((Int, String?).self) { return "\(count)/\(last ?? "")" }
            return "0/"
        }
    }

    public func exchangeObservations(dataflow: String, updatedAfter: String?) async throws -> [ExchangeObservation] {
        try await guarded {
            let rows =
                if let updatedAfter {
                    try await client.query(
                        """
                        SELECT \(unescaped: Self.observationColumns) FROM exchange_observation
                        WHERE dataflow = \(dataflow) AND updated_at > \(updatedAfter)
                        ORDER BY sender, agreement, series_key, period
                        """, logger: logger)
                } else {
                    try await client.query(
                        """
                        SELECT \(unescaped: Self.observationColumns) FROM exchange_observation
                        WHERE dataflow = \(dataflow) AND NOT deleted ORDER BY sender, agreement, series_key, period
                        """, logger: logger)
                }
            var out: [ExchangeObservation] = []
            for try await (sender, agreement, flow, key, period, value, obs, conf, package, updated, deleted)
                in rows.decode(
                    (String, String, String, String, String, Double?, String, String, String, String, Bool).self)
            {
                out.append(
                    ExchangeObservation(
                        sender: sender, agreement: agreement, dataflow: flow, seriesKey: key, period: period,
                        value: value, obsStatus: obs, confStatus: conf, packageID: package, updatedAt: updated,
                        deleted: deleted))
            }
            return out
        }
    }

    public func trustedRegistry() async throws -> (version: Int, document: String)? {
        try await guarded {
            let rows = try await client.query(
                "SELECT version, document FROM exchange_registry ORDER BY version DESC LIMIT 1", logger: logger)
            for try await (version, document) in rows.decode((Int, String).self) { return (version, document) }
            return nil
        }
    }

    public func trustRegistry(version: Int, document: String, at: String) async throws {
        try await guarded {
            // Only a version above every one kept is inserted, in one statement, so a rollback cannot slip in.
            let rows = try await client.query(
                """
                INSERT INTO exchange_registry (version, document, trusted_at)
                SELECT \(version), \(document), \(at)
                WHERE \(version) > (SELECT COALESCE(MAX(version), 0) FROM exchange_registry)
                ON CONFLICT DO NOTHING RETURNING version
                """, logger: logger)
            var inserted = false
            for try await _ in rows.decode(Int.self) { inserted = true }
            guard inserted else { throw PuenteError.registryRollback }
        }
    }

    public func savePartnerFigures(_ figures: [PartnerFigure]) async throws {
        func column<T>(_ path: KeyPath<PartnerFigure, T>) -> [T] { figures.map { $0[keyPath: path] } }
        let (reporters, flows, counterparts, periods) = (
            column(\.reporter), column(\.flow), column(\.counterpart), column(\.period)
        )
        let (values, sources, digests, loaded) = (
            column(\.value), column(\.source), column(\.digest), column(\.loadedAt)
        )
        try await guarded {
            try await client.query(
                """
                INSERT INTO partner_figure (reporter, flow, counterpart, period, value, source, digest, loaded_at)
                SELECT * FROM unnest(\(reporters)::text[], \(flows)::text[], \(counterparts)::text[], \(periods)::text[],
                                     \(values)::float8[], \(sources)::text[], \(digests)::text[], \(loaded)::text[])
                ON CONFLICT (reporter, flow, counterpart, period) DO UPDATE SET
                    value = excluded.value, source = excluded.source, digest = excluded.digest,
                    loaded_at = excluded.loaded_at
                """, logger: logger)
        }
    }

    public func partnerFigures() async throws -> [PartnerFigure] {
        try await guarded {
            let rows = try await client.query(
                """
                SELECT reporter, flow, counterpart, period, value, source, digest, loaded_at FROM partner_figure
                ORDER BY reporter, flow, counterpart, period
                """, logger: logger)
            var out: [PartnerFigure] = []
            for try await (r, f, c, p, v, s, d, l) in rows.decode(
                (String, String, String, String, Double, String, String, String).self)
            {
                out.append(
                    PartnerFigure(
                        reporter: r, flow: f, counterpart: c, period: p, value: v, source: s, digest: d, loadedAt: l))
            }
            return out
        }
    }

    private static func insert(_ p: ReceivedPackage, _ conn: PostgresConnection, _ logger: Logger) async throws {
        let rows = try await conn.query(
            """
            INSERT INTO exchange_received (\(unescaped: receivedColumns))
            VALUES (\(p.id), \(p.sender), \(p.agreement), \(p.sequence), \(p.period), \(p.digest), \(p.status.rawValue),
                    \(p.receivedAt), \(p.publishedAt), \(p.file))
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger)
        var inserted = false
        for try await _ in rows.decode(String.self) { inserted = true }
        guard inserted else { throw PuenteError.sequenceTaken }
    }

    private func received(_ rows: PostgresRowSequence) async throws -> [ReceivedPackage] {
        var out: [ReceivedPackage] = []
        for try await (id, sender, agreement, sequence, period, digest, status, receivedAt, publishedAt, file)
            in rows
            .decode((String, String, String, Int, String, String, String, String, String?, String).self)
        {
            out.append(
                ReceivedPackage(
                    id: id, sender: sender, agreement: agreement, sequence: sequence, period: period, digest: digest,
                    status: ReceivedPackage.Status(rawValue: status) ?? .held, receivedAt: receivedAt,
                    publishedAt: publishedAt, file: file))
        }
        return out
    }

    public func replaceCrossBorderLinks(agreement: String, _ links: [CrossBorderLink]) async throws {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query("DELETE FROM cross_border_link WHERE agreement = \(agreement)", logger: logger)
                // One statement per 5,000 links, as arrays unnested.
                for start in stride(from: 0, to: links.count, by: 5_000) {
                    let chunk = links[start..<min(start + 5_000, links.count)]
                    try await conn.query(
                        """
                        INSERT INTO cross_border_link (\(unescaped: CrossBorderLinkRows.columns))
                        SELECT * FROM unnest(\(chunk.map(\.agreement)), \(chunk.map(\.event)), \(chunk.map(\.partner)),
                            \(chunk.map(\.partnerRecord)), \(chunk.map(\.dicePerMille)),
                            \(chunk.map(\.partnerType.rawValue)), \(chunk.map(\.partnerDay.description)),
                            \(chunk.map(\.receivedAt)))
                        """, logger: logger)
                }
            }
        }
    }

    public func crossBorderLinks() async throws -> [CrossBorderLink] {
        try await guarded {
            let rows = try await client.query(
                """
                SELECT \(unescaped: CrossBorderLinkRows.columns) FROM cross_border_link
                ORDER BY agreement, event_id, partner_record
                """, logger: logger)
            var out: [CrossBorderLink] = []
            for try await (agreement, event, partner, record, dice, type, day, at) in rows.decode(
                (String, Int64, String, String, Int, String, String, String).self)
            {
                out.append(
                    CrossBorderLink(
                        agreement: agreement, event: event, partner: partner, partnerRecord: record,
                        dicePerMille: dice, partnerType: try CrossBorderLinkRows.type(type),
                        partnerDay: try CrossBorderLinkRows.day(day), receivedAt: at))
            }
            return out
        }
    }

    public func saveLinkageUnitPackage(_ p: LinkageUnitPackage) async throws {
        try await guarded {
            _ = try await client.query(Self.upsert(p), logger: logger)
        }
    }

    private static func upsert(_ p: LinkageUnitPackage) -> PostgresQuery {
        """
        INSERT INTO linkage_unit_package (\(unescaped: LinkageUnitPackage.columns))
        VALUES (\(p.agreement), \(p.party), \(p.kind.rawValue), \(p.id), \(p.file), \(p.storedAt))
        ON CONFLICT (agreement, party, kind) DO UPDATE
        SET package_id = excluded.package_id, file = excluded.file, stored_at = excluded.stored_at
        """
    }

    public func linkageUnitPackages(agreement: String, kind: LinkageUnitPackage.Kind, party: String?) async throws
        -> [LinkageUnitPackage]
    {
        try await guarded {
            let rows = try await client.query(
                """
                SELECT \(unescaped: LinkageUnitPackage.columns) FROM linkage_unit_package
                WHERE agreement = \(agreement) AND kind = \(kind.rawValue)
                    AND (\(party)::text IS NULL OR party = \(party)) ORDER BY party
                """, logger: logger)
            var out: [LinkageUnitPackage] = []
            for try await (agreement, party, kind, id, file, at) in rows.decode(
                (String, String, String, String, String, String).self)
            {
                out.append(
                    LinkageUnitPackage(
                        agreement: agreement, party: party, kind: try LinkageUnitPackage.kind(kind), id: id, file: file,
                        storedAt: at))
            }
            return out
        }
    }

    public func finishLinkageMatch(agreement: String, consumed: [String], results: [LinkageUnitPackage])
        async throws
    {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query(
                    """
                    DELETE FROM linkage_unit_package
                    WHERE agreement = \(agreement) AND kind = 'encodings' AND package_id = ANY(\(consumed))
                    """, logger: logger)
                for p in results { try await conn.query(Self.upsert(p), logger: logger) }
            }
        }
    }
}
