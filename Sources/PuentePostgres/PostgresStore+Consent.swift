import PostgresNIO
import PuenteCore

extension PostgresStore: ConsentStore {
    private static let consentColumns = """
        id, agency, record_key, purpose, scope, recipients_json, given_on, language, collector, guardian, recorded_at, withdrawn_on, withdrawn_by
        """
    private static let inForceMessage =
        "This record already has a consent in force for that purpose; withdraw it before recording a new one."

    public func recordConsent(_ consent: ConsentRecord) async throws -> ConsentRecord {
        let recipients = try JSONText.encode(consent.recipients)
        // The partial unique index decides, so two clerks recording the same consent at once get one row.
        // ON CONFLICT rather than a failed insert: the server would log the failing key (the record's).
        return try await guarded {
            let rows = try await client.query(
                """
                INSERT INTO consent_record (agency, record_key, purpose, scope, recipients_json, given_on, language, collector, guardian,
                                            recorded_at, withdrawn_on, withdrawn_by)
                VALUES (\(consent.subject.agency), \(consent.subject.recordKey), \(consent.purpose.rawValue), \(consent.scope), \(recipients),
                        \(consent.givenOn.description), \(consent.language), \(consent.collector), \(consent.guardian ? 1 : 0),
                        \(consent.recordedAt), \(consent.withdrawnOn?.description), \(consent.withdrawnBy))
                ON CONFLICT (agency, record_key, purpose) WHERE withdrawn_on IS NULL DO NOTHING
                RETURNING id
                """, logger: logger)
            var inserted: Int64?
            for try await id in rows.decode(Int64.self) { inserted = id }
            guard let inserted else { throw PuenteError(.conflict, Self.inForceMessage) }
            var stored = consent
            stored.id = inserted
            return stored
        }
    }

    public func withdrawConsent(id: Int64, on date: CivilDate, by actor: String) async throws -> ConsentRecord {
        try await guarded {
            // Only a consent in force changes, so of two withdrawals at once exactly one succeeds. The
            // referrals made under it are cancelled in the same transaction.
            let updated = try await client.withTransaction(logger: logger) { conn in
                let updated = try await consents(
                    conn.query(
                        """
                        UPDATE consent_record SET withdrawn_on = \(date.description), withdrawn_by = \(actor)
                        WHERE id = \(id) AND withdrawn_on IS NULL RETURNING \(unescaped: Self.consentColumns)
                        """, logger: logger))
                if !updated.isEmpty {
                    try await Self.cancelReferrals(
                        underConsent: id, on: date, by: actor, on: conn, logger, cipher: cipher)
                }
                return updated
            }
            if let record = updated.first { return record }
            guard try await consent(id: id) != nil else {
                throw PuenteError(
                    .notFound, "There is no consent with that id; `puente consent list` shows a record's consents.")
            }
            throw PuenteError(.conflict, "That consent was withdrawn already.")
        }
    }

    public func consent(id: Int64) async throws -> ConsentRecord? {
        try await guarded {
            try await consents(
                client.query(
                    "SELECT \(unescaped: Self.consentColumns) FROM consent_record WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    public func consents(of subject: ConsentSubject) async throws -> [ConsentRecord] {
        try await guarded {
            try await consents(
                client.query(
                    """
                    SELECT \(unescaped: Self.consentColumns) FROM consent_record
                    WHERE agency = \(subject.agency) AND record_key = \(subject.recordKey) ORDER BY id
                    """, logger: logger))
        }
    }

    public func withdrawnSubjects(purpose: ConsentPurpose) async throws -> Set<ConsentSubject> {
        try await guarded {
            // A consent given again after a withdrawal is in force: the later decision counts.
            let rows = try await client.query(
                """
                SELECT DISTINCT w.agency, w.record_key FROM consent_record w
                WHERE w.purpose = \(purpose.rawValue) AND w.withdrawn_on IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM consent_record f WHERE f.agency = w.agency AND f.record_key = w.record_key
                    AND f.purpose = w.purpose AND f.withdrawn_on IS NULL)
                """, logger: logger)
            var out = Set<ConsentSubject>()
            for try await (agency, key) in rows.decode((String, String).self) {
                out.insert(ConsentSubject(agency: agency, recordKey: key))
            }
            return out
        }
    }

    private func consents(_ rows: PostgresRowSequence) async throws -> [ConsentRecord] {
        var out: [ConsentRecord] = []
        for try await (
            id, agency, key, purpose, scope, recipients, given, language, collector, guardian, recorded, withdrawn,
            withdrawnBy
        ) in rows.decode(
            (Int64, String, String, String, String?, String, String, String, String, Int, String, String?, String?).self
        ) {
            guard let purpose = ConsentPurpose(rawValue: purpose) else {
                throw PuenteError(
                    .storeFailure, "A stored consent has a purpose this version does not know; upgrade Puente.")
            }
            guard let givenOn = CivilDate(iso: given) else {
                throw PuenteError(.storeFailure, "A stored consent has a malformed date in column given_on.")
            }
            out.append(
                ConsentRecord(
                    id: id, subject: ConsentSubject(agency: agency, recordKey: key), purpose: purpose, scope: scope,
                    recipients: try JSONText.decode(recipients), givenOn: givenOn, language: language,
                    collector: collector,
                    guardian: guardian != 0, recordedAt: recorded,
                    withdrawnOn: withdrawn.flatMap { CivilDate(iso: $0) },
                    withdrawnBy: withdrawnBy))
        }
        return out
    }
}
