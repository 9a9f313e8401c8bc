import GRDB
import PuenteCore

extension SQLiteStore: CaseStore {
    public func receptionReturn(agency: String, recordKey: String) async throws -> ReceptionReturn? {
        let found = try await writer.read { db -> (Int64, Int64?)? in
            guard
                let id = try Int64.fetchOne(
                    db, sql: "SELECT id FROM movement_event WHERE agency = ? AND record_key = ? AND counted = 1",
                    arguments: [agency, recordKey])
            else { return nil }
            let person = try Int64.fetchOne(
                db, sql: "SELECT person_id FROM person_link WHERE event_id = ?", arguments: [id])
            return (id, person)
        }
        guard let (id, person) = found, let event = try await events(ids: [id]).first else { return nil }
        return ReceptionReturn(eventID: id, event: event, personID: person)
    }

    public func saveCase(_ change: CaseChange) async throws -> CaseChange {
        let plan = try CaseRows.plan(change, now: Timestamp.precise(), cipher: cipher)
        return try await writer.write { db in try Self.run(plan, in: db) }
    }

    public func caseFile(id: Int64) async throws -> CaseFile? {
        try await caseFiles(CaseQuery(ids: [id], limit: 1)).first
    }

    public func caseFiles(_ query: CaseQuery) async throws -> [CaseFile] {
        let (sql, binds) = CaseRows.caseSelect(query)
        return try await fetch(sql, binds, integer: CaseRows.caseIntegerColumns, columns: CaseRows.caseSelectColumns)
            .map { try CaseRows.caseFile($0, cipher: cipher) }
    }

    public func caseEntries(caseID: Int64) async throws -> [CaseEntry] {
        try await fetch(
            CaseRows.selectEntries, [.integer(Int(caseID))], integer: CaseRows.entryIntegerColumns,
            columns: CaseRows.entrySelectColumns
        ).map { try CaseRows.entry($0, cipher: cipher) }
    }

    public func referral(id: Int64) async throws -> Referral? {
        try await fetch(
            CaseRows.selectReferral + " WHERE id = $1", [.integer(Int(id))], integer: CaseRows.referralIntegerColumns,
            columns: CaseRows.referralSelectColumns
        ).first.map(CaseRows.referral)
    }

    public func referrals(_ query: ReferralQuery) async throws -> [Referral] {
        let (sql, binds) = CaseRows.referralSelect(query)
        return try await fetch(
            sql, binds, integer: CaseRows.referralIntegerColumns, columns: CaseRows.referralSelectColumns
        ).map(CaseRows.referral)
    }

    public func caseRecords(caseID: Int64?, kind: String) async throws -> [CaseRecord] {
        let (sql, binds) = CaseRows.recordSelect(caseID: caseID, kind: kind)
        return try await fetch(
            sql, binds, integer: CaseRows.recordIntegerColumns, columns: CaseRows.recordSelectColumns
        )
        .map { try CaseRows.record($0, cipher: cipher) }
    }

    public func caseRecord(id: Int64) async throws -> CaseRecord? {
        try await fetch(
            CaseRows.selectRecordByID, [.integer(Int(id))], integer: CaseRows.recordIntegerColumns,
            columns: CaseRows.recordSelectColumns
        ).first.map { try CaseRows.record($0, cipher: cipher) }
    }

    public func savePartner(_ partner: Partner) async throws {
        let document = try JSONText.encode(partner)
        try await writer.write { db in
            try db.execute(
                sql:
                    "INSERT INTO partner_org (id, document_json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET document_json = excluded.document_json",
                arguments: [partner.id, document])
        }
    }

    public func partners() async throws -> [Partner] {
        try await writer.read { db in
            try String.fetchAll(db, sql: CaseRows.selectPartners).map { try JSONText.decode($0) }
        }
    }

    public func saveIncomingReferral(_ referral: IncomingReferral) async throws -> IncomingReferral {
        var saved = referral
        saved.version = referral.version + 1
        saved.updatedAt = Timestamp.precise()
        let values = try IncomingReferralRows.values(of: saved, cipher: cipher)
        saved.id = try await writer.write { db in
            guard referral.id != 0 else {
                return try Int64.fetchOne(db, sql: IncomingReferralRows.insert, arguments: Self.arguments(values))!
            }
            try db.execute(
                sql: IncomingReferralRows.update,
                arguments: Self.arguments(values + [.integer(Int(referral.id)), .integer(referral.version)]))
            guard db.changesCount == 1 else { throw PuenteError.caseChangedSinceRead }
            return referral.id
        }
        return saved
    }

    public func incomingReferrals(id: Int64?, sender: String?, originID: Int64?, partner: String?) async throws
        -> [IncomingReferral]
    {
        let (sql, binds) = IncomingReferralRows.query(id: id, sender: sender, originID: originID, partner: partner)
        return try await fetch(
            sql, binds, integer: IncomingReferralRows.integerColumns, columns: IncomingReferralRows.selectColumns
        ).map { try IncomingReferralRows.referral($0, cipher: cipher) }
    }

    // MARK: Running statements

    /// Runs a plan inside the caller's transaction.
    static func run(_ plan: CaseWritePlan, in db: Database) throws -> CaseChange {
        try plan.run(
            query: { sql, binds in try Row.fetchOne(db, sql: sql, arguments: arguments(binds)) != nil },
            insert: { sql, binds, returning in
                if returning { return try Int64.fetchOne(db, sql: sql, arguments: arguments(binds)) }
                try db.execute(sql: sql, arguments: arguments(binds))
                return nil
            },
            update: { sql, binds in
                try db.execute(sql: sql, arguments: arguments(binds))
                return db.changesCount
            })
    }

    /// Cancels the open referrals made under a consent being withdrawn, inside its transaction.
    static func cancelReferrals(
        underConsent id: Int64, on date: CivilDate, by actor: String, in db: Database, cipher: any PersonalDataCipher
    ) throws {
        let open = try Row.fetchAll(db, sql: CaseRows.openReferralsUnderConsent, arguments: [id]).map {
            try CaseRows.referral(
                values($0, columns: CaseRows.referralSelectColumns, integer: CaseRows.referralIntegerColumns))
        }
        guard !open.isEmpty else { return }
        let plan = try CaseRows.plan(
            CaseRows.cancellation(of: open, on: date, by: actor), now: Timestamp.precise(), cipher: cipher)
        _ = try run(plan, in: db)
    }

    private func fetch(_ sql: String, _ binds: [CellValue?], integer: Set<String>, columns: [String]) async throws
        -> [[CellValue?]]
    {
        try await writer.read { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(binds)).map {
                Self.values($0, columns: columns, integer: integer)
            }
        }
    }

    static func values(_ row: Row, columns: [String], integer: Set<String>) -> [CellValue?] {
        columns.indices.map { cellValue(row[$0] as DatabaseValue, integer: integer.contains(columns[$0])) }
    }

    static func arguments(_ binds: [CellValue?]) -> StatementArguments {
        StatementArguments(
            binds.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .text(let s)?: s
                case .integer(let i)?: i
                case nil: nil
                }
            })
    }
}
