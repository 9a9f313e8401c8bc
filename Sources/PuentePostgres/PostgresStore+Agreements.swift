import PostgresNIO
import PuenteCore

extension PostgresStore: AgreementStore {
    private static let agreementColumns =
        "id, document, accepted_at, accepted_by, revoked_on, revoked_by, revocation_reason"

    public func saveAgreement(_ agreement: StoredAgreement) async throws -> Bool {
        try await guarded {
            // ON CONFLICT: two acceptances at once keep one row, and the server logs no failed insert.
            let rows = try await client.query(
                """
                INSERT INTO agreement (id, document, accepted_at, accepted_by, revoked_on, revoked_by, revocation_reason)
                VALUES (\(agreement.id), \(agreement.document), \(agreement.acceptedAt), \(agreement.acceptedBy),
                        \(agreement.revokedOn?.description), \(agreement.revokedBy), \(agreement.revocationReason))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: logger)
            var inserted = false
            for try await _ in rows.decode(String.self) { inserted = true }
            if inserted { return true }
            guard try await self.agreement(id: agreement.id)?.document == agreement.document else {
                throw PuenteError.agreementKeptWithOtherTerms
            }
            return false
        }
    }

    public func agreement(id: String) async throws -> StoredAgreement? {
        try await guarded {
            try await agreements(
                client.query(
                    "SELECT \(unescaped: Self.agreementColumns) FROM agreement WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    public func agreements() async throws -> [StoredAgreement] {
        try await guarded {
            try await agreements(
                client.query("SELECT \(unescaped: Self.agreementColumns) FROM agreement ORDER BY id", logger: logger))
        }
    }

    public func revokeAgreement(id: String, on date: CivilDate, by actor: String, reason: String) async throws
        -> StoredAgreement
    {
        try await guarded {
            // Only an agreement not revoked changes, so of two revocations at once exactly one succeeds.
            let updated = try await agreements(
                client.query(
                    """
                    UPDATE agreement SET revoked_on = \(date.description), revoked_by = \(actor), revocation_reason = \(reason)
                    WHERE id = \(id) AND revoked_on IS NULL RETURNING \(unescaped: Self.agreementColumns)
                    """, logger: logger))
            if let agreement = updated.first { return agreement }
            guard try await self.agreement(id: id) != nil else { throw PuenteError.noSuchAgreement }
            throw PuenteError.agreementRevokedAlready
        }
    }

    private func agreements(_ rows: PostgresRowSequence) async throws -> [StoredAgreement] {
        var out: [StoredAgreement] = []
        for try await (id, document, acceptedAt, acceptedBy, revokedOn, revokedBy, reason) in rows.decode(
            (String, String, String, String, String?, String?, String?).self)
        {
            out.append(
                StoredAgreement(
                    id: id, document: document, acceptedAt: acceptedAt, acceptedBy: acceptedBy,
                    revokedOn: revokedOn.flatMap { CivilDate(iso: $0) }, revokedBy: revokedBy, revocationReason: reason)
            )
        }
        return out
    }
}
