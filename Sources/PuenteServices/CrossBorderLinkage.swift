import Crypto
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteLinkage

/// Linkage between countries under a linkage agreement (docs/linkage.md, docs/exchange.md): each party
/// encodes the agreed events with the secret it shares with the other party, the linkage unit (the
/// hub, which has no secret) matches the two parties' encodings, and each party gets back only its own
/// records' matches, or only their counts, as a package signed by the unit.
///
/// Records travel under pseudonyms: an HMAC of the event id under a key derived from the node's
/// signing key and the agreement, so the unit cannot tell one agreement's record from another's, and
/// only the node can turn a pseudonym back into its event.
public enum LinkagePackages {
    public static let encodingsDataflow = "PUENTE:PPRL_ENCODINGS(1.0)"
    public static let resultDataflow = "PUENTE:PPRL_RESULT(1.0)"
    public static let encodingsPart = "encodings.csv"
    public static let matchesPart = "matches.csv"
    public static let countsPart = "counts.csv"
    static let csv = "text/csv; charset=utf-8"

    static func manifest(
        sender: String, receiver: String, terms: Agreement, dataflow: String, stamp: PackageManifest.LinkageStamp
    ) -> PackageManifest {
        let now = Timestamp.now()
        return PackageManifest(
            id: UUID().uuidString.lowercased(), sender: sender, receiver: receiver, agreement: terms.id,
            dataflow: dataflow, codeLists: [], period: String(now.prefix(4)), frequency: "", measures: [],
            dimensions: [], protection: "pprl", sequence: Int(Date().timeIntervalSince1970), createdAt: now,
            linkage: stamp)
    }

    /// Checks a linkage package read from its file: its signature by `key`, its agreement, addressee and
    /// dataflow; `source` names the file in errors.
    static func check(
        _ package: SignedPackage, source: String, terms: Agreement, from sender: String, key: String,
        to receiver: String, dataflow: String
    ) throws {
        let at = InputLocation(file: source)
        let m = package.manifest
        guard m.agreement == terms.id else {
            throw PuenteError(
                .outsideAgreement, "The package is under agreement \(m.agreement), not \(terms.id).", at: at)
        }
        guard m.sender == sender, m.receiver == receiver, m.dataflow == dataflow, m.linkage != nil else {
            throw PuenteError(
                .outsideAgreement,
                "Expected \(dataflow) from \(sender) to \(receiver); the package is \(m.dataflow) "
                    + "from \(m.sender) to \(m.receiver).", at: at)
        }
        try package.verifySignature(publicKey: key)
    }
}

/// The linkage unit's part: match two parties' encodings without their secret.
public struct LinkageUnit: Sendable {
    let node: NodeIdentity

    public init(node: NodeIdentity) { self.node = node }

    public struct Outcome: Sendable {
        /// Per party (node id): the result package for it.
        public var results: [String: SignedPackage]
        public var matches: Int
        public var compared: Int
        public var seconds: Double
    }

    /// Checks the agreement (both parties' signatures, in force, this node its unit), each package
    /// (signed by its party, addressed here, its encodings made with the agreement's scheme), matches and
    /// seals each party's result. Encodings made with another scheme are refused, naming the party and
    /// both parameter hashes: two parties whose parameters drifted apart would otherwise lose their
    /// matches without a word.
    public func match(
        agreement: SignedAgreement, packages: [(file: Data, source: String)], on date: CivilDate = .today
    ) throws -> Outcome {
        // Read once: its frame and parts' hashes are checked here, a malformed file named as such.
        try match(
            agreement: agreement,
            read: packages.map { (try SignedPackage(file: $0.file, source: $0.source), $0.source) },
            on: date)
    }

    /// The same, on packages already read from their files.
    func match(agreement: SignedAgreement, read packages: [(SignedPackage, source: String)], on date: CivilDate)
        throws -> Outcome
    {
        let (terms, linkage) = try check(agreement, on: date)
        var sets: [String: (EncodingSet, events: [String], persons: [Int32])] = [:]
        for (package, source) in packages {
            let (party, stamp) = try checkEncodings(package, source: source, terms: terms)
            guard sets[party.node] == nil else {
                throw PuenteError(
                    .conflict, "Two packages from \(party.node): give the newest only.", at: InputLocation(file: source)
                )
            }
            sets[party.node] = try Self.encodings(package, bits: stamp.bits, source: source)
        }
        guard let (left, leftEvents, leftPersons) = sets[terms.sender.node],
            let (right, rightEvents, rightPersons) = sets[terms.receiver.node]
        else {
            let missing = [terms.sender.node, terms.receiver.node].filter { sets[$0] == nil }
            throw PuenteError(
                .invalidArgument, "The encodings of \(missing.joined(separator: " and ")) are missing.")
        }
        let started = Date()
        let result = try EncodingMatcher.matchPersons(
            left, right, leftPersons: leftPersons, rightPersons: rightPersons,
            EncodingMatcher.personParameters(threshold: linkage.threshold))
        let seconds = Date().timeIntervalSince(started)
        var results: [String: SignedPackage] = [:]
        for (party, own, other, otherEvents, isLeft) in [
            (terms.sender, left, right, rightEvents, true), (terms.receiver, right, left, leftEvents, false),
        ] {
            // Written as bytes: a million matches make a part of a hundred megabytes.
            var body = Data()
            if linkage.result == "pairs" {
                body.append(contentsOf: "record,partner_record,dice_per_mille,partner_type,partner_day\n".utf8)
                for m in result.matches {
                    let (mine, theirs) = isLeft ? (Int(m.left), Int(m.right)) : (Int(m.right), Int(m.left))
                    body.append(
                        contentsOf:
                            "\(own.ids[mine]),\(other.ids[theirs]),\(Int((Double(m.dice) * 1000).rounded(.down))),\(otherEvents[theirs])\n"
                            .utf8)
                }
            } else {
                let matched = Set(result.matches.map { isLeft ? $0.left : $0.right }).count
                body.append(
                    contentsOf: "records,matched_records,pairs\n\(own.count),\(matched),\(result.matches.count)\n".utf8)
            }
            let manifest = LinkagePackages.manifest(
                sender: node.id, receiver: party.node, terms: terms, dataflow: LinkagePackages.resultDataflow,
                stamp: .init(
                    scheme: PPRLScheme.currentVersion, parameterHash: linkage.scheme, records: own.count,
                    bits: own.bits))
            let part = linkage.result == "pairs" ? LinkagePackages.matchesPart : LinkagePackages.countsPart
            results[party.node] = try SignedPackage.seal(
                manifest, parts: [(part, LinkagePackages.csv, body)], by: node)
        }
        return Outcome(
            results: results, matches: result.matches.count, compared: result.compared, seconds: seconds)
    }

    /// The agreement's terms, when it is a linkage agreement in force on `date` naming this node's key
    /// as its unit.
    func check(_ agreement: SignedAgreement, on date: CivilDate) throws -> (Agreement, Agreement.LinkageTerms) {
        let terms = agreement.terms
        guard terms.purpose == .linkage, let linkage = terms.linkage else {
            throw PuenteError(.outsideAgreement, "Agreement \(terms.id) is not a linkage agreement.")
        }
        guard linkage.unit.node == node.id, linkage.unit.key == node.publicKeyBase64URL else {
            throw PuenteError(
                .forbidden, "Agreement \(terms.id) names \(linkage.unit.node) as its linkage unit, not this node's key."
            )
        }
        if let reason = try agreement.notInForce(on: date) {
            throw PuenteError(.outsideAgreement, "Agreement \(terms.id) is not in force: \(reason).")
        }
        return (terms, linkage)
    }

    /// The party that sent an encodings package and its stamp, once the package is checked: signed by
    /// that party, addressed to this unit, its encodings made with the agreement's scheme.
    func checkEncodings(_ package: SignedPackage, source: String, terms: Agreement) throws -> (
        Agreement.Party, PackageManifest.LinkageStamp
    ) {
        guard let party = [terms.sender, terms.receiver].first(where: { $0.node == package.manifest.sender }) else {
            throw PuenteError(
                .outsideAgreement, "The package is not from a party to agreement \(terms.id).",
                at: InputLocation(file: source))
        }
        try LinkagePackages.check(
            package, source: source, terms: terms, from: party.node, key: party.key, to: node.id,
            dataflow: LinkagePackages.encodingsDataflow)
        let stamp = package.manifest.linkage!
        let scheme = terms.linkage?.scheme ?? ""
        guard stamp.parameterHash == scheme, stamp.scheme == PPRLScheme.currentVersion else {
            throw PuenteError(
                .outsideAgreement,
                "\(party.node)'s encodings were made with \(stamp.scheme) parameters \(stamp.parameterHash), "
                    + "but agreement \(terms.id) names \(scheme): the unit matches only encodings of "
                    + "the agreed scheme. Encode again with the agreed parameters.",
                at: InputLocation(file: source))
        }
        return (party, stamp)
    }

    /// The `id,clk,type,day,person` part of an encodings package, every encoding of `bits` bits; with each
    /// record's `type,day`, which go to the other party with its matches, and its person as a number.
    static func encodings(_ package: SignedPackage, bits: Int, source: String) throws -> (
        EncodingSet, events: [String], persons: [Int32]
    ) {
        let at = InputLocation(file: source)
        guard bits > 0, bits % 64 == 0, let part = package.part(LinkagePackages.encodingsPart) else {
            throw PuenteError(.packageMalformed, "An encodings package has an encodings.csv part.", at: at)
        }
        var set = EncodingSet(bits: bits)
        var events: [String] = []
        var persons: [Int32] = [], numbers: [Data: Int32] = [:]
        var line = 0
        for row in part.split(separator: 0x0A) {
            line += 1
            if line == 1 { continue }
            let f = row.split(separator: 0x2C, omittingEmptySubsequences: false)
            guard f.count == 5, !f[4].isEmpty, let bytes = Data(base64Encoded: Data(f[1])),
                set.append(id: String(decoding: f[0], as: UTF8.self), bytes: bytes),
                let type = EventType(rawValue: String(decoding: f[2], as: UTF8.self)),
                let day = CivilDate(iso: String(decoding: f[3], as: UTF8.self))
            else {
                throw PuenteError(
                    .packageMalformed,
                    "Expected id,clk,type,day,person with \(bits / 8) bytes in base64, an event type, a day and a person.",
                    at: InputLocation(file: source, row: line))
            }
            events.append("\(type.rawValue),\(day)")
            let person = Data(f[4])
            if numbers[person] == nil { numbers[person] = Int32(numbers.count) }
            persons.append(numbers[person]!)
        }
        return (set, events, persons)
    }
}

/// A party's part: encode its events for the unit, and keep the links the unit found.
public struct CrossBorderLinkage: Sendable {
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

    /// The linkage agreement `id` in force today with this node a party.
    func terms(_ id: String, on date: CivilDate) async throws -> (Agreement, Agreement.LinkageTerms, other: String) {
        let terms = try await agreements.inForce(id: id, on: date).terms
        guard terms.purpose == .linkage, let linkage = terms.linkage,
            let other = terms.counterpart(of: node.id)
        else {
            throw PuenteError(.outsideAgreement, "Agreement \(id) is not a linkage agreement of this node.")
        }
        return (terms, linkage, other.node)
    }

    /// A pseudonym for each event under an agreement: HMAC-SHA-256 under a key derived from the node's
    /// signing key, its first 12 bytes in base64url.
    func pseudonyms(agreement: String) -> (Int64) -> String {
        let pseudonym = keyedPseudonyms(agreement: agreement)
        return { pseudonym("event \($0)") }
    }

    /// A pseudonym for each person of the latest link run under an agreement, the same way.
    func personPseudonyms(agreement: String) -> (Int64) -> String {
        let pseudonym = keyedPseudonyms(agreement: agreement)
        return { pseudonym("person \($0)") }
    }

    private func keyedPseudonyms(agreement: String) -> (String) -> String {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: node.signingKey.rawRepresentation),
            info: Array("puente linkage pseudonyms \(agreement)".utf8), outputByteCount: 32)
        return { text in
            Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key).prefix(12)))
        }
    }

    /// The encodings package for the unit: every agreed event of a subject who did not withdraw consent
    /// to exchange, encoded under the agreement with `secret` (held apart from the store, agreed with the
    /// other party out of band). Refused when this node's scheme is not the agreement's.
    public func encodings(
        agreement id: String, secret: [UInt8], scheme: PPRLScheme = .standard, on date: CivilDate = .today,
        by actor: Actor
    ) async throws -> (package: SignedPackage, encoded: Int, leftOut: Int) {
        let (terms, linkage, _) = try await terms(id, on: date)
        guard scheme.parameterHash == linkage.scheme else {
            throw PuenteError(
                .outsideAgreement,
                "This node encodes with parameters \(scheme.parameterHash), but agreement \(id) names \(linkage.scheme)."
            )
        }
        let encoder = try PPRLEncoder(scheme: scheme, secret: secret, context: id)
        let pseudonym = pseudonyms(agreement: id)
        let types = Set(linkage.events.compactMap(EventType.init(rawValue:)))
        var body = Data("id,clk,type,day,person\n".utf8)
        // The node's own persons (its latest link run, in clear, at home): the unit matches persons, so a
        // record that would not pass alone follows its person. Without a run each record is a person.
        let persons = try await store.personLinks()
        let person = personPseudonyms(agreement: id)
        var batches = EncodingBatches<(record: String, rest: String)>(encode: encoder.bytesOfRecord) { row, clk in
            body.append(contentsOf: "\(row.record),\(clk),\(row.rest)\n".utf8)
        }
        let (encoded, leftOut) = try await PersonLinkingService(store: store).encodeStored(types: types, by: actor) {
            event, values in
            let record = pseudonym(event.id)
            let rest = "\(event.type.rawValue),\(event.date),\(persons[event.id].map(person) ?? record)"
            try batches.add((record, rest), values: values, record: record)
        }
        try batches.flush()
        let manifest = LinkagePackages.manifest(
            sender: node.id, receiver: linkage.unit.node, terms: terms, dataflow: LinkagePackages.encodingsDataflow,
            stamp: .init(
                scheme: scheme.version, parameterHash: scheme.parameterHash, records: encoded,
                bits: scheme.encodedLength))
        let package = try SignedPackage.seal(
            manifest, parts: [(LinkagePackages.encodingsPart, LinkagePackages.csv, body)], by: node)
        try await audit.record(
            .init(
                actor: actor.name, action: "package_created",
                target: "package:\(manifest.id) agreement:\(id) to:\(linkage.unit.node) linkage encodings:\(encoded)",
                address: actor.address))
        return (package, encoded, leftOut)
    }

    public struct Applied: Sendable {
        /// Links kept (pairs), or nil for a counts result.
        public var links: Int?
        /// Matches naming a record that is no longer encoded here (erased, or consent withdrawn since).
        public var dropped: Int
        /// A counts result: records sent, records matched, pairs.
        public var counts: (records: Int, matched: Int, pairs: Int)?
    }

    /// Keeps what the unit returned under a linkage agreement: the links of a pairs result replace
    /// those kept under the agreement, each turned back from its pseudonym into this node's event; a
    /// match whose record is no longer encoded here (erased, consent withdrawn since) is dropped.
    public func apply(_ file: Data, source: String, on date: CivilDate = .today, by actor: Actor) async throws
        -> Applied
    {
        let package = try SignedPackage(file: file, source: source)
        let (terms, linkage, other) = try await terms(package.manifest.agreement, on: date)
        try LinkagePackages.check(
            package, source: source, terms: terms, from: linkage.unit.node, key: linkage.unit.key, to: node.id,
            dataflow: LinkagePackages.resultDataflow)
        let at = InputLocation(file: source)
        if let part = package.part(LinkagePackages.countsPart) {
            let rows = String(decoding: part, as: UTF8.self).split(separator: "\n")
            let numbers = rows.count == 2 ? rows[1].split(separator: ",").compactMap { Int($0) } : []
            guard numbers.count == 3 else {
                throw PuenteError(.packageMalformed, "Expected records,matched_records,pairs and one row.", at: at)
            }
            try await audit.record(
                .init(
                    actor: actor.name, action: "package_received",
                    target: "package:\(package.manifest.id) agreement:\(terms.id) linkage counts",
                    address: actor.address))
            return Applied(links: nil, dropped: 0, counts: (numbers[0], numbers[1], numbers[2]))
        }
        guard let part = package.part(LinkagePackages.matchesPart) else {
            throw PuenteError(.packageMalformed, "A linkage result has a matches.csv or a counts.csv part.", at: at)
        }
        // Pseudonyms of the events still encodable: a record erased or withdrawn since is not among them.
        let pseudonym = pseudonyms(agreement: terms.id)
        var events: [String: Int64] = [:]
        _ = try await PersonLinkingService(store: store).encodeStored(
            types: Set(linkage.events.compactMap(EventType.init(rawValue:))), audited: false, by: actor
        ) { event, _ in events[pseudonym(event.id)] = event.id }
        var links: [CrossBorderLink] = []
        var dropped = 0
        let receivedAt = Timestamp.now()
        for (k, row) in String(decoding: part, as: UTF8.self).split(separator: "\n").enumerated() where k > 0 {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5, let dice = Int(f[2]), (0...1000).contains(dice), let type = EventType(rawValue: f[3]),
                let day = CivilDate(iso: f[4])
            else {
                throw PuenteError(
                    .packageMalformed, "Expected record,partner_record,dice_per_mille,partner_type,partner_day.",
                    at: InputLocation(file: source, row: k + 1))
            }
            guard let event = events[f[0]] else { dropped += 1; continue }
            links.append(
                CrossBorderLink(
                    agreement: terms.id, event: event, partner: other, partnerRecord: f[1], dicePerMille: dice,
                    partnerType: type, partnerDay: day, receivedAt: receivedAt))
        }
        try await store.replaceCrossBorderLinks(agreement: terms.id, links)
        try await audit.record(
            .init(
                actor: actor.name, action: "package_received",
                target: "package:\(package.manifest.id) agreement:\(terms.id) linkage links:\(links.count)",
                address: actor.address))
        return Applied(links: links.count, dropped: dropped, counts: nil)
    }
}
