import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange

/// The linkage unit on the network: parties deliver their encodings over HTTP, the unit matches as soon
/// as it holds both parties' encodings under an agreement it keeps, and each party fetches its own
/// result. The unit holds encodings only while it waits for the other party: a match deletes them.
public struct LinkageUnitService: Sendable {
    let store: any PuenteStore
    let unit: LinkageUnit
    let agreements: AgreementService
    let audit: AuditLog

    public init(store: any PuenteStore, node: NodeIdentity) {
        self.store = store
        unit = LinkageUnit(node: node)
        agreements = AgreementService(store: store, node: node)
        audit = AuditLog(store: store)
    }

    public struct Delivery: Codable, Sendable {
        public var agreement: String
        public var party: String
        public var package: String
        public var records: Int
        /// `waiting` for the other party's encodings, or `matched`: both parties' results are ready.
        public var status: String
        /// The party whose encodings are awaited, while waiting.
        public var waitingFor: String?
        /// Pairs matched, once matched.
        public var matches: Int?
    }

    /// Keeps a party's encodings package (replacing one it sent before under the same agreement) and,
    /// when the other party's are here too, matches them and keeps each party's result. A node account
    /// delivers only its own node's packages.
    public func deliver(_ file: Data, source: String, by actor: Actor, on date: CivilDate = .today) async throws
        -> Delivery
    {
        let package = try SignedPackage(file: file, source: source)
        let signed = try await agreements.inForce(id: package.manifest.agreement, on: date)
        let (terms, _) = try unit.check(signed, on: date)
        let (party, stamp) = try unit.checkEncodings(package, source: source, terms: terms)
        if actor.role == .node, actor.name != party.node {
            throw PuenteError(
                .senderUnknown, "\(actor.name) delivers packages of its own node only; this one is \(party.node)'s.")
        }
        let text = String(decoding: file, as: UTF8.self)
        try await store.saveLinkageUnitPackage(
            LinkageUnitPackage(
                agreement: terms.id, party: party.node, kind: .encodings, id: package.manifest.id, file: text,
                storedAt: Timestamp.now()))
        try await audit.record(
            .init(
                actor: actor.name, action: "package_received",
                target: "package:\(package.manifest.id) agreement:\(terms.id) from:\(party.node) "
                    + "linkage encodings:\(stamp.records)", address: actor.address))
        var delivery = Delivery(
            agreement: terms.id, party: party.node, package: package.manifest.id, records: stamp.records,
            status: "waiting")
        // checkEncodings found the party among the agreement's two: the other one is there.
        let other = terms.counterpart(of: party.node)!.node
        guard let kept = try await store.linkageUnitPackages(agreement: terms.id, kind: .encodings, party: other).first
        else {
            delivery.waitingFor = other
            return delivery
        }
        // The package just delivered is matched as read; only the other party's is read from the store.
        let source = "\(other)'s encodings"
        let outcome = try unit.match(
            agreement: signed,
            read: [(package, source), (try SignedPackage(file: Data(kept.file.utf8), source: source), source)],
            on: date)
        let consumed = [package.manifest.id, kept.id]
        let now = Timestamp.now()
        try await store.finishLinkageMatch(
            agreement: terms.id, consumed: consumed,
            results: try outcome.results.map { party, result in
                LinkageUnitPackage(
                    agreement: terms.id, party: party, kind: .result, id: result.manifest.id,
                    file: String(decoding: try result.file(), as: UTF8.self), storedAt: now)
            })
        try await audit.record(
            .init(
                actor: actor.name, action: "linkage_matched",
                target: "agreement:\(terms.id) matches:\(outcome.matches) compared:\(outcome.compared) "
                    + "encodings deleted:\(consumed.joined(separator: ","))", address: actor.address))
        delivery.status = "matched"
        delivery.matches = outcome.matches
        return delivery
    }

    /// The latest result for the node `actor` stands for under `agreement`: only a party's own node
    /// account fetches it. Not found, saying what the unit waits for, before the first match.
    public func result(agreement id: String, by actor: Actor) async throws -> Data {
        guard let kept = try await store.agreement(id: id), let terms = try? kept.signed().terms,
            terms.linkage?.unit.node == unit.node.id, actor.role == .node, terms.counterpart(of: actor.name) != nil
        else {
            throw PuenteError(
                .notFound, "No linkage agreement \(id) with \(actor.name) as a party is kept at this unit.")
        }
        guard let result = try await store.linkageUnitPackages(agreement: id, kind: .result, party: actor.name).first
        else {
            let waiting = try await store.linkageUnitPackages(agreement: id, kind: .encodings, party: nil).map(\.party)
            let missing = [terms.sender.node, terms.receiver.node].filter { !waiting.contains($0) }
            throw PuenteError(
                .notFound,
                "No result for \(actor.name) under \(id) yet: the unit waits for the encodings of "
                    + "\(missing.joined(separator: " and ")).")
        }
        try await audit.record(
            .init(
                actor: actor.name, action: "package_sent",
                target: "package:\(result.id) agreement:\(id) to:\(actor.name) linkage result", address: actor.address))
        return Data(result.file.utf8)
    }
}
