import GRDB
import PuenteCore

extension SQLiteStore: ConsentStore {
    public func recordConsent(_ consent: ConsentRecord) async throws -> ConsentRecord {
        let recipients = try JSONText.encode(consent.recipients)
        return try await writer.write { db in
            // Checked here as well as by the unique index, for a clear message.
            if try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM consent_record WHERE agency = ? AND record_key = ? AND purpose = ? AND withdrawn_on IS NULL)
                    """, arguments: [consent.subject.agency, consent.subject.recordKey, consent.purpose.rawValue])
                == true
            {
                throw PuenteError(
                    .conflict,
                    "This record already has a consent in force for that purpose; withdraw it before recording a new one."
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO consent_record (agency, record_key, purpose, scope, recipients_json, given_on, language, collector, guardian,
                                                recorded_at, withdrawn_on, withdrawn_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    consent.subject.agency, consent.subject.recordKey, consent.purpose.rawValue, consent.scope,
                    recipients,
                    consent.givenOn.description, consent.language, consent.collector, consent.guardian,
                    consent.recordedAt,
                    consent.withdrawnOn?.description, consent.withdrawnBy,
                ])
            var stored = consent
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func withdrawConsent(id: Int64, on date: CivilDate, by actor: String) async throws -> ConsentRecord {
        try await writer.write { db in
            try db.execute(
                sql:
                    "UPDATE consent_record SET withdrawn_on = ?, withdrawn_by = ? WHERE id = ? AND withdrawn_on IS NULL",
                arguments: [date.description, actor, id])
            let changed = db.changesCount
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM consent_record WHERE id = ?", arguments: [id])
            else {
                throw PuenteError(
                    .notFound, "There is no consent with that id; `puente consent list` shows a record's consents.")
            }
            if changed == 0 { throw PuenteError(.conflict, "That consent was withdrawn already.") }
            try Self.cancelReferrals(underConsent: id, on: date, by: actor, in: db, cipher: cipher)
            return try Self.consentRecord(row)
        }
    }

    public func consent(id: Int64) async throws -> ConsentRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM consent_record WHERE id = ?", arguments: [id]).map(
                Self.consentRecord)
        }
    }

    public func consents(of subject: ConsentSubject) async throws -> [ConsentRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM consent_record WHERE agency = ? AND record_key = ? ORDER BY id",
                arguments: [subject.agency, subject.recordKey]
            ).map(Self.consentRecord)
        }
    }

    public func withdrawnSubjects(purpose: ConsentPurpose) async throws -> Set<ConsentSubject> {
        try await writer.read { db in
            // A consent given again after a withdrawal is in force: the later decision counts.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT w.agency, w.record_key FROM consent_record w
                    WHERE w.purpose = ? AND w.withdrawn_on IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM consent_record f WHERE f.agency = w.agency AND f.record_key = w.record_key
                        AND f.purpose = w.purpose AND f.withdrawn_on IS NULL)
                    """, arguments: [purpose.rawValue])
            return Set(rows.map { ConsentSubject(agency: $0["agency"], recordKey: $0["record_key"]) })
        }
    }

    private static func consentRecord(_ r: Row) throws -> ConsentRecord {
        guard let purpose = ConsentPurpose(rawValue: r["purpose"]) else {
            throw PuenteError(
                .storeFailure, "A stored consent has a purpose this version does not know; upgrade Puente.")
        }
        guard let given = CivilDate(iso: r["given_on"] as String) else {
            throw PuenteError(.storeFailure, "A stored consent has a malformed date in column given_on.")
        }
        let recipients: [String] = try JSONText.decode(r["recipients_json"])
        return ConsentRecord(
            id: r["id"], subject: ConsentSubject(agency: r["agency"], recordKey: r["record_key"]), purpose: purpose,
            scope: r["scope"], recipients: recipients, givenOn: given, language: r["language"],
            collector: r["collector"],
            guardian: r["guardian"], recordedAt: r["recorded_at"],
            withdrawnOn: (r["withdrawn_on"] as String?).flatMap { CivilDate(iso: $0) }, withdrawnBy: r["withdrawn_by"])
    }
}
