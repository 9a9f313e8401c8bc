import Foundation
import PuenteCore
import Synchronization

/// Who is asking: an account and the credential it came with.
public struct Identity: Sendable, Hashable {
    public var user: UserAccount
    public var credential: Credential

    public var role: Role { user.role }
}

/// Accounts, logins, sessions and API tokens, with every decision recorded in the audit trail.
public struct AccessService: Sendable {
    public let store: any AccessStore
    public let audit: AuditLog
    public var hasher: PasswordHasher
    /// Failed password logins in a row before the account is locked, and for how long.
    public var lockoutThreshold = 5
    public var lockoutDuration: TimeInterval = 15 * 60
    /// Browser sessions end after this long, active or not.
    public var sessionLifetime: TimeInterval = 8 * 3600

    public init(store: any AccessStore, hasher: PasswordHasher = PasswordHasher()) {
        self.store = store
        audit = AuditLog(store: store)
        self.hasher = hasher
    }

    /// Usernames are plain identifiers, so they are safe in URLs, logs and the audit trail.
    static func validUsername(_ name: String) -> Bool {
        (3...64).contains(name.count)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    // MARK: Accounts

    /// Creates an account; a password is optional for machine accounts that only use tokens.
    @discardableResult
    public func createUser(
        username: String, role: Role, password: String?, country: String? = nil, organisation: String? = nil,
        by actor: Actor
    ) async throws -> UserAccount {
        guard Self.validUsername(username) else {
            throw PuenteError(
                .invalidArgument, "Give a username of 3 to 64 letters, digits, dots, dashes or underscores.")
        }
        if let password { try PasswordHasher.validate(password) }
        let user = try await store.createUser(
            UserAccount(
                username: username, role: role, country: country, organisation: organisation,
                passwordHash: try password.map(hasher.hash), createdAt: Timestamp.now()))
        try await audit.record(
            .init(actor: actor.name, action: "user_created", target: "user:\(username) role:\(role.rawValue)"))
        return user
    }

    public func setRole(username: String, role: Role, by actor: Actor) async throws {
        var user = try await account(username)
        let before = user.role
        user.role = role
        try await store.updateUser(user)
        try await audit.record(
            .init(
                actor: actor.name, action: "role_changed",
                target: "user:\(username) \(before.rawValue)->\(role.rawValue)")
        )
    }

    public func setPassword(username: String, password: String, by actor: Actor) async throws {
        try PasswordHasher.validate(password)
        var user = try await account(username)
        user.passwordHash = try hasher.hash(password)
        user.failedLogins = 0
        user.lockedUntil = nil
        try await store.updateUser(user)
        try await audit.record(.init(actor: actor.name, action: "password_changed", target: "user:\(username)"))
    }

    /// Disables an account and revokes its sessions and tokens.
    public func disable(username: String, by actor: Actor) async throws {
        var user = try await account(username)
        user.disabled = true
        try await store.updateUser(user)
        for credential in try await store.credentials(userID: user.id) where !credential.revoked {
            try await store.revokeCredential(id: credential.id)
        }
        try await audit.record(.init(actor: actor.name, action: "user_disabled", target: "user:\(username)"))
    }

    private func account(_ username: String) async throws -> UserAccount {
        guard let user = try await store.user(named: username) else {
            throw PuenteError(.notFound, "There is no account with that username; `puente users list` shows them.")
        }
        return user
    }

    // MARK: Logins and sessions

    public enum LoginOutcome: Sendable, Equatable {
        /// The session secret for the cookie and the token forms must echo.
        case success(session: String, csrf: String, user: UserAccount)
        /// Wrong username or password (the two are not told apart), or a disabled account.
        case refused
        /// Too many failures in a row; try again after the lock ends.
        case locked
    }

    public func login(username: String, password: String, address: String?, now: Date = Date()) async throws
        -> LoginOutcome
    {
        guard Self.validUsername(username), var user = try await store.user(named: username), !user.disabled,
            let hash = user.passwordHash
        else {
            // Spend the time a real check takes, so timing does not reveal which usernames exist.
            _ = hasher.verify(password, against: Self.decoyHash(for: hasher))
            try await audit.record(
                .init(actor: "anonymous", action: "login_failed", target: "unknown account", address: address))
            return .refused
        }
        if let locked = user.lockedUntil.flatMap(Self.date), locked > now {
            try await audit.record(
                .init(actor: username, action: "login_locked", target: "user:\(username)", address: address))
            return .locked
        }
        guard hasher.verify(password, against: hash) else {
            user.failedLogins += 1
            if user.failedLogins >= lockoutThreshold {
                user.lockedUntil = Self.stamp(now.addingTimeInterval(lockoutDuration))
                user.failedLogins = 0
            }
            try await store.updateUser(user)
            try await audit.record(
                .init(actor: username, action: "login_failed", target: "user:\(username)", address: address))
            return user.lockedUntil.flatMap(Self.date).map { $0 > now } == true ? .locked : .refused
        }
        let rehash = hasher.needsRehash(hash)
        if user.failedLogins != 0 || user.lockedUntil != nil || rehash {
            user.failedLogins = 0
            user.lockedUntil = nil
            // A hash made with weaker parameters than today's is replaced now, while the password is at hand.
            if rehash { user.passwordHash = try hasher.hash(password) }
            try await store.updateUser(user)
        }
        let secret = Secret.generate(prefix: "ps_")
        let csrf = Secret.generate(prefix: "")
        _ = try await store.createCredential(
            Credential(
                kind: .session, userID: user.id, secretHash: Secret.hash(secret), csrfToken: csrf,
                createdAt: Self.stamp(now), expiresAt: Self.stamp(now.addingTimeInterval(sessionLifetime))))
        try await audit.record(.init(actor: username, action: "login", target: "user:\(username)", address: address))
        return .success(session: secret, csrf: csrf, user: user)
    }

    /// The identity behind a session cookie or an API token, if it is live.
    public func authenticate(secret: String, now: Date = Date()) async throws -> Identity? {
        guard secret.count <= 128, let (credential, user) = try await store.credential(secretHash: Secret.hash(secret)),
            !user.disabled, let expires = Self.date(credential.expiresAt), expires > now
        else { return nil }
        return Identity(user: user, credential: credential)
    }

    public func logout(_ identity: Identity, address: String?) async throws {
        try await store.revokeCredential(id: identity.credential.id)
        try await audit.record(
            .init(
                actor: identity.user.username, action: "logout", target: "user:\(identity.user.username)",
                address: address))
    }

    // MARK: API tokens

    /// Creates a token for an account; the secret is returned once and only its hash is kept.
    public func createToken(username: String, label: String, days: Int, by actor: Actor, now: Date = Date())
        async throws -> (Credential, String)
    {
        guard (1...366).contains(days) else {
            throw PuenteError(.invalidArgument, "Give a token lifetime from 1 to 366 days.")
        }
        let user = try await account(username)
        let secret = Secret.generate(prefix: "pt_")
        let credential = try await store.createCredential(
            Credential(
                kind: .token, userID: user.id, secretHash: Secret.hash(secret), label: label,
                createdAt: Self.stamp(now),
                expiresAt: Self.stamp(now.addingTimeInterval(Double(days) * 86_400))))
        try await audit.record(
            .init(actor: actor.name, action: "token_created", target: "user:\(username) token:\(credential.id)"))
        return (credential, secret)
    }

    public func revokeToken(id: Int64, by actor: Actor) async throws {
        try await store.revokeCredential(id: id)
        try await audit.record(.init(actor: actor.name, action: "token_revoked", target: "token:\(id)"))
    }

    // MARK: Time

    /// A fixed scrypt hash of a random password, verified against when the account does not exist.
    /// A hash with the hasher's own parameters, made once per parameters: checking a password against it
    /// takes as long as checking a real account's.
    static func decoyHash(for hasher: PasswordHasher) -> String {
        decoys.withLock { cache in
            let key = [hasher.logCost, hasher.blockSize, hasher.parallelism]
            if let known = cache[key] { return known }
            let made = (try? hasher.hash(Secret.generate(prefix: ""))) ?? ""
            cache[key] = made
            return made
        }
    }
    private static let decoys = Mutex<[[Int]: String]>([:])

    static func stamp(_ date: Date) -> String { date.formatted(.iso8601) }
    static func date(_ text: String) -> Date? { try? Date(text, strategy: .iso8601) }
}
