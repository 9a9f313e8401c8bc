import Logging
import PostgresNIO
import PuenteCore

extension PostgresStore: CaseStore {
    public func receptionReturn(agency: String, recordKey: String) async throws -> ReceptionReturn? {
        let found = try await guarded { () -> (Int64, Int64?)? in
            let rows = try await client.query(
                """
                SELECT e.id, l.person_id FROM movement_event e LEFT JOIN person_link l ON l.event_id = e.id
                WHERE e.agency = \(agency) AND e.record_key = \(recordKey) AND e.counted = 1
                """, logger: logger)
            for try await (id, person) in rows.decode((Int64, Int64?).self) { return (id, person) }
            return nil
        }
        guard let (id, person) = found, let event = try await events(ids: [id]).first else { return nil }
        return ReceptionReturn(eventID: id, event: event, personID: person)
    }

    public func saveCase(_ change: CaseChange) async throws -> CaseChange {
        let plan = try CaseRows.plan(change, now: Timestamp.precise(), cipher: cipher)
        return try await guarded {
            try await client.withTransaction(logger: logger) { conn in try await Self.run(plan, on: conn, logger) }
        }
    }

    public func caseFile(id: Int64) async throws -> CaseFile? {
        try await caseFiles(CaseQuery(ids: [id], limit: 1)).first
    }

    public func caseFiles(_ query: CaseQuery) async throws -> [CaseFile] {
        let (sql, binds) = CaseRows.caseSelect(query)
        return try await fetch(sql, binds, columns: CaseRows.caseSelectColumns, integer: CaseRows.caseIntegerColumns)
            .map { try CaseRows.caseFile($0, cipher: cipher) }
    }

    public func caseEntries(caseID: Int64) async throws -> [CaseEntry] {
        try await fetch(
            CaseRows.selectEntries, [.integer(Int(caseID))], columns: CaseRows.entrySelectColumns,
            integer: CaseRows.entryIntegerColumns
        ).map { try CaseRows.entry($0, cipher: cipher) }
    }

    public func referral(id: Int64) async throws -> Referral? {
        try await fetch(
            CaseRows.selectReferral + " WHERE id = $1", [.integer(Int(id))], columns: CaseRows.referralSelectColumns,
            integer: CaseRows.referralIntegerColumns
        ).first.map(CaseRows.referral)
    }

    public func referrals(_ query: ReferralQuery) async throws -> [Referral] {
        let (sql, binds) = CaseRows.referralSelect(query)
        return try await fetch(
            sql, binds, columns: CaseRows.referralSelectColumns, integer: CaseRows.referralIntegerColumns
        ).map(CaseRows.referral)
    }

    public func caseRecords(caseID: Int64?, kind: String) async throws -> [CaseRecord] {
        let (sql, binds) = CaseRows.recordSelect(caseID: caseID, kind: kind)
        return try await fetch(
            sql, binds, columns: CaseRows.recordSelectColumns, integer: CaseRows.recordIntegerColumns
        )
        .map { try CaseRows.record($0, cipher: cipher) }
    }

    public func caseRecord(id: Int64) async throws -> CaseRecord? {
        try await fetch(
            CaseRows.selectRecordByID, [.integer(Int(id))], columns: CaseRows.recordSelectColumns,
            integer: CaseRows.recordIntegerColumns
        ).first.map { try CaseRows.record($0, cipher: cipher) }
    }

    public func savePartner(_ partner: Partner) async throws {
        let document = try JSONText.encode(partner)
        try await guarded {
            try await client.query(
                """
                INSERT INTO partner_org (id, document_json) VALUES (\(partner.id), \(document))
                ON CONFLICT (id) DO UPDATE SET document_json = excluded.document_json
                """, logger: logger)
        }
    }

    public func partners() async throws -> [Partner] {
        try await guarded {
            var out: [Partner] = []
            for try await document in try await client.query(
                PostgresQuery(unsafeSQL: CaseRows.selectPartners), logger: logger
            )
            .decode(String.self) {
                out.append(try JSONText.decode(document))
            }
            return out
        }
    }

    // MARK: Running statements

    /// Runs a plan on a connection inside the caller's transaction. Updates return their ids, so the
    /// rows they changed are counted.
    public func saveIncomingReferral(_ referral: IncomingReferral) async throws -> IncomingReferral {
        var saved = referral
        saved.version = referral.version + 1
        saved.updatedAt = Timestamp.precise()
        let values = try IncomingReferralRows.values(of: saved, cipher: cipher)
        return try await guarded {
            if referral.id == 0 {
                saved.id = try await Self.ids(
                    client.query(Self.query(IncomingReferralRows.insert, values), logger: logger)
                )
                .first!
            } else {
                let changed = try await Self.ids(
                    client.query(
                        Self.query(
                            IncomingReferralRows.update + " RETURNING id",
                            values + [.integer(Int(referral.id)), .integer(referral.version)]), logger: logger))
                guard changed.count == 1 else { throw PuenteError.caseChangedSinceRead }
            }
            return saved
        }
    }

    public func incomingReferrals(id: Int64?, sender: String?, originID: Int64?, partner: String?) async throws
        -> [IncomingReferral]
    {
        let (sql, binds) = IncomingReferralRows.query(id: id, sender: sender, originID: originID, partner: partner)
        return try await fetch(
            sql, binds, columns: IncomingReferralRows.selectColumns, integer: IncomingReferralRows.integerColumns
        ).map { try IncomingReferralRows.referral($0, cipher: cipher) }
    }

    static func run(_ plan: CaseWritePlan, on conn: PostgresConnection, _ logger: Logger) async throws -> CaseChange {
        try await plan.run(
            query: { sql, binds in try await !ids(conn.query(query(sql, binds), logger: logger)).isEmpty },
            insert: { sql, binds, _ in try await ids(conn.query(query(sql, binds), logger: logger)).first },
            update: { sql, binds in try await ids(conn.query(query(sql + " RETURNING id", binds), logger: logger)).count
            })
    }

    /// Cancels the open referrals made under a consent being withdrawn, inside its transaction.
    static func cancelReferrals(
        underConsent id: Int64, on date: CivilDate, by actor: String, on conn: PostgresConnection, _ logger: Logger,
        cipher: any PersonalDataCipher
    ) async throws {
        var open: [Referral] = []
        for try await row in try await conn.query(
            query(CaseRows.openReferralsUnderConsent, [.integer(Int(id))]), logger: logger)
        {
            open.append(
                try CaseRows.referral(
                    values(row, columns: CaseRows.referralSelectColumns, integer: CaseRows.referralIntegerColumns)))
        }
        guard !open.isEmpty else { return }
        let plan = try CaseRows.plan(
            CaseRows.cancellation(of: open, on: date, by: actor), now: Timestamp.precise(), cipher: cipher)
        _ = try await run(plan, on: conn, logger)
    }

    private func fetch(_ sql: String, _ binds: [CellValue?], columns: [String], integer: Set<String>) async throws
        -> [[CellValue?]]
    {
        try await guarded {
            var out: [[CellValue?]] = []
            for try await row in try await client.query(Self.query(sql, binds), logger: logger) {
                out.append(try Self.values(row, columns: columns, integer: integer))
            }
            return out
        }
    }

    static func values(_ row: PostgresRow, columns: [String], integer: Set<String>) throws -> [CellValue?] {
        let cells = row.makeRandomAccess()
        return try columns.indices.map { try cellValue(cells[$0], integer: integer.contains(columns[$0])) }
    }
}
