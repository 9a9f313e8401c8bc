import GRDB
import PuenteCore

extension SQLiteStore: AgreementStore {
    public func saveAgreement(_ agreement: StoredAgreement) async throws -> Bool {
        try await writer.write { db in
            if let kept = try String.fetchOne(
                db, sql: "SELECT document FROM agreement WHERE id = ?", arguments: [agreement.id])
            {
                guard kept == agreement.document else { throw PuenteError.agreementKeptWithOtherTerms }
                return false
            }
            try db.execute(
                sql: """
                    INSERT INTO agreement (id, document, accepted_at, accepted_by, revoked_on, revoked_by, revocation_reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    agreement.id, agreement.document, agreement.acceptedAt, agreement.acceptedBy,
                    agreement.revokedOn?.description, agreement.revokedBy, agreement.revocationReason,
                ])
            return true
        }
    }

    public func agreement(id: String) async throws -> StoredAgreement? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM agreement WHERE id = ?", arguments: [id]).map(Self.storedAgreement)
        }
    }

    public func agreements() async throws -> [StoredAgreement] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM agreement ORDER BY id").map(Self.storedAgreement)
        }
    }

    public func revokeAgreement(id: String, on date: CivilDate, by actor: String, reason: String) async throws
        -> StoredAgreement
    {
        try await writer.write { db in
            guard let kept = try Row.fetchOne(db, sql: "SELECT * FROM agreement WHERE id = ?", arguments: [id]) else {
                throw PuenteError.noSuchAgreement
            }
            guard (kept["revoked_on"] as String?) == nil else { throw PuenteError.agreementRevokedAlready }
            try db.execute(
                sql: "UPDATE agreement SET revoked_on = ?, revoked_by = ?, revocation_reason = ? WHERE id = ?",
                arguments: [date.description, actor, reason, id])
            var revoked = try Self.storedAgreement(kept)
            (revoked.revokedOn, revoked.revokedBy, revoked.revocationReason) = (date, actor, reason)
            return revoked
        }
    }

    private static func storedAgreement(_ r: Row) throws -> StoredAgreement {
        StoredAgreement(
            id: r["id"], document: r["document"], acceptedAt: r["accepted_at"], acceptedBy: r["accepted_by"],
            revokedOn: (r["revoked_on"] as String?).flatMap { CivilDate(iso: $0) }, revokedBy: r["revoked_by"],
            revocationReason: r["revocation_reason"])
    }
}
