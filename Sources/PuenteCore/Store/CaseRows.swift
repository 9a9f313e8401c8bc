/// How both stores lay out cases, referrals, timeline entries and partners: one SQL text and one
/// conversion to and from column values, so the two stores differ only in how they run a statement.
///
/// Placeholders are `$1`, `$2`, … in order of first use: PostgreSQL reads them by number, SQLite by
/// order, so the same text runs on both. Personal values (case details, timeline notes) are sealed
/// here with the store's cipher; everything else is codes, dates and usernames.
public enum CaseRows {
    // MARK: Cases

    static let caseColumns = [
        "agency", "record_key", "event_id", "person_id", "office", "assignee", "status", "version", "opened_on",
        "updated_at", "profile_json", "workflow_json", "details_sealed",
    ]
    public static let caseIntegerColumns: Set<String> = ["id", "event_id", "person_id", "version"]
    public static let caseSelectColumns = ["id"] + caseColumns
    public static let selectCase = "SELECT \(caseSelectColumns.joined(separator: ", ")) FROM case_file"
    public static let insertCase =
        "INSERT INTO case_file (\(caseColumns.joined(separator: ", "))) VALUES (\(placeholders(caseColumns.count))) RETURNING id"
    /// Binds the case's values, then its id ($14) and the version it was read at ($15).
    public static let updateCase =
        "UPDATE case_file SET "
        + caseColumns.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
        + " WHERE id = $\(caseColumns.count + 1) AND version = $\(caseColumns.count + 2)"
    public static let caseIDForReturn = "SELECT id FROM case_file WHERE agency = $1 AND record_key = $2"
    static let detailsField = "case_details"

    /// The case as stored (its version the new one), in `caseColumns`' order.
    public static func values(of c: CaseFile, cipher: any PersonalDataCipher) throws -> [CellValue?] {
        [
            .text(c.subject.agency), .text(c.subject.recordKey), c.eventID.map { .integer(Int($0)) },
            c.personID.map { .integer(Int($0)) }, .text(c.office), c.assignee.map(CellValue.text),
            .text(c.status.rawValue),
            .integer(c.version), .text(c.openedOn.description), .text(c.updatedAt),
            .text(try JSONText.encode(c.profile)),
            .text(try JSONText.encode(c.workflow)),
            .text(cipher.seal(try JSONText.encode(c.details), field: detailsField)),
        ]
    }

    public static func caseFile(_ v: [CellValue?], cipher: any PersonalDataCipher) throws -> CaseFile {
        let r = Reader(values: v, columns: caseSelectColumns, table: "case_file")
        guard let openedOn = CivilDate(iso: try r.text("opened_on")) else { throw r.malformed("opened_on") }
        let status = try CaseStatus(rawValue: r.text("status")) ?? { throw r.malformed("status") }()
        return CaseFile(
            id: Int64(try r.integer("id")),
            subject: ConsentSubject(agency: try r.text("agency"), recordKey: try r.text("record_key")),
            eventID: r.optionalInteger("event_id").map(Int64.init),
            personID: r.optionalInteger("person_id").map(Int64.init),
            office: try r.text("office"), assignee: r.optionalText("assignee"), status: status,
            version: try r.integer("version"), openedOn: openedOn, updatedAt: try r.text("updated_at"),
            profile: try r.json("profile_json"), workflow: try r.json("workflow_json"),
            details: try JSONText.decode(cipher.open(try r.text("details_sealed"), field: detailsField)))
    }

    // MARK: Referrals

    static let referralColumns = ["case_id", "partner", "status", "version", "consent_id", "updated_at", "body_json"]
    public static let referralIntegerColumns: Set<String> = ["id", "case_id", "version", "consent_id"]
    public static let referralSelectColumns = ["id"] + referralColumns
    public static let selectReferral = "SELECT \(referralSelectColumns.joined(separator: ", ")) FROM referral"
    public static let insertReferral =
        "INSERT INTO referral (\(referralColumns.joined(separator: ", "))) VALUES (\(placeholders(referralColumns.count))) RETURNING id"
    /// Binds the referral's values, then its id ($8) and the version it was read at ($9).
    public static let updateReferral =
        "UPDATE referral SET "
        + referralColumns.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
        + " WHERE id = $\(referralColumns.count + 1) AND version = $\(referralColumns.count + 2)"
    /// Open referrals made under a consent: what withdrawing it cancels.
    public static let openReferralsUnderConsent =
        selectReferral + " WHERE consent_id = $1 AND status IN ("
        + ReferralStatus.allCases.filter(\.isOpen).map { "'\($0.rawValue)'" }.joined(separator: ", ") + ") ORDER BY id"

    public static func values(of r: Referral) throws -> [CellValue?] {
        [
            .integer(Int(r.caseID)), .text(r.partner), .text(r.status.rawValue), .integer(r.version),
            r.consentID.map { .integer(Int($0)) }, .text(r.updatedAt), .text(try JSONText.encode(r)),
        ]
    }

    public static func referral(_ v: [CellValue?]) throws -> Referral {
        let r = Reader(values: v, columns: referralSelectColumns, table: "referral")
        var referral: Referral = try r.json("body_json")
        // The columns are authoritative: the body was written with the id and version of its time.
        referral.id = Int64(try r.integer("id"))
        referral.caseID = Int64(try r.integer("case_id"))
        referral.version = try r.integer("version")
        return referral
    }

    /// `select` with the query's conditions, ordered oldest first.
    public static func referralSelect(_ q: ReferralQuery) -> (sql: String, binds: [CellValue?]) {
        var conditions: [String] = []
        var binds: [CellValue?] = []
        if let caseID = q.caseID {
            binds.append(.integer(Int(caseID)))
            conditions.append("case_id = $\(binds.count)")
        }
        if let partner = q.partner {
            binds.append(.text(partner))
            conditions.append("partner = $\(binds.count)")
        }
        if let statuses = q.statuses {
            conditions.append(inList("status", statuses.map(\.rawValue).sorted(), binds: &binds))
        }
        binds.append(.integer(q.limit))
        return (selectReferral + whereClause(conditions) + " ORDER BY id LIMIT $\(binds.count)", binds)
    }

    public static func caseSelect(_ q: CaseQuery) -> (sql: String, binds: [CellValue?]) {
        var conditions: [String] = []
        var binds: [CellValue?] = []
        if let office = q.office {
            binds.append(.text(office))
            conditions.append("office = $\(binds.count)")
        }
        if let assignee = q.assignee {
            binds.append(.text(assignee))
            conditions.append("assignee = $\(binds.count)")
        }
        if let statuses = q.statuses {
            conditions.append(inList("status", statuses.map(\.rawValue).sorted(), binds: &binds))
        }
        if let ids = q.ids {
            conditions.append(inList("id", ids.map { String($0) }, binds: &binds, integer: true))
        }
        binds.append(.integer(q.limit))
        return (
            selectCase + whereClause(conditions) + " ORDER BY updated_at DESC, id DESC LIMIT $\(binds.count)", binds
        )
    }

    /// Cancels the open referrals a withdrawn consent covered: the partner loses the case in the same
    /// transaction as the consent ends.
    public static func cancellation(of open: [Referral], on date: CivilDate, by actor: String) -> CaseChange {
        var referrals: [Referral] = []
        var entries: [CaseEntry] = []
        for var r in open {
            r.status = .cancelled
            r.reason = .consentWithdrawn
            r.reached[ReferralStatus.cancelled.rawValue] = r.reached[ReferralStatus.cancelled.rawValue] ?? date
            referrals.append(r)
            entries.append(
                CaseEntry(
                    caseID: r.caseID, referralID: r.id, at: "", actor: actor, kind: "referral_status",
                    detail: "cancelled consent_withdrawn"))
        }
        return CaseChange(referrals: referrals, entries: entries)
    }

    // MARK: Records

    static let recordColumns = ["case_id", "kind", "version", "day", "updated_at", "body_json", "content_sealed"]
    public static let recordIntegerColumns: Set<String> = ["id", "case_id", "version"]
    public static let recordSelectColumns = ["id"] + recordColumns
    public static let insertRecord =
        "INSERT INTO case_record (\(recordColumns.joined(separator: ", "))) VALUES (\(placeholders(recordColumns.count))) RETURNING id"
    /// Binds the record's values, then its id ($8) and the version it was read at ($9). A record
    /// written back without content keeps the sealed content it has (a grant's plan is written once).
    public static let updateRecord =
        "UPDATE case_record SET "
        + recordColumns.enumerated().map {
            $1 == "content_sealed" ? "\($1) = COALESCE($\($0 + 1), \($1))" : "\($1) = $\($0 + 1)"
        }.joined(separator: ", ")
        + " WHERE id = $\(recordColumns.count + 1) AND version = $\(recordColumns.count + 2)"
    static let contentField = "case_record"

    public static let selectRecordByID =
        "SELECT \(recordSelectColumns.joined(separator: ", ")) FROM case_record WHERE id = $1"

    public static func recordSelect(caseID: Int64?, kind: String) -> (sql: String, binds: [CellValue?]) {
        let select = "SELECT \(recordSelectColumns.joined(separator: ", ")) FROM case_record WHERE kind = $1"
        guard let caseID else { return (select + " ORDER BY day, id", [.text(kind)]) }
        return (select + " AND case_id = $2 ORDER BY day, id", [.text(kind), .integer(Int(caseID))])
    }

    public static func values(of r: CaseRecord, cipher: any PersonalDataCipher) -> [CellValue?] {
        [
            .integer(Int(r.caseID)), .text(r.kind), .integer(r.version), .text(r.day.description), .text(r.updatedAt),
            .text(r.body), r.content.map { .text(cipher.seal($0, field: contentField)) },
        ]
    }

    public static func record(_ v: [CellValue?], cipher: any PersonalDataCipher) throws -> CaseRecord {
        let r = Reader(values: v, columns: recordSelectColumns, table: "case_record")
        guard let day = CivilDate(iso: try r.text("day")) else { throw r.malformed("day") }
        return CaseRecord(
            id: Int64(try r.integer("id")), caseID: Int64(try r.integer("case_id")), kind: try r.text("kind"),
            version: try r.integer("version"), day: day, updatedAt: try r.text("updated_at"),
            body: try r.text("body_json"),
            content: try cipher.open(r.optionalText("content_sealed"), field: contentField))
    }

    // MARK: Timeline

    static let entryColumns = ["case_id", "referral_id", "at", "actor", "kind", "detail", "note_sealed"]
    public static let entryIntegerColumns: Set<String> = ["id", "case_id", "referral_id"]
    public static let entrySelectColumns = ["id"] + entryColumns
    public static let insertEntry =
        "INSERT INTO case_entry (\(entryColumns.joined(separator: ", "))) VALUES (\(placeholders(entryColumns.count)))"
    public static let selectEntries =
        "SELECT \(entrySelectColumns.joined(separator: ", ")) FROM case_entry WHERE case_id = $1 ORDER BY id"
    static let noteField = "case_entry"

    public static func values(of e: CaseEntry, cipher: any PersonalDataCipher) -> [CellValue?] {
        [
            .integer(Int(e.caseID)), e.referralID.map { .integer(Int($0)) }, .text(e.at), .text(e.actor), .text(e.kind),
            e.detail.map(CellValue.text), e.note.map { .text(cipher.seal($0, field: noteField)) },
        ]
    }

    public static func entry(_ v: [CellValue?], cipher: any PersonalDataCipher) throws -> CaseEntry {
        let r = Reader(values: v, columns: entrySelectColumns, table: "case_entry")
        return CaseEntry(
            id: Int64(try r.integer("id")), caseID: Int64(try r.integer("case_id")),
            referralID: r.optionalInteger("referral_id").map(Int64.init), at: try r.text("at"),
            actor: try r.text("actor"),
            kind: try r.text("kind"), detail: r.optionalText("detail"),
            note: try cipher.open(r.optionalText("note_sealed"), field: noteField))
    }

    // MARK: Partners

    public static let selectPartners = "SELECT document_json FROM partner_org ORDER BY id"

    // MARK: Stored values, sealed

    /// A sealed column of the case tables: how to read a batch of it and write one value back.
    public struct SealedColumn: Sendable {
        public let field: String
        /// Binds the id to start after ($1) and the batch size ($2); returns id and value.
        public let select: String
        /// Binds the new value ($1) and the id ($2).
        public let update: String

        public init(table: String, column: String, field: String) {
            self.field = field
            select =
                "SELECT id, \(column) FROM \(table) WHERE id > $1 AND \(column) IS NOT NULL ORDER BY id LIMIT $2"
            update = "UPDATE \(table) SET \(column) = $1 WHERE id = $2"
        }
    }

    /// Every sealed value of the case tables, for resealing under a new key and checking keys.
    public static let sealedColumns = [
        SealedColumn(table: "case_file", column: "details_sealed", field: detailsField),
        SealedColumn(table: "case_entry", column: "note_sealed", field: noteField),
        SealedColumn(table: "case_record", column: "content_sealed", field: contentField),
        IncomingReferralRows.sealedColumn,
    ]

    /// Erasing a person's case data (binds the sealed empty details, agency, record key): the case
    /// keeps its codes and dates for the programme's figures, loses what it said about the person.
    public static let eraseDetails =
        "UPDATE case_file SET details_sealed = $1 WHERE agency = $2 AND record_key = $3"
    public static let eraseNotes =
        "UPDATE case_entry SET note_sealed = NULL WHERE note_sealed IS NOT NULL AND case_id IN (SELECT id FROM case_file WHERE agency = $1 AND record_key = $2)"
    public static let eraseRecordContent =
        "UPDATE case_record SET content_sealed = NULL WHERE content_sealed IS NOT NULL AND case_id IN (SELECT id FROM case_file WHERE agency = $1 AND record_key = $2)"

    public static func erasedDetails(cipher: any PersonalDataCipher) throws -> String {
        cipher.seal(try JSONText.encode(CaseDetails()), field: detailsField)
    }

    // MARK: The change, in order

    /// A change as the statements a store runs, in order, inside one transaction.
    public static func plan(_ change: CaseChange, now: String, cipher: any PersonalDataCipher) throws -> CaseWritePlan {
        var steps: [CaseWritePlan.Step] = []
        var saved = change
        var newCase = false
        if var c = change.caseFile {
            c.updatedAt = now
            if c.id == 0 {
                c.version = 1
                newCase = true
                steps.append(
                    .refuseIfAny(
                        caseIDForReturn, [.value(.text(c.subject.agency)), .value(.text(c.subject.recordKey))],
                        .returnHasCase))
                steps.append(
                    .insert(insertCase, try values(of: c, cipher: cipher).map(CaseWritePlan.Bind.value), .newCase))
            } else {
                let readAt = c.version
                c.version += 1
                steps.append(
                    .update(
                        updateCase,
                        (try values(of: c, cipher: cipher) + [.integer(Int(c.id)), .integer(readAt)]).map(
                            CaseWritePlan.Bind.value)))
            }
            saved.caseFile = c
        }
        saved.referrals = try change.referrals.map { given in
            var r = given
            r.updatedAt = now
            var binds = try values(of: r).map(CaseWritePlan.Bind.value)
            if r.caseID == 0, newCase { binds[0] = .newCaseID }
            if r.id == 0 {
                r.version = 1
                binds[3] = .value(.integer(1))
                steps.append(.insert(insertReferral, binds, .newReferral))
            } else {
                let readAt = r.version
                r.version += 1
                binds[3] = .value(.integer(r.version))
                steps.append(.update(updateReferral, binds + [.value(.integer(Int(r.id))), .value(.integer(readAt))]))
            }
            return r
        }
        saved.records = change.records.map { given in
            var r = given
            r.updatedAt = now
            if r.id == 0 {
                r.version = 1
                var binds = values(of: r, cipher: cipher).map(CaseWritePlan.Bind.value)
                if r.caseID == 0, newCase { binds[0] = .newCaseID }
                steps.append(.insert(insertRecord, binds, .newRecord))
            } else {
                let readAt = r.version
                r.version += 1
                steps.append(
                    .update(
                        updateRecord,
                        (values(of: r, cipher: cipher) + [.integer(Int(r.id)), .integer(readAt)]).map(
                            CaseWritePlan.Bind.value)))
            }
            return r
        }
        saved.entries = change.entries.map { given in
            var e = given
            e.at = now
            var binds = values(of: e, cipher: cipher).map(CaseWritePlan.Bind.value)
            if e.caseID == 0, newCase { binds[0] = .newCaseID }
            if e.referralID == 0 { binds[1] = .newReferralID }
            steps.append(.insert(insertEntry, binds, nil))
            return e
        }
        return CaseWritePlan(steps: steps, change: saved)
    }

    // MARK: Helpers

    static func placeholders(_ n: Int) -> String { (1...n).map { "$\($0)" }.joined(separator: ", ") }

    static func whereClause(_ conditions: [String]) -> String {
        conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }

    static func inList(_ column: String, _ values: [String], binds: inout [CellValue?], integer: Bool = false)
        -> String
    {
        guard !values.isEmpty else { return "1 = 0" }
        let start = binds.count
        binds += values.map { integer ? .integer(Int($0)!) : .text($0) }
        return "\(column) IN (" + (start + 1...binds.count).map { "$\($0)" }.joined(separator: ", ") + ")"
    }

    /// Reads a row's values by column name, naming the table and column when one is malformed.
    struct Reader {
        let values: [CellValue?]
        let columns: [String]
        let table: String

        func value(_ column: String) -> CellValue? { values[columns.firstIndex(of: column)!] }

        func malformed(_ column: String) -> PuenteError {
            PuenteError(.storeFailure, "A stored \(table) row has a malformed value in column \(column).")
        }

        func text(_ column: String) throws -> String {
            guard case .text(let s)? = value(column) else { throw malformed(column) }
            return s
        }

        func optionalText(_ column: String) -> String? {
            if case .text(let s)? = value(column) { return s }
            return nil
        }

        func integer(_ column: String) throws -> Int {
            guard case .integer(let i)? = value(column) else { throw malformed(column) }
            return i
        }

        func optionalInteger(_ column: String) -> Int? {
            if case .integer(let i)? = value(column) { return i }
            return nil
        }

        func json<T: Decodable>(_ column: String) throws -> T {
            do { return try JSONText.decode(try text(column)) } catch { throw malformed(column) }
        }
    }
}

/// A change to cases as statements, and the change as stored once the store tells the ids its
/// inserts returned. Versions are checked by the updates themselves (`WHERE version = read`).
public struct CaseWritePlan: Sendable {
    public enum Bind: Sendable {
        case value(CellValue?)
        /// The id of the case this change inserts.
        case newCaseID
        /// The id of the first referral this change inserts.
        case newReferralID
    }

    public enum Slot: Sendable {
        case newCase
        case newReferral
        case newRecord
    }

    public enum Step: Sendable {
        /// Fails with the error when the query returns a row.
        case refuseIfAny(String, [Bind], PuenteError)
        /// Inserts; the returned id fills the slot (`RETURNING id` where there is one).
        case insert(String, [Bind], Slot?)
        /// Must change exactly one row, or the record changed since it was read.
        case update(String, [Bind])
    }

    public let steps: [Step]
    let change: CaseChange

    /// Runs the steps with a store's statement functions; returns the change as stored.
    public func run(
        query: (String, [CellValue?]) throws -> Bool,
        insert: (String, [CellValue?], _ returning: Bool) throws -> Int64?,
        update: (String, [CellValue?]) throws -> Int
    ) throws -> CaseChange {
        var ids = NewIDs()
        for step in steps {
            switch step {
            case .refuseIfAny(let sql, let binds, let error):
                if try query(sql, ids.values(binds)) { throw error }
            case .insert(let sql, let binds, let slot):
                ids.fill(slot, with: try insert(sql, ids.values(binds), slot != nil))
            case .update(let sql, let binds):
                guard try update(sql, ids.values(binds)) == 1 else { throw PuenteError.caseChangedSinceRead }
            }
        }
        return stored(ids)
    }

    /// The same, for a store whose statements are asynchronous (PostgreSQL).
    public func run(
        query: (String, [CellValue?]) async throws -> Bool,
        insert: (String, [CellValue?], _ returning: Bool) async throws -> Int64?,
        update: (String, [CellValue?]) async throws -> Int
    ) async throws -> CaseChange {
        var ids = NewIDs()
        for step in steps {
            switch step {
            case .refuseIfAny(let sql, let binds, let error):
                if try await query(sql, ids.values(binds)) { throw error }
            case .insert(let sql, let binds, let slot):
                ids.fill(slot, with: try await insert(sql, ids.values(binds), slot != nil))
            case .update(let sql, let binds):
                guard try await update(sql, ids.values(binds)) == 1 else { throw PuenteError.caseChangedSinceRead }
            }
        }
        return stored(ids)
    }

    /// Ids the inserts of a run returned so far.
    struct NewIDs {
        var caseID: Int64?
        var referralIDs: [Int64] = []
        var recordIDs: [Int64] = []

        func values(_ binds: [Bind]) -> [CellValue?] {
            binds.map {
                switch $0 {
                case .value(let v): v
                case .newCaseID: caseID.map { .integer(Int($0)) }
                case .newReferralID: referralIDs.first.map { .integer(Int($0)) }
                }
            }
        }

        mutating func fill(_ slot: Slot?, with id: Int64?) {
            switch slot {
            case .newCase: caseID = id
            case .newReferral: id.map { referralIDs.append($0) }
            case .newRecord: id.map { recordIDs.append($0) }
            case nil: break
            }
        }
    }

    private func stored(_ ids: NewIDs) -> CaseChange {
        let (caseID, referralIDs) = (ids.caseID, ids.referralIDs)
        var saved = change
        if let caseID { saved.caseFile?.id = caseID }
        var newReferrals = referralIDs.makeIterator()
        for i in saved.referrals.indices {
            if saved.referrals[i].caseID == 0, let caseID { saved.referrals[i].caseID = caseID }
            if saved.referrals[i].id == 0, let id = newReferrals.next() { saved.referrals[i].id = id }
        }
        var newRecords = ids.recordIDs.makeIterator()
        for i in saved.records.indices {
            if saved.records[i].caseID == 0, let caseID { saved.records[i].caseID = caseID }
            if saved.records[i].id == 0, let id = newRecords.next() { saved.records[i].id = id }
        }
        for i in saved.entries.indices {
            if saved.entries[i].caseID == 0, let caseID { saved.entries[i].caseID = caseID }
            if saved.entries[i].referralID == 0 { saved.entries[i].referralID = referralIDs.first }
        }
        return saved
    }
}

/// The reintegration tables, for both stores' migrations (the same columns; only the id types differ).
public enum CaseSchema {
    static func tables(id: String, integer: String) -> [String] {
        [
            """
            CREATE TABLE case_file (
                id \(id),
                agency TEXT NOT NULL,
                record_key TEXT NOT NULL,
                event_id \(integer),
                person_id \(integer),
                office TEXT NOT NULL,
                assignee TEXT,
                status TEXT NOT NULL,
                version \(integer) NOT NULL,
                opened_on TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                profile_json TEXT NOT NULL,
                workflow_json TEXT NOT NULL,
                details_sealed TEXT NOT NULL,
                UNIQUE (agency, record_key)
            )
            """,
            "CREATE INDEX case_file_office ON case_file (office, status)",
            "CREATE INDEX case_file_assignee ON case_file (assignee, status)",
            """
            CREATE TABLE case_entry (
                id \(id),
                case_id \(integer) NOT NULL REFERENCES case_file (id),
                referral_id \(integer),
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                kind TEXT NOT NULL,
                detail TEXT,
                note_sealed TEXT
            )
            """,
            "CREATE INDEX case_entry_case ON case_entry (case_id, id)",
            """
            CREATE TABLE partner_org (
                id TEXT PRIMARY KEY,
                document_json TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE referral (
                id \(id),
                case_id \(integer) NOT NULL REFERENCES case_file (id),
                partner TEXT NOT NULL REFERENCES partner_org (id),
                status TEXT NOT NULL,
                version \(integer) NOT NULL,
                consent_id \(integer),
                updated_at TEXT NOT NULL,
                body_json TEXT NOT NULL
            )
            """,
            "CREATE INDEX referral_case ON referral (case_id)",
            "CREATE INDEX referral_partner ON referral (partner, status)",
            "CREATE INDEX referral_consent ON referral (consent_id)",
        ]
    }

    /// Added by migration 0013: what cases accumulate (surveys, grants).
    static func records(id: String, integer: String) -> [String] {
        [
            """
            CREATE TABLE case_record (
                id \(id),
                case_id \(integer) NOT NULL REFERENCES case_file (id),
                kind TEXT NOT NULL,
                version \(integer) NOT NULL,
                day TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                body_json TEXT NOT NULL,
                content_sealed TEXT
            )
            """,
            "CREATE INDEX case_record_case ON case_record (case_id, kind)",
            "CREATE INDEX case_record_kind ON case_record (kind, day)",
        ]
    }

    public static let sqlite = tables(id: "INTEGER PRIMARY KEY AUTOINCREMENT", integer: "INTEGER")
        .map { $0 + ";" }.joined(separator: "\n")
    public static let postgres = tables(id: "BIGSERIAL PRIMARY KEY", integer: "BIGINT")
    public static let sqliteRecords = records(id: "INTEGER PRIMARY KEY AUTOINCREMENT", integer: "INTEGER")
        .map { $0 + ";" }.joined(separator: "\n")
    public static let postgresRecords = records(id: "BIGSERIAL PRIMARY KEY", integer: "BIGINT")
}
