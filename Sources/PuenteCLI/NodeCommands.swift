import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange

/// `puente node`: the node's identity among the region's nodes, and signing documents with it.
struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The node's identity (id, country, Ed25519 signing key) and the documents it signs.",
        discussion: """
            The signing key is kept in the key file, beside the personal-data keys, never in the database.
            Signatures are detached JWS (EdDSA) over the document's canonical JSON; docs/exchange.md
            describes them so a partner can check one without Puente.

              puente node init --id SV-DGME --country SLV
              puente node show --format json
              puente node sign --type puente-agreement+json agreement.json > agreement.json.jws
              puente node verify --type puente-agreement+json --public-key KEY agreement.json agreement.json.jws
            """,
        subcommands: [Init.self, Show.self, Sign.self, Verify.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give this node its id, country and signing key.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The node's id: country code and authority, like SV-DGME.") var id: String
        @Option(help: "The node's country, ISO 3166 alpha-3, like SLV.") var country: String

        func validate() throws {
            do { try NodeIdentity.check(id: id, country: country) } catch let error as PuenteError {
                throw ValidationError(error.message)
            }
        }

        func run() async throws {
            // The store is opened first, so the key file exists and opens the store's data.
            try await withStore(store) { _ in }
            guard let file = store.keyFileURL else {
                throw PuenteError(
                    .invalidArgument, "A node identity is kept in a key file: give --key-file, not PUENTE_KEYS.")
            }
            let node = try Keyring.initNode(id: id, country: country, file: file)
            print(
                "Node \(node.id) (\(node.country)) signs with key \(node.kid); public key \(node.publicKeyBase64URL).")
            print("Back up \(file.path): the signing key is there and nowhere else.")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The node's id, country and public key (never the private key).")
        @OptionGroup var store: StoreOptions
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let node = try store.nodeIdentity()
            switch format {
            case .text:
                print("Node \(node.id) (\(node.country)); key \(node.kid); public key \(node.publicKeyBase64URL)")
                print("Encryption key (referral agreements): \(node.encryptionPublicKeyBase64URL)")
            case .json:
                let view: JSONValue = .object([
                    "id": .string(node.id), "country": .string(node.country), "kid": .string(node.kid),
                    // A JWK (RFC 8037) of the public key, as partners' JWS libraries take it.
                    "jwk": .object([
                        "kty": .string("OKP"), "crv": .string("Ed25519"), "x": .string(node.publicKeyBase64URL),
                    ]),
                    "encryptionJwk": .object([
                        "kty": .string("OKP"), "crv": .string("X25519"),
                        "x": .string(node.encryptionPublicKeyBase64URL),
                    ]),
                ])
                print(String(decoding: CanonicalJSON.encode(view), as: UTF8.self))
            }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a JSON document with the node's key; prints the detached JWS.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The kind of document (the JWS `typ`), like puente-agreement+json.") var type: String
        @Argument(help: "The JSON document.") var file: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let document = try JSONValue.parse(try readFile(file), source: file)
            print(try DocumentSignature.sign(document, type: type, by: node).compact)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check a detached JWS over a JSON document; exits non-zero with the reason when it does not verify.")
        @Option(help: "The kind of document the signature must be for.") var type: String
        @Option(parsing: .unconditional, help: "The signer's Ed25519 public key, base64url (the `x` of its JWK).")
        var publicKey: String
        @Argument(help: "The JSON document.") var file: String
        @Argument(help: "The detached JWS.") var signature: String

        func validate() throws {
            guard Base64URL.ed25519PublicKey(publicKey) != nil else {
                throw ValidationError("--public-key: expected 32 bytes in base64url (43 characters).")
            }
        }

        func run() async throws {
            let key = Base64URL.ed25519PublicKey(publicKey)!  // validate() checked it
            let document = try JSONValue.parse(try readFile(file), source: file)
            let jws = try DocumentSignature(
                compact: String(decoding: try readFile(signature), as: UTF8.self), source: signature)
            try jws.verify(document, type: type, key: key)
            print("Signature valid: \(jws.header.typ) signed by \(jws.header.kid).")
        }
    }
}

extension StoreOptions {
    /// The node's identity from its key file; an error saying how to make one when there is none.
    func nodeIdentity() throws -> NodeIdentity {
        guard let node = try keyring().ring.node else {
            throw PuenteError(
                .notFound, "This node has no identity yet; give it one with `puente node init --id ID --country ISO3`.")
        }
        return node
    }

    /// The node's identity, or nil before `puente node init`.
    func optionalNodeIdentity() throws -> NodeIdentity? { try keyring().ring.node }
}
