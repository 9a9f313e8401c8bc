import PostgresNIO
import PuenteCore

extension PostgresStore: AccessStore {
    private static let userColumns =
        "id, username, role, country, organisation, password_hash, failed_logins, locked_until, disabled, created_at"
    private static let credentialColumns =
        "id, kind, user_id, secret_hash, csrf_token, label, created_at, expires_at, revoked"
    /// Advisory lock key serialising audit appends (any constant of Puente's own).
    private static let auditLock: Int64 = 0x5055_454E_5445_4155
    private static let auditColumns = "sequence, at, actor, action, target, purpose, address, previous_hash, hash"

    public func createUser(_ user: UserAccount) async throws -> UserAccount {
        try await uniquelyGuarded("That username is taken.") {
            let rows = try await client.query(
                """
                INSERT INTO app_user (username, role, country, organisation, password_hash, failed_logins, locked_until, disabled, created_at)
                VALUES (\(user.username), \(user.role.rawValue), \(user.country), \(user.organisation), \(user.passwordHash),
                        \(user.failedLogins), \(user.lockedUntil), \(user.disabled ? 1 : 0), \(user.createdAt))
                RETURNING id
                """, logger: logger)
            var stored = user
            for try await id in rows.decode(Int64.self) { stored.id = id }
            return stored
        }
    }

    public func user(named username: String) async throws -> UserAccount? {
        try await guarded {
            try await users(
                client.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.userColumns) FROM app_user WHERE username = $1",
                        binds: binds(username)), logger: logger)
            ).first
        }
    }

    public func user(id: Int64) async throws -> UserAccount? {
        try await guarded {
            try await users(
                client.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.userColumns) FROM app_user WHERE id = $1",
                        binds: binds(id)), logger: logger)
            ).first
        }
    }

    public func users() async throws -> [UserAccount] {
        try await guarded {
            try await users(
                client.query(
                    PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM app_user ORDER BY id"), logger: logger))
        }
    }

    public func updateUser(_ user: UserAccount) async throws {
        try await guarded {
            let rows = try await client.query(
                """
                UPDATE app_user SET role = \(user.role.rawValue), country = \(user.country), organisation = \(user.organisation),
                password_hash = \(user.passwordHash), failed_logins = \(user.failedLogins), locked_until = \(user.lockedUntil),
                disabled = \(user.disabled ? 1 : 0) WHERE id = \(user.id) RETURNING id
                """, logger: logger)
            var found = false
            for try await _ in rows.decode(Int64.self) { found = true }
            if !found { throw PuenteError(.notFound, "There is no user with that id.") }
        }
    }

    public func createCredential(_ credential: Credential) async throws -> Credential {
        try await guarded {
            let rows = try await client.query(
                """
                INSERT INTO credential (kind, user_id, secret_hash, csrf_token, label, created_at, expires_at, revoked)
                VALUES (\(credential.kind.rawValue), \(credential.userID), \(credential.secretHash), \(credential.csrfToken),
                        \(credential.label), \(credential.createdAt), \(credential.expiresAt), \(credential.revoked ? 1 : 0))
                RETURNING id
                """, logger: logger)
            var stored = credential
            for try await id in rows.decode(Int64.self) { stored.id = id }
            return stored
        }
    }

    public func credential(secretHash: String) async throws -> (Credential, UserAccount)? {
        try await guarded {
            let sql = "SELECT \(Self.credentialColumns) FROM credential WHERE secret_hash = $1 AND revoked = 0"
            guard
                let credential = try await credentials(
                    client.query(PostgresQuery(unsafeSQL: sql, binds: binds(secretHash)), logger: logger)
                ).first,
                let user = try await user(id: credential.userID)
            else { return nil }
            return (credential, user)
        }
    }

    public func credentials(userID: Int64?) async throws -> [Credential] {
        try await guarded {
            var b = PostgresBindings(capacity: 1)
            if let userID { b.append(userID) } else { b.appendNull() }
            let sql =
                "SELECT \(Self.credentialColumns) FROM credential WHERE $1::BIGINT IS NULL OR user_id = $1 ORDER BY id"
            return try await credentials(client.query(PostgresQuery(unsafeSQL: sql, binds: b), logger: logger))
        }
    }

    public func revokeCredential(id: Int64) async throws {
        try await guarded {
            let rows = try await client.query(
                "UPDATE credential SET revoked = 1 WHERE id = \(id) RETURNING id", logger: logger)
            var found = false
            for try await _ in rows.decode(Int64.self) { found = true }
            if !found { throw PuenteError(.notFound, "There is no session or token with that id.") }
        }
    }

    public func deleteExpiredCredentials(now: String) async throws -> Int {
        try await guarded {
            let rows = try await client.query(
                "DELETE FROM credential WHERE expires_at < \(now) RETURNING id", logger: logger)
            var n = 0
            for try await _ in rows.decode(Int64.self) { n += 1 }
            return n
        }
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await uniquelyGuarded("The audit trail moved on; rebuild the entry on its new head.") {
            try await client.withTransaction(logger: logger) { conn in
                // Appenders queue here, so the head read below stays the head until commit.
                try await conn.query("SELECT pg_advisory_xact_lock(\(Self.auditLock))", logger: logger)
                var last: Int64 = 0
                for try await max in try await conn.query(
                    "SELECT COALESCE(MAX(sequence), 0) FROM audit_entry", logger: logger
                ).decode(Int64.self) {
                    last = max
                }
                guard entry.sequence == last + 1 else {
                    throw PuenteError(.conflict, "The audit trail moved on; rebuild the entry on its new head.")
                }
                try await conn.query(
                    """
                    INSERT INTO audit_entry (\(unescaped: Self.auditColumns))
                    VALUES (\(entry.sequence), \(entry.at), \(entry.actor), \(entry.action), \(entry.target), \(entry.purpose),
                            \(entry.address), \(entry.previousHash), \(entry.hash))
                    """, logger: logger)
            }
        }
    }

    public func lastAudit() async throws -> AuditEntry? {
        try await guarded {
            try await audit(
                client.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.auditColumns) FROM audit_entry ORDER BY sequence DESC LIMIT 1"),
                    logger: logger)
            ).first
        }
    }

    public func auditEntries(after: Int64, limit: Int) async throws -> [AuditEntry] {
        try await guarded {
            var b = PostgresBindings(capacity: 2)
            b.append(after)
            b.append(limit)
            let sql = "SELECT \(Self.auditColumns) FROM audit_entry WHERE sequence > $1 ORDER BY sequence LIMIT $2"
            return try await audit(client.query(PostgresQuery(unsafeSQL: sql, binds: b), logger: logger))
        }
    }

    // MARK: Decoding

    private func binds(_ value: some PostgresDynamicTypeEncodable) -> PostgresBindings {
        var b = PostgresBindings(capacity: 1)
        b.append(value)
        return b
    }

    private func users(_ rows: PostgresRowSequence) async throws -> [UserAccount] {
        var out: [UserAccount] = []
        for try await (id, username, role, country, organisation, hash, failed, locked, disabled, created)
            in rows.decode((Int64, String, String, String?, String?, String?, Int, String?, Int, String).self)
        {
            guard let role = Role(rawValue: role) else {
                throw PuenteError(
                    .storeFailure, "A stored account has a role this version does not know; upgrade Puente.")
            }
            out.append(
                UserAccount(
                    id: id, username: username, role: role, country: country, organisation: organisation,
                    passwordHash: hash, failedLogins: failed, lockedUntil: locked, disabled: disabled != 0,
                    createdAt: created))
        }
        return out
    }

    private func credentials(_ rows: PostgresRowSequence) async throws -> [Credential] {
        var out: [Credential] = []
        for try await (id, kind, user, hash, csrf, label, created, expires, revoked) in rows.decode(
            (Int64, String, Int64, String, String?, String?, String, String, Int).self)
        {
            out.append(
                Credential(
                    id: id, kind: Credential.Kind(rawValue: kind) ?? .token, userID: user, secretHash: hash,
                    csrfToken: csrf,
                    label: label, createdAt: created, expiresAt: expires, revoked: revoked != 0))
        }
        return out
    }

    private func audit(_ rows: PostgresRowSequence) async throws -> [AuditEntry] {
        var out: [AuditEntry] = []
        for try await (sequence, at, actor, action, target, purpose, address, previous, hash) in rows.decode(
            (Int64, String, String, String, String, String?, String?, String, String).self)
        {
            out.append(
                AuditEntry(
                    sequence: sequence, at: at, actor: actor, action: action, target: target, purpose: purpose,
                    address: address, previousHash: previous, hash: hash))
        }
        return out
    }

    /// Like `guarded`, but a unique-key violation (SQLSTATE 23505) is a `conflict` with this message.
    func uniquelyGuarded<T>(_ message: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await guarded(body)
        } catch let error as PuenteError where error.code == .storeFailure && error.message.contains("23505") {
            throw PuenteError(.conflict, message)
        }
    }
}

extension PostgresStore: PuenteStore {}
