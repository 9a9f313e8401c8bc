import Foundation
import PuenteAccess
import PuenteCore

/// Reintegration cases: opening one from a return registered at reception, moving it through its
/// lifecycle with guarded transitions, assigning it, closing and reopening it.
///
/// Who sees a case: administrators all; supervisors and case workers those of their office (a case
/// worker without an office only those assigned to them). A case outside that scope is "not found":
/// the answer does not tell whether it exists. Reading a case's details is audited as `read_personal`;
/// audit targets name the case id, never the person.
public struct CaseService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    /// A case to open, from the return registered at reception.
    public struct Opening: Sendable {
        public var agency: String
        public var recordKey: String
        /// Office that holds the case; the case worker's own when nil.
        public var office: String?
        public var assignee: String?
        public var phone: String?
        public var language: String?

        public init(
            agency: String, recordKey: String, office: String? = nil, assignee: String? = nil, phone: String? = nil,
            language: String? = nil
        ) {
            self.agency = agency
            self.recordKey = recordKey
            self.office = office
            self.assignee = assignee
            self.phone = phone
            self.language = language
        }
    }

    /// What a move adds to the case; which fields a status needs is checked by `move`.
    public struct Update: Sendable {
        public var vulnerabilities: [String]?
        public var skills: String?
        public var intentions: String?
        public var plan: String?
        public var note: String?

        public init(
            vulnerabilities: [String]? = nil, skills: String? = nil, intentions: String? = nil, plan: String? = nil,
            note: String? = nil
        ) {
            self.vulnerabilities = vulnerabilities
            self.skills = skills
            self.intentions = intentions
            self.plan = plan
            self.note = note
        }
    }

    /// A case with its timeline and referrals, as a case worker reads it.
    public struct CaseView: Sendable {
        public var caseFile: CaseFile
        public var entries: [CaseEntry]
        public var referrals: [Referral]
        /// The person as the return records them (names, birth date, document), for the case worker
        /// to know whom they serve; nil once erased.
        public var person: PersonAttributes?
    }

    // MARK: Opening

    public func open(_ opening: Opening, by actor: Actor, today: CivilDate = .today) async throws -> CaseFile {
        let office = try await check(opening, by: actor)
        guard let found = try await store.receptionReturn(agency: opening.agency, recordKey: opening.recordKey),
            found.event.type == .return
        else {
            throw PuenteError(
                .notFound,
                "There is no return stored under that agency and record key: import the reception centre's register first."
            )
        }
        let event = found.event
        let details = CaseDetails(
            phone: try Self.line(opening.phone, field: "phone", max: 40), language: opening.language)
        let file = CaseFile(
            subject: ConsentSubject(agency: opening.agency, recordKey: opening.recordKey), eventID: found.eventID,
            personID: found.personID, office: office, assignee: opening.assignee, openedOn: today, updatedAt: "",
            profile: CaseProfile(
                arrivalDay: event.date, sex: event.person.sex, age: event.person.age,
                municipality: event.person.residenceDivision, returnedFrom: event.returnDetails?.returningFrom,
                childStatus: event.returnDetails?.childStatus),
            workflow: CaseWorkflow(reached: [CaseStatus.registered.rawValue: today]), details: details)
        var entries = [CaseEntry(caseID: 0, at: "", actor: actor.name, kind: "opened", detail: office)]
        if let assignee = opening.assignee {
            entries.append(CaseEntry(caseID: 0, at: "", actor: actor.name, kind: "assigned", detail: assignee))
        }
        let saved = try await store.saveCase(CaseChange(caseFile: file, entries: entries))
        let opened = saved.caseFile!
        try await audit.record(
            .init(
                actor: actor.name, action: "case_opened", target: "case:\(opened.id) office:\(office)",
                address: actor.address))
        return opened
    }

    /// Everything about an opening but the return it names; gives the office that will hold the case.
    /// Reception checks it before storing the return, so a refused case stores nothing.
    func check(_ opening: Opening, by actor: Actor) async throws -> String {
        try require(.cases, for: actor)
        _ = try ConsentService.subject(agency: opening.agency, recordKey: opening.recordKey)
        guard let office = try Self.office(opening.office ?? actor.organisation) else {
            throw PuenteError(
                .invalidArgument, "office: expected the office that holds the case (your account has none).")
        }
        if actor.role == .caseWorker || actor.role == .supervisor, let own = actor.organisation, own != office {
            throw PuenteError(.forbidden, "Cases can be opened only for your own office (\(own)).")
        }
        if let assignee = opening.assignee { try await checkAssignee(assignee, office: office) }
        _ = try Self.line(opening.phone, field: "phone", max: 40)
        if let language = opening.language, !ConsentService.validLanguage(language) {
            throw PuenteError(.invalidArgument, "language: expected an ISO 639 code such as es, en or kek.")
        }
        return office
    }

    // MARK: Reading

    /// Cases the actor may see, without their personal details.
    public func list(_ query: CaseQuery = CaseQuery(), by actor: Actor) async throws -> [CaseFile] {
        try require(.cases, for: actor)
        var scoped = query
        switch actor.role {
        case .admin: break
        case .caseWorker where actor.organisation == nil: scoped.assignee = actor.name
        default: scoped.office = actor.organisation ?? scoped.office
        }
        return try await store.caseFiles(scoped).map {
            var summary = $0
            summary.details = CaseDetails()
            return summary
        }
    }

    /// A case the actor may work on, without its personal details (not a read of personal data).
    public func summary(_ id: Int64, by actor: Actor) async throws -> CaseFile {
        var file = try await visibleCase(id, by: actor)
        file.details = CaseDetails()
        return file
    }

    /// A case with its details, timeline and referrals; audited as a read of personal data.
    public func show(_ id: Int64, by actor: Actor) async throws -> CaseView {
        let file = try await visibleCase(id, by: actor)
        let view = CaseView(
            caseFile: file, entries: try await store.caseEntries(caseID: id),
            referrals: try await store.referrals(ReferralQuery(caseID: id)),
            person: try await store.receptionReturn(agency: file.subject.agency, recordKey: file.subject.recordKey)?
                .event.person)
        try await audit.record(
            .init(actor: actor.name, action: "read_personal", target: "case:\(id)", address: actor.address))
        return view
    }

    // MARK: Lifecycle

    /// Moves a case to `status` (not `closed`: see `close`). `readAt` is the version the caller read;
    /// nil takes the current one (a command that reads and writes at once).
    @discardableResult
    public func move(
        _ id: Int64, readAt: Int? = nil, to status: CaseStatus, update: Update = Update(), by actor: Actor,
        today: CivilDate = .today
    ) async throws -> CaseFile {
        var file = try await visibleCase(id, by: actor, readAt: readAt)
        guard status != .closed else {
            throw PuenteError(.invalidArgument, "status: close a case with a reason (`puente cases close`).")
        }
        guard file.status.next.contains(status) else {
            throw PuenteError(
                .conflict,
                "A case cannot go from \(file.status.rawValue) to \(status.rawValue); from \(file.status.rawValue) it can go to "
                    + file.status.next.map(\.rawValue).joined(separator: ", ") + ".")
        }
        switch status {
        case .screened:
            guard let given = update.vulnerabilities else {
                throw PuenteError(
                    .invalidArgument,
                    "vulnerabilities: screening records the needs found (or none): name each, or none.")
            }
            file.details.vulnerabilities = try Self.vulnerabilities(given)
            let consents = try await store.consents(of: file.subject)
            guard consents.contains(where: { $0.purpose == .reintegration && $0.inForce }) else {
                throw PuenteError(
                    .conflict,
                    "Screening needs the person's consent to reintegration: record it (purpose reintegration), or close the case as declined."
                )
            }
        case .assessed:
            // A plan sent back for a new assessment keeps what the last one recorded unless it changes.
            guard let skills = try Self.text(update.skills, field: "skills") ?? file.details.skills,
                let intentions = try Self.text(update.intentions, field: "intentions") ?? file.details.intentions
            else {
                throw PuenteError(.invalidArgument, "skills, intentions: an assessment records both.")
            }
            (file.details.skills, file.details.intentions) = (skills, intentions)
        case .planDrafted:
            guard let plan = try Self.text(update.plan, field: "plan") else {
                throw PuenteError(
                    .invalidArgument, "plan: a drafted plan states its goals and the assistance it needs.")
            }
            file.details.plan = plan
            file.workflow.planDraftedBy = actor.name
            file.workflow.planApprovedBy = nil
        case .planApproved:
            guard actor.holds(.superviseCases) else {
                throw PuenteError(.forbidden, "A plan is approved by a supervisor.")
            }
            guard file.workflow.planDraftedBy != actor.name else {
                throw PuenteError(
                    .forbidden, "Four eyes: the plan's author cannot approve it; another supervisor must.")
            }
            file.workflow.planApprovedBy = actor.name
        case .registered, .inAssistance, .followUp, .closed: break
        }
        file.status = status
        file.workflow.reached[status.rawValue] = file.workflow.reached[status.rawValue] ?? today
        let note = try Self.text(update.note, field: "note")
        return try await save(
            file,
            entry: CaseEntry(
                caseID: id, at: "", actor: actor.name, kind: "status", detail: status.rawValue, note: note),
            action: "case_status", by: actor)
    }

    /// Closes a case with its reason. `reintegrated` only after a follow-up.
    @discardableResult
    public func close(
        _ id: Int64, readAt: Int? = nil, reason: ClosureReason, note: String? = nil, by actor: Actor,
        today: CivilDate = .today
    ) async throws -> CaseFile {
        var file = try await visibleCase(id, by: actor, readAt: readAt)
        guard file.status != .closed else { throw PuenteError(.conflict, "That case is closed already.") }
        if reason == .reintegrated, file.status != .followUp {
            throw PuenteError(
                .conflict, "A case is closed as reintegrated only after a follow-up (it is \(file.status.rawValue)).")
        }
        file.workflow.closedFrom = file.status
        file.workflow.closure = reason
        file.status = .closed
        file.workflow.reached[CaseStatus.closed.rawValue] = today
        return try await save(
            file,
            entry: CaseEntry(
                caseID: id, at: "", actor: actor.name, kind: "closed", detail: reason.rawValue,
                note: try Self.text(note, field: "note")),
            action: "case_closed", by: actor)
    }

    /// Reopens a closed case where it was closed from.
    @discardableResult
    public func reopen(_ id: Int64, readAt: Int? = nil, note: String? = nil, by actor: Actor) async throws -> CaseFile {
        var file = try await visibleCase(id, by: actor, readAt: readAt)
        guard file.status == .closed, let from = file.workflow.closedFrom else {
            throw PuenteError(.conflict, "Only a closed case can be reopened (it is \(file.status.rawValue)).")
        }
        file.status = from
        file.workflow.closure = nil
        file.workflow.closedFrom = nil
        file.workflow.reached[CaseStatus.closed.rawValue] = nil
        file.workflow.reopenings += 1
        return try await save(
            file,
            entry: CaseEntry(
                caseID: id, at: "", actor: actor.name, kind: "reopened", detail: from.rawValue,
                note: try Self.text(note, field: "note")),
            action: "case_reopened", by: actor)
    }

    /// Assigns a case to a case worker or supervisor of its office.
    @discardableResult
    public func assign(_ id: Int64, readAt: Int? = nil, to username: String, by actor: Actor) async throws -> CaseFile {
        try require(.superviseCases, for: actor)
        var file = try await visibleCase(id, by: actor, readAt: readAt)
        try await checkAssignee(username, office: file.office)
        file.assignee = username
        return try await save(
            file, entry: CaseEntry(caseID: id, at: "", actor: actor.name, kind: "assigned", detail: username),
            action: "case_assigned", by: actor)
    }

    // MARK: Shared with referrals

    /// The case if the actor may work on it (at `readAt`, when given), else `notFound`.
    func visibleCase(_ id: Int64, by actor: Actor, readAt: Int? = nil) async throws -> CaseFile {
        try require(.cases, for: actor)
        guard let file = try await store.caseFile(id: id), Self.sees(actor, file) else { throw PuenteError.noSuchCase }
        if let readAt, readAt != file.version { throw PuenteError.caseChangedSinceRead }
        return file
    }

    static func sees(_ actor: Actor, _ file: CaseFile) -> Bool {
        switch actor.role {
        case .admin: true
        case .supervisor: actor.organisation == nil || actor.organisation == file.office
        case .caseWorker:
            actor.organisation.map { $0 == file.office } ?? (file.assignee == actor.name)
        default: false
        }
    }

    private func save(_ file: CaseFile, entry: CaseEntry, action: String, by actor: Actor) async throws -> CaseFile {
        let saved = try await store.saveCase(CaseChange(caseFile: file, entries: [entry]))
        try await audit.record(
            .init(
                actor: actor.name, action: action, target: "case:\(file.id) \(entry.detail ?? "")",
                address: actor.address))
        return saved.caseFile!
    }

    private func checkAssignee(_ username: String, office: String) async throws {
        guard let user = try await store.user(named: username), !user.disabled,
            user.role == .caseWorker || user.role == .supervisor
        else {
            throw PuenteError(
                .invalidArgument, "assignee: expected the username of an active case worker or supervisor.")
        }
        if let own = user.organisation, own != office {
            throw PuenteError(.invalidArgument, "assignee: that account works for another office.")
        }
    }

    // MARK: Checks (messages name the field, never its value)

    static func office(_ text: String?) throws -> String? { try text.map { try code($0, field: "office") } }

    /// An office's or partner's code, safe in the audit trail and in URLs.
    static func code(_ text: String, field: String) throws -> String {
        guard (1...64).contains(text.count),
            text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else {
            throw PuenteError(
                .invalidArgument, "\(field): expected a code of 1 to 64 letters, digits, dots, dashes or underscores.")
        }
        return text
    }

    static func vulnerabilities(_ given: [String]) throws -> [Vulnerability] {
        if given == ["none"] { return [] }
        return try Array(Set(given.map(Vulnerability.named))).sorted { $0.rawValue < $1.rawValue }
    }

    /// Free text: trimmed, nil when empty, at most `max` characters.
    static func text(_ value: String?, field: String, max: Int = 4000) throws -> String? {
        guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        guard trimmed.count <= max else {
            throw PuenteError(.invalidArgument, "\(field): expected at most \(max) characters.")
        }
        return trimmed
    }

    static func line(_ value: String?, field: String, max: Int) throws -> String? {
        let text = try text(value, field: field, max: max)
        if let text, text.contains(where: \.isNewline) {
            throw PuenteError(.invalidArgument, "\(field): expected one line.")
        }
        return text
    }
}

/// Refuses an actor holding none of the permissions: unauthenticated for a visitor, forbidden for an
/// account (as `RoutePolicy` does for the HTTP routes).
func require(_ permissions: Permission..., for actor: Actor) throws {
    guard permissions.contains(where: actor.holds) else {
        throw PuenteError(
            actor.role == nil ? .unauthenticated : .forbidden,
            actor.role == nil ? "Sign in first." : "Your role does not allow this.")
    }
}
