import Foundation
import PuenteAccess
import PuenteCore
import PuenteStatistics

/// The terms of a data-sharing agreement between a sending node and a receiving one: why data flows,
/// what may flow (measures and dimensions, the finest geography and period, the weakest protection),
/// for how long, how long the receiver keeps it and whether it may pass it on. Both parties sign the
/// terms (`SignedAgreement`); nothing flows outside an agreement in force.
public struct Agreement: Codable, Hashable, Sendable {
    public enum Purpose: String, Codable, CaseIterable, Sendable {
        case regionalStatistics = "regional_statistics"
        case mirrorStatistics = "mirror_statistics"
        case returnVerification = "return_verification"
        case linkage
        /// Referrals of returnees to partner organisations working on the receiving node; their
        /// acceptance and outcome come back under the same agreement (docs/exchange.md).
        case referral
    }

    /// The finest geography figures may be broken down by.
    public enum Geography: String, Codable, CaseIterable, Sendable {
        case country, department, municipality
    }

    /// The finest period figures may be broken down by.
    public enum Period: String, Codable, CaseIterable, Sendable {
        case year, quarter, month
    }

    /// A node that is party to the agreement, with the key it signs with.
    public struct Party: Codable, Hashable, Sendable {
        public var node: String
        public var country: String
        /// The `x` of its Ed25519 JWK (base64url).
        public var key: String
        /// Its X25519 key for what is encrypted to it (base64url): referral agreements only.
        public var encryptionKey: String?

        public init(node: String, country: String, key: String, encryptionKey: String? = nil) {
            self.node = node
            self.country = country
            self.key = key
            self.encryptionKey = encryptionKey
        }

        /// The party `identity` is; with its encryption key when `encrypting` (referral agreements).
        public init(_ identity: NodeIdentity, encrypting: Bool = false) {
            self.init(
                node: identity.id, country: identity.country, key: identity.publicKeyBase64URL,
                encryptionKey: encrypting ? identity.encryptionPublicKeyBase64URL : nil)
        }
    }

    public var id: String
    public var sender: Party
    public var receiver: Party
    public var purpose: Purpose
    /// The SDMX dataflow the figures are published in.
    public var dataflow: String
    public var measures: [String]
    public var dimensions: [String]
    public var finestGeography: Geography
    public var finestPeriod: Period
    /// `ckm` (the cell key method) or `suppression`; exact figures never flow.
    public var minimumProtection: String
    /// First and last day in force, `YYYY-MM-DD`.
    public var validFrom: String
    public var validTo: String
    /// How long the receiver keeps what it received.
    public var retentionDays: Int
    /// Whether the receiver may pass the figures on.
    public var onwardTransfer: Bool
    /// The sender's server exports a package for every year whose figures changed and pushes it on its
    /// schedule (`serve --push-every`), with no one running `exchange export`. Absent means no (so
    /// agreements signed before the field existed keep their canonical form).
    public var automatic: Bool?
    /// Referral agreements: the case fields (`ReferralField` names) a referral may carry to the receiver.
    public var referralFields: [String]?
    /// Linkage agreements: how the parties' persons are linked without names leaving either.
    public var linkage: LinkageTerms?

    /// The terms of a linkage agreement: both parties encode the agreed events with their shared secret
    /// (never in the terms, agreed out of band) under the scheme whose parameters hash to `scheme`, and
    /// send the encodings to the linkage unit, which has no secret; it matches them at `threshold` and
    /// returns to each party its own records' matches (`pairs`) or how many there are (`counts`).
    public struct LinkageTerms: Codable, Hashable, Sendable {
        public var unit: Party
        /// `PPRLScheme.parameterHash` of the scheme both parties encode with.
        public var scheme: String
        /// `pairs` or `counts`.
        public var result: String
        /// The Dice coefficient in thousandths (880 is 0.88): canonical JSON holds whole numbers only.
        public var thresholdPerMille: Int
        /// The event types encoded (`RETURN`, `ENTRY`, `EXIT`).
        public var events: [String]

        public init(unit: Party, scheme: String, result: String, thresholdPerMille: Int, events: [String]) {
            self.unit = unit
            self.scheme = scheme
            self.result = result
            self.thresholdPerMille = thresholdPerMille
            self.events = events
        }

        public var threshold: Double { Double(thresholdPerMille) / 1000 }
    }

    public init(
        id: String, sender: Party, receiver: Party, purpose: Purpose, dataflow: String = SDMXFlow.flowID,
        measures: [String], dimensions: [String], finestGeography: Geography, finestPeriod: Period,
        minimumProtection: String = DisclosurePolicy.Method.cellKey.rawValue, validFrom: String, validTo: String,
        retentionDays: Int, onwardTransfer: Bool = false, automatic: Bool = false, referralFields: [String]? = nil,
        linkage: LinkageTerms? = nil
    ) {
        self.id = id
        self.sender = sender
        self.receiver = receiver
        self.purpose = purpose
        self.dataflow = dataflow
        self.measures = measures
        self.dimensions = dimensions
        self.finestGeography = finestGeography
        self.finestPeriod = finestPeriod
        self.minimumProtection = minimumProtection
        self.validFrom = validFrom
        self.validTo = validTo
        self.retentionDays = retentionDays
        self.onwardTransfer = onwardTransfer
        self.automatic = automatic ? true : nil
        self.referralFields = referralFields
        self.linkage = linkage
    }

    /// Checks the terms; the error names the field and what it takes.
    public func check() throws {
        func fail(_ field: String, _ expected: String) -> PuenteError {
            PuenteError(.invalidArgument, "\(field): expected \(expected).")
        }
        guard !id.isEmpty, id.count <= 64,
            id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else { throw fail("id", "1 to 64 letters, digits, '-', '_' or '.'") }
        for (name, party) in [("sender", sender), ("receiver", receiver)] {
            do { try NodeIdentity.check(id: party.node, country: party.country) } catch let error as PuenteError {
                throw PuenteError(error.code, "\(name)." + error.message)
            }
            guard Base64URL.ed25519PublicKey(party.key) != nil else {
                throw fail("\(name).key", "an Ed25519 public key in base64url (43 characters)")
            }
        }
        guard sender.node != receiver.node else { throw fail("receiver", "another node than the sender") }
        guard (purpose == .linkage) == (linkage != nil) else {
            throw fail("linkage", purpose == .linkage ? "the linkage terms" : "none outside a linkage agreement")
        }
        if purpose == .referral {
            try checkReferralTerms()
        } else if purpose == .linkage {
            guard referralFields == nil else { throw fail("referralFields", "none outside a referral agreement") }
            try checkLinkageTerms()
        } else {
            guard referralFields == nil else { throw fail("referralFields", "none outside a referral agreement") }
            try checkFigureTerms()
        }
        guard let from = CivilDate(iso: validFrom) else { throw fail("validFrom", "a date like 2026-01-01") }
        guard let to = CivilDate(iso: validTo), to >= from else {
            throw fail("validTo", "a date on or after validFrom")
        }
        guard (1...3650).contains(retentionDays) else { throw fail("retentionDays", "1 to 3650 days") }
    }

    /// What figures may flow: measures, dimensions no finer than the finest geography and period, and a
    /// protection.
    func checkFigureTerms() throws {
        func fail(_ field: String, _ expected: String) -> PuenteError {
            PuenteError(.invalidArgument, "\(field): expected \(expected).")
        }
        guard !measures.isEmpty, measures.allSatisfy({ Measure(rawValue: $0) != nil }) else {
            throw fail("measures", "one or more of " + Measure.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard dimensions.allSatisfy({ Dimension(rawValue: $0) != nil }) else {
            throw fail("dimensions", "some of " + Dimension.allCases.map(\.rawValue).joined(separator: ", "))
        }
        // The geography and period dimensions shared must be no finer than the finest the terms allow.
        let geographyLevel: [PuenteStatistics.Dimension: Geography] = [
            .department: .department, .municipality: .municipality, .municipality2024: .municipality,
        ]
        let periodLevel: [PuenteStatistics.Dimension: Period] = [.year: .year, .quarter: .quarter, .month: .month]
        func finer<T: CaseIterable & Equatable>(_ a: T, than b: T) -> Bool {
            let all = Array(T.allCases)
            return all.firstIndex(of: a)! > all.firstIndex(of: b)!
        }
        for d in dimensions.compactMap(PuenteStatistics.Dimension.init(rawValue:)) {
            if let level = geographyLevel[d], finer(level, than: finestGeography) {
                throw fail("dimensions", "no geography finer than finestGeography (\(finestGeography.rawValue))")
            }
            if let level = periodLevel[d], finer(level, than: finestPeriod) {
                throw fail("dimensions", "no period finer than finestPeriod (\(finestPeriod.rawValue))")
            }
        }
        guard [DisclosurePolicy.Method.cellKey, .suppression].map(\.rawValue).contains(minimumProtection) else {
            throw fail("minimumProtection", "ckm or suppression (exact figures never leave a node)")
        }
    }

    /// A referral agreement carries no figures: it names the fields a referral may carry and both
    /// parties' encryption keys, since what it carries is encrypted to its recipient.
    func checkReferralTerms() throws {
        func fail(_ field: String, _ expected: String) -> PuenteError {
            PuenteError(.invalidArgument, "\(field): expected \(expected).")
        }
        guard measures.isEmpty, dimensions.isEmpty else {
            throw fail("measures", "none in a referral agreement (it carries referrals, not figures)")
        }
        guard let fields = referralFields, !fields.isEmpty, fields.allSatisfy({ ReferralField(rawValue: $0) != nil })
        else {
            throw fail(
                "referralFields", "one or more of " + ReferralField.allCases.map(\.rawValue).joined(separator: ", "))
        }
        for (name, party) in [("sender", sender), ("receiver", receiver)] {
            guard let key = party.encryptionKey, Base64URL.x25519PublicKey(key) != nil else {
                throw fail("\(name).encryptionKey", "an X25519 public key in base64url (from `puente node show`)")
            }
        }
    }

    /// A linkage agreement carries no figures: it names the linkage unit, the scheme, what comes back
    /// and which events are encoded.
    func checkLinkageTerms() throws {
        func fail(_ field: String, _ expected: String) -> PuenteError {
            PuenteError(.invalidArgument, "\(field): expected \(expected).")
        }
        guard let linkage else { return }
        guard measures.isEmpty, dimensions.isEmpty else {
            throw fail("measures", "none in a linkage agreement (it carries encodings, not figures)")
        }
        do { try NodeIdentity.check(id: linkage.unit.node, country: linkage.unit.country) } catch let error
            as PuenteError
        {
            throw PuenteError(error.code, "linkage.unit." + error.message)
        }
        guard Base64URL.ed25519PublicKey(linkage.unit.key) != nil else {
            throw fail("linkage.unit.key", "an Ed25519 public key in base64url (43 characters)")
        }
        guard ![sender.node, receiver.node].contains(linkage.unit.node) else {
            throw fail("linkage.unit", "a node other than the parties (it must not hold their secret)")
        }
        guard linkage.scheme.count == 64, linkage.scheme.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw fail("linkage.scheme", "the scheme's parameter hash (64 lower-case hex digits)")
        }
        guard ["pairs", "counts"].contains(linkage.result) else { throw fail("linkage.result", "pairs or counts") }
        guard (500...1000).contains(linkage.thresholdPerMille) else {
            throw fail("linkage.thresholdPerMille", "500 to 1000 (a Dice coefficient in thousandths)")
        }
        guard !linkage.events.isEmpty, Set(linkage.events).isSubset(of: ["RETURN", "ENTRY", "EXIT"]) else {
            throw fail("linkage.events", "one or more of RETURN, ENTRY, EXIT")
        }
    }

    /// The other party of a referral agreement, which works both ways: referrals go from the sender to
    /// the receiver, their statuses come back.
    public func counterpart(of node: String) -> Party? {
        node == sender.node ? receiver : node == receiver.node ? sender : nil
    }

    public var json: JSONValue {
        get throws { try JSONValue(encoding: self, source: "agreement \(id)") }
    }

    /// The JWS `typ` of signatures on agreements.
    public static let signatureType = "puente-agreement+json"
}

/// An agreement's terms with the parties' signatures over them: the file both parties exchange and keep.
public struct SignedAgreement: Codable, Hashable, Sendable {
    public var terms: Agreement
    /// Party node id → its detached JWS over the terms.
    public var signatures: [String: String]

    public init(drafting terms: Agreement) throws {
        try terms.check()
        self.terms = terms
        signatures = [:]
    }

    /// Reads an agreement file; `source` names it in errors.
    public init(file data: Data, source: String) throws {
        do {
            self = try JSONDecoder().decode(SignedAgreement.self, from: data)
        } catch {
            throw PuenteError(
                .invalidInput, "Expected an agreement file: {\"terms\": {…}, \"signatures\": {…}}.",
                at: InputLocation(file: source))
        }
        try terms.check()
    }

    /// The file's bytes (canonical JSON, so both parties' copies are byte for byte the same).
    public func file() throws -> Data { try CanonicalJSON.encode(self) }

    /// Adds `node`'s signature; it must be the sender or the receiver named in the terms, with the key
    /// they name.
    public mutating func sign(by node: NodeIdentity) throws {
        guard let party = [terms.sender, terms.receiver].first(where: { $0.node == node.id }) else {
            throw PuenteError(.forbidden, "Node \(node.id) is not a party to agreement \(terms.id).")
        }
        guard party.key == node.publicKeyBase64URL else {
            throw PuenteError(
                .forbidden, "The agreement names another key for node \(node.id) than the one it signs with.")
        }
        if let encryptionKey = party.encryptionKey, encryptionKey != node.encryptionPublicKeyBase64URL {
            throw PuenteError(
                .forbidden, "The agreement names another encryption key for node \(node.id) than its own.")
        }
        signatures[node.id] = try DocumentSignature.sign(try terms.json, type: Agreement.signatureType, by: node)
            .compact
    }

    /// Whether each party signed the terms as they stand, by the key the terms name for it.
    public func signatureStatus() throws -> [(party: String, signed: Bool, reason: String?)] {
        let document = try terms.json
        return [terms.sender, terms.receiver].map { party in
            guard let compact = signatures[party.node] else { return (party.node, false, "not signed") }
            do {
                let jws = try DocumentSignature(compact: compact, source: "signature of \(party.node)")
                guard jws.header.kid.hasPrefix(party.node + "/") else {
                    return (party.node, false, "signed by \(jws.header.kid), not by \(party.node)")
                }
                try jws.verify(document, type: Agreement.signatureType, key: Base64URL.ed25519PublicKey(party.key)!)
                return (party.node, true, nil)
            } catch let error as PuenteError {
                return (party.node, false, error.message)
            } catch {
                return (party.node, false, "unreadable signature")
            }
        }
    }

    /// Nil when the agreement is in force on `date`; otherwise why not.
    public func notInForce(on date: CivilDate) throws -> String? {
        for status in try signatureStatus() where !status.signed {
            return "\(status.party): \(status.reason ?? "not signed")"
        }
        if date < CivilDate(iso: terms.validFrom)! { return "in force from \(terms.validFrom)" }
        if date > CivilDate(iso: terms.validTo)! { return "expired on \(terms.validTo)" }
        return nil
    }
}

extension StoredAgreement {
    /// The kept file read back (it was verified before it was kept; the signatures are checked again
    /// wherever the agreement must be in force).
    public func signed() throws -> SignedAgreement {
        try SignedAgreement(file: Data(document.utf8), source: "agreement \(id)")
    }
}
