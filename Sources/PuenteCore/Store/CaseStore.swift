/// One change to a case and its referrals, written in one transaction with its timeline entries.
///
/// Every record carries the version it was read at: the store writes it only if the stored version is
/// still that one, and bumps it, so of two edits made from the same reading the second is refused
/// (`conflict`) instead of silently overwriting the first. A record with id 0 is new.
public struct CaseChange: Sendable {
    public var caseFile: CaseFile?
    public var referrals: [Referral]
    public var records: [CaseRecord]
    /// Entries for a new case name case id 0; entries about the referral this change creates name
    /// referral id 0.
    public var entries: [CaseEntry]

    public init(
        caseFile: CaseFile? = nil, referrals: [Referral] = [], records: [CaseRecord] = [], entries: [CaseEntry]
    ) {
        self.caseFile = caseFile
        self.referrals = referrals
        self.records = records
        self.entries = entries
    }
}

/// Which cases to list.
public struct CaseQuery: Sendable {
    public var office: String?
    public var assignee: String?
    public var statuses: Set<CaseStatus>?
    /// Only these cases (a partner's referred ones).
    public var ids: [Int64]?
    public var limit: Int

    public init(
        office: String? = nil, assignee: String? = nil, statuses: Set<CaseStatus>? = nil, ids: [Int64]? = nil,
        limit: Int = 1000
    ) {
        self.office = office
        self.assignee = assignee
        self.statuses = statuses
        self.ids = ids
        self.limit = limit
    }
}

/// Which referrals to list.
public struct ReferralQuery: Sendable {
    public var caseID: Int64?
    public var partner: String?
    public var statuses: Set<ReferralStatus>?
    public var limit: Int

    public init(caseID: Int64? = nil, partner: String? = nil, statuses: Set<ReferralStatus>? = nil, limit: Int = 1000) {
        self.caseID = caseID
        self.partner = partner
        self.statuses = statuses
        self.limit = limit
    }
}

/// A return as a case opens from it: the counted event with the agency's key, with its personal fields
/// opened, and the person record linkage put it in.
public struct ReceptionReturn: Sendable {
    public var eventID: Int64
    public var event: MovementEvent
    public var personID: Int64?

    public init(eventID: Int64, event: MovementEvent, personID: Int64?) {
        self.eventID = eventID
        self.event = event
        self.personID = personID
    }
}

/// Reintegration cases, partner organisations and referrals. Implemented by both stores; each method is
/// one transaction. Case details, timeline notes are sealed with the store's cipher.
public protocol CaseStore: Sendable {
    /// The counted event stored under that agency and key, if any.
    func receptionReturn(agency: String, recordKey: String) async throws -> ReceptionReturn?
    /// Writes a change (see `CaseChange`) and returns it as stored, with ids and new versions;
    /// `conflict` when a record changed since it was read or a return already has a case.
    func saveCase(_ change: CaseChange) async throws -> CaseChange
    func caseFile(id: Int64) async throws -> CaseFile?
    /// Cases, most recently changed first.
    func caseFiles(_ query: CaseQuery) async throws -> [CaseFile]
    /// A case's timeline, oldest first.
    func caseEntries(caseID: Int64) async throws -> [CaseEntry]
    func referral(id: Int64) async throws -> Referral?
    /// Referrals, oldest first.
    func referrals(_ query: ReferralQuery) async throws -> [Referral]
    /// A case's records of a kind (all cases when `caseID` is nil), oldest day first.
    func caseRecords(caseID: Int64?, kind: String) async throws -> [CaseRecord]
    func caseRecord(id: Int64) async throws -> CaseRecord?
    /// Adds a partner or replaces its description (id kept).
    func savePartner(_ partner: Partner) async throws
    func partners() async throws -> [Partner]
    /// Adds a referral received from another node (id 0), or writes one back if its stored version is
    /// still the one it was read at (`conflict` otherwise); returns it as stored.
    func saveIncomingReferral(_ referral: IncomingReferral) async throws -> IncomingReferral
    /// Incoming referrals by id, by the referring node's own id, or a partner's; oldest first.
    func incomingReferrals(id: Int64?, sender: String?, originID: Int64?, partner: String?) async throws
        -> [IncomingReferral]
}

extension CaseStore {
    public func partner(id: String) async throws -> Partner? { try await partners().first { $0.id == id } }
}

extension PuenteError {
    public static let caseChangedSinceRead = PuenteError(
        .conflict,
        "The case or referral changed since it was read (someone else saved first): read it again and redo the change.")
    public static let returnHasCase = PuenteError(.conflict, "That return already has a case.")
    public static let noSuchCase = PuenteError(
        .notFound, "There is no case with that id; `puente cases list` shows them.")
    public static let noSuchReferral = PuenteError(
        .notFound, "There is no referral with that id; `puente referrals list` shows them.")
}
