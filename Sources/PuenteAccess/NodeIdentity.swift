import Crypto
import Foundation
import PuenteCore

/// Who a node is to other nodes and to the hub: its id (`SV-DGME`), its country (ISO 3166 alpha-3) and
/// the Ed25519 key it signs what leaves it with. The private key lives in the key file, beside the
/// personal-data keys and never in the database (`puente node init` writes it).
public struct NodeIdentity: Sendable {
    public var id: String
    public var country: String
    /// Names the signing key among the node's keys over time (`s` and 8 hex digits).
    public var keyID: String
    public var signingKey: Curve25519.Signing.PrivateKey

    public var publicKey: Curve25519.Signing.PublicKey { signingKey.publicKey }
    /// The public key's 32 bytes in base64url: the `x` of its JWK (RFC 8037).
    public var publicKeyBase64URL: String { Base64URL.encode(publicKey.rawRepresentation) }
    /// What signatures name as their signer: `<node id>/<key id>`.
    public var kid: String { "\(id)/\(keyID)" }

    /// The X25519 key other nodes encrypt referrals to this node with (HPKE, RFC 9180). It is derived
    /// from the signing key's seed with HKDF, so the key file keeps one secret and a key rotation renews
    /// both; it is a key of its own, never the signing key converted. Referral agreements publish its
    /// public half, signed by both parties.
    public var encryptionKey: Curve25519.KeyAgreement.PrivateKey {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: signingKey.rawRepresentation), salt: Data("puente".utf8),
            info: Data("node encryption key x25519 v1".utf8), outputByteCount: 32)
        // 32 bytes are always a valid X25519 private key (the scalar is clamped when used).
        return try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: derived.withUnsafeBytes { Data($0) })
    }

    /// The encryption key's public half in base64url.
    public var encryptionPublicKeyBase64URL: String { Base64URL.encode(encryptionKey.publicKey.rawRepresentation) }

    public init(id: String, country: String, keyID: String, signingKey: Curve25519.Signing.PrivateKey) {
        self.id = id
        self.country = country
        self.keyID = keyID
        self.signingKey = signingKey
    }

    /// A new identity with a fresh key; `id` and `country` are checked.
    public static func generate(id: String, country: String) throws -> NodeIdentity {
        try check(id: id, country: country)
        let keyID = "s" + (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return NodeIdentity(id: id, country: country, keyID: keyID, signingKey: Curve25519.Signing.PrivateKey())
    }

    /// A node id is the country's two-letter code, a hyphen and the authority's short name in capitals
    /// (`SV-DGME`, `GT-IGM`); a country is ISO 3166 alpha-3 (`SLV`).
    public static func check(id: String, country: String) throws {
        let parts = id.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 2, parts[0].allSatisfy({ $0.isASCII && $0.isUppercase }),
            (2...24).contains(parts[1].count),
            parts[1].allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "-") })
        else {
            throw PuenteError(
                .invalidArgument, "id: expected a country code, a hyphen and the authority's short name, like SV-DGME.")
        }
        guard country.count == 3, country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw PuenteError(.invalidArgument, "country: expected an ISO 3166 alpha-3 code, like SLV.")
        }
    }
}
