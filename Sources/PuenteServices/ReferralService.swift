import Foundation
import PuenteAccess
import PuenteCore

/// Partner organisations and closed-loop referrals: a case worker refers a case to a partner for one
/// service, under the person's referral consent naming that partner (or a supervisor's override with a
/// reason); the partner acknowledges, accepts or rejects with a reason, works on it and closes it with
/// an outcome; at the next follow-up the returnee says whether the service reached them.
///
/// A partner account sees only referrals to its organisation, and of each case only the fields its
/// referral names, while the referral is open. Every read of those fields is audited.
public struct ReferralService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog
    let cases: CaseService
    /// Days a partner has to acknowledge a referral before it escalates.
    public let acknowledgeDays: Int
    /// Referrals to partners on other nodes; nil on a node without an identity (which can make none).
    let exchange: ReferralExchange?

    public init(store: any PuenteStore, node: NodeIdentity? = nil, acknowledgeDays: Int = 5) {
        self.store = store
        audit = AuditLog(store: store)
        cases = CaseService(store: store)
        self.acknowledgeDays = acknowledgeDays
        exchange = node.map { ReferralExchange(store: store, node: $0) }
    }

    /// The exchange a referral to `partner` needs, when the partner works on another node.
    func remote(_ partner: Partner) throws -> ReferralExchange? {
        guard partner.node != nil else { return nil }
        guard let exchange else {
            throw PuenteError(
                .conflict, "\(partner.id) works on another node, and this node has no identity (`puente node init`).")
        }
        return exchange
    }

    // MARK: Partners

    public func register(_ partner: Partner, by actor: Actor) async throws {
        try require(.managePartners, for: actor)
        _ = try CaseService.code(partner.id, field: "id")
        guard (1...200).contains(partner.name.count), !partner.name.contains(where: \.isNewline) else {
            throw PuenteError(
                .invalidArgument, "name: expected the organisation's name, 1 to 200 characters on one line.")
        }
        guard !partner.services.isEmpty else {
            throw PuenteError(
                .invalidArgument,
                "services: expected at least one of " + ServiceKind.allCases.map(\.rawValue).joined(separator: ", ")
                    + ".")
        }
        for code in partner.municipalities {
            guard code.count <= 32, code.contains(":"),
                code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ":") })
            else {
                throw PuenteError(.invalidArgument, "municipalities: expected division codes such as SLV:0614.")
            }
        }
        try await store.savePartner(partner)
        try await audit.record(
            .init(
                actor: actor.name, action: "partner_registered", target: "partner:\(partner.id)", address: actor.address
            ))
    }

    public func partners(by actor: Actor) async throws -> [Partner] {
        try require(.cases, .managePartners, .partnerReferrals, for: actor)
        return try await store.partners()
    }

    // MARK: Referring

    public struct Request: Sendable {
        public var caseID: Int64
        public var partner: String
        public var service: String
        public var fields: [String]
        /// A supervisor's reason to refer without a consent naming the partner.
        public var override: String?

        public init(caseID: Int64, partner: String, service: String, fields: [String], override: String? = nil) {
            self.caseID = caseID
            self.partner = partner
            self.service = service
            self.fields = fields
            self.override = override
        }
    }

    public func refer(_ request: Request, by actor: Actor, today: CivilDate = .today) async throws -> Referral {
        let file = try await cases.visibleCase(request.caseID, by: actor)
        guard file.status != .closed else {
            throw PuenteError(.conflict, "A closed case cannot be referred; reopen it first.")
        }
        guard let partner = try await store.partner(id: request.partner), partner.active else {
            throw PuenteError(
                .notFound, "partner: there is no active partner with that code; `puente partners list` shows them.")
        }
        let service = try ServiceKind.named(request.service)
        guard partner.services.contains(service) else {
            throw PuenteError(
                .invalidArgument,
                "service: \(partner.id) offers " + partner.services.map(\.rawValue).joined(separator: ", ") + ".")
        }
        guard partner.covers(file.profile.municipality) else {
            throw PuenteError(.invalidArgument, "partner: \(partner.id) does not cover the person's municipality.")
        }
        let fields = try Array(Set(request.fields.map(ReferralField.named))).sorted { $0.rawValue < $1.rawValue }
        guard !fields.isEmpty else {
            throw PuenteError(.invalidArgument, "fields: name what the partner may see (e.g. given_names, phone).")
        }
        let remote = try remote(partner)
        _ = try await remote?.agreement(for: partner, fields: fields, on: today)
        let open = try await store.referrals(ReferralQuery(caseID: file.id, partner: partner.id))
        if open.contains(where: { $0.service == service && $0.status.isOpen }) {
            throw PuenteError(
                .conflict, "The case has an open referral to \(partner.id) for \(service.rawValue) already.")
        }
        // The consent in force for referral that names this partner (by code or name).
        let consent = try await store.consents(of: file.subject).last {
            $0.purpose == .referral && $0.inForce
                && ($0.recipients.contains(partner.id) || $0.recipients.contains(partner.name))
        }
        let override = try CaseService.text(request.override, field: "override", max: 500)
        if consent == nil {
            guard let override else {
                throw PuenteError(
                    .conflict,
                    "A referral needs the person's referral consent naming \(partner.id), or a supervisor's override with a reason."
                )
            }
            guard actor.holds(.superviseCases) else {
                throw PuenteError(.forbidden, "Only a supervisor can refer without consent.")
            }
        }
        let referral = Referral(
            caseID: file.id, partner: partner.id, service: service, fields: fields, requestedOn: today,
            requestedBy: actor.name, consentID: consent?.id, overriddenBy: consent == nil ? actor.name : nil,
            acknowledgeBy: today.adding(days: acknowledgeDays), reached: [ReferralStatus.requested.rawValue: today],
            updatedAt: "")
        let saved = try await store.saveCase(
            CaseChange(
                referrals: [referral],
                entries: [
                    CaseEntry(
                        caseID: file.id, referralID: 0, at: "", actor: actor.name, kind: "referral_requested",
                        detail: "\(partner.id) \(service.rawValue)", note: override)
                ]))
        let stored = saved.referrals[0]
        try await audit.record(
            .init(
                actor: actor.name, action: consent == nil ? "referral_consent_override" : "referral_requested",
                target: "case:\(file.id) referral:\(stored.id) partner:\(partner.id) fields:"
                    + fields.map(\.rawValue).joined(separator: ","),
                purpose: override, address: actor.address))
        try await remote?.sendPending([stored], by: actor, on: today)
        return stored
    }

    /// The referrals of one case the actor may work on.
    public func referrals(caseID: Int64, by actor: Actor) async throws -> [Referral] {
        _ = try await cases.visibleCase(caseID, by: actor)
        return try await store.referrals(ReferralQuery(caseID: caseID))
    }

    /// Referrals of the cases the actor sees.
    public func list(_ query: ReferralQuery, by actor: Actor) async throws -> [Referral] {
        try require(.cases, for: actor)
        let referrals = try await store.referrals(query)
        guard actor.role != .admin else { return referrals }
        let visible = Set(try await cases.list(CaseQuery(limit: Int.max), by: actor).map(\.id))
        return referrals.filter { visible.contains($0.caseID) }
    }

    // MARK: The loop

    /// Moves a referral on. A partner account sets the partner's statuses on referrals to its own
    /// organisation; case workers may record them for a partner without an account, and cancel.
    @discardableResult
    public func update(
        _ id: Int64, readAt: Int? = nil, to status: ReferralStatus, reason: String? = nil, note: String? = nil,
        by actor: Actor, today: CivilDate = .today
    ) async throws -> Referral {
        var referral = try await visibleReferral(id, by: actor)
        if let readAt, readAt != referral.version { throw PuenteError.caseChangedSinceRead }
        if actor.role == .partner, !status.setByPartner {
            throw PuenteError(
                .forbidden, "A partner records receipt, acceptance, progress and the outcome; the case worker cancels.")
        }
        let partner = try await store.partner(id: referral.partner)
        if let partner, partner.node != nil, status.setByPartner {
            throw PuenteError(
                .conflict, "\(partner.id) works on another node: its statuses come from there, in its packages.")
        }
        if let code = try referral.status.move(to: status, reason: reason) { referral.reason = code }
        referral.status = status
        referral.reached[status.rawValue] = referral.reached[status.rawValue] ?? today
        let saved = try await store.saveCase(
            CaseChange(
                referrals: [referral],
                entries: [
                    CaseEntry(
                        caseID: referral.caseID, referralID: referral.id, at: "", actor: actor.name,
                        kind: "referral_status",
                        detail: ([status.rawValue]
                            + [referral.reason?.rawValue].compactMap { status.needsReason ? $0 : nil })
                            .joined(separator: " "),
                        note: try CaseService.text(note, field: "note"))
                ]))
        try await audit.record(
            .init(
                actor: actor.name, action: "referral_status",
                target: "referral:\(id) case:\(referral.caseID) \(status.rawValue)", address: actor.address))
        if let partner, let remote = try remote(partner) {
            try await remote.sendPending(saved.referrals, by: actor, on: today)
        }
        return saved.referrals[0]
    }

    /// The returnee's own word on a closed referral, asked at a follow-up.
    @discardableResult
    public func feedback(
        _ id: Int64, received: Bool, usefulness: Int?, by actor: Actor, today: CivilDate = .today
    ) async throws -> Referral {
        try require(.cases, for: actor)
        var referral = try await visibleReferral(id, by: actor)
        guard [.completed, .failed].contains(referral.status) else {
            throw PuenteError(
                .conflict, "Feedback is asked once the partner has closed the referral (completed or failed).")
        }
        if let usefulness, !(1...5).contains(usefulness) {
            throw PuenteError(.invalidArgument, "usefulness: expected 1 (no use) to 5 (very useful).")
        }
        referral.feedback = ReferralFeedback(received: received, usefulness: usefulness, recordedOn: today)
        let saved = try await store.saveCase(
            CaseChange(
                referrals: [referral],
                entries: [
                    CaseEntry(
                        caseID: referral.caseID, referralID: id, at: "", actor: actor.name, kind: "referral_feedback",
                        detail: received ? "received" : "not_received")
                ]))
        try await audit.record(
            .init(
                actor: actor.name, action: "referral_feedback", target: "referral:\(id) case:\(referral.caseID)",
                address: actor.address))
        return saved.referrals[0]
    }

    /// Marks referrals still unacknowledged past their day as escalated (once each), for the
    /// supervisors' attention; returns them.
    public func escalate(by actor: Actor, today: CivilDate = .today) async throws -> [Referral] {
        try require(.superviseCases, for: actor)
        let waiting = try await store.referrals(ReferralQuery(statuses: [.requested], limit: Int.max))
        var escalated: [Referral] = []
        for var referral in waiting where referral.escalatedOn == nil && referral.acknowledgeBy < today {
            referral.escalatedOn = today
            let saved = try await store.saveCase(
                CaseChange(
                    referrals: [referral],
                    entries: [
                        CaseEntry(
                            caseID: referral.caseID, referralID: referral.id, at: "", actor: actor.name,
                            kind: "referral_escalated", detail: referral.partner)
                    ]))
            escalated.append(saved.referrals[0])
        }
        try await audit.record(
            .init(
                actor: actor.name, action: "referrals_escalated", target: "referrals:\(escalated.count)",
                address: actor.address))
        return escalated
    }

    // MARK: What partners see

    /// A referral as its partner sees it: the referral, and while it is open the case's fields it names.
    public struct ReferredCase: Codable, Sendable {
        public var referral: Referral
        /// By `ReferralField` raw value; only the referral's fields, and none once it is closed.
        public var fields: [String: String]
    }

    /// The referrals of the actor's organisation (a partner account), or of a partner named by staff.
    public func inbox(partner: String? = nil, statuses: Set<ReferralStatus>? = nil, by actor: Actor) async throws
        -> [Referral]
    {
        let organisation: String
        if actor.role == .partner {
            // An account naming no organisation has nothing referred to it.
            guard let own = actor.organisation else { return [] }
            organisation = own
        } else {
            try require(.superviseCases, .partnerReferrals, for: actor)
            guard let partner else { throw PuenteError(.invalidArgument, "partner: name the partner's code.") }
            organisation = partner
        }
        return try await store.referrals(ReferralQuery(partner: organisation, statuses: statuses))
    }

    /// One referred case as the partner sees it; audited as a read of personal data when fields are shown.
    public func referredCase(_ id: Int64, by actor: Actor) async throws -> ReferredCase {
        try require(.partnerReferrals, for: actor)
        let referral = try await visibleReferral(id, by: actor)
        guard referral.status.isOpen, let file = try await store.caseFile(id: referral.caseID) else {
            return ReferredCase(referral: referral, fields: [:])
        }
        let person = try await store.receptionReturn(agency: file.subject.agency, recordKey: file.subject.recordKey)?
            .event.person
        let values = Self.values(of: referral.fields, file: file, person: person)
        try await audit.record(
            .init(
                actor: actor.name, action: "read_personal",
                target: "referral:\(id) case:\(file.id) fields:"
                    + referral.fields.map(\.rawValue).joined(separator: ","),
                address: actor.address))
        return ReferredCase(referral: referral, fields: values)
    }

    /// What a case has for the fields a referral names, by the fields' raw values (absent when empty).
    static func values(of fields: [ReferralField], file: CaseFile, person: PersonAttributes?) -> [String: String] {
        var values: [String: String] = [:]
        for field in fields {
            let value: String? =
                switch field {
                case .givenNames: person?.givenNames
                case .surnames: person?.surnames
                case .sex: file.profile.sex.rawValue
                case .age: file.profile.age.map(String.init)
                case .phone: file.details.phone
                case .language: file.details.language
                case .municipality: file.profile.municipality
                case .vulnerabilities: file.details.vulnerabilities.map { $0.map(\.rawValue).joined(separator: ",") }
                case .skills: file.details.skills
                case .intentions: file.details.intentions
                case .plan: file.details.plan
                }
            if let value { values[field.rawValue] = value }
        }
        return values
    }

    /// The referral if the actor may act on it: its partner's accounts, or staff who see its case.
    func visibleReferral(_ id: Int64, by actor: Actor) async throws -> Referral {
        guard let referral = try await store.referral(id: id) else { throw PuenteError.noSuchReferral }
        if actor.role == .partner {
            guard actor.organisation == referral.partner else { throw PuenteError.noSuchReferral }
            return referral
        }
        _ = try await cases.visibleCase(referral.caseID, by: actor)
        return referral
    }
}
