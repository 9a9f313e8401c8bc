import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange

/// The data-sharing agreements this node is party to (or the linkage unit of): kept once both parties have signed, revoked by
/// either, and asked before anything flows. Accepting and revoking are in the audit trail.
public struct AgreementService: Sendable {
    let store: any PuenteStore
    let node: NodeIdentity
    let audit: AuditLog

    public init(store: any PuenteStore, node: NodeIdentity) {
        self.store = store
        self.node = node
        audit = AuditLog(store: store)
    }

    /// Keeps an agreement file: this node must be a party and both signatures must verify over the
    /// terms. Returns the agreement and whether it was new (the same file again is no error).
    public func accept(_ file: Data, source: String, by actor: Actor) async throws -> (SignedAgreement, isNew: Bool) {
        let agreement = try SignedAgreement(file: file, source: source)
        // The linkage unit an agreement names keeps it too: it matches only under agreements it holds.
        let unit = agreement.terms.linkage?.unit
        guard
            [agreement.terms.sender.node, agreement.terms.receiver.node].contains(node.id)
                || (unit?.node == node.id && unit?.key == node.publicKeyBase64URL)
        else {
            throw PuenteError(
                .forbidden,
                "This node (\(node.id)) is neither a party to agreement \(agreement.terms.id) nor its linkage unit.")
        }
        for status in try agreement.signatureStatus() where !status.signed {
            throw PuenteError(.signatureInvalid, "\(status.party): \(status.reason ?? "not signed")")
        }
        let isNew = try await store.saveAgreement(
            StoredAgreement(
                id: agreement.terms.id, document: String(decoding: try agreement.file(), as: UTF8.self),
                acceptedAt: Timestamp.now(), acceptedBy: actor.name))
        if isNew {
            try await audit.record(
                .init(
                    actor: actor.name, action: "agreement_accepted",
                    target:
                        "agreement:\(agreement.terms.id) \(agreement.terms.sender.node)->\(agreement.terms.receiver.node)",
                    address: actor.address))
        }
        return (agreement, isNew)
    }

    public func list() async throws -> [StoredAgreement] { try await store.agreements() }

    /// Revokes an agreement from `date` (today by default) on: nothing flows under it any more.
    public func revoke(id: String, reason: String, on date: CivilDate = .today, by actor: Actor) async throws
        -> StoredAgreement
    {
        guard (3...200).contains(reason.count) else {
            throw PuenteError(.invalidArgument, "reason: expected 3 to 200 characters.")
        }
        let revoked = try await store.revokeAgreement(id: id, on: date, by: actor.name, reason: reason)
        try await audit.record(
            .init(
                actor: actor.name, action: "agreement_revoked", target: "agreement:\(id)", purpose: reason,
                address: actor.address))
        return revoked
    }

    /// The agreement, when it is kept and in force on `date`; otherwise an error saying why not.
    public func inForce(id: String, on date: CivilDate = .today) async throws -> SignedAgreement {
        guard let kept = try await store.agreement(id: id) else { throw PuenteError.noSuchAgreement }
        if let revoked = kept.revokedOn, revoked <= date {
            throw PuenteError(.agreementNotInForce, "Agreement \(id) was revoked on \(revoked).")
        }
        let agreement = try kept.signed()
        if let reason = try agreement.notInForce(on: date) {
            throw PuenteError(.agreementNotInForce, "Agreement \(id) is not in force on \(date): \(reason)")
        }
        return agreement
    }
}
