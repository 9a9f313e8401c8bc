import Crypto
import Foundation
import PuenteAccess
import PuenteCore

/// What one referral package carries, encrypted: a referral requested by the referring node, or a
/// status of it sent by either party (the partner's node reports receipt, acceptance, progress and the
/// outcome; the referring node reports a cancellation).
public struct ReferralMessage: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case request, status
    }

    public var kind: Kind
    /// The referring node's own id for the referral: both parties name it by that.
    public var referral: Int64
    /// The partner's code on the receiving node.
    public var partner: String
    /// The day the message speaks of (requested on, or the day the status was reached).
    public var on: CivilDate
    // A request:
    public var service: ServiceKind?
    /// The fields the partner may see, and the values the case has for them.
    public var fields: [ReferralField]?
    public var values: [String: String]?
    public var acknowledgeBy: CivilDate?
    /// `consent` (the person's referral consent naming the partner) or `override` (a supervisor's).
    public var basis: String?
    // A status:
    public var status: ReferralStatus?
    public var reason: ReferralReason?

    public static func request(
        referral: Int64, partner: String, service: ServiceKind, fields: [ReferralField], values: [String: String],
        on day: CivilDate, acknowledgeBy: CivilDate, basis: String
    ) -> ReferralMessage {
        ReferralMessage(
            kind: .request, referral: referral, partner: partner, on: day, service: service, fields: fields,
            values: values, acknowledgeBy: acknowledgeBy, basis: basis)
    }

    public static func status(
        referral: Int64, partner: String, status: ReferralStatus, reason: ReferralReason?, on day: CivilDate
    ) -> ReferralMessage {
        ReferralMessage(kind: .status, referral: referral, partner: partner, on: day, status: status, reason: reason)
    }

    /// Checks the message against the agreement it came under, from `sender`: a request only from the
    /// agreement's sender and with no field the agreement does not let through; a status with a reason
    /// it takes. Errors are `outsideAgreement` or `packageMalformed`, naming the field.
    public func check(terms: Agreement, from sender: String, source: String) throws {
        let at = InputLocation(file: source)
        switch kind {
        case .request:
            guard sender == terms.sender.node else {
                throw PuenteError(
                    .outsideAgreement, "Only \(terms.sender.node) refers under agreement \(terms.id).", at: at)
            }
            guard service != nil, let fields, !fields.isEmpty, let values, acknowledgeBy != nil,
                basis == "consent" || basis == "override"
            else {
                throw PuenteError(
                    .packageMalformed, "A referral request needs service, fields, values, acknowledgeBy and basis.",
                    at: at)
            }
            let allowed = Set(terms.referralFields ?? [])
            if let field = fields.first(where: { !allowed.contains($0.rawValue) }) {
                throw PuenteError(
                    .outsideAgreement,
                    "Field \(field.rawValue) is not among those agreement \(terms.id) lets a referral carry.", at: at)
            }
            if let extra = values.keys.first(where: { ReferralField(rawValue: $0).map(fields.contains) != true }) {
                throw PuenteError(.outsideAgreement, "A value for \(extra), which the referral does not name.", at: at)
            }
        case .status:
            guard let status else {
                throw PuenteError(.packageMalformed, "A referral status needs its status.", at: at)
            }
            let bySender = sender == terms.sender.node
            guard bySender ? status == .cancelled : status.setByPartner else {
                throw PuenteError(
                    .outsideAgreement,
                    bySender
                        ? "The referring node only cancels; the partner's node reports the rest."
                        : "The partner's node reports receipt, acceptance, progress and the outcome, not \(status.rawValue).",
                    at: at)
            }
            if status.needsReason {
                guard let reason, ReferralReason.allowed(for: status).contains(reason) else {
                    throw PuenteError(
                        .packageMalformed, "Status \(status.rawValue) needs a reason that fits it.", at: at)
                }
            } else if reason != nil {
                throw PuenteError(.packageMalformed, "Status \(status.rawValue) takes no reason.", at: at)
            }
        }
    }
}

/// Referral packages: a `ReferralMessage` as canonical JSON, encrypted with HPKE (RFC 9180, base mode,
/// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) to the encryption key the agreement names
/// for the recipient, inside a package signed like every other (`SignedPackage`). The one part is two
/// lines of base64url: the encapsulated key, then the ciphertext; the manifest's id is the associated
/// data, so a ciphertext cannot be moved into another package. Only the recipient can read it: the
/// sender's own copy, a hub that relays it and a database dump see ciphertext.
public enum ReferralPackage {
    public static let dataflow = "PUENTE:REFERRAL(1.0)"
    public static let partName = "referral.hpke"
    public static let mediaType = "application/vnd.puente.referral+json; encryption=hpke-x25519-sha256-chacha20poly1305"
    public static let protection = "hpke"
    static let ciphersuite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly
    static let info = Data("puente-referral/1".utf8)

    /// Encrypts and signs `message` from `node` to its counterpart in `terms`.
    public static func seal(
        _ message: ReferralMessage, terms: Agreement, from node: NodeIdentity, sequence: Int, createdAt: String
    ) throws -> SignedPackage {
        guard let recipient = terms.counterpart(of: node.id), let keyText = recipient.encryptionKey,
            let key = Base64URL.x25519PublicKey(keyText)
        else {
            throw PuenteError(
                .outsideAgreement, "Agreement \(terms.id) names no encryption key for this node's counterpart.")
        }
        let id = UUID().uuidString.lowercased()
        var sender = try HPKE.Sender(recipientKey: key, ciphersuite: ciphersuite, info: info)
        let ciphertext = try sender.seal(CanonicalJSON.encode(message), authenticating: Data(id.utf8))
        let part = Data(
            (Base64URL.encode(sender.encapsulatedKey) + "\n" + Base64URL.encode(ciphertext) + "\n").utf8)
        let manifest = PackageManifest(
            id: id, sender: node.id, receiver: recipient.node, agreement: terms.id, dataflow: dataflow, codeLists: [],
            period: String(message.on.description.prefix(4)), frequency: "A", measures: [], dimensions: [],
            protection: protection, sequence: sequence, createdAt: createdAt)
        return try SignedPackage.seal(manifest, parts: [(partName, mediaType, part)], by: node)
    }

    /// Decrypts a referral package addressed to `node` (its signature checked already).
    public static func open(_ package: SignedPackage, by node: NodeIdentity, source: String) throws
        -> ReferralMessage
    {
        let at = InputLocation(file: source)
        let manifest = package.manifest
        guard manifest.dataflow == dataflow, manifest.protection == protection, manifest.parts.count == 1,
            let part = package.part(partName)
        else {
            throw PuenteError(
                .packageMalformed, "A referral package has one part, \(partName), encrypted with \(protection).",
                at: at)
        }
        let lines = String(decoding: part, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count == 2, let encapsulated = Base64URL.decode(lines[0]),
            let ciphertext = Base64URL.decode(lines[1])
        else {
            throw PuenteError(
                .packageMalformed,
                "\(partName): expected two base64url lines, the encapsulated key and the ciphertext.",
                at: at)
        }
        let clear: Data
        do {
            var recipient = try HPKE.Recipient(
                privateKey: node.encryptionKey, ciphersuite: ciphersuite, info: info, encapsulatedKey: encapsulated)
            clear = try recipient.open(ciphertext, authenticating: Data(manifest.id.utf8))
        } catch {
            throw PuenteError(
                .packageMalformed,
                "\(partName) does not open with this node's encryption key: it was encrypted to another key or altered.",
                at: at)
        }
        do {
            return try JSONDecoder().decode(ReferralMessage.self, from: clear)
        } catch {
            throw PuenteError(.packageMalformed, "\(partName) does not hold a referral message.", at: at)
        }
    }
}
