import Foundation
import PuenteCore

/// Records and withdraws consent (IOM principle 4), checking every field and writing each decision
/// to the audit trail. The command line and the HTTP API both go through it.
///
/// Audit entries name the consent id, the agency and the purpose, never the record key: like an
/// erasure, the trail says what was done, not to whom.
public struct ConsentService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    /// A consent as the caller gives it, before checking.
    public struct Request: Sendable {
        public var agency: String
        public var recordKey: String
        public var purpose: String
        public var recipients: [String]
        public var scope: String?
        public var language: String?
        public var guardian: Bool
        /// `YYYY-MM-DD`; today when nil.
        public var givenOn: String?

        public init(
            agency: String, recordKey: String, purpose: String, recipients: [String] = [], scope: String? = nil,
            language: String? = nil, guardian: Bool = false, givenOn: String? = nil
        ) {
            self.agency = agency
            self.recordKey = recordKey
            self.purpose = purpose
            self.recipients = recipients
            self.scope = scope
            self.language = language
            self.guardian = guardian
            self.givenOn = givenOn
        }
    }

    /// Checks and stores a consent; `by` is the collector (a username or `cli:<os user>`).
    @discardableResult
    public func record(_ request: Request, by actor: Actor, today: CivilDate = .today)
        async throws -> ConsentRecord
    {
        let subject = try Self.subject(agency: request.agency, recordKey: request.recordKey)
        let purpose = try ConsentPurpose.named(request.purpose)
        let recipients = try request.recipients.map { given -> String in
            let name = given.trimmingCharacters(in: .whitespaces)
            guard (1...200).contains(name.count), !name.contains(where: \.isNewline) else {
                throw PuenteError(
                    .invalidArgument, "recipient: expected an organisation name of 1 to 200 characters on one line.")
            }
            return name
        }
        guard recipients.count <= 50 else {
            throw PuenteError(.invalidArgument, "recipients: expected at most 50 organisations.")
        }
        let scope = request.scope?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let scope, !(1...500).contains(scope.count) {
            throw PuenteError(.invalidArgument, "scope: expected 1 to 500 characters, or leave it out.")
        }
        let language = request.language ?? "es"
        guard Self.validLanguage(language) else {
            throw PuenteError(
                .invalidArgument,
                "language: expected an ISO 639 code such as es or en, optionally with a country (es-SV).")
        }
        let given = try Self.date(request.givenOn, field: "date", today: today)
        let consent = try await store.recordConsent(
            ConsentRecord(
                subject: subject, purpose: purpose, scope: scope, recipients: recipients, givenOn: given,
                language: language,
                collector: actor.name, guardian: request.guardian, recordedAt: Timestamp.now()))
        try await audit.record(
            .init(
                actor: actor.name, action: "consent_recorded",
                target: "consent:\(consent.id) agency:\(subject.agency) purpose:\(purpose.rawValue)"
                    + (request.guardian ? " guardian" : ""),
                address: actor.address))
        return consent
    }

    /// Withdraws a consent as of `on` (`YYYY-MM-DD`, today when nil); processing for its purpose stops
    /// for the subject from the next run of each step.
    @discardableResult
    public func withdraw(
        id: Int64, on date: String? = nil, by actor: Actor,
        today: CivilDate = .today
    ) async throws -> ConsentRecord {
        let withdrawnOn = try Self.date(date, field: "date", today: today)
        guard let existing = try await store.consent(id: id) else {
            throw PuenteError(
                .notFound, "There is no consent with that id; `puente consent list` shows a record's consents.")
        }
        guard withdrawnOn >= existing.givenOn else {
            throw PuenteError(.invalidArgument, "date: expected a day on or after the day the consent was given.")
        }
        let consent = try await store.withdrawConsent(id: id, on: withdrawnOn, by: actor.name)
        try await audit.record(
            .init(
                actor: actor.name, action: "consent_withdrawn",
                target: "consent:\(id) agency:\(consent.subject.agency) purpose:\(consent.purpose.rawValue)",
                address: actor.address))
        return consent
    }

    /// A record's consents. Looking them up is recorded too: it tells the reader about a person.
    public func consents(agency: String, recordKey: String, by actor: Actor) async throws
        -> [ConsentRecord]
    {
        let subject = try Self.subject(agency: agency, recordKey: recordKey)
        let consents = try await store.consents(of: subject)
        try await audit.record(
            .init(
                actor: actor.name, action: "consent_read",
                target: "agency:\(subject.agency) consents:\(consents.count)",
                address: actor.address))
        return consents
    }

    // MARK: Checks (messages name the field, never its value)

    public static func subject(agency: String, recordKey: String) throws -> ConsentSubject {
        // Agency codes are plain identifiers (SV-DGME), so they are safe in the audit trail.
        guard (1...64).contains(agency.count),
            agency.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else {
            throw PuenteError(
                .invalidArgument,
                "agency: expected the agency's code, 1 to 64 letters, digits, dots, dashes or underscores (e.g. SV-DGME)."
            )
        }
        guard (1...200).contains(recordKey.count), !recordKey.contains(where: { $0.isNewline }) else {
            throw PuenteError(
                .invalidArgument,
                "record key: expected the record's key in the agency's system, 1 to 200 characters on one line.")
        }
        return ConsentSubject(agency: agency, recordKey: recordKey)
    }

    public static func validLanguage(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (2...3).contains(parts[0].count),
            parts[0].allSatisfy({ $0.isASCII && $0.isLowercase })
        else { return false }
        return parts.count == 1 || (parts[1].count == 2 && parts[1].allSatisfy { $0.isASCII && $0.isUppercase })
    }

    static func date(_ text: String?, field: String, today: CivilDate) throws -> CivilDate {
        guard let text else { return today }
        guard let date = CivilDate(iso: text) else {
            throw PuenteError(.invalidArgument, "\(field): expected a date like 2026-05-31 (YYYY-MM-DD).")
        }
        guard date <= today else { throw PuenteError(.invalidArgument, "\(field): expected a day not after today.") }
        return date
    }
}
