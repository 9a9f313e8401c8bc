import PuenteCore

/// Where a normalised text lies in the table's byte arena (count 0: missing).
struct TextRef: Sendable {
    var start: UInt32 = 0
    var count: UInt32 = 0
    static let missing = TextRef()
}

/// One comparison field of every record, normalised once, stored column-wise.
struct FieldColumn: Sendable {
    let spec: FieldSpec
    /// given names: all words; surnames: first; document: number; text: value.
    var a: [TextRef] = []
    /// surnames: second surname.
    var b: [TextRef] = []
    /// Phonetic key of the first given name or first surname; document type id.
    var keyA: [UInt64] = []
    /// Phonetic key of the second surname.
    var keyB: [UInt64] = []
    /// Value key, for exact agreement, blocking and term frequencies (0: missing). Dates: yyyymmdd.
    var value: [UInt64] = []
    /// The first byte of the normalised value (blocking on initials).
    var initial: [UInt8] = []
}

/// Records normalised for linkage: ids, and one ``FieldColumn`` per comparison field, over a shared
/// byte arena (no per-record Strings in the hot loops).
public struct RecordTable: Sendable {
    public internal(set) var ids: [String] = []
    var arena: [UInt8] = []
    var columns: [FieldColumn]
    /// In pair mode, records before this index come from the left file.
    public internal(set) var leftCount: Int = 0
    private var documentTypes: [String: UInt64] = [:]
    private let dateFormats: [[DateFormat]]
    /// Values that mean "unknown" (`S/N`, `NN`, `01/01/1900`): read as missing.
    private let placeholders: Placeholders

    public var count: Int { ids.count }
    public var fields: [FieldSpec] { columns.map(\.spec) }

    public init(fields: [FieldSpec], placeholders: Placeholders = .standard) {
        self.placeholders = placeholders
        columns = fields.map { FieldColumn(spec: $0) }
        dateFormats = fields.map { spec in (spec.formats ?? ["yyyy-MM-dd"]).map(DateFormat.init) }
    }

    /// Adds a record. `values(f)` gives the raw texts of field `f`'s columns, then (documents) the
    /// document type, when the config names a type column.
    public mutating func append(id: String, values: (Int) -> [String]) {
        ids.append(id)
        for f in columns.indices {
            var raw = values(f)
            // A placeholder is missing: taken for a value it would join every record that carries it.
            if let kind = columns[f].spec.type.placeholderKind, let first = raw.first,
                placeholders.contains(first, kind)
            {
                raw[0] = ""
            }
            switch columns[f].spec.type {
            case .givenNames:
                let words = SpanishNames.words(raw.joined(separator: " "))
                let start = UInt32(arena.count)
                for (k, w) in words.enumerated() { if k > 0 { arena.append(0x20) }; arena.append(contentsOf: w) }
                let ref = TextRef(start: start, count: UInt32(arena.count) - start)
                columns[f].a.append(ref)
                columns[f].keyA.append(words.first.map { hashBytes(SpanishPhonetic.key($0)) } ?? 0)
                columns[f].value.append(ref.count == 0 ? 0 : hashBytes(arena[Int(start)...]))
                columns[f].initial.append(words.first?.first ?? 0)
            case .surnames:
                let (s1, s2) = SpanishNames.surnames(raw)
                let r1 = store(s1), r2 = store(s2)
                columns[f].a.append(r1)
                columns[f].b.append(r2)
                columns[f].keyA.append(s1.isEmpty ? 0 : hashBytes(SpanishPhonetic.key(s1)))
                columns[f].keyB.append(s2.isEmpty ? 0 : hashBytes(SpanishPhonetic.key(s2)))
                let h1 = s1.isEmpty ? 0 : hashBytes(s1), h2 = s2.isEmpty ? 0 : hashBytes(s2)
                columns[f].value.append(h1 == 0 ? 0 : combineHash(min(h1, h2), max(h1, h2)))
                columns[f].initial.append(s1.first ?? 0)
            case .date:
                var v: UInt64 = 0
                if let text = raw.first?.trimmingSpaces(), !text.isEmpty {
                    for format in dateFormats[f] { if let d = format.parse(text) { v = UInt64(d); break } }
                }
                if v != 0, v < 1901_00_00 { v = 0 }  // born in 1900 or before: a system's placeholder date
                columns[f].value.append(v)
            case .document:
                var bytes: [UInt8] = []
                for b in TextFolding.fold(raw.first ?? "").utf8
                where (0x30...0x39).contains(b) || (0x61...0x7A).contains(b) {
                    bytes.append(b)
                }
                let ref = store(bytes)
                columns[f].a.append(ref)
                columns[f].value.append(bytes.isEmpty ? 0 : hashBytes(bytes))
                var type: UInt64 = 0
                if raw.count > 1 {
                    let t = TextFolding.fold(raw[1])
                    if !t.isEmpty {
                        if let known = documentTypes[t] {
                            type = known
                        } else {
                            type = UInt64(documentTypes.count + 1)
                            documentTypes[t] = type
                        }
                    }
                }
                columns[f].keyA.append(type)
                columns[f].initial.append(bytes.first ?? 0)
            case .exact, .text:
                let folded = Array(TextFolding.fold(raw.joined(separator: " ")).utf8)
                let ref = store(folded)
                columns[f].a.append(ref)
                columns[f].value.append(folded.isEmpty ? 0 : hashBytes(folded))
                columns[f].keyA.append(
                    folded.isEmpty ? 0 : hashBytes(SpanishPhonetic.key(folded.filter { $0 != 0x20 })))
                columns[f].initial.append(folded.first ?? 0)
            }
        }
    }

    private mutating func store(_ bytes: [UInt8]) -> TextRef {
        if bytes.isEmpty { return .missing }
        let start = UInt32(arena.count)
        arena.append(contentsOf: bytes)
        return TextRef(start: start, count: UInt32(bytes.count))
    }

    /// Marks every record added so far as the left side of a pair linkage.
    public mutating func markLeftSide() { leftCount = count }
}

/// A date pattern such as `dd/MM/yyyy`, `d/M/yyyy`, `yyyyMMdd` or `yyyy-MM-dd`, parsed to `yyyymmdd`.
struct DateFormat: Sendable {
    enum Part: Sendable { case year(Int), month(Int), day(Int), literal(UInt8) }
    let parts: [Part]

    init(_ pattern: String) {
        var parts: [Part] = []
        let bytes = Array(pattern.utf8)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            var j = i
            while j < bytes.count && bytes[j] == c { j += 1 }
            let width = j - i
            switch c {
            case UInt8(ascii: "y"): parts.append(.year(width))
            case UInt8(ascii: "M"): parts.append(.month(width))
            case UInt8(ascii: "d"): parts.append(.day(width))
            default: for _ in 0..<width { parts.append(.literal(c)) }
            }
            i = j
        }
        self.parts = parts
    }

    /// `yyyymmdd`, or nil when the text does not fit the pattern or is no plausible date.
    func parse(_ text: String) -> Int32? {
        var y = -1, m = -1, d = -1
        var it = text.utf8.makeIterator()
        var pending: UInt8? = it.next()
        func digits(_ width: Int) -> Int? {
            var value = 0, count = 0
            let maxCount = width == 1 ? 2 : width
            while count < maxCount, let c = pending, (0x30...0x39).contains(c) {
                value = value * 10 + Int(c - 0x30); count += 1; pending = it.next()
            }
            return count == 0 || (width > 1 && count != width) ? nil : value
        }
        for part in parts {
            switch part {
            case .year(let w):
                guard let v = digits(w) else { return nil }; y = w == 2 ? (v > 30 ? 1900 + v : 2000 + v) : v
            case .month(let w): guard let v = digits(w) else { return nil }; m = v
            case .day(let w): guard let v = digits(w) else { return nil }; d = v
            case .literal(let c): guard pending == c else { return nil }; pending = it.next()
            }
        }
        // A trailing time (`1985-03-04 00:00:00`) is allowed; other trailing text is not.
        if let c = pending, c != 0x20, c != UInt8(ascii: "T") { return nil }
        guard (1800...2200).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        return Int32(y * 10000 + m * 100 + d)
    }
}
