/// What a person may consent to, one purpose at a time (IOM principle 4): consenting to one purpose
/// says nothing about another.
public enum ConsentPurpose: String, CaseIterable, Codable, Sendable {
    /// Linking the person's records across sources (`puente link`).
    case linkage
    /// Case management for the person's reintegration.
    case reintegration
    /// Sharing with partner organisations that take the person's case.
    case referral
    /// Sharing with other nodes.
    case exchange

    /// A short title in Spanish, the language consent is usually collected in.
    public var titleES: String {
        switch self {
        case .linkage: "Vinculación de registros"
        case .reintegration: "Reintegración (gestión de casos)"
        case .referral: "Referencia a organizaciones aliadas"
        case .exchange: "Intercambio con otros nodos"
        }
    }

    public var titleEN: String {
        switch self {
        case .linkage: "Record linkage"
        case .reintegration: "Reintegration (case management)"
        case .referral: "Referral to partner organisations"
        case .exchange: "Exchange with other nodes"
        }
    }

    /// The purpose named `text`, or an error that names the field and lists the allowed values.
    public static func named(_ text: String) throws -> ConsentPurpose { try closedSetValue(text, field: "purpose") }
}

/// Whose consent: the record it was collected for, by its key in the agency's system (as events are
/// identified). The key is pseudonymous, but it still points at a person: it never goes into a URL,
/// a log or the audit trail.
public struct ConsentSubject: Hashable, Codable, Sendable {
    public var agency: String
    public var recordKey: String

    public init(agency: String, recordKey: String) {
        self.agency = agency
        self.recordKey = recordKey
    }
}

/// One consent, for one purpose, as collected; withdrawn once at most.
public struct ConsentRecord: Hashable, Codable, Sendable {
    public var id: Int64
    public var subject: ConsentSubject
    public var purpose: ConsentPurpose
    /// What exactly was agreed to, when narrower than the purpose ("only records of 2016").
    public var scope: String?
    /// Organisations the data may go to under this consent.
    public var recipients: [String]
    /// The day the person (or their guardian) gave consent.
    public var givenOn: CivilDate
    /// Language the consent was explained and given in (`es`, `en`, `es-SV`).
    public var language: String
    /// Account that recorded it.
    public var collector: String
    /// Given by a parent or legal guardian on behalf of a child.
    public var guardian: Bool
    /// When Puente stored it (ISO 8601).
    public var recordedAt: String
    public var withdrawnOn: CivilDate?
    /// Account that recorded the withdrawal.
    public var withdrawnBy: String?

    public init(
        id: Int64 = 0, subject: ConsentSubject, purpose: ConsentPurpose, scope: String? = nil,
        recipients: [String] = [],
        givenOn: CivilDate, language: String = "es", collector: String, guardian: Bool = false, recordedAt: String,
        withdrawnOn: CivilDate? = nil, withdrawnBy: String? = nil
    ) {
        self.id = id
        self.subject = subject
        self.purpose = purpose
        self.scope = scope
        self.recipients = recipients
        self.givenOn = givenOn
        self.language = language
        self.collector = collector
        self.guardian = guardian
        self.recordedAt = recordedAt
        self.withdrawnOn = withdrawnOn
        self.withdrawnBy = withdrawnBy
    }

    /// Not withdrawn: the consent still covers its purpose.
    public var inForce: Bool { withdrawnOn == nil }
}

/// What a processing step asks before it runs for a purpose: the subjects it must leave out.
///
/// Only a withdrawal excludes: records without any consent record were collected under another legal
/// basis (a register), and their processing is governed by that basis, not by this gate.
public struct ConsentGate: Sendable {
    let store: any ConsentStore

    public init(store: any ConsentStore) {
        self.store = store
    }

    /// Subjects to skip for `purpose`; read once per run, then test `contains(ConsentSubject(…))`.
    public func excluded(for purpose: ConsentPurpose) async throws -> Set<ConsentSubject> {
        try await store.withdrawnSubjects(purpose: purpose)
    }
}
