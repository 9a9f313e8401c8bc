import Foundation
import PuenteAccess
import PuenteCore

/// The receiver's signed answer to a package: which package (by id and the SHA-256 of its file), what
/// became of it and when. The sender keeps it as proof of delivery; a partner checks it like any other
/// document (`typ` `puente-receipt+json`).
public struct PackageReceipt: Codable, Hashable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        /// Its observations replaced the sender's for its period.
        case published
        /// Kept, waiting for an earlier sequence number; published when that arrives.
        case held
        /// The same package had arrived before; nothing changed.
        case duplicate
    }

    public var package: String
    public var sha256: String
    public var sender: String
    public var receiver: String
    public var agreement: String
    public var sequence: Int
    public var outcome: Outcome
    public var receivedAt: String

    public static let signatureType = "puente-receipt+json"

    public init(manifest: PackageManifest, sha256: String, outcome: Outcome, receivedAt: String) {
        package = manifest.id
        self.sha256 = sha256
        sender = manifest.sender
        receiver = manifest.receiver
        agreement = manifest.agreement
        sequence = manifest.sequence
        self.outcome = outcome
        self.receivedAt = receivedAt
    }
}

/// A receipt with the receiver's signature: `{"receipt": {…}, "signature": "<detached JWS>"}`.
public struct SignedReceipt: Codable, Hashable, Sendable {
    public var receipt: PackageReceipt
    public var signature: String

    public static func sign(_ receipt: PackageReceipt, by node: NodeIdentity) throws -> SignedReceipt {
        let document = try JSONValue(encoding: receipt, source: "receipt")
        return SignedReceipt(
            receipt: receipt,
            signature: try DocumentSignature.sign(document, type: PackageReceipt.signatureType, by: node).compact)
    }

    public init(receipt: PackageReceipt, signature: String) {
        self.receipt = receipt
        self.signature = signature
    }

    public init(file data: Data, source: String) throws {
        do {
            self = try JSONDecoder().decode(SignedReceipt.self, from: data)
        } catch {
            throw PuenteError(
                .invalidInput, "Expected a receipt: {\"receipt\": {…}, \"signature\": …}.",
                at: InputLocation(file: source))
        }
    }

    public func file() throws -> Data { try CanonicalJSON.encode(self) }

    /// Checks the receiver's signature with the key it signs with (`x` of its JWK).
    public func verify(receiverKey: String) throws {
        guard let key = Base64URL.ed25519PublicKey(receiverKey) else {
            throw PuenteError(.invalidArgument, "The receiver's key is not an Ed25519 public key in base64url.")
        }
        let jws = try DocumentSignature(compact: signature, source: "receipt signature")
        guard jws.header.kid.hasPrefix(receipt.receiver + "/") else {
            throw PuenteError(
                .signatureInvalid, "The receipt is signed by \(jws.header.kid), not by \(receipt.receiver).")
        }
        try jws.verify(
            try JSONValue(encoding: receipt, source: "receipt"), type: PackageReceipt.signatureType, key: key)
    }
}
