import PuenteCore
import Yams

/// How to read a file and compare its records: the `--config` of `puente link`.
///
/// Keys (YAML, snake case):
/// - `id_column` (string, required): the column that identifies a record.
/// - `delimiter` (one character, default `,`), `encoding` (`utf-8` or `windows-1252`, default `utf-8`).
/// - `fields` (list, required): each has `name`, `type` (see ``FieldKind``), `column` or `columns`, and
///   optionally `type_column` (documents: only numbers of the same document type are compared),
///   `formats` (dates: patterns such as `dd/MM/yyyy`, `yyyyMMdd`; default `yyyy-MM-dd`),
///   `tf` (term-frequency adjustment; default true for names), `m` (prior match probabilities by level,
///   used when no blocking rule lets EM estimate them).
/// - `blocking` (list of rules, each a list of keys such as `birth_date`, `surnames.phonetic`,
///   `given_names.initial`, `document`, `birth_date.year`): pairs are compared when all keys of one
///   rule agree; rules are passes whose candidate pairs are united.
/// - `threshold` (match probability to link, default 0.9), `review_threshold` (lower end of the band of
///   pairs written for clerical review, default 0.5).
/// - `one_to_one` (pair mode: each record links to at most one on the other side, default false).
/// - `cluster_guard`: `min_agreement` (share of sampled cross-pairs that must score at the threshold
///   before two groups of records are joined, default 0.5) and `sample` (records sampled per side,
///   default 3).
/// - `random_pairs` (pairs sampled to estimate u, default 1,000,000), `em_max_pairs` (candidate pairs
///   per blocking rule used by EM, default 2,000,000).
/// - `placeholders` (optional): values meaning "unknown" by kind (`document`, `date`, `name`), read as
///   missing, added to the standard list (`Placeholders`).
/// - `right` (pair mode, optional): `id_column`, `delimiter`, `encoding` and `columns` (field name →
///   column or columns) of the right file when its layout differs from the left's.
public struct LinkageConfig: Codable, Sendable {
    public var idColumn: String
    public var delimiter: String?
    public var encoding: String?
    public var fields: [FieldSpec]
    public var blocking: [[String]]
    public var threshold: Double?
    public var reviewThreshold: Double?
    public var oneToOne: Bool?
    public var clusterGuard: ClusterGuard?
    public var randomPairs: Int?
    public var emMaxPairs: Int?
    public var right: Side?
    /// Values meaning "unknown", by kind (`document`, `date`, `name`), added to `Placeholders.standard`.
    public var placeholders: [String: [String]]?

    enum CodingKeys: String, CodingKey {
        case idColumn = "id_column", delimiter, encoding, fields, blocking, threshold
        case reviewThreshold = "review_threshold", oneToOne = "one_to_one", clusterGuard = "cluster_guard"
        case randomPairs = "random_pairs", emMaxPairs = "em_max_pairs", right, placeholders
    }

    /// The placeholder list in force: the standard one and the config's own.
    public var placeholderValues: Placeholders {
        var extra: [Placeholders.Kind: [String]] = [:]
        for (kind, values) in placeholders ?? [:] { if let k = Placeholders.Kind(rawValue: kind) { extra[k] = values } }
        return Placeholders.standard.adding(extra)
    }

    public init(
        idColumn: String, delimiter: String? = nil, encoding: String? = nil, fields: [FieldSpec],
        blocking: [[String]], threshold: Double? = nil, reviewThreshold: Double? = nil, oneToOne: Bool? = nil
    ) {
        self.idColumn = idColumn
        self.delimiter = delimiter
        self.encoding = encoding
        self.fields = fields
        self.blocking = blocking
        self.threshold = threshold
        self.reviewThreshold = reviewThreshold
        self.oneToOne = oneToOne
    }

    public struct ClusterGuard: Codable, Sendable {
        public var minAgreement: Double?
        public var sample: Int?
        enum CodingKeys: String, CodingKey { case minAgreement = "min_agreement", sample }
    }

    /// The right file's layout in pair mode, where it differs.
    public struct Side: Codable, Sendable {
        public var idColumn: String?
        public var delimiter: String?
        public var encoding: String?
        public var columns: [String: ColumnList]?
        enum CodingKeys: String, CodingKey { case idColumn = "id_column", delimiter, encoding, columns }
    }

    public var linkThreshold: Double { threshold ?? 0.9 }
    public var reviewFloor: Double { min(reviewThreshold ?? 0.5, linkThreshold) }

    /// Reads a YAML config; problems name the key, never a value of the data.
    public static func load(yaml: String, file: String = "config") throws -> LinkageConfig {
        let config: LinkageConfig
        do {
            config = try YAMLDecoder().decode(LinkageConfig.self, from: yaml)
        } catch let error as DecodingError {
            throw PuenteError(
                .invalidArgument, "The linkage config is not valid: \(Self.describe(error))",
                at: InputLocation(file: file))
        }
        try config.validate(file: file)
        return config
    }

    func validate(file: String) throws {
        func fail(_ m: String) -> PuenteError { PuenteError(.invalidArgument, m, at: InputLocation(file: file)) }
        if fields.isEmpty { throw fail("List at least one entry under `fields`.") }
        if fields.count > 15 { throw fail("Use at most 15 comparison fields.") }
        var names = Set<String>()
        for f in fields {
            if !names.insert(f.name).inserted {
                throw fail("Field `\(f.name)` is listed twice; give each a distinct name.")
            }
            if f.sourceColumns.isEmpty { throw fail("Field `\(f.name)` needs `column` or `columns`.") }
        }
        if blocking.isEmpty { throw fail("Give at least one blocking rule under `blocking`, e.g. `- [birth_date]`.") }
        for rule in blocking {
            if rule.isEmpty { throw fail("A blocking rule is empty; list the keys that must agree.") }
            for key in rule {
                let base = String(key.split(separator: ".").first ?? "")
                guard let field = fields.first(where: { $0.name == base }) else {
                    throw fail(
                        "Blocking key `\(key)` names no field; use one of \(fields.map(\.name).joined(separator: ", "))."
                    )
                }
                if BlockingKey(key, field: field) == nil {
                    throw fail("Blocking key `\(key)` is not known for a field of type \(field.type.rawValue).")
                }
            }
        }
        if let d = delimiter, d.utf8.count != 1 { throw fail("`delimiter` must be one character.") }
        for kind in (placeholders ?? [:]).keys where Placeholders.Kind(rawValue: kind) == nil {
            throw fail(
                "`placeholders` takes the kinds " + Placeholders.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                    + ".")
        }
        for t in [linkThreshold, reviewThreshold ?? 0.5] where !(0...1).contains(t) {
            throw fail("Thresholds are match probabilities between 0 and 1.")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let c): return "missing key `\(key.stringValue)` at `\(path(c.codingPath))`."
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "unexpected value at `\(path(c.codingPath))` (\(c.debugDescription))."
        @unknown default: return "unreadable."
        }
    }
}

/// A column name or a list of them.
public struct ColumnList: Codable, Sendable, Hashable {
    public var names: [String]
    public init(_ names: [String]) { self.names = names }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { names = [one] } else { names = try c.decode([String].self) }
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(names)
    }
}

/// What a field holds, which decides how it is normalised and compared.
extension FieldKind {
    /// The kind of placeholder a field of this type may hold.
    var placeholderKind: Placeholders.Kind? {
        switch self {
        case .givenNames, .surnames: .name
        case .date: .date
        case .document: .document
        case .exact, .text: nil
        }
    }
}

public enum FieldKind: String, Codable, Sendable {
    /// Given names, possibly compound (`José Luis`). Levels: exact, one compound contains the other,
    /// Jaro–Winkler ≥ 0.92, ≥ 0.80, different.
    case givenNames = "given_names"
    /// One or two surnames in one or two columns. Levels: exact, swapped, both close (or one missing and
    /// the other equal), one shared, different.
    case surnames
    /// A date of birth. Levels: exact, day/month swapped, one digit off, different.
    case date
    /// A document number. Levels: exact, one edit apart, different; not compared across document types.
    case document
    /// A code compared exactly (sex, municipality, postcode).
    case exact
    /// Free text (address, town). Levels: exact, Jaro–Winkler ≥ 0.92, ≥ 0.80, different.
    case text
}

public struct FieldSpec: Codable, Sendable {
    public var name: String
    public var type: FieldKind
    public var column: String?
    public var columns: [String]?
    public var typeColumn: String?
    public var formats: [String]?
    public var tf: Bool?
    public var m: [Double]?

    enum CodingKeys: String, CodingKey { case name, type, column, columns, typeColumn = "type_column", formats, tf, m }

    public init(
        name: String, type: FieldKind, columns: [String], typeColumn: String? = nil, formats: [String]? = nil,
        tf: Bool? = nil
    ) {
        self.name = name
        self.type = type
        self.columns = columns
        self.typeColumn = typeColumn
        self.formats = formats
        self.tf = tf
    }

    public var sourceColumns: [String] { columns ?? column.map { [$0] } ?? [] }
    /// Every column the field reads: its source columns, then the document type column if any.
    public var readColumns: [String] { sourceColumns + (typeColumn.map { [$0] } ?? []) }
    public var termFrequency: Bool { tf ?? (type == .surnames || type == .givenNames) }
    /// Number of agreement levels above "missing" (level 0).
    public var levelCount: Int {
        switch type {
        case .givenNames, .surnames, .date: 5
        case .text: 4
        case .document: 3
        case .exact: 2
        }
    }

    public func levelLabel(_ level: Int) -> String {
        if level == 0 { return "missing" }
        let labels: [String] =
            switch type {
            case .givenNames: ["different", "similar", "close", "compound", "exact"]
            case .surnames: ["different", "one shared", "close", "swapped", "exact"]
            case .date: ["different", "same year", "one digit", "day/month swapped", "exact"]
            case .document: ["different", "one edit", "exact"]
            case .exact: ["different", "exact"]
            case .text: ["different", "similar", "close", "exact"]
            }
        return labels[level - 1]
    }
}
