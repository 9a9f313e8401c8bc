import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange

/// Referrals between nodes: a case worker here refers to a partner that works on another node (the
/// partner is registered here with that node), and the referral travels as a signed package encrypted to
/// that node, under a referral agreement in force. The partner works on it there; each status it sets
/// comes back the same way and moves the referral here, so the loop closes as it does for local partners.
///
/// Sending is by reconciliation, one mechanism for every path: what a node owes the other is worked out
/// from the referral's state and what it has sent (the case's timeline here, `reportedStatus` there),
/// so a request, a cancellation by consent withdrawal or a status whose package was never queued is sent
/// at the next push. Applying a message is idempotent: a package delivered twice changes nothing.
public struct ReferralExchange: Sendable {
    let store: any PuenteStore
    let node: NodeIdentity
    let agreements: AgreementService
    let audit: AuditLog

    public init(store: any PuenteStore, node: NodeIdentity) {
        self.store = store
        self.node = node
        agreements = AgreementService(store: store, node: node)
        audit = AuditLog(store: store)
    }

    // MARK: The referring node

    /// The referral agreement in force under which this node refers to `partner`'s node and which lets
    /// `fields` through.
    func agreement(for partner: Partner, fields: [ReferralField], on date: CivilDate) async throws -> Agreement {
        guard let other = partner.node else { throw PuenteError(.invalidArgument, "partner: works on this node.") }
        var found: Agreement?
        for kept in try await store.agreements() where kept.revokedOn == nil {
            guard let terms = try? kept.signed().terms, terms.purpose == .referral, terms.sender.node == node.id,
                terms.receiver.node == other, (try? await agreements.inForce(id: kept.id, on: date)) != nil
            else { continue }
            found = terms
        }
        guard let terms = found else {
            throw PuenteError(
                .conflict,
                "\(partner.id) works on node \(other): a referral to it needs a referral agreement in force with \(other)."
            )
        }
        let allowed = Set(terms.referralFields ?? [])
        if let field = fields.first(where: { !allowed.contains($0.rawValue) }) {
            throw PuenteError(
                .invalidArgument,
                "fields: agreement \(terms.id) lets a referral to \(other) carry only "
                    + (terms.referralFields ?? []).joined(separator: ", ") + ", not \(field.rawValue).")
        }
        return terms
    }

    /// Queues what this node owes the partners' nodes for `referrals`: the request of a referral to a
    /// partner on another node that was not sent yet, and the cancellation of one cancelled here. Each
    /// message sent is a `referral_sent` entry on the case's timeline, which is how the next call knows.
    @discardableResult
    public func sendPending(_ referrals: [Referral], by actor: Actor, on date: CivilDate = .today) async throws
        -> [SentPackage]
    {
        var out: [SentPackage] = []
        for referral in referrals where [.requested, .cancelled].contains(referral.status) {
            guard let partner = try await store.partner(id: referral.partner), partner.node != nil else { continue }
            let sent = Set(
                try await store.caseEntries(caseID: referral.caseID).filter {
                    $0.kind == "referral_sent" && $0.referralID == referral.id
                }.compactMap(\.detail))
            var owed: [ReferralMessage] = []
            if !sent.contains(ReferralStatus.requested.rawValue) {
                // A referral cancelled before its request left needs neither.
                if referral.status == .cancelled { continue }
                owed.append(try await request(referral, partner: partner))
            }
            if referral.status == .cancelled, !sent.contains(ReferralStatus.cancelled.rawValue) {
                owed.append(
                    .status(
                        referral: referral.id, partner: partner.id, status: .cancelled, reason: referral.reason,
                        on: referral.day(reached: .cancelled) ?? date))
            }
            for message in owed {
                let terms = try await agreement(for: partner, fields: referral.fields, on: date)
                out.append(try await send(message, terms: terms, by: actor))
                _ = try await store.saveCase(
                    CaseChange(entries: [
                        CaseEntry(
                            caseID: referral.caseID, referralID: referral.id, at: "", actor: actor.name,
                            kind: "referral_sent", detail: message.status?.rawValue ?? ReferralStatus.requested.rawValue
                        )
                    ]))
            }
        }
        return out
    }

    /// Everything owed to other nodes, both ways: what `exchange push` and the server's push run first,
    /// so a consent withdrawn since (which cancels the referral here) reaches the partner's node.
    @discardableResult
    public func sendPending(by actor: Actor, on date: CivilDate = .today) async throws -> [SentPackage] {
        var out: [SentPackage] = []
        for partner in try await store.partners() where partner.node != nil {
            let referrals = try await store.referrals(
                ReferralQuery(partner: partner.id, statuses: [.requested, .cancelled], limit: Int.max))
            out += try await sendPending(referrals, by: actor, on: date)
        }
        for incoming in try await store.incomingReferrals(id: nil, sender: nil, originID: nil, partner: nil)
        where incoming.status.setByPartner && incoming.reportedStatus != incoming.status {
            out += [try await report(incoming, by: actor)].compactMap { $0 }
        }
        return out
    }

    /// The request for a referral, with the values the case has for its fields.
    func request(_ referral: Referral, partner: Partner) async throws -> ReferralMessage {
        guard let file = try await store.caseFile(id: referral.caseID) else { throw PuenteError.noSuchCase }
        let person = try await store.receptionReturn(agency: file.subject.agency, recordKey: file.subject.recordKey)?
            .event.person
        return .request(
            referral: referral.id, partner: partner.id, service: referral.service, fields: referral.fields,
            values: ReferralService.values(of: referral.fields, file: file, person: person),
            on: referral.requestedOn, acknowledgeBy: referral.acknowledgeBy,
            basis: referral.consentID == nil ? "override" : "consent")
    }

    /// Encrypts, signs and queues a message to the agreement's other party.
    func send(_ message: ReferralMessage, terms: Agreement, by actor: Actor) async throws -> SentPackage {
        let package = try ReferralPackage.seal(
            message, terms: terms, from: node, sequence: try await store.nextSentSequence(agreement: terms.id),
            createdAt: Timestamp.now())
        let file = try package.file()
        let manifest = package.manifest
        let sent = SentPackage(
            id: manifest.id, agreement: terms.id, receiver: manifest.receiver, sequence: manifest.sequence,
            period: manifest.period, digest: SignedPackage.digest(of: file),
            file: String(decoding: file, as: UTF8.self), createdAt: manifest.createdAt)
        try await store.saveSentPackage(sent)
        try await audit.record(
            .init(
                actor: actor.name, action: "package_created",
                target:
                    "package:\(manifest.id) agreement:\(terms.id) to:\(manifest.receiver) sequence:\(manifest.sequence) "
                    + "referral:\(message.referral) \(message.status?.rawValue ?? "requested") sha256:\(sent.digest)",
                address: actor.address))
        return sent
    }

    // MARK: Applying what comes in

    /// Applies a checked message from `sender` under `agreement`: a request becomes an incoming
    /// referral for the partner here; a status moves the referral it names (an incoming one when the
    /// referring node cancels, one of this node's when the partner's node reports).
    func apply(_ message: ReferralMessage, from sender: String, agreement: String, by actor: Actor) async throws {
        let known = try await store.incomingReferrals(
            id: nil, sender: sender, originID: message.referral, partner: nil
        ).first
        switch (message.kind, message.status) {
        case (.request, _):
            guard known == nil else { return }
            guard let partner = try await store.partner(id: message.partner), partner.active, partner.node == nil
            else {
                throw PuenteError(
                    .outsideAgreement, "Partner \(message.partner) is not registered as working on this node.")
            }
            let saved = try await store.saveIncomingReferral(
                IncomingReferral(
                    sender: sender, agreement: agreement, originID: message.referral, partner: partner.id,
                    service: message.service!, fields: message.fields!, values: message.values ?? [:],
                    requestedOn: message.on, acknowledgeBy: message.acknowledgeBy!,
                    reached: [ReferralStatus.requested.rawValue: message.on]))
            try await audit.record(
                .init(
                    actor: actor.name, action: "referral_received",
                    target: "incoming_referral:\(saved.id) from:\(sender) referral:\(message.referral) "
                        + "partner:\(partner.id) fields:" + saved.fields.map(\.rawValue).joined(separator: ","),
                    address: actor.address))
        case (.status, .cancelled?) where known != nil:
            guard var incoming = known, incoming.status.isOpen else { return }
            incoming.status = .cancelled
            incoming.reason = message.reason
            incoming.reached[ReferralStatus.cancelled.rawValue] = message.on
            incoming.values = [:]  // the partner's access ends with the referral
            let saved = try await store.saveIncomingReferral(incoming)
            try await audit.record(
                .init(
                    actor: actor.name, action: "referral_status",
                    target: "incoming_referral:\(saved.id) from:\(sender) cancelled", address: actor.address))
        case (.status, .cancelled?):
            return  // cancelled before its request arrived: nothing to undo
        case (.status, let status?):
            try await applyReport(
                status, reason: message.reason, on: message.on, to: message.referral, from: sender, by: actor)
        case (.status, nil):
            throw PuenteError(.packageMalformed, "A referral status needs its status.")
        }
    }

    /// A status the partner's node reports for one of this node's referrals. One that went past steps
    /// whose packages are lost still lands (requested → completed); one the referral can no longer reach
    /// (it was cancelled here meanwhile) is noted on the timeline and left.
    func applyReport(
        _ status: ReferralStatus, reason: ReferralReason?, on day: CivilDate, to id: Int64, from sender: String,
        by actor: Actor
    ) async throws {
        guard var referral = try await store.referral(id: id),
            let partner = try await store.partner(id: referral.partner), partner.node == sender
        else {
            throw PuenteError(.outsideAgreement, "Referral \(id) was not made here to a partner on \(sender).")
        }
        guard referral.status != status else { return }
        let reachable = Self.reachable(from: referral.status)
        guard reachable.contains(status) else {
            _ = try await store.saveCase(
                CaseChange(entries: [
                    CaseEntry(
                        caseID: referral.caseID, referralID: id, at: "", actor: "node:\(sender)",
                        kind: "referral_report_ignored", detail: "\(status.rawValue) after \(referral.status.rawValue)")
                ]))
            return
        }
        referral.status = status
        referral.reason = status.needsReason ? reason : referral.reason
        referral.reached[status.rawValue] = referral.reached[status.rawValue] ?? day
        _ = try await store.saveCase(
            CaseChange(
                referrals: [referral],
                entries: [
                    CaseEntry(
                        caseID: referral.caseID, referralID: id, at: "", actor: "node:\(sender)",
                        kind: "referral_status",
                        detail: ([status.rawValue] + [reason?.rawValue].compactMap { $0 }).joined(separator: " "))
                ]))
        try await audit.record(
            .init(
                actor: actor.name, action: "referral_status",
                target: "referral:\(id) case:\(referral.caseID) \(status.rawValue) from:\(sender)",
                address: actor.address))
    }

    /// The statuses a partner can take a referral to from `status`, in one step or several.
    static func reachable(from status: ReferralStatus) -> Set<ReferralStatus> {
        var seen = Set<ReferralStatus>()
        var next = status.next.filter(\.setByPartner)
        while let s = next.popLast() {
            if seen.insert(s).inserted { next += s.next.filter(\.setByPartner) }
        }
        return seen
    }

    // MARK: The partner's node

    /// Referrals other nodes made to the actor's organisation (a partner account), without their
    /// fields; staff who supervise cases see them all.
    public func incoming(by actor: Actor) async throws -> [IncomingReferral] {
        let partner: String?
        if actor.role == .partner {
            guard let own = actor.organisation else { return [] }
            partner = own
        } else {
            try require(.superviseCases, for: actor)
            partner = nil
        }
        return try await store.incomingReferrals(id: nil, sender: nil, originID: nil, partner: partner).map {
            var r = $0
            r.values = [:]
            return r
        }
    }

    /// One incoming referral; its partner's accounts see the fields while it is open (an audited read),
    /// supervisors see it without them.
    public func incomingReferral(_ id: Int64, by actor: Actor) async throws -> IncomingReferral {
        var referral = try await visibleIncoming(id, by: actor)
        guard actor.role == .partner, !referral.values.isEmpty else {
            referral.values = [:]
            return referral
        }
        try await audit.record(
            .init(
                actor: actor.name, action: "read_personal",
                target: "incoming_referral:\(id) from:\(referral.sender) fields:"
                    + referral.fields.map(\.rawValue).joined(separator: ","),
                address: actor.address))
        return referral
    }

    /// The partner moves an incoming referral on; the status goes back to the referring node at once
    /// (and at the next push if that fails). Closing it drops the fields.
    @discardableResult
    public func updateIncoming(
        _ id: Int64, readAt: Int? = nil, to status: ReferralStatus, reason: String? = nil, by actor: Actor,
        today: CivilDate = .today
    ) async throws -> IncomingReferral {
        guard actor.role == .partner else {
            throw PuenteError(.forbidden, "The partner's own accounts move a referral from another node on.")
        }
        var referral = try await visibleIncoming(id, by: actor)
        if let readAt, readAt != referral.version { throw PuenteError.caseChangedSinceRead }
        if let code = try referral.status.move(to: status, reason: reason, settable: \.setByPartner) {
            referral.reason = code
        }
        referral.status = status
        referral.reached[status.rawValue] = referral.reached[status.rawValue] ?? today
        if !status.isOpen { referral.values = [:] }
        var saved = try await store.saveIncomingReferral(referral)
        try await audit.record(
            .init(
                actor: actor.name, action: "referral_status",
                target: "incoming_referral:\(id) from:\(referral.sender) \(status.rawValue)", address: actor.address))
        if try await report(saved, by: actor) != nil {
            saved = try await store.incomingReferrals(id: id, sender: nil, originID: nil, partner: nil).first ?? saved
        }
        return saved
    }

    /// Sends an incoming referral's status back to the referring node and notes it as reported.
    func report(_ incoming: IncomingReferral, by actor: Actor) async throws -> SentPackage? {
        guard let kept = try await store.agreement(id: incoming.agreement),
            let terms = try? kept.signed().terms,
            (try? await agreements.inForce(id: incoming.agreement, on: .today)) != nil
        else { return nil }  // reported once the agreement is in force again
        let sent = try await send(
            .status(
                referral: incoming.originID, partner: incoming.partner, status: incoming.status,
                reason: incoming.status.needsReason ? incoming.reason : nil,
                on: incoming.reached[incoming.status.rawValue] ?? .today),
            terms: terms, by: actor)
        var reported = incoming
        reported.reportedStatus = incoming.status
        _ = try await store.saveIncomingReferral(reported)
        return sent
    }

    func visibleIncoming(_ id: Int64, by actor: Actor) async throws -> IncomingReferral {
        guard let referral = try await store.incomingReferrals(id: id, sender: nil, originID: nil, partner: nil).first
        else { throw PuenteError.noSuchReferral }
        if actor.role == .partner {
            guard actor.organisation == referral.partner else { throw PuenteError.noSuchReferral }
        } else {
            try require(.superviseCases, for: actor)
        }
        return referral
    }
}
