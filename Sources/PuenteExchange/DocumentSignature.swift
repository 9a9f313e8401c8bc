import Crypto
import Foundation
import PuenteAccess
import PuenteCore

/// A signature over a JSON document that crosses organisations (an agreement, a package manifest, the
/// member registry): a JWS (RFC 7515) with `alg: EdDSA` (RFC 8037, Ed25519) in compact serialisation with
/// a detached payload (RFC 7515, appendix F), over the document's canonical form (RFC 8785).
///
///     BASE64URL(header) ".." BASE64URL(signature)
///     header     = canonical JSON of {"alg": "EdDSA", "kid": "<node id>/<key id>", "typ": "<document type>"}
///     signed     = ASCII(BASE64URL(header) "." BASE64URL(canonical JSON of the document))
///
/// `typ` names the kind of document, so a signature on an agreement can never pass as one on a package.
/// A partner verifies it with any JWS library, or in a few lines (docs/exchange.md).
public struct DocumentSignature: Hashable, Sendable {
    public struct Header: Codable, Hashable, Sendable {
        public var alg: String
        public var kid: String
        public var typ: String

        /// The header's canonical JSON: the bytes the signature covers, and the only form read back.
        var canonical: Data {
            CanonicalJSON.encode(.object(["alg": .string(alg), "kid": .string(kid), "typ": .string(typ)]))
        }
    }

    public var header: Header
    public var signature: Data

    /// Signs `document` as a document of type `type` with the node's key.
    public static func sign(_ document: JSONValue, type: String, by node: NodeIdentity) throws -> DocumentSignature {
        let header = Header(alg: "EdDSA", kid: node.kid, typ: type)
        let input = signingInput(header: header.canonical, document: document)
        return DocumentSignature(header: header, signature: try node.signingKey.signature(for: input))
    }

    /// The compact form, `header..signature`.
    public var compact: String { Base64URL.encode(header.canonical) + ".." + Base64URL.encode(signature) }

    /// Reads the compact form; `source` names it in errors.
    public init(compact: String, source: String) throws {
        let parts = compact.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].isEmpty, let headerBytes = Base64URL.decode(String(parts[0])),
            let signature = Base64URL.decode(String(parts[2]))
        else {
            throw PuenteError(
                .invalidInput, "Expected a detached JWS: BASE64URL(header)..BASE64URL(signature).",
                at: InputLocation(file: source))
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: headerBytes),
            header.canonical == headerBytes
        else {
            throw PuenteError(
                .invalidInput, "The signature's header is not the canonical {alg, kid, typ} object.",
                at: InputLocation(file: source))
        }
        self.init(header: header, signature: signature)
    }

    init(header: Header, signature: Data) {
        self.header = header
        self.signature = signature
    }

    /// Checks the signature over `document` as a document of type `type` by the holder of `key`; throws
    /// `signatureInvalid` (with what is wrong, never the document's content) otherwise.
    public func verify(_ document: JSONValue, type: String, key: Curve25519.Signing.PublicKey) throws {
        guard header.alg == "EdDSA" else {
            throw PuenteError(.signatureInvalid, "The signature is not EdDSA (alg \(header.alg)).")
        }
        guard header.typ == type else {
            throw PuenteError(.signatureInvalid, "The signature is for a document of type \(header.typ), not \(type).")
        }
        let input = Self.signingInput(header: header.canonical, document: document)
        guard key.isValidSignature(signature, for: input) else {
            throw PuenteError(
                .signatureInvalid,
                "The signature does not match the document: it was changed, or signed by another key.")
        }
    }

    static func signingInput(header: Data, document: JSONValue) -> Data {
        Data((Base64URL.encode(header) + "." + Base64URL.encode(CanonicalJSON.encode(document))).utf8)
    }
}

extension Base64URL {
    /// An Ed25519 public key from the `x` of its JWK; nil when it is not 32 bytes of base64url.
    public static func ed25519PublicKey(_ text: String) -> Curve25519.Signing.PublicKey? {
        decode(text).flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
    }

    public static func x25519PublicKey(_ text: String) -> Curve25519.KeyAgreement.PublicKey? {
        decode(text).flatMap { try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: $0) }
    }
}
