/// Accounts, credentials and the audit trail. Implemented by both stores; each method is one transaction.
public protocol AccessStore: Sendable {
    /// Creates an account; `conflict` when the username is taken.
    func createUser(_ user: UserAccount) async throws -> UserAccount
    func user(named username: String) async throws -> UserAccount?
    func user(id: Int64) async throws -> UserAccount?
    func users() async throws -> [UserAccount]
    /// Replaces the account's mutable fields (role, country, organisation, password, lockout, disabled).
    func updateUser(_ user: UserAccount) async throws

    func createCredential(_ credential: Credential) async throws -> Credential
    /// The live (not revoked) credential with this secret hash, with its account.
    func credential(secretHash: String) async throws -> (Credential, UserAccount)?
    func credentials(userID: Int64?) async throws -> [Credential]
    func revokeCredential(id: Int64) async throws
    /// Removes sessions and tokens expired before `now`; returns how many.
    @discardableResult
    func deleteExpiredCredentials(now: String) async throws -> Int

    /// Appends an entry whose `sequence` is the last one plus one; `conflict` when another entry took
    /// that place first (the caller rebuilds the entry on the new head and tries again).
    func appendAudit(_ entry: AuditEntry) async throws
    /// The last entry, if any.
    func lastAudit() async throws -> AuditEntry?
    /// Entries in sequence order from `after` (exclusive), at most `limit`.
    func auditEntries(after: Int64, limit: Int) async throws -> [AuditEntry]
    /// What keys the trail's chain, kept outside the database (the store's keyring), if anything.
    var auditChainKey: (any AuditChainKey)? { get }
}

/// Keys the audit trail's hash chain and keeps its head outside the database (implemented by the
/// keyring in `PuenteAccess`, beside the personal-data keys). Whoever can write the database but not
/// read the key cannot rebuild the chain after changing or removing an entry, and a trail cut short no
/// longer reaches the head kept outside it.
public protocol AuditChainKey: Sendable {
    /// The keyed hash (HMAC-SHA-256, hex) of an entry's `chainedText`.
    func auditHash(of text: String) -> String
    /// The head recorded outside the database, or nil when there is none (no key file, or nothing
    /// recorded yet).
    func anchoredAuditHead() throws -> AuditHead?
    /// Records a newer head; an older one than the head already recorded is ignored.
    func anchorAuditHead(_ head: AuditHead) throws
}

/// The last audit entry as recorded outside the database, and the first entry that was keyed (entries
/// before it were written with a plain SHA-256 chain, before keying existed).
public struct AuditHead: Sendable, Equatable {
    public var sequence: Int64
    public var hash: String
    public var keyedFrom: Int64

    public init(sequence: Int64, hash: String, keyedFrom: Int64) {
        self.sequence = sequence
        self.hash = hash
        self.keyedFrom = keyedFrom
    }
}
