import GRDB
import PuenteCore

extension SQLiteStore: AccessStore {
    public func createUser(_ user: UserAccount) async throws -> UserAccount {
        try await writer.write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM app_user WHERE username = ?)", arguments: [user.username])
                == true
            {
                throw PuenteError(.conflict, "That username is taken.")
            }
            try db.execute(
                sql: """
                    INSERT INTO app_user (username, role, country, organisation, password_hash, failed_logins, locked_until, disabled, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    user.username, user.role.rawValue, user.country, user.organisation, user.passwordHash,
                    user.failedLogins, user.lockedUntil, user.disabled, user.createdAt,
                ])
            var stored = user
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func user(named username: String) async throws -> UserAccount? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM app_user WHERE username = ?", arguments: [username]).map(
                Self.userAccount)
        }
    }

    public func user(id: Int64) async throws -> UserAccount? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM app_user WHERE id = ?", arguments: [id]).map(Self.userAccount)
        }
    }

    public func users() async throws -> [UserAccount] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM app_user ORDER BY id").map(Self.userAccount)
        }
    }

    public func updateUser(_ user: UserAccount) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE app_user SET role = ?, country = ?, organisation = ?, password_hash = ?, failed_logins = ?,
                    locked_until = ?, disabled = ? WHERE id = ?
                    """,
                arguments: [
                    user.role.rawValue, user.country, user.organisation, user.passwordHash, user.failedLogins,
                    user.lockedUntil, user.disabled, user.id,
                ])
            if db.changesCount == 0 { throw PuenteError(.notFound, "There is no user with that id.") }
        }
    }

    public func createCredential(_ credential: Credential) async throws -> Credential {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO credential (kind, user_id, secret_hash, csrf_token, label, created_at, expires_at, revoked)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    credential.kind.rawValue, credential.userID, credential.secretHash, credential.csrfToken,
                    credential.label, credential.createdAt, credential.expiresAt, credential.revoked,
                ])
            var stored = credential
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func credential(secretHash: String) async throws -> (Credential, UserAccount)? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM credential WHERE secret_hash = ? AND revoked = 0",
                    arguments: [secretHash])
            else { return nil }
            let credential = Self.credential(row)
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM app_user WHERE id = ?", arguments: [credential.userID])
            else {
                return nil
            }
            return (credential, try Self.userAccount(row))
        }
    }

    public func credentials(userID: Int64?) async throws -> [Credential] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM credential WHERE ? IS NULL OR user_id = ? ORDER BY id",
                arguments: [userID, userID]
            ).map(Self.credential)
        }
    }

    public func revokeCredential(id: Int64) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE credential SET revoked = 1 WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw PuenteError(.notFound, "There is no session or token with that id.") }
        }
    }

    public func deleteExpiredCredentials(now: String) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM credential WHERE expires_at < ?", arguments: [now])
            return db.changesCount
        }
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await writer.write { db in
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM audit_entry") ?? 0
            guard entry.sequence == last + 1 else {
                throw PuenteError(.conflict, "The audit trail moved on; rebuild the entry on its new head.")
            }
            try db.execute(
                sql: """
                    INSERT INTO audit_entry (sequence, at, actor, action, target, purpose, address, previous_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.sequence, entry.at, entry.actor, entry.action, entry.target, entry.purpose,
                    entry.address, entry.previousHash, entry.hash,
                ])
        }
    }

    public func lastAudit() async throws -> AuditEntry? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM audit_entry ORDER BY sequence DESC LIMIT 1").map(Self.auditEntry)
        }
    }

    public func auditEntries(after: Int64, limit: Int) async throws -> [AuditEntry] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_entry WHERE sequence > ? ORDER BY sequence LIMIT ?",
                arguments: [after, limit]
            ).map(Self.auditEntry)
        }
    }

    private static func userAccount(_ r: Row) throws -> UserAccount {
        guard let role = Role(rawValue: r["role"]) else {
            throw PuenteError(.storeFailure, "A stored account has a role this version does not know; upgrade Puente.")
        }
        return UserAccount(
            id: r["id"], username: r["username"], role: role, country: r["country"],
            organisation: r["organisation"], passwordHash: r["password_hash"], failedLogins: r["failed_logins"],
            lockedUntil: r["locked_until"], disabled: r["disabled"], createdAt: r["created_at"])
    }

    private static func credential(_ r: Row) -> Credential {
        Credential(
            id: r["id"], kind: Credential.Kind(rawValue: r["kind"]) ?? .token, userID: r["user_id"],
            secretHash: r["secret_hash"],
            csrfToken: r["csrf_token"], label: r["label"], createdAt: r["created_at"], expiresAt: r["expires_at"],
            revoked: r["revoked"])
    }

    private static func auditEntry(_ r: Row) -> AuditEntry {
        AuditEntry(
            sequence: r["sequence"], at: r["at"], actor: r["actor"], action: r["action"], target: r["target"],
            purpose: r["purpose"], address: r["address"], previousHash: r["previous_hash"], hash: r["hash"])
    }
}

extension SQLiteStore: PuenteStore {}
