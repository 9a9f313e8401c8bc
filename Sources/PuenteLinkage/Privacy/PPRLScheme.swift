import Crypto
import Foundation
import PuenteAccess
import PuenteCore

/// Puente's hardened encoding for linkage between countries (standards §6, docs/linkage.md):
/// one record-level Bloom filter over given names, surnames, birth date and sex, each token placed by
/// HMAC-SHA-256 under a key derived from the parties' shared secret and the agreement (random hashing,
/// not the double hashing whose bit patterns can be mined); name tokens salted with a stable field, so
/// the same name sets other bits for each value of it; balanced (the filter followed by its complement,
/// then permuted with a secret permutation, so every encoding sets the same number of bits and the
/// count no longer tells a name's length); and BLIP (each bit flipped with a small probability, keyed
/// per record, so no two records of a frequent name encode alike).
///
/// Both parties must encode with the same parameters: every encoding package carries `parameterHash`,
/// and the linkage unit refuses to match encodings whose hashes differ.
public struct PPRLScheme: Codable, Hashable, Sendable {
    public static let currentVersion = "puente-pprl/1"

    public struct Feature: Codable, Hashable, Sendable {
        public enum Tokens: String, Codable, Sendable {
            /// Letter pairs of the folded words, padded with a space at each end.
            case bigrams
            /// Each character with its position (`1 1`, `2 9`, …): dates as `yyyymmdd`.
            case positional
            /// The whole value.
            case exact
        }

        /// `given_names`, `surnames`, `birth_date` or `sex`.
        public var name: String
        public var tokens: Tokens
        public var bitsPerToken: Int
        /// Whether its tokens are salted with the scheme's salt field.
        public var salted: Bool

        public init(_ name: String, _ tokens: Tokens, bitsPerToken: Int, salted: Bool) {
            self.name = name
            self.tokens = tokens
            self.bitsPerToken = bitsPerToken
            self.salted = salted
        }
    }

    public var version: String
    /// Bits of the filter before balancing.
    public var length: Int
    public var features: [Feature]
    /// `sex` or `birth_year`: a field stable across a person's records whose value salts the salted
    /// features' tokens. nil: no salting.
    public var salt: String?
    public var balanced: Bool
    /// BLIP: the probability, in thousandths, that each bit of the encoding is flipped.
    public var flipPerMille: Int

    /// The fields a scheme may encode, in the order `CLKPersonValues` gives their values.
    public static let fieldNames = ["given_names", "surnames", "birth_date", "sex", "document"]
    public static let saltFields = ["sex", "birth_year"]

    public init(
        length: Int = 1024, features: [Feature], salt: String? = "sex", balanced: Bool = true, flipPerMille: Int = 0
    ) {
        version = Self.currentVersion
        self.length = length
        self.features = features
        self.salt = salt
        self.balanced = balanced
        self.flipPerMille = flipPerMille
    }

    /// The shipped parameters. Not salted: on the generated corpus salting names with sex cost 1.3 points
    /// of F1 (a sex missing or wrong on one record puts its names in another space), more than balancing
    /// and BLIP together; docs/linkage.md has the figures.
    public static let standard = PPRLScheme(
        features: [
            Feature("given_names", .bigrams, bitsPerToken: 12, salted: true),
            Feature("surnames", .bigrams, bitsPerToken: 12, salted: true),
            Feature("birth_date", .positional, bitsPerToken: 10, salted: false),
            Feature("sex", .exact, bitsPerToken: 10, salted: false),
            Feature("document", .exact, bitsPerToken: 30, salted: false),
        ], salt: nil, balanced: true, flipPerMille: 10)

    /// The Dice coefficient at which `standard` encodings of records match (the best F1 on the generated
    /// corpus), and at which persons match when each party groups its records into persons
    /// (`EncodingMatcher.matchPersons`): a person's best pair is higher than a typical pair.
    public static let standardThreshold = 0.88
    public static let standardPersonThreshold = 0.87

    /// Bits of each encoding as sent.
    public var encodedLength: Int { balanced ? 2 * length : length }

    /// The parameters as one line of text, fields in a fixed order: what `parameterHash` hashes, so a
    /// partner can recompute it from a scheme file without Puente.
    public var parameterText: String {
        var text =
            "\(version);length=\(length);salt=\(salt ?? "");balanced=\(balanced ? 1 : 0);flip_per_mille=\(flipPerMille)"
        for f in features { text += ";\(f.name):\(f.tokens.rawValue):\(f.bitsPerToken):\(f.salted ? 1 : 0)" }
        return text
    }

    /// SHA-256 of `parameterText`, lower-case hex.
    public var parameterHash: String {
        SHA256.hash(data: Data(parameterText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Checks the parameters; the error names the field and what it takes.
    public func check() throws {
        func fail(_ field: String, _ expected: String) -> PuenteError {
            PuenteError(.invalidArgument, "Encoding scheme \(field): expected \(expected).")
        }
        guard version == Self.currentVersion else { throw fail("version", Self.currentVersion) }
        guard (128...8192).contains(length), length % 64 == 0 else {
            throw fail("length", "a multiple of 64 from 128 to 8192")
        }
        guard !features.isEmpty else { throw fail("features", "at least one") }
        for f in features {
            guard Self.fieldNames.contains(f.name) else {
                throw fail("feature \(f.name)", "one of \(Self.fieldNames.joined(separator: ", "))")
            }
            guard (1...64).contains(f.bitsPerToken) else { throw fail("\(f.name).bitsPerToken", "1 to 64") }
        }
        if let salt, !Self.saltFields.contains(salt) {
            throw fail("salt", "one of \(Self.saltFields.joined(separator: ", ")) or none")
        }
        guard (0...250).contains(flipPerMille) else { throw fail("flipPerMille", "0 to 250") }
    }
}

/// Encodes records under a `PPRLScheme` with keys derived from the parties' shared secret and the
/// agreement's id: the same person encodes alike on both nodes of one agreement and unlike under any
/// other agreement.
public struct PPRLEncoder: Sendable {
    public let scheme: PPRLScheme
    let tokenKey: HMACSHA256
    let flipKey: SymmetricKey
    /// Output bit i is bit `permutation[i]` of the filter followed by its complement.
    let permutation: [Int32]
    let wordsPerRecord: Int

    /// `secret` is the shared secret (at least 16 bytes); `context` the agreement's id.
    public init(scheme: PPRLScheme, secret: [UInt8], context: String) throws {
        try scheme.check()
        guard secret.count >= 16 else {
            throw PuenteError(.invalidArgument, "The linkage secret must be at least 16 bytes.")
        }
        self.scheme = scheme
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), salt: Array(PPRLScheme.currentVersion.utf8),
            info: Array("\(context)\u{0}\(scheme.parameterHash)".utf8), outputByteCount: 96
        ).withUnsafeBytes { Array($0) }
        tokenKey = HMACSHA256(key: Array(derived[0..<32]))
        flipKey = SymmetricKey(data: derived[64..<96])
        wordsPerRecord = scheme.encodedLength / 64
        if scheme.balanced {
            // Fisher–Yates driven by an HMAC stream under the third key.
            let streamKey = HMACSHA256(key: Array(derived[32..<64]))
            let work = HMACSHA256.Work()
            var stream: [UInt8] = [], counter: UInt32 = 0
            func draw() -> UInt32 {
                if stream.count < 4 {
                    var block = [UInt8](repeating: 0, count: HMACSHA256.size)
                    withUnsafeBytes(of: counter.bigEndian) { streamKey.authenticate($0, in: work, into: &block) }
                    counter += 1
                    stream += block
                }
                defer { stream.removeFirst(4) }
                return stream.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
            }
            var p = (0..<Int32(scheme.encodedLength)).map { $0 }
            for i in stride(from: p.count - 1, to: 0, by: -1) {
                p.swapAt(i, Int(draw() % UInt32(i + 1)))
            }
            permutation = p
        } else {
            permutation = []
        }
    }

    /// The tokens of one feature's value.
    static func tokens(_ value: String, _ kind: PPRLScheme.Feature.Tokens) -> [String] {
        if value.isEmpty { return [] }
        switch kind {
        case .exact: return [value]
        case .bigrams: return CLKEncoder.tokens(value, .ngram(n: 2, positional: false))
        case .positional: return CLKEncoder.tokens(value, .ngram(n: 1, positional: true))
        }
    }

    /// The encoding of one record, `wordsPerRecord` words, bit 0 the most significant bit of the first.
    /// `values` are given names, surnames, birth date (`yyyymmdd`) and sex (`m`/`f`), normalised as
    /// `CLKPersonValues` does; `record` is the record's id in the package, which keys its bit flips.
    public func encode(_ values: [String], record: String, into out: inout [UInt64], work: HMACSHA256.Work) {
        let length = scheme.length
        var filter = [UInt64](repeating: 0, count: length / 64)
        let saltValue: String =
            switch scheme.salt {
            case "sex": values.count > 3 ? values[3] : ""
            case "birth_year": values.count > 2 ? String(values[2].prefix(4)) : ""
            default: ""
            }
        var mac = [UInt8](repeating: 0, count: HMACSHA256.size)
        for feature in scheme.features {
            guard let index = PPRLScheme.fieldNames.firstIndex(of: feature.name), index < values.count else { continue }
            // Given names and surnames share one token space, so a name typed in the other field still
            // sets the same bits.
            let space = index < 2 ? "names" : feature.name
            let prefix = space + "\u{1F}" + (feature.salted ? saltValue : "") + "\u{1F}"
            for token in Self.tokens(values[index], feature.tokens) {
                var message = Array((prefix + token).utf8)
                var placed = 0, round: UInt8 = 0
                while placed < feature.bitsPerToken {
                    message.append(round)
                    message.withUnsafeBytes { tokenKey.authenticate($0, in: work, into: &mac) }
                    message.removeLast()
                    // 16 positions of 16 bits from each MAC (length ≤ 8192, so the bias of `%` is < 0.2 %).
                    var i = 0
                    while i < HMACSHA256.size && placed < feature.bitsPerToken {
                        let bit = (Int(mac[i]) << 8 | Int(mac[i + 1])) % length
                        filter[bit >> 6] |= 1 << UInt64(63 - (bit & 63))
                        i += 2
                        placed += 1
                    }
                    round &+= 1
                }
            }
        }
        out = [UInt64](repeating: 0, count: wordsPerRecord)
        if scheme.balanced {
            for (i, source) in permutation.enumerated() {
                let s = Int(source)
                let bit =
                    s < length
                    ? filter[s >> 6] >> UInt64(63 - (s & 63)) & 1
                    : 1 ^ (filter[(s - length) >> 6] >> UInt64(63 - ((s - length) & 63)) & 1)
                if bit != 0 { out[i >> 6] |= 1 << UInt64(63 - (i & 63)) }
            }
        } else {
            out = filter
        }
        if scheme.flipPerMille > 0 { flip(&out, record: record) }
    }

    /// BLIP: each bit flipped with probability `flipPerMille`/1000, the flips drawn from a ChaCha20
    /// keystream under the flip key with a nonce from the record's id, by geometric skips.
    func flip(_ words: inout [UInt64], record: String) {
        let nonceBytes = Array(HMAC<SHA256>.authenticationCode(for: Array(record.utf8), using: flipKey).prefix(12))
        guard let nonce = try? ChaChaPoly.Nonce(data: nonceBytes),
            let sealed = try? ChaChaPoly.seal(
                [UInt8](repeating: 0, count: 4 * (words.count * 64 * scheme.flipPerMille / 1000 + 64)), using: flipKey,
                nonce: nonce)
        else { return }
        let stream = Array(sealed.ciphertext)
        let logKeep = log(1 - Double(scheme.flipPerMille) / 1000)
        var position = -1, offset = 0
        let bits = words.count * 64
        while offset + 4 <= stream.count {
            let u =
                (Double(stream[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) + 0.5) / 4_294_967_296
            offset += 4
            position += 1 + Int(log(u) / logKeep)
            if position >= bits { return }
            words[position >> 6] ^= 1 << UInt64(63 - (position & 63))
        }
    }
}
