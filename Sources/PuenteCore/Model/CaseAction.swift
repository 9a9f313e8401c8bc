/// One step of case work as a file holds it: what `puente cases load` replays through the same
/// services as the screens, each as the staff member who took it, on its day. Generated cohorts are
/// written this way, and so could a migration from another case system be.
///
/// A case is named by its return (`agency`, `recordKey`), a referral by its number within the case
/// (1, 2, … in the order they were made), a grant by its case (one at a time).
public struct CaseAction: Codable, Hashable, Sendable {
    public enum Op: String, Codable, Sendable, CaseIterable {
        case open, consent, move, close, reopen
        case refer, referral, feedback
        case survey
        case grantApply = "grant_apply"
        case grantReview = "grant_review"
        case grantDecide = "grant_decide"
        case grantSchedule = "grant_schedule"
        case trancheRequest = "tranche_request"
        case trancheApprove = "tranche_approve"
        case trancheDisburse = "tranche_disburse"
        case grantVisit = "grant_visit"
    }

    public var day: CivilDate
    /// The staff member's username (or the partner account's, for a referral's status).
    public var actor: String
    public var op: Op
    public var agency: String
    public var recordKey: String
    /// `open`: the office; `move`: the status; `close`: the reason; `referral`: the status.
    public var to: String?
    public var reason: String?
    public var note: String?
    public var phone: String?
    public var vulnerabilities: [String]?
    public var skills: String?
    public var intentions: String?
    public var plan: String?
    /// `consent`: the purpose and recipients.
    public var purpose: String?
    public var recipients: [String]?
    /// `refer`: partner, service, fields, override.
    public var partner: String?
    public var service: String?
    public var fields: [String]?
    public var override: String?
    /// `refer`, `referral`, `feedback`: the referral's number within the case (for `refer`, when the file
    /// numbers referrals otherwise than in the order they were made).
    public var referral: Int?
    public var received: Bool?
    public var usefulness: Int?
    /// `survey`.
    public var occasion: String?
    public var mode: String?
    public var answers: [String: String]?
    /// Grants.
    public var amount: String?
    public var currency: String?
    public var score: Int?
    public var tranches: [String]?
    public var tranche: Int?
    public var business: String?
    public var reference: String?

    public init(day: CivilDate, actor: String, op: Op, agency: String, recordKey: String) {
        self.day = day
        self.actor = actor
        self.op = op
        self.agency = agency
        self.recordKey = recordKey
    }
}

/// A staff or partner account a case file's actions name.
public struct CaseStaff: Codable, Hashable, Sendable {
    public var username: String
    public var role: Role
    public var organisation: String

    public init(username: String, role: Role, organisation: String) {
        self.username = username
        self.role = role
        self.organisation = organisation
    }
}
