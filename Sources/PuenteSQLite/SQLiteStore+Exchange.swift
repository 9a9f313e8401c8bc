import GRDB
import PuenteCore

extension SQLiteStore: ExchangeStore {
    public func nextSentSequence(agreement: String) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COALESCE(MAX(sequence), 0) + 1 FROM exchange_sent WHERE agreement = ?",
                arguments: [agreement])!
        }
    }

    public func saveSentPackage(_ package: SentPackage) async throws {
        try await writer.write { db in
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM exchange_sent WHERE agreement = ? AND sequence = ?",
                    arguments: [package.agreement, package.sequence]) == nil
            else { throw PuenteError.sequenceTaken }
            try db.execute(
                sql: """
                    INSERT INTO exchange_sent (id, agreement, receiver, sequence, period, digest, file, created_at, delivered_at, receipt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    package.id, package.agreement, package.receiver, package.sequence, package.period, package.digest,
                    package.file, package.createdAt, package.deliveredAt, package.receipt,
                ])
        }
    }

    public func sentPackages(undelivered: Bool) async throws -> [SentPackage] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM exchange_sent" + (undelivered ? " WHERE delivered_at IS NULL" : "")
                    + " ORDER BY created_at, agreement, sequence"
            ).map { r in
                SentPackage(
                    id: r["id"], agreement: r["agreement"], receiver: r["receiver"], sequence: r["sequence"],
                    period: r["period"], digest: r["digest"], file: r["file"], createdAt: r["created_at"],
                    deliveredAt: r["delivered_at"], receipt: r["receipt"])
            }
        }
    }

    public func markDelivered(packageID: String, at: String, receipt: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE exchange_sent SET delivered_at = ?, receipt = ? WHERE id = ?",
                arguments: [at, receipt, packageID])
            guard db.changesCount == 1 else { throw PuenteError(.notFound, "No package with that id was sent.") }
        }
    }

    public func receivedPackage(sender: String, agreement: String, sequence: Int) async throws -> ReceivedPackage? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM exchange_received WHERE sender = ? AND agreement = ? AND sequence = ?",
                arguments: [sender, agreement, sequence]
            ).map(Self.receivedPackage)
        }
    }

    public func receivedPackages() async throws -> [ReceivedPackage] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, sender, agreement, sequence, period, digest, status, received_at, published_at, '' AS file
                    FROM exchange_received ORDER BY sender, agreement, sequence
                    """
            ).map(Self.receivedPackage)
        }
    }

    public func lastPublishedSequence(sender: String, agreement: String) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT COALESCE(MAX(sequence), 0) FROM exchange_received WHERE sender = ? AND agreement = ? AND status IN ('published', 'expired')",
                arguments: [sender, agreement])!
        }
    }

    public func holdPackage(_ package: ReceivedPackage) async throws {
        try await writer.write { db in try Self.insert(package, db) }
    }

    public func publishPackage(
        _ package: ReceivedPackage, dataflow: String, observations: [ExchangeObservation], periods: [String], at: String
    ) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE exchange_received SET status = ?, published_at = ? WHERE id = ?",
                arguments: [ReceivedPackage.Status.published.rawValue, package.publishedAt ?? at, package.id])
            if db.changesCount == 0 {
                var published = package
                published.status = .published
                published.publishedAt = package.publishedAt ?? at
                try Self.insert(published, db)
            }
            // What the sender sent before for these periods: only what changed is written, and what the
            // package no longer has is marked deleted.
            var kept: [String: (value: Double?, obs: String, conf: String, deleted: Bool)] = [:]
            let marks = periods.map { _ in "?" }.joined(separator: ",")
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT series_key, period, value, obs_status, conf_status, deleted FROM exchange_observation
                    WHERE sender = ? AND agreement = ? AND dataflow = ? AND period IN (\(marks))
                    """,
                arguments: StatementArguments([package.sender, package.agreement, dataflow] + periods))
            while let r = try rows.next() {
                kept[(r["series_key"] as String) + " " + (r["period"] as String)] = (
                    r["value"], r["obs_status"], r["conf_status"], r["deleted"]
                )
            }
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO exchange_observation
                        (sender, agreement, dataflow, series_key, period, value, obs_status, conf_status, package_id, updated_at, deleted)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                    ON CONFLICT (sender, agreement, dataflow, series_key, period) DO UPDATE SET
                        value = excluded.value, obs_status = excluded.obs_status, conf_status = excluded.conf_status,
                        package_id = excluded.package_id, updated_at = excluded.updated_at, deleted = 0
                    """)
            for o in observations {
                let name = o.seriesKey + " " + o.period
                let before = kept.removeValue(forKey: name)
                if let before, !before.deleted, before.value == o.value, before.obs == o.obsStatus,
                    before.conf == o.confStatus
                {
                    continue
                }
                try upsert.execute(arguments: [
                    package.sender, package.agreement, dataflow, o.seriesKey, o.period, o.value, o.obsStatus,
                    o.confStatus, package.id, at,
                ])
            }
            let delete = try db.cachedStatement(
                sql: """
                    UPDATE exchange_observation SET deleted = 1, updated_at = ?, package_id = ?
                    WHERE sender = ? AND agreement = ? AND dataflow = ? AND series_key = ? AND period = ?
                    """)
            for (name, before) in kept where !before.deleted {
                let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
                try delete.execute(arguments: [
                    at, package.id, package.sender, package.agreement, dataflow, parts[0], parts[1],
                ])
            }
        }
    }

    public func expireReceived(sender: String, agreement: String, year: String, periods: [String]) async throws -> Int {
        try await writer.write { db in
            let marks = periods.map { _ in "?" }.joined(separator: ",")
            try db.execute(
                sql: "DELETE FROM exchange_observation WHERE sender = ? AND agreement = ? AND period IN (\(marks))",
                arguments: StatementArguments([sender, agreement] + periods))
            let deleted = db.changesCount
            try db.execute(
                sql: """
                    UPDATE exchange_received SET status = 'expired', file = ''
                    WHERE sender = ? AND agreement = ? AND period = ? AND status = 'published'
                    """, arguments: [sender, agreement, year])
            return deleted
        }
    }

    public func publicationStamp() async throws -> String {
        try await writer.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(*), MAX(published_at) FROM exchange_received WHERE status = 'published'")!
            return "\(row[0] as Int)/\((row[1] as String?) ?? "")"
        }
    }

    public func exchangeObservations(dataflow: String, updatedAfter: String?) async throws -> [ExchangeObservation] {
        try await writer.read { db in
            let rows =
                if let updatedAfter {
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT * FROM exchange_observation WHERE dataflow = ? AND updated_at > ?
                            ORDER BY sender, agreement, series_key, period
                            """, arguments: [dataflow, updatedAfter])
                } else {
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT * FROM exchange_observation WHERE dataflow = ? AND NOT deleted
                            ORDER BY sender, agreement, series_key, period
                            """, arguments: [dataflow])
                }
            return rows.map { r in
                ExchangeObservation(
                    sender: r["sender"], agreement: r["agreement"], dataflow: r["dataflow"], seriesKey: r["series_key"],
                    period: r["period"], value: r["value"], obsStatus: r["obs_status"], confStatus: r["conf_status"],
                    packageID: r["package_id"], updatedAt: r["updated_at"], deleted: r["deleted"])
            }
        }
    }

    public func trustedRegistry() async throws -> (version: Int, document: String)? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT version, document FROM exchange_registry ORDER BY version DESC LIMIT 1")
                .map { ($0["version"], $0["document"]) }
        }
    }

    public func trustRegistry(version: Int, document: String, at: String) async throws {
        try await writer.write { db in
            let highest = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM exchange_registry")!
            guard version > highest else { throw PuenteError.registryRollback }
            try db.execute(
                sql: "INSERT INTO exchange_registry (version, document, trusted_at) VALUES (?, ?, ?)",
                arguments: [version, document, at])
        }
    }

    public func savePartnerFigures(_ figures: [PartnerFigure]) async throws {
        try await writer.write { db in
            for f in figures {
                try db.execute(
                    sql: """
                        INSERT INTO partner_figure (reporter, flow, counterpart, period, value, source, digest, loaded_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (reporter, flow, counterpart, period) DO UPDATE SET
                            value = excluded.value, source = excluded.source, digest = excluded.digest,
                            loaded_at = excluded.loaded_at
                        """,
                    arguments: [
                        f.reporter, f.flow, f.counterpart, f.period, f.value, f.source, f.digest, f.loadedAt,
                    ])
            }
        }
    }

    public func partnerFigures() async throws -> [PartnerFigure] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM partner_figure ORDER BY reporter, flow, counterpart, period"
            ).map { r in
                PartnerFigure(
                    reporter: r["reporter"], flow: r["flow"], counterpart: r["counterpart"], period: r["period"],
                    value: r["value"], source: r["source"], digest: r["digest"], loadedAt: r["loaded_at"])
            }
        }
    }

    public func replaceCrossBorderLinks(agreement: String, _ links: [CrossBorderLink]) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM cross_border_link WHERE agreement = ?", arguments: [agreement])
            let insert = try db.makeStatement(
                sql: "INSERT INTO cross_border_link (\(CrossBorderLinkRows.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for l in links {
                try insert.execute(arguments: [
                    l.agreement, l.event, l.partner, l.partnerRecord, l.dicePerMille, l.partnerType.rawValue,
                    l.partnerDay.description, l.receivedAt,
                ])
            }
        }
    }

    public func crossBorderLinks() async throws -> [CrossBorderLink] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT \(CrossBorderLinkRows.columns) FROM cross_border_link ORDER BY agreement, event_id, partner_record"
            ).map { r in
                try CrossBorderLink(
                    agreement: r["agreement"], event: r["event_id"], partner: r["partner"],
                    partnerRecord: r["partner_record"], dicePerMille: r["dice_per_mille"],
                    partnerType: CrossBorderLinkRows.type(r["partner_type"]),
                    partnerDay: CrossBorderLinkRows.day(r["partner_day"]),
                    receivedAt: r["received_at"])
            }
        }
    }

    private static func insert(_ p: ReceivedPackage, _ db: Database) throws {
        guard
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM exchange_received WHERE sender = ? AND agreement = ? AND sequence = ?",
                arguments: [p.sender, p.agreement, p.sequence]) == nil
        else { throw PuenteError.sequenceTaken }
        try db.execute(
            sql: """
                INSERT INTO exchange_received (id, sender, agreement, sequence, period, digest, status, received_at, published_at, file)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                p.id, p.sender, p.agreement, p.sequence, p.period, p.digest, p.status.rawValue, p.receivedAt,
                p.publishedAt, p.file,
            ])
    }

    private static func receivedPackage(_ r: Row) -> ReceivedPackage {
        ReceivedPackage(
            id: r["id"], sender: r["sender"], agreement: r["agreement"], sequence: r["sequence"], period: r["period"],
            digest: r["digest"], status: ReceivedPackage.Status(rawValue: r["status"]) ?? .held,
            receivedAt: r["received_at"], publishedAt: r["published_at"], file: r["file"])
    }

    public func saveLinkageUnitPackage(_ p: LinkageUnitPackage) async throws {
        try await writer.write { db in
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO linkage_unit_package (\(LinkageUnitPackage.columns)) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [p.agreement, p.party, p.kind.rawValue, p.id, p.file, p.storedAt])
        }
    }

    public func linkageUnitPackages(agreement: String, kind: LinkageUnitPackage.Kind, party: String?) async throws
        -> [LinkageUnitPackage]
    {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(LinkageUnitPackage.columns) FROM linkage_unit_package
                    WHERE agreement = ? AND kind = ? AND (? IS NULL OR party = ?) ORDER BY party
                    """, arguments: [agreement, kind.rawValue, party, party]
            ).map { r in
                try LinkageUnitPackage(
                    agreement: r["agreement"], party: r["party"], kind: LinkageUnitPackage.kind(r["kind"]),
                    id: r["package_id"], file: r["file"], storedAt: r["stored_at"])
            }
        }
    }

    public func finishLinkageMatch(agreement: String, consumed: [String], results: [LinkageUnitPackage])
        async throws
    {
        try await writer.write { db in
            for id in consumed {
                try db.execute(
                    sql:
                        "DELETE FROM linkage_unit_package WHERE agreement = ? AND kind = 'encodings' AND package_id = ?",
                    arguments: [agreement, id])
            }
            for p in results {
                try db.execute(
                    sql:
                        "INSERT OR REPLACE INTO linkage_unit_package (\(LinkageUnitPackage.columns)) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [p.agreement, p.party, p.kind.rawValue, p.id, p.file, p.storedAt])
            }
        }
    }
}
