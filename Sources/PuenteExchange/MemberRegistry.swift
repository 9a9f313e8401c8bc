import Foundation
import PuenteAccess
import PuenteCore

/// The hub's list of the nodes that take part in the exchange, with the keys they sign with: what a
/// receiver checks a sender's signature against. The hub signs each version; it expires, and members
/// refuse an older version than one they trusted (a rollback would bring back a revoked key).
public struct MemberRegistry: Codable, Hashable, Sendable {
    public enum Status: String, Codable, Sendable { case active, revoked }

    /// One of a member's signing keys over time.
    public struct Key: Codable, Hashable, Sendable {
        public var kid: String
        /// The `x` of its Ed25519 JWK (base64url).
        public var x: String
        public var addedOn: String
        /// Set when the member rotated to a newer key: signatures made before still verify.
        public var retiredOn: String?
        /// Set when the key must no longer be trusted at all (lost or stolen).
        public var revokedOn: String?
    }

    public struct Member: Codable, Hashable, Sendable {
        public var node: String
        public var country: String
        public var organisation: String
        public var endpoint: String?
        public var status: Status
        public var keys: [Key]

        /// The key that signs now: the newest neither retired nor revoked.
        public var currentKey: Key? { keys.last { $0.retiredOn == nil && $0.revokedOn == nil } }
    }

    public var hub: String
    public var version: Int
    public var issuedOn: String
    public var expiresOn: String
    public var members: [Member]

    public static let signatureType = "puente-registry+json"

    public init(hub: String, version: Int = 0, issuedOn: String, expiresOn: String, members: [Member] = []) {
        self.hub = hub
        self.version = version
        self.issuedOn = issuedOn
        self.expiresOn = expiresOn
        self.members = members
    }

    public func member(_ node: String) -> Member? { members.first { $0.node == node } }

    /// Adds a member with its current key; `conflict` when the node is a member already.
    public mutating func add(
        node: String, country: String, organisation: String, endpoint: String?, key: String, kid: String,
        on day: CivilDate
    ) throws {
        try NodeIdentity.check(id: node, country: country)
        guard Base64URL.ed25519PublicKey(key) != nil else {
            throw PuenteError(.invalidArgument, "key: expected an Ed25519 public key in base64url (43 characters).")
        }
        guard member(node) == nil else { throw PuenteError(.conflict, "Node \(node) is a member already.") }
        members.append(
            Member(
                node: node, country: country, organisation: organisation, endpoint: endpoint, status: .active,
                keys: [Key(kid: kid, x: key, addedOn: day.description)]))
        members.sort { $0.node < $1.node }
    }

    /// A member's new key; the previous one is retired (what it signed still verifies).
    public mutating func rotate(node: String, key: String, kid: String, on day: CivilDate) throws {
        guard Base64URL.ed25519PublicKey(key) != nil else {
            throw PuenteError(.invalidArgument, "key: expected an Ed25519 public key in base64url (43 characters).")
        }
        let i = try index(node)
        for k in members[i].keys.indices where members[i].keys[k].retiredOn == nil {
            members[i].keys[k].retiredOn = day.description
        }
        members[i].keys.append(Key(kid: kid, x: key, addedOn: day.description))
    }

    /// Revokes a member: none of its keys is trusted any more.
    public mutating func revoke(node: String, on day: CivilDate) throws {
        let i = try index(node)
        members[i].status = .revoked
        for k in members[i].keys.indices where members[i].keys[k].revokedOn == nil {
            members[i].keys[k].revokedOn = day.description
        }
    }

    private func index(_ node: String) throws -> Int {
        guard let i = members.firstIndex(where: { $0.node == node }) else {
            throw PuenteError(.notFound, "Node \(node) is not a member; `puente members list` shows them.")
        }
        return i
    }

    /// The key a signature names (`<node>/<key id>`) when it may be trusted: the member is active and
    /// the key not revoked. Otherwise why not.
    public func trustedKey(kid: String) -> Result<String, PuenteError> {
        let node = String(kid.split(separator: "/").first ?? "")
        guard let member = member(node) else {
            return .failure(PuenteError(.signatureInvalid, "\(node) is not a member of the exchange."))
        }
        guard member.status == .active else { return .failure(PuenteError(.signatureInvalid, "\(node) was revoked.")) }
        guard let key = member.keys.first(where: { $0.kid == kid }) else {
            return .failure(PuenteError(.signatureInvalid, "\(kid) is not a key of \(node)."))
        }
        guard key.revokedOn == nil else { return .failure(PuenteError(.signatureInvalid, "\(kid) was revoked.")) }
        return .success(key.x)
    }
}

/// A registry version with the hub's signature: the file the hub publishes and members fetch.
public struct SignedRegistry: Codable, Hashable, Sendable {
    public var registry: MemberRegistry
    public var signature: String

    /// Signs the next version of `registry`, valid for `days`.
    public static func issue(_ registry: MemberRegistry, by hub: NodeIdentity, on day: CivilDate, days: Int = 30) throws
        -> SignedRegistry
    {
        var next = registry
        next.hub = hub.id
        next.version += 1
        next.issuedOn = day.description
        next.expiresOn = day.adding(days: days).description
        let document = try JSONValue(encoding: next, source: "registry")
        return SignedRegistry(
            registry: next,
            signature: try DocumentSignature.sign(document, type: MemberRegistry.signatureType, by: hub).compact)
    }

    public init(registry: MemberRegistry, signature: String) {
        self.registry = registry
        self.signature = signature
    }

    public init(file data: Data, source: String) throws {
        do {
            self = try JSONDecoder().decode(SignedRegistry.self, from: data)
        } catch {
            throw PuenteError(
                .invalidInput, "Expected a member registry: {\"registry\": {…}, \"signature\": …}.",
                at: InputLocation(file: source))
        }
    }

    public func file() throws -> Data { try CanonicalJSON.encode(self) }

    /// How long after it expires a registry is still trusted, with a warning.
    public static let graceDays = 7

    /// What a member decides about a registry it fetched.
    public enum Verdict: Equatable, Sendable {
        /// Trust it (it becomes the highest version trusted).
        case trusted
        /// Trust it, and warn: it expired, but less than the grace period ago.
        case trustedInGrace(expiredOn: String)
    }

    /// Checks the hub's signature by `hubKey`, that this version is not older than `highestTrusted` (a
    /// rollback), and that it has not expired more than `graceDays` ago.
    public func verify(hubKey: String, highestTrusted: Int, on day: CivilDate, graceDays: Int = graceDays) throws
        -> Verdict
    {
        try checkSignature(hubKey: hubKey)
        guard registry.version >= highestTrusted else {
            throw PuenteError(
                .signatureInvalid,
                "Registry version \(registry.version) is older than version \(highestTrusted), already trusted: refused as a rollback."
            )
        }
        guard let expires = CivilDate(iso: registry.expiresOn) else {
            throw PuenteError(.invalidInput, "expiresOn: expected a date like 2027-01-31.")
        }
        if day <= expires { return .trusted }
        guard day.daysSinceEpoch - expires.daysSinceEpoch <= graceDays else {
            throw PuenteError(
                .signatureInvalid, "The registry expired on \(registry.expiresOn); fetch a newer one from the hub.")
        }
        return .trustedInGrace(expiredOn: registry.expiresOn)
    }

    /// Checks only that the hub signed this registry with `hubKey`, as it stands (the hub reading its
    /// own file before it signs the next version; freshness is the members' question).
    public func checkSignature(hubKey: String) throws {
        guard let key = Base64URL.ed25519PublicKey(hubKey) else {
            throw PuenteError(.invalidArgument, "The hub's key is not an Ed25519 public key in base64url.")
        }
        let jws = try DocumentSignature(compact: signature, source: "registry signature")
        guard jws.header.kid.hasPrefix(registry.hub + "/") else {
            throw PuenteError(
                .signatureInvalid, "The registry is signed by \(jws.header.kid), not by its hub \(registry.hub).")
        }
        try jws.verify(
            try JSONValue(encoding: registry, source: "registry"), type: MemberRegistry.signatureType, key: key)
    }
}
