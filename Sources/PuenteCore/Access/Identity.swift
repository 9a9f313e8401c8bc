/// What a person or machine may do on a node. Each role gets the least it needs (IOM principle 6,
/// need to know); `Permission` lists what each one is entitled to.
public enum Role: String, CaseIterable, Codable, Sendable {
    case admin
    /// Aggregates, and unprotected statistics of their country.
    case statistician
    /// Imports, rejects, linkage review.
    case dataOfficer = "data_officer"
    /// Personal data of their office's cases only.
    case caseWorker = "case_worker"
    /// A case worker's supervisor: assigns cases of their office, approves plans (never their own) and
    /// overrides a missing referral consent with a reason.
    case supervisor
    /// Only what is referred to their organisation, minimum fields.
    case partner
    /// Only disclosure-protected aggregates and shared packages.
    case regionalAnalyst = "regional_analyst"
    /// The audit trail, no personal data.
    case auditor
    /// Another node of the exchange (a machine account named by its node id): delivers packages signed
    /// with its key, and sees nothing else.
    case node
}

/// Something a request may need to be allowed.
public enum Permission: String, CaseIterable, Codable, Sendable {
    /// Disclosure-protected aggregates (statistics, dashboard pages, SDMX).
    case protectedStatistics = "protected_statistics"
    /// Statistics without disclosure control.
    case exactStatistics = "exact_statistics"
    /// Import batches, their reports and rejection counts.
    case imports
    /// Rows in quarantine: raw values, personal data.
    case rejects
    /// The clerical review queue of record linkage: pairs of personal records side by side.
    case linkageReview = "linkage_review"
    /// The audit trail.
    case audit
    /// Users, roles and tokens.
    case manageUsers = "manage_users"
    /// Recording, withdrawing and looking up people's consent.
    case consent
    /// Delivering signed packages to this node.
    case exchangePackages = "exchange_packages"
    /// Reintegration cases of the account's office: opening, screening, plans, referrals, follow-ups.
    case cases
    /// Assigning cases, approving plans, overriding a missing referral consent.
    case superviseCases = "supervise_cases"
    /// Registering partner organisations and the services they offer.
    case managePartners = "manage_partners"
    /// A partner organisation's referral inbox: the cases referred to it, the fields each names.
    case partnerReferrals = "partner_referrals"

    /// The roles holding the permission.
    public var roles: Set<Role> {
        switch self {
        case .protectedStatistics: [.admin, .statistician, .dataOfficer, .regionalAnalyst, .caseWorker, .supervisor]
        case .exactStatistics: [.admin, .statistician]
        case .imports: [.admin, .dataOfficer, .statistician]
        case .rejects: [.admin, .dataOfficer]
        case .linkageReview: [.admin, .dataOfficer]
        case .audit: [.admin, .auditor]
        case .manageUsers: [.admin]
        case .consent: [.admin, .dataOfficer, .caseWorker, .supervisor]
        case .exchangePackages: [.admin, .node]
        case .cases: [.admin, .caseWorker, .supervisor]
        case .superviseCases: [.admin, .supervisor]
        case .managePartners: [.admin, .supervisor]
        case .partnerReferrals: [.admin, .partner]
        }
    }
}

extension Role {
    public func holds(_ permission: Permission) -> Bool { permission.roles.contains(self) }
}

/// A person or machine account.
public struct UserAccount: Hashable, Codable, Sendable {
    public var id: Int64
    public var username: String
    public var role: Role
    /// ISO alpha-3 country whose data the account works on (statisticians' exact figures are limited to it).
    public var country: String?
    /// Office or partner organisation the account belongs to (case workers and partners).
    public var organisation: String?
    /// The encoded password hash (`scrypt$…`); nil for accounts that only use API tokens.
    public var passwordHash: String?
    public var failedLogins: Int
    /// ISO 8601 time until which password logins are refused after repeated failures.
    public var lockedUntil: String?
    public var disabled: Bool
    public var createdAt: String

    public init(
        id: Int64 = 0, username: String, role: Role, country: String? = nil, organisation: String? = nil,
        passwordHash: String? = nil, failedLogins: Int = 0, lockedUntil: String? = nil, disabled: Bool = false,
        createdAt: String
    ) {
        self.id = id
        self.username = username
        self.role = role
        self.country = country
        self.organisation = organisation
        self.passwordHash = passwordHash
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

/// A browser session or an API token, as stored: only the SHA-256 of the secret is kept, so a copy of
/// the database lets nobody in.
public struct Credential: Hashable, Codable, Sendable {
    public enum Kind: String, Codable, Sendable { case session, token }

    public var id: Int64
    public var kind: Kind
    public var userID: Int64
    /// Hex SHA-256 of the secret the client holds.
    public var secretHash: String
    /// For sessions: the token forms must echo (CSRF protection).
    public var csrfToken: String?
    /// A name for tokens (`sdmx-harvester`).
    public var label: String?
    public var createdAt: String
    public var expiresAt: String
    public var revoked: Bool

    public init(
        id: Int64 = 0, kind: Kind, userID: Int64, secretHash: String, csrfToken: String? = nil, label: String? = nil,
        createdAt: String, expiresAt: String, revoked: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.userID = userID
        self.secretHash = secretHash
        self.csrfToken = csrfToken
        self.label = label
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revoked = revoked
    }
}

/// One entry of the audit trail. Entries are chained: `hash` covers the entry's fields and the previous
/// entry's hash, so editing or deleting one breaks every hash after it.
public struct AuditEntry: Hashable, Codable, Sendable {
    /// 1, 2, 3, … without gaps.
    public var sequence: Int64
    public var at: String
    /// Username, `cli:<os user>`, or `anonymous`.
    public var actor: String
    /// `login`, `login_failed`, `logout`, `user_created`, `role_changed`, `token_created`, `token_revoked`,
    /// `export`, `read_personal`, `config`, …
    public var action: String
    /// What was acted on: a route, a record id, a username. Never personal data itself.
    public var target: String
    /// Why, where the principle of purpose specification asks for it.
    public var purpose: String?
    /// The client's address, when the action came over HTTP.
    public var address: String?
    public var previousHash: String
    public var hash: String

    public init(
        sequence: Int64, at: String, actor: String, action: String, target: String, purpose: String? = nil,
        address: String? = nil, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.purpose = purpose
        self.address = address
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The text the hash covers: every field but the hash, unambiguously joined.
    public var chainedText: String {
        [String(sequence), at, actor, action, target, purpose ?? "", address ?? "", previousHash]
            .map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
    }

    /// The previous hash of the first entry.
    public static let genesisHash = String(repeating: "0", count: 64)
}
