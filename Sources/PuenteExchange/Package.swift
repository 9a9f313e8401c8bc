import Crypto
import Foundation
import PuenteAccess
import PuenteCore

/// What a package says about itself, signed by its sender: who sends it to whom under which agreement,
/// what it holds (dataflow, code lists pinned by version and hash, period, measures, dimensions,
/// protection), its place in the sender's sequence for that agreement, and the SHA-256 of each payload
/// part.
public struct PackageManifest: Codable, Hashable, Sendable {
    /// A code list the payload's codes come from, pinned so the receiver reads them as they were meant.
    public struct CodeListPin: Codable, Hashable, Sendable {
        public var id: String
        public var version: String
        /// SHA-256 of the list's canonical JSON (`PackageManifest.pin`).
        public var sha256: String
    }

    /// One payload part: its bytes follow the signature line in the manifest's order.
    public struct Part: Codable, Hashable, Sendable {
        public var name: String
        public var mediaType: String
        public var bytes: Int
        public var sha256: String
    }

    /// The first line of every package file.
    public static let format = "puente-package/1"
    /// The JWS `typ` of package signatures.
    public static let signatureType = "puente-package+json"

    public var id: String
    public var sender: String
    public var receiver: String
    public var agreement: String
    /// The SDMX dataflow reference, `PUENTE:DF_MIG_FLOW(1.0)`.
    public var dataflow: String
    public var codeLists: [CodeListPin]
    /// The calendar year it covers (`2016`): it replaces what the sender sent before for that year.
    public var period: String
    /// `A`, `Q` or `M`: how finely the period is broken down.
    public var frequency: String
    public var measures: [String]
    public var dimensions: [String]
    /// `ckm` or `suppression`.
    public var protection: String
    /// 1, 2, 3, … per sender and agreement.
    public var sequence: Int
    public var createdAt: String
    public var parts: [Part]
    /// Packages of linkage between countries: the encoding scheme and its parameters' hash, so the
    /// linkage unit refuses encodings made otherwise; absent in every other package.
    public var linkage: LinkageStamp?

    public struct LinkageStamp: Codable, Hashable, Sendable {
        /// `puente-pprl/1`.
        public var scheme: String
        /// SHA-256 of the scheme's parameter line (docs/linkage.md).
        public var parameterHash: String
        /// Records encoded (in an encodings package) or the party's records matched against (in a result).
        public var records: Int
        /// Bits of each encoding.
        public var bits: Int

        public init(scheme: String, parameterHash: String, records: Int, bits: Int) {
            self.scheme = scheme
            self.parameterHash = parameterHash
            self.records = records
            self.bits = bits
        }
    }

    public init(
        id: String, sender: String, receiver: String, agreement: String, dataflow: String,
        codeLists: [CodeListPin], period: String, frequency: String, measures: [String], dimensions: [String],
        protection: String, sequence: Int, createdAt: String, parts: [Part] = [], linkage: LinkageStamp? = nil
    ) {
        self.id = id
        self.sender = sender
        self.receiver = receiver
        self.agreement = agreement
        self.dataflow = dataflow
        self.codeLists = codeLists
        self.period = period
        self.frequency = frequency
        self.measures = measures
        self.dimensions = dimensions
        self.protection = protection
        self.sequence = sequence
        self.createdAt = createdAt
        self.parts = parts
        self.linkage = linkage
    }

    /// A code list's pin: SHA-256 over the canonical JSON of `{"agency", "id", "version", "codes": [ids]}`,
    /// codes in the list's order. Names are left out: a translation does not change what a code means.
    public static func pin(_ list: CodeList) -> CodeListPin {
        let document = JSONValue.object([
            "agency": .string(list.agency), "id": .string(list.id), "version": .string(list.version),
            "codes": .array(list.codes.map { .string($0.id) }),
        ])
        return CodeListPin(
            id: list.id, version: list.version, sha256: hex(SHA256.hash(data: CanonicalJSON.encode(document))))
    }
}

/// A package file: the manifest, the sender's signature over it and the payload parts, framed so that
/// every byte is covered by the signature or a hash the signature covers:
///
///     puente-package/1 LF
///     canonical JSON of the manifest LF
///     detached JWS over the manifest (typ puente-package+json) LF
///     the parts' bytes, one after the other, exactly as many as the manifest gives for each
///
/// Files end in `.puente`; docs/exchange.md has what a partner needs to check one without Puente.
public struct SignedPackage: Sendable {
    public var manifest: PackageManifest
    public var signature: DocumentSignature
    /// The parts' bytes, in the manifest's order.
    public var parts: [Data]

    /// Fills in the parts' sizes and hashes and signs the manifest with the sender's key.
    public static func seal(
        _ manifest: PackageManifest, parts: [(name: String, mediaType: String, bytes: Data)], by node: NodeIdentity
    ) throws -> SignedPackage {
        var manifest = manifest
        manifest.parts = parts.map {
            PackageManifest.Part(
                name: $0.name, mediaType: $0.mediaType, bytes: $0.bytes.count, sha256: hex(SHA256.hash(data: $0.bytes)))
        }
        let document = try JSONValue(encoding: manifest, source: "manifest")
        let signature = try DocumentSignature.sign(document, type: PackageManifest.signatureType, by: node)
        return SignedPackage(manifest: manifest, signature: signature, parts: parts.map(\.bytes))
    }

    public init(manifest: PackageManifest, signature: DocumentSignature, parts: [Data]) {
        self.manifest = manifest
        self.signature = signature
        self.parts = parts
    }

    /// The file's bytes.
    public func file() throws -> Data {
        var out = try header()
        for part in parts { out += part }
        return out
    }

    /// The file's first three lines: format, manifest and signature. What a receiver keeps of a package
    /// whose parts it must not keep (a referral's encrypted fields); the manifest still says what the
    /// parts were, by size and hash.
    public func header() throws -> Data {
        var out = Data((PackageManifest.format + "\n").utf8)
        out += try CanonicalJSON.encode(manifest)
        out += Data(("\n" + signature.compact + "\n").utf8)
        return out
    }

    /// Reads a package file and checks its frame and the parts against the manifest's hashes (not the
    /// signature: that needs the sender's key). A changed byte in the frame or the manifest's layout is
    /// `packageMalformed`; in a part, `packageTampered`. `source` names the file in errors.
    public init(file: Data, source: String) throws {
        let at = InputLocation(file: source)
        func malformed(_ message: String) -> PuenteError { PuenteError(.packageMalformed, message, at: at) }
        // Every byte is text: the manifest, the signature and the CSV parts are UTF-8.
        guard String(data: file, encoding: .utf8) != nil else { throw malformed("A package is UTF-8 text.") }
        var lines: [Data] = []
        var start = file.startIndex
        while lines.count < 3, let newline = file[start...].firstIndex(of: 0x0A) {
            lines.append(file[start..<newline])
            start = file.index(after: newline)
        }
        guard lines.count == 3, lines[0] == Data(PackageManifest.format.utf8) else {
            throw malformed("Expected a package: a '\(PackageManifest.format)' line, the manifest and its signature.")
        }
        let manifest: PackageManifest
        do {
            manifest = try JSONDecoder().decode(PackageManifest.self, from: lines[1])
        } catch {
            throw malformed("The manifest line is not a package manifest.")
        }
        // Only the canonical form is read, so no byte of the line escapes the signature.
        guard (try? CanonicalJSON.encode(manifest)) == lines[1] else {
            throw malformed("The manifest is not written canonically: it was changed after signing.")
        }
        let signature: DocumentSignature
        do {
            signature = try DocumentSignature(compact: String(decoding: lines[2], as: UTF8.self), source: source)
        } catch let error as PuenteError {
            throw malformed(error.message)
        }
        var parts: [Data] = []
        for part in manifest.parts {
            guard part.bytes >= 0, file.distance(from: start, to: file.endIndex) >= part.bytes else {
                throw PuenteError(.packageTampered, "Part \(part.name) is shorter than its manifest says.", at: at)
            }
            let end = file.index(start, offsetBy: part.bytes)
            let bytes = Data(file[start..<end])
            guard hex(SHA256.hash(data: bytes)) == part.sha256 else {
                throw PuenteError(.packageTampered, "Part \(part.name) differs from its hash in the manifest.", at: at)
            }
            parts.append(bytes)
            start = end
        }
        guard start == file.endIndex else {
            throw PuenteError(.packageTampered, "Bytes follow the last part the manifest lists.", at: at)
        }
        self.init(manifest: manifest, signature: signature, parts: parts)
    }

    /// Checks the sender's signature over the manifest with its key (`x` of its JWK).
    public func verifySignature(publicKey: String) throws {
        guard let key = Base64URL.ed25519PublicKey(publicKey) else {
            throw PuenteError(.senderUnknown, "The sender's key is not an Ed25519 public key.")
        }
        try signature.verify(
            try JSONValue(encoding: manifest, source: "manifest"), type: PackageManifest.signatureType, key: key)
    }

    /// A part by name.
    public func part(_ name: String) -> Data? {
        manifest.parts.firstIndex { $0.name == name }.map { parts[$0] }
    }

    /// SHA-256 of a file, lower-case hex: what tells one package from another with the same number.
    public static func digest(of file: Data) -> String { hex(SHA256.hash(data: file)) }
}

func hex(_ digest: some Sequence<UInt8>) -> String {
    var out = ""
    for byte in digest {
        out += String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
    }
    return out
}
