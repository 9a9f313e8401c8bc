import Crypto
import Foundation
import PuenteCore

/// A Bloom filter of `l` bits, bit 0 first (the big-endian bit order clkhash and anonlink serialise).
public struct BloomFilter: Sendable, Hashable {
    public let length: Int
    public private(set) var words: [UInt64]

    public init(length: Int) {
        self.length = length
        words = [UInt64](repeating: 0, count: (length + 63) / 64)
    }

    @inline(__always) public mutating func set(_ bit: Int) { words[bit >> 6] |= 1 << UInt64(63 - (bit & 63)) }
    @inline(__always) public func isSet(_ bit: Int) -> Bool { words[bit >> 6] & (1 << UInt64(63 - (bit & 63))) != 0 }
    public var popcount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public static func |= (a: inout BloomFilter, b: BloomFilter) {
        for k in a.words.indices { a.words[k] |= b.words[k] }
    }

    /// The filter folded `times` times: the two halves XOR-ed (clkhash's `xor_folds`).
    public func xorFolded(_ times: Int) -> BloomFilter {
        var current = self
        for _ in 0..<times {
            let half = current.length / 2
            var next = BloomFilter(length: half)
            for bit in 0..<half where current.isSet(bit) != current.isSet(bit + half) { next.set(bit) }
            current = next
        }
        return current
    }

    /// The bytes, first bit as the most significant bit of the first byte (`bitarray.tobytes()`).
    public var bytes: [UInt8] { Array(EncodingSet.bytes(of: words).prefix((length + 7) / 8)) }

    public init?(bytes: [UInt8], length: Int) {
        guard bytes.count * 8 >= length else { return nil }
        self.init(length: length)
        for bit in 0..<length where bytes[bit >> 3] & (0x80 >> UInt8(bit & 7)) != 0 { set(bit) }
    }

    /// Dice coefficient 2·|A∧B| / (|A|+|B|).
    public func dice(_ other: BloomFilter) -> Double {
        var common = 0, total = 0
        for k in words.indices {
            common += (words[k] & other.words[k]).nonzeroBitCount
            total += words[k].nonzeroBitCount + other.words[k].nonzeroBitCount
        }
        return total == 0 ? 0 : 2 * Double(common) / Double(total)
    }
}

/// The encoding settings of a cryptographic long-term key (CLK), mirroring clkhash's linkage schema v3:
/// `l`, `xor_folds`, the HKDF key derivation (SHA-256, `salt`, `info`, `keySize`) and, per feature, the
/// tokenisation (`ngram` with `n` and `positional`, or `exact`), the `bitsPerToken`/`bitsPerFeature`
/// strategy and the `doubleHash` hash (HMAC-SHA1 and HMAC-MD5, optionally `prevent_singularity`).
///
/// clkhash's `blakeHash` is not implemented (Swift Crypto has no BLAKE2b); nor are clkhash's value
/// formats (`string` patterns, `date`, `integer` checks): Puente normalises values itself (folded
/// names, `yyyymmdd` dates, `m`/`f`) and the same normalised text must be given to clkhash.
public struct CLKSchema: Sendable, Codable {
    public struct Feature: Sendable, Codable {
        public enum Comparison: Sendable, Codable, Hashable { case ngram(n: Int, positional: Bool), exact }
        public var identifier: String
        /// nil: the column is carried but not encoded (clkhash's `ignored`).
        public var comparison: Comparison?
        public var bitsPerToken: Int?
        public var bitsPerFeature: Int?
        public var preventSingularity: Bool

        public init(
            _ identifier: String, comparison: Comparison?, bitsPerToken: Int? = nil, bitsPerFeature: Int? = nil,
            preventSingularity: Bool = false
        ) {
            self.identifier = identifier
            self.comparison = comparison
            self.bitsPerToken = bitsPerToken
            self.bitsPerFeature = bitsPerFeature
            self.preventSingularity = preventSingularity
        }

        func ks(_ tokens: Int) -> [Int] {
            if let perFeature = bitsPerFeature, tokens > 0 {
                let k = perFeature / tokens, residue = perFeature % tokens
                return Array(repeating: k + 1, count: residue) + Array(repeating: k, count: tokens - residue)
            }
            return Array(repeating: bitsPerToken ?? 20, count: tokens)
        }
    }

    public var l: Int
    public var xorFolds: Int
    public var salt: [UInt8]?
    public var info: [UInt8]?
    public var keySize: Int
    public var features: [Feature]

    public init(
        l: Int = 1024, xorFolds: Int = 0, salt: [UInt8]? = nil, info: [UInt8]? = nil, keySize: Int = 64,
        features: [Feature]
    ) {
        self.l = l
        self.xorFolds = xorFolds
        self.salt = salt
        self.info = info
        self.keySize = keySize
        self.features = features
    }

    /// Puente's default for persons (standards §6): folded given names and surnames as bigrams, the date
    /// of birth as positional digits, sex as an exact token, in one 1024-bit filter.
    public static let person = CLKSchema(features: [
        Feature("given_names", comparison: .ngram(n: 2, positional: false), bitsPerToken: 15),
        Feature("surnames", comparison: .ngram(n: 2, positional: false), bitsPerToken: 15),
        Feature("birth_date", comparison: .ngram(n: 1, positional: true), bitsPerToken: 10),
        Feature("sex", comparison: .exact, bitsPerToken: 20),
    ])
}

/// Encodes records as CLKs with keys derived from the data owner's secret, as clkhash does.
public struct CLKEncoder: Sendable {
    public let schema: CLKSchema
    /// Per feature: the HMAC-SHA1 key and the HMAC-MD5 key.
    let keys: [(sha1: SymmetricKey, md5: SymmetricKey)]

    public init(schema: CLKSchema, secret: [UInt8]) {
        self.schema = schema
        let n = schema.features.count
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), salt: schema.salt ?? [],
            info: schema.info ?? [], outputByteCount: 2 * n * schema.keySize)
        let bytes = derived.withUnsafeBytes { Array($0) }
        let size = schema.keySize
        keys = (0..<n).map { f in
            (
                SymmetricKey(data: bytes[(2 * f) * size..<(2 * f + 1) * size]),
                SymmetricKey(data: bytes[(2 * f + 1) * size..<(2 * f + 2) * size])
            )
        }
    }

    /// Tokens of a value as clkhash makes them: n-grams of the value padded with n−1 spaces (prefixed
    /// with their 1-based position when positional), or the whole value.
    public static func tokens(_ value: String, _ comparison: CLKSchema.Feature.Comparison) -> [String] {
        if value.isEmpty { return [] }
        switch comparison {
        case .exact: return [value]
        case .ngram(let n, let positional):
            let pad = String(repeating: " ", count: max(n - 1, 0))
            let scalars = Array((pad + value + pad).unicodeScalars)
            guard scalars.count >= n else { return [] }
            return (0...(scalars.count - n)).map { i in
                var gram = String.UnicodeScalarView()
                gram.append(contentsOf: scalars[i..<(i + n)])
                return positional ? "\(i + 1) \(String(gram))" : String(gram)
            }
        }
    }

    /// The CLK of one record; `values` are in the schema's feature order.
    public func encode(_ values: [String]) -> BloomFilter {
        let hashLength = schema.l << schema.xorFolds
        var filter = BloomFilter(length: hashLength)
        for (f, feature) in schema.features.enumerated() {
            guard let comparison = feature.comparison, f < values.count else { continue }
            let tokens = Self.tokens(values[f], comparison)
            if tokens.isEmpty { continue }
            for (token, k) in zip(tokens, feature.ks(tokens.count)) {
                let m = Array(token.utf8)
                let h1 = Self.mod(HMAC<Insecure.SHA1>.authenticationCode(for: m, using: keys[f].sha1), hashLength)
                var h2 = Self.mod(HMAC<Insecure.MD5>.authenticationCode(for: m, using: keys[f].md5), hashLength)
                if feature.preventSingularity {
                    var i: UInt8 = 0
                    while h2 == 0 {
                        h2 = Self.mod(
                            HMAC<Insecure.MD5>.authenticationCode(
                                for: m + Array(String(UnicodeScalar(i)).utf8),
                                using: keys[f].md5), hashLength)
                        i &+= 1
                    }
                }
                for i in 0..<k { filter.set((h1 + i * h2) % hashLength) }
            }
        }
        return schema.xorFolds > 0 ? filter.xorFolded(schema.xorFolds) : filter
    }

    /// A digest read as a big-endian integer, modulo `l`.
    static func mod(_ digest: some Sequence<UInt8>, _ l: Int) -> Int {
        var r = 0
        for b in digest { r = (r * 256 + Int(b)) % l }
        return r
    }
}

extension CLKSchema {
    /// Reads a clkhash linkage schema v3 (JSON) with the parts Puente implements; anything else
    /// (`blakeHash`, a KDF other than HKDF-SHA256, numeric comparisons) is refused rather than encoded
    /// differently.
    public init(clkhashV3 json: Data) throws {
        func fail(_ what: String) -> PuenteLinkageError {
            PuenteLinkageError("The clkhash schema uses \(what), which Puente does not implement.")
        }
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any], root["version"] as? Int == 3,
            let config = root["clkConfig"] as? [String: Any], let l = config["l"] as? Int,
            let features = root["features"] as? [[String: Any]]
        else {
            throw PuenteLinkageError("Give a clkhash linkage schema of version 3.")
        }
        let kdf = config["kdf"] as? [String: Any] ?? [:]
        if let type = kdf["type"] as? String, type != "HKDF" { throw fail("the \(type) key derivation") }
        if let hash = kdf["hash"] as? String, hash != "SHA256" { throw fail("HKDF with \(hash)") }
        func b64(_ key: String) -> [UInt8]? {
            (kdf[key] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        }
        var parsed: [Feature] = []
        for f in features {
            let id = f["identifier"] as? String ?? ""
            if f["ignored"] as? Bool == true { parsed.append(Feature(id, comparison: nil)); continue }
            guard let hashing = f["hashing"] as? [String: Any], let comp = hashing["comparison"] as? [String: Any]
            else {
                throw PuenteLinkageError("Feature \(id) of the clkhash schema has no hashing settings.")
            }
            let comparison: Feature.Comparison
            switch comp["type"] as? String {
            case "ngram":
                comparison = .ngram(n: comp["n"] as? Int ?? 2, positional: comp["positional"] as? Bool ?? false)
            case "exact": comparison = .exact
            default: throw fail("a \(comp["type"] as? String ?? "missing") comparison")
            }
            let hash = hashing["hash"] as? [String: Any] ?? [:]
            if let type = hash["type"] as? String, type != "doubleHash" { throw fail("the \(type) hash") }
            let strategy = hashing["strategy"] as? [String: Any] ?? [:]
            parsed.append(
                Feature(
                    id, comparison: comparison, bitsPerToken: strategy["bitsPerToken"] as? Int,
                    bitsPerFeature: strategy["bitsPerFeature"] as? Int,
                    preventSingularity: hash["prevent_singularity"] as? Bool ?? false))
        }
        self.init(
            l: l, xorFolds: config["xor_folds"] as? Int ?? 0, salt: b64("salt"), info: b64("info"),
            keySize: kdf["keySize"] as? Int ?? 64, features: parsed)
    }
}

/// An error of the linkage library: a sentence for people, no personal data.
public struct PuenteLinkageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The values of `CLKSchema.person` for a record, normalised as Puente compares them, so both nodes
/// encode the same person the same way whatever their layouts: names folded into words (accents,
/// case and particles gone), the birth date as `yyyymmdd`, sex as `m` or `f`.
public struct CLKPersonValues: Sendable {
    let fields: [FieldSpec]
    let given: Int, surnames: Int, birth: Int?, sex: Int?, document: Int?
    let dateFormats: [DateFormat]

    /// Finds the person fields of a linkage config: one `given_names` and one `surnames` field are
    /// needed; a `date` field and a field named `sex` are used when present.
    public init(fields: [FieldSpec]) throws {
        guard let g = fields.firstIndex(where: { $0.type == .givenNames }),
            let s = fields.firstIndex(where: { $0.type == .surnames })
        else {
            throw PuenteError(
                .invalidArgument, "Encoding persons needs a given_names and a surnames field in the linkage config.")
        }
        self.fields = fields
        given = g
        surnames = s
        birth = fields.firstIndex { $0.type == .date }
        sex = fields.firstIndex { $0.name == "sex" }
        document = fields.firstIndex { $0.type == .document }
        dateFormats = birth.map { (fields[$0].formats ?? ["yyyy-MM-dd"]).map(DateFormat.init) } ?? []
    }

    /// The values encoded, from each field's raw texts: given names, surnames, birth date, sex (what
    /// `CLKSchema.person` encodes) and the document number (upper-case letters and digits), which the
    /// hardened scheme may add.
    public func values(_ raw: (Int) -> [String]) -> [String] {
        func words(_ f: Int) -> String {
            SpanishNames.words(raw(f).joined(separator: " ")).map { String(decoding: $0, as: UTF8.self) }.joined(
                separator: " ")
        }
        var date = ""
        if let birth, let text = raw(birth).first?.trimmingSpaces(), !text.isEmpty {
            for format in dateFormats { if let d = format.parse(text) { date = String(d); break } }
        }
        let number = document.map { raw($0).first ?? "" } ?? ""
        return [
            words(given), words(surnames), date, sex.map { Self.sexCode(raw($0).first ?? "") } ?? "",
            String(
                String.UnicodeScalarView(
                    number.uppercased().unicodeScalars.filter {
                        $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))
                    })),
        ]
    }

    /// `m`, `f` or empty, from the usual ways registers write sex.
    static func sexCode(_ text: String) -> String {
        switch TextFolding.fold(text) {
        case "m", "male", "masculino", "hombre", "h", "varon": "m"
        case "f", "female", "femenino", "mujer": "f"
        default: ""
        }
    }
}

/// Files of encodings: `id,clk` with each encoding's bytes in base64, as clkhash and anonlink exchange
/// them. Every encoding of a file has the same length, read from the first.
public enum EncodingFile {
    public static func read(_ url: URL) throws -> EncodingSet {
        let file = url.lastPathComponent
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PuenteError(.notFound, "Cannot open the file; check the path.", at: InputLocation(file: file))
        }
        var parser = CSVParser()
        var set: EncodingSet?
        var header: [String]?
        var failure: PuenteError?
        func row(_ f: [String], _ line: Int) {
            guard failure == nil else { return }
            guard header != nil else {
                header = f
                if f.count < 2 || f[0] != "id" || f[1] != "clk" {
                    failure = PuenteError(
                        .invalidInput, "A file of encodings starts with the header id,clk.",
                        at: InputLocation(file: file, row: 0))
                }
                return
            }
            let bytes = f.count >= 2 ? Data(base64Encoded: f[1]) : nil
            if set == nil, let bytes, bytes.count >= 8, bytes.count % 8 == 0 {
                set = EncodingSet(bits: bytes.count * 8)
            }
            guard let bytes, set?.append(id: f[0], bytes: bytes) == true else {
                failure = PuenteError(
                    .invalidInput,
                    "Expected an encoding in base64 of \(set.map { "\($0.bits / 8) bytes" } ?? "a multiple of 8 bytes").",
                    at: InputLocation(file: file, row: line, field: "clk"))
                return
            }
        }
        parser.feed(data, emit: row)
        parser.finish(emit: row)
        if let failure { throw failure }
        guard header != nil else {
            throw PuenteError(.invalidInput, "The file is empty.", at: InputLocation(file: file))
        }
        return set ?? EncodingSet(bits: 1024)
    }
}
