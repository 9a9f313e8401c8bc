/// Returnee reception and reintegration: cases, partner organisations and referrals.
///
/// A case follows one returned person from the return registered at reception to its closure. Every
/// change goes through a guarded transition (`CaseStatus.next`), carries the version it was read at
/// (two case workers editing the same case offline cannot silently overwrite each other), and leaves
/// an entry on the case's timeline.

/// Where a case stands. Closing is possible from any open status; a closed case is reopened where it
/// was closed from.
public enum CaseStatus: String, CaseIterable, Codable, Sendable {
    case registered
    /// Vulnerabilities and consent checked.
    case screened
    /// Baseline: skills and intentions.
    case assessed
    case planDrafted = "plan_drafted"
    /// Approved by a supervisor other than the plan's author.
    case planApproved = "plan_approved"
    case inAssistance = "in_assistance"
    case followUp = "follow_up"
    case closed

    /// The statuses a case may move to from this one. Going back is allowed where work is redone: a plan
    /// sent back for a new assessment, an approved plan revised (approved again), more assistance after
    /// a follow-up.
    public var next: [CaseStatus] {
        switch self {
        case .registered: [.screened, .closed]
        case .screened: [.assessed, .closed]
        case .assessed: [.planDrafted, .closed]
        case .planDrafted: [.planApproved, .assessed, .closed]
        case .planApproved: [.inAssistance, .planDrafted, .closed]
        case .inAssistance: [.followUp, .closed]
        case .followUp: [.inAssistance, .closed]
        case .closed: []
        }
    }

    public static func named(_ text: String, field: String = "status") throws -> CaseStatus {
        try closedSetValue(text, field: field)
    }
}

/// Why a case was closed.
public enum ClosureReason: String, CaseIterable, Codable, Sendable {
    /// Only after a follow-up: reintegration is judged, not assumed.
    case reintegrated
    case remigrated = "re_migrated"
    case lostContact = "lost_contact"
    case declined
    case transferred
    case deceased

    public static func named(_ text: String) throws -> ClosureReason { try closedSetValue(text, field: "reason") }
}

/// Needs found at screening that change how a case is handled.
public enum Vulnerability: String, CaseIterable, Codable, Sendable {
    case unaccompaniedChild = "unaccompanied_child"
    case separatedChild = "separated_child"
    case health
    case mentalHealth = "mental_health"
    case disability
    case protection
    case trafficking
    case genderBasedViolence = "gender_based_violence"
    case pregnancy
    case olderPerson = "older_person"

    public static func named(_ text: String) throws -> Vulnerability {
        try closedSetValue(text, field: "vulnerability")
    }
}

/// What a case records about the person that is not personal: enough to count cases by sex, age and
/// municipality through the statistics engine. Stored in clear.
public struct CaseProfile: Hashable, Codable, Sendable {
    /// The day of the return registered at reception.
    public var arrivalDay: CivilDate
    public var sex: Sex
    public var age: Int?
    /// Division of residence, a code of the country's list (`SLV:0614`).
    public var municipality: String?
    /// ISO alpha-3 of the country the person was returned from.
    public var returnedFrom: String?
    public var childStatus: ChildStatus?

    public init(
        arrivalDay: CivilDate, sex: Sex, age: Int? = nil, municipality: String? = nil, returnedFrom: String? = nil,
        childStatus: ChildStatus? = nil
    ) {
        self.arrivalDay = arrivalDay
        self.sex = sex
        self.age = age
        self.municipality = municipality
        self.returnedFrom = returnedFrom
        self.childStatus = childStatus
    }
}

/// How the case has moved: who did what when, in clear, for the four-eyes rules and the programme's
/// figures (days from arrival to an approved plan).
public struct CaseWorkflow: Hashable, Codable, Sendable {
    /// The first day the case reached each status, by the status's raw value.
    public var reached: [String: CivilDate]
    public var planDraftedBy: String?
    public var planApprovedBy: String?
    public var closure: ClosureReason?
    /// The status a closed case was closed from: where reopening resumes.
    public var closedFrom: CaseStatus?
    public var reopenings: Int

    public init(
        reached: [String: CivilDate] = [:], planDraftedBy: String? = nil, planApprovedBy: String? = nil,
        closure: ClosureReason? = nil, closedFrom: CaseStatus? = nil, reopenings: Int = 0
    ) {
        self.reached = reached
        self.planDraftedBy = planDraftedBy
        self.planApprovedBy = planApprovedBy
        self.closure = closure
        self.closedFrom = closedFrom
        self.reopenings = reopenings
    }

    public func day(reached status: CaseStatus) -> CivilDate? { reached[status.rawValue] }
}

/// What the case worker learns about the person: sealed with the node's keys before it is stored.
public struct CaseDetails: Hashable, Codable, Sendable {
    /// Nil until the case is screened; empty when screening found none.
    public var vulnerabilities: [Vulnerability]?
    /// A telephone number the person gave, to reach them for follow-ups and referrals.
    public var phone: String?
    /// Language the person prefers (`es`, `en`, `kek`…).
    public var language: String?
    public var skills: String?
    public var intentions: String?
    /// The reintegration plan as drafted: goals and the assistance it needs.
    public var plan: String?
    public var notes: String?

    public init(
        vulnerabilities: [Vulnerability]? = nil, phone: String? = nil, language: String? = nil, skills: String? = nil,
        intentions: String? = nil, plan: String? = nil, notes: String? = nil
    ) {
        self.vulnerabilities = vulnerabilities
        self.phone = phone
        self.language = language
        self.skills = skills
        self.intentions = intentions
        self.plan = plan
        self.notes = notes
    }
}

/// One reintegration case.
public struct CaseFile: Hashable, Codable, Sendable {
    public var id: Int64
    /// The return registered at reception that opened the case (one case per return).
    public var subject: ConsentSubject
    /// The stored return event, and the person record linkage put it in (when linked).
    public var eventID: Int64?
    public var personID: Int64?
    /// Office (reception centre or programme office) that holds the case.
    public var office: String
    /// Username of the case worker in charge.
    public var assignee: String?
    public var status: CaseStatus
    /// Incremented by every change; a change names the version it was read at.
    public var version: Int
    public var openedOn: CivilDate
    /// When it last changed (ISO 8601).
    public var updatedAt: String
    public var profile: CaseProfile
    public var workflow: CaseWorkflow
    public var details: CaseDetails

    public init(
        id: Int64 = 0, subject: ConsentSubject, eventID: Int64? = nil, personID: Int64? = nil, office: String,
        assignee: String? = nil, status: CaseStatus = .registered, version: Int = 0, openedOn: CivilDate,
        updatedAt: String, profile: CaseProfile, workflow: CaseWorkflow = CaseWorkflow(),
        details: CaseDetails = CaseDetails()
    ) {
        self.id = id
        self.subject = subject
        self.eventID = eventID
        self.personID = personID
        self.office = office
        self.assignee = assignee
        self.status = status
        self.version = version
        self.openedOn = openedOn
        self.updatedAt = updatedAt
        self.profile = profile
        self.workflow = workflow
        self.details = details
    }
}

/// One line of a case's timeline. `note` is personal (sealed when stored); `kind` and `detail` are codes
/// and names only.
public struct CaseEntry: Hashable, Codable, Sendable {
    public var id: Int64
    public var caseID: Int64
    /// The referral the entry is about; 0 in a change that creates a referral means that new referral.
    public var referralID: Int64?
    public var at: String
    public var actor: String
    /// `opened`, `status`, `assigned`, `closed`, `reopened`, `referral_requested`, `referral_status`, …
    public var kind: String
    /// Codes: the new status, the assignee, a closure reason.
    public var detail: String?
    public var note: String?

    public init(
        id: Int64 = 0, caseID: Int64, referralID: Int64? = nil, at: String, actor: String, kind: String,
        detail: String? = nil, note: String? = nil
    ) {
        self.id = id
        self.caseID = caseID
        self.referralID = referralID
        self.at = at
        self.actor = actor
        self.kind = kind
        self.detail = detail
        self.note = note
    }
}

/// What partners offer and referrals ask for.
public enum ServiceKind: String, CaseIterable, Codable, Sendable {
    case psychosocial
    case health
    case legal
    case documents
    case shelter
    case education
    case vocationalTraining = "vocational_training"
    case jobPlacement = "job_placement"
    case businessDevelopment = "business_development"
    case familyReunification = "family_reunification"
    case cashAssistance = "cash_assistance"

    public static func named(_ text: String) throws -> ServiceKind { try closedSetValue(text, field: "service") }
}

/// An organisation cases are referred to: an NGO, a municipality, a training centre, or an
/// organisation registered on another node.
public struct Partner: Hashable, Codable, Sendable {
    /// A short code (`SV-INSAFORP`): letters, digits, dots, dashes, underscores. Partner accounts name it
    /// as their organisation.
    public var id: String
    public var name: String
    public var services: [ServiceKind]
    /// Division codes covered; empty covers the whole country.
    public var municipalities: [String]
    /// The node the organisation works on, when it is not this one.
    public var node: String?
    public var active: Bool

    public init(
        id: String, name: String, services: [ServiceKind], municipalities: [String] = [], node: String? = nil,
        active: Bool = true
    ) {
        self.id = id
        self.name = name
        self.services = services
        self.municipalities = municipalities
        self.node = node
        self.active = active
    }

    public func covers(_ municipality: String?) -> Bool {
        municipalities.isEmpty || municipality.map(municipalities.contains) == true
    }
}

/// A closed-loop referral's status, in HL7 FHIR Task's vocabulary where it has one.
public enum ReferralStatus: String, CaseIterable, Codable, Sendable {
    case requested
    /// The partner acknowledged it (seen, not yet decided).
    case received
    case accepted
    case rejected
    case inProgress = "in_progress"
    case completed
    case failed
    /// Withdrawn by the case worker, or by a withdrawal of the person's consent.
    case cancelled

    public var next: [ReferralStatus] {
        switch self {
        case .requested: [.received, .accepted, .rejected, .cancelled]
        case .received: [.accepted, .rejected, .cancelled]
        case .accepted: [.inProgress, .completed, .failed, .cancelled]
        case .inProgress: [.completed, .failed, .cancelled]
        case .rejected, .completed, .failed, .cancelled: []
        }
    }

    /// Still waiting for the partner or in its hands: the partner sees the referred fields.
    public var isOpen: Bool { !next.isEmpty }

    /// Statuses the partner sets (the case worker requests and cancels).
    public var setByPartner: Bool {
        [.received, .accepted, .rejected, .inProgress, .completed, .failed].contains(self)
    }

    /// Statuses that need a reason (a code) when set.
    public var needsReason: Bool { [.rejected, .completed, .failed, .cancelled].contains(self) }

    public static func named(_ text: String) throws -> ReferralStatus { try closedSetValue(text, field: "status") }

    /// Checks a move from this status to `status` with the `reason` code given, for whoever may set the
    /// statuses `settable` allows; returns the reason code when `status` takes one. Refusals name the
    /// statuses it can go to, or the reasons `status` takes.
    public func move(
        to status: ReferralStatus, reason: String?, settable: (ReferralStatus) -> Bool = { _ in true }
    ) throws -> ReferralReason? {
        let reachable = next.filter(settable)
        guard reachable.contains(status) else {
            throw PuenteError(
                .conflict,
                "A referral cannot go from \(rawValue) to \(status.rawValue)"
                    + (next.isEmpty
                        ? "; it is closed."
                        : "; it can go to " + reachable.map(\.rawValue).joined(separator: ", ") + "."))
        }
        guard status.needsReason else {
            guard reason == nil else {
                throw PuenteError(
                    .invalidArgument,
                    "reason: only " + Self.allCases.filter(\.needsReason).map(\.rawValue).joined(separator: ", ")
                        + " take a reason.")
            }
            return nil
        }
        let allowed = ReferralReason.allowed(for: status)
        guard let reason, let code = ReferralReason(rawValue: reason), allowed.contains(code) else {
            throw PuenteError(
                .invalidArgument,
                "reason: \(status.rawValue) needs one of " + allowed.map(\.rawValue).joined(separator: ", ") + ".")
        }
        return code
    }
}

/// Reason codes a referral's closing status takes: rejected and failed say why, completed says how much
/// was delivered.
public enum ReferralReason: String, CaseIterable, Codable, Sendable {
    case delivered
    case partiallyDelivered = "partially_delivered"
    case noCapacity = "no_capacity"
    case outsideArea = "outside_area"
    case notEligible = "not_eligible"
    case serviceNotOffered = "service_not_offered"
    case unreachable
    case declinedByReturnee = "declined_by_returnee"
    case consentWithdrawn = "consent_withdrawn"
    case notNeeded = "not_needed"
    case other

    /// The reasons that fit a closing status.
    public static func allowed(for status: ReferralStatus) -> [ReferralReason] {
        switch status {
        case .completed: [.delivered, .partiallyDelivered]
        case .rejected: [.noCapacity, .outsideArea, .notEligible, .serviceNotOffered, .other]
        case .failed: [.unreachable, .declinedByReturnee, .notEligible, .noCapacity, .other]
        case .cancelled: [.notNeeded, .consentWithdrawn, .other]
        default: []
        }
    }
}

/// Fields of a case a referral may show its partner. The partner sees these and nothing else.
public enum ReferralField: String, CaseIterable, Codable, Sendable {
    case givenNames = "given_names"
    case surnames
    case sex
    case age
    case phone
    case language
    case municipality
    case vulnerabilities
    case skills
    case intentions
    case plan

    public static func named(_ text: String) throws -> ReferralField { try closedSetValue(text, field: "fields") }
}

/// The returnee's own word on a referral, asked at the next follow-up: did the service reach them, and
/// was it of use (1 to 5). What no partner report can say.
public struct ReferralFeedback: Hashable, Codable, Sendable {
    public var received: Bool
    public var usefulness: Int?
    public var recordedOn: CivilDate

    public init(received: Bool, usefulness: Int?, recordedOn: CivilDate) {
        self.received = received
        self.usefulness = usefulness
        self.recordedOn = recordedOn
    }
}

/// A referral of a case to a partner for one service.
public struct Referral: Hashable, Codable, Sendable {
    public var id: Int64
    public var caseID: Int64
    public var partner: String
    public var service: ServiceKind
    /// What the partner may see of the case.
    public var fields: [ReferralField]
    public var status: ReferralStatus
    public var version: Int
    public var requestedOn: CivilDate
    public var requestedBy: String
    /// The referral consent naming the partner; nil when a supervisor overrode its absence.
    public var consentID: Int64?
    public var overriddenBy: String?
    /// The partner should acknowledge by then; past it, an unacknowledged referral escalates.
    public var acknowledgeBy: CivilDate
    public var escalatedOn: CivilDate?
    /// The first day the referral reached each status, by the status's raw value.
    public var reached: [String: CivilDate]
    public var reason: ReferralReason?
    public var feedback: ReferralFeedback?
    public var updatedAt: String

    public init(
        id: Int64 = 0, caseID: Int64, partner: String, service: ServiceKind, fields: [ReferralField],
        status: ReferralStatus = .requested, version: Int = 0, requestedOn: CivilDate, requestedBy: String,
        consentID: Int64? = nil, overriddenBy: String? = nil, acknowledgeBy: CivilDate, escalatedOn: CivilDate? = nil,
        reached: [String: CivilDate] = [:], reason: ReferralReason? = nil, feedback: ReferralFeedback? = nil,
        updatedAt: String
    ) {
        self.id = id
        self.caseID = caseID
        self.partner = partner
        self.service = service
        self.fields = fields
        self.status = status
        self.version = version
        self.requestedOn = requestedOn
        self.requestedBy = requestedBy
        self.consentID = consentID
        self.overriddenBy = overriddenBy
        self.acknowledgeBy = acknowledgeBy
        self.escalatedOn = escalatedOn
        self.reached = reached
        self.reason = reason
        self.feedback = feedback
        self.updatedAt = updatedAt
    }

    public func day(reached status: ReferralStatus) -> CivilDate? { reached[status.rawValue] }
}

/// Something a case accumulates besides its file and referrals: a survey administered, a grant and its
/// tranches. `body` is clear JSON (codes, dates, scores, amounts: what the programme's figures read);
/// `content` is personal JSON (raw answers), sealed when stored. Each kind's Codable value lives with
/// its feature; the store keeps them all alike.
public struct CaseRecord: Hashable, Codable, Sendable {
    public var id: Int64
    public var caseID: Int64
    /// `survey`, `grant`, …
    public var kind: String
    public var version: Int
    /// The day it is about (a survey administered, a grant applied for).
    public var day: CivilDate
    public var updatedAt: String
    public var body: String
    public var content: String?

    public init(
        id: Int64 = 0, caseID: Int64, kind: String, version: Int = 0, day: CivilDate, updatedAt: String = "",
        body: String, content: String? = nil
    ) {
        self.id = id
        self.caseID = caseID
        self.kind = kind
        self.version = version
        self.day = day
        self.updatedAt = updatedAt
        self.body = body
        self.content = content
    }
}

/// A referral another node made to a partner organisation that works on this node: what the referring
/// node sent (under a referral agreement, encrypted to this node) and how far the partner has taken it.
/// The partner sees `values` (only the fields the referral names) while it is open; they are dropped
/// when it closes or the referring node cancels it. Each status the partner sets is reported back to the
/// referring node, and `reportedStatus` says how far that has gone.
public struct IncomingReferral: Hashable, Codable, Sendable {
    public var id: Int64
    /// The referring node, the agreement it referred under and its own id for the referral.
    public var sender: String
    public var agreement: String
    public var originID: Int64
    public var partner: String
    public var service: ServiceKind
    public var fields: [ReferralField]
    /// By `ReferralField` raw value; empty once the referral is closed.
    public var values: [String: String]
    public var status: ReferralStatus
    public var version: Int
    public var requestedOn: CivilDate
    public var acknowledgeBy: CivilDate
    /// The first day it reached each status, by the status's raw value.
    public var reached: [String: CivilDate]
    public var reason: ReferralReason?
    /// The latest status sent back to the referring node (nil until the first).
    public var reportedStatus: ReferralStatus?
    public var updatedAt: String

    public init(
        id: Int64 = 0, sender: String, agreement: String, originID: Int64, partner: String, service: ServiceKind,
        fields: [ReferralField], values: [String: String], status: ReferralStatus = .requested, version: Int = 0,
        requestedOn: CivilDate, acknowledgeBy: CivilDate, reached: [String: CivilDate] = [:],
        reason: ReferralReason? = nil, reportedStatus: ReferralStatus? = nil, updatedAt: String = ""
    ) {
        self.id = id
        self.sender = sender
        self.agreement = agreement
        self.originID = originID
        self.partner = partner
        self.service = service
        self.fields = fields
        self.values = values
        self.status = status
        self.version = version
        self.requestedOn = requestedOn
        self.acknowledgeBy = acknowledgeBy
        self.reached = reached
        self.reason = reason
        self.reportedStatus = reportedStatus
        self.updatedAt = updatedAt
    }
}
