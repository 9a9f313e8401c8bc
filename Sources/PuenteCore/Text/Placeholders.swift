/// What clerks type when a value is unknown or absent ("S/N", "NO TIENE", "000000", "01/01/1900"): read
/// as missing, never as a document, name or birth date. Taken for real values, they would join every
/// record that carries them in record linkage and count as recorded documents in coverage figures.
///
/// The standard list ships with Puente; a source profile or a linkage config adds its own values under
/// `placeholders` (`document`, `date`, `name`). Values match ignoring case, accents and extra spaces.
public struct Placeholders: Hashable, Sendable {
    public enum Kind: String, CaseIterable, Codable, Sendable {
        case document, date, name
    }

    private var values: [Kind: Set<String>]
    /// Longer values, as typed, cannot fold to a listed one (folding drops accents and spaces: twice the
    /// longest listed value, and some, is more than any spelling of it).
    private var longest: Int
    /// Per kind and first byte of an ASCII listed value, the bit of each length it has (63: 63 or more).
    /// Most names and documents fold to a first letter and length no listed value has, and are ruled
    /// out without building and hashing a string.
    private var shapes: [UInt64]

    public static let standard = Placeholders(
        values: [
            .document: [
                "s/n", "sn", "s n", "s/d", "n/a", "na", "n/d", "nd", "no tiene", "no tiene documento", "sin documento",
                "sin doc", "ninguno", "ninguna", "no porta", "no presenta", "no aplica", "pendiente", "en tramite",
                "desconocido", "no sabe", "no indica", "sin dato", "sin datos", "x", "xx", "xxx", "xxxx",
            ],
            .date: [
                "00/00/0000", "0000-00-00", "00-00-0000", "0/0/0000", "sin dato", "sin datos", "no sabe", "desconocida",
                "desconocido", "no indica", "n/a", "s/d", "nd", "n/d",
            ],
            .name: [
                "nn", "n/n", "n n", "n.n.", "sin nombre", "sin apellido", "desconocido", "desconocida", "no sabe",
                "ignorado",
                "ignorada", "no indica", "sin dato", "x", "xx", "xxx",
            ],
        ].mapValues { Set($0.map { TextFolding.fold($0) }) })

    public init(values: [Kind: Set<String>]) {
        self.values = values
        longest = 2 * (values.values.flatMap { $0 }.map(\.utf8.count).max() ?? 0) + 8
        shapes = Array(repeating: 0, count: Kind.allCases.count * 128)
        for (kind, list) in values {
            for value in list where value.utf8.allSatisfy({ $0 < 0x80 }) {
                guard let first = value.utf8.first else { continue }
                shapes[Self.shape(kind, first)] |= 1 << UInt64(min(value.utf8.count, 63))
            }
        }
    }

    private static func shape(_ kind: Kind, _ first: UInt8) -> Int {
        let row =
            switch kind {
            case .document: 0
            case .date: 1
            case .name: 2
            }
        return row * 128 + Int(first)
    }

    /// This list with `extra` values added (as written: they are folded here).
    public func adding(_ extra: [Kind: [String]]) -> Placeholders {
        var out = self
        for (kind, list) in extra { out.values[kind, default: []].formUnion(list.map { TextFolding.fold($0) }) }
        return Placeholders(values: out.values)
    }

    /// Whether `text` stands for a missing value of this kind. Besides the list: documents of one digit
    /// repeated (`000000`, `99999999`) and anything with no letter or digit at all (`-`, `--`, `.`).
    ///
    /// Runs on several fields of every imported row: the bytes are looked at first, a short value is
    /// folded on the stack, and only one with the first letter and length of a listed value is looked up.
    public func contains(_ text: String, _ kind: Kind) -> Bool {
        var count = 0, letterOrDigit = false, first: UInt8 = 0, oneDigitRepeated = true
        for byte in text.utf8 {
            if count == 0 { first = byte }
            count += 1
            // Any byte beyond ASCII belongs to a letter here (accents, ñ): registers hold no other.
            if byte >= 0x80 || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
                || (0x61...0x7A).contains(byte)
            {
                letterOrDigit = true
            }
            if byte != first || !(0x30...0x39).contains(byte) { oneDigitRepeated = false }
        }
        guard count > 0 else { return false }
        if !letterOrDigit { return true }
        if kind == .document, oneDigitRepeated { return true }
        guard count <= longest else { return false }
        // Folds as `TextFolding.fold` would, into bytes on the stack: ASCII letters lowercased, digits kept,
        // anything else one space, none at the ends; a two-byte character (accented Latin letters) as
        // `TextFolding.fold` folds its scalar. Characters that fold beyond ASCII, or take more bytes, are
        // rare enough for `TextFolding.fold` itself.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { folded in
            var n = 0, pendingSpace = false, lead: UInt8 = 0
            for byte in text.utf8 {
                let mapped: UInt8
                if byte < 0x80 {
                    mapped =
                        (0x41...0x5A).contains(byte)
                        ? byte + 32
                        : ((0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)) ? byte : 0x20
                } else if lead != 0 {
                    let scalar = Unicode.Scalar(UInt32(lead & 0x1F) << 6 | UInt32(byte & 0x3F))!
                    lead = 0
                    guard let letter = TextFolding.fold(scalar) else { continue }
                    guard letter.isASCII else { return values[kind]?.contains(TextFolding.fold(text)) ?? false }
                    mapped = UInt8(letter.value)
                } else if byte < 0xE0 {
                    lead = byte
                    continue
                } else {
                    return values[kind]?.contains(TextFolding.fold(text)) ?? false
                }
                if mapped == 0x20 { pendingSpace = n > 0; continue }
                if pendingSpace { folded[n] = 0x20; n += 1; pendingSpace = false }
                folded[n] = mapped
                n += 1
            }
            guard n > 0 else { return values[kind]?.contains("") ?? false }
            guard shapes[Self.shape(kind, folded[0])] & 1 << UInt64(min(n, 63)) != 0 else { return false }
            return values[kind]?.contains(String(decoding: UnsafeBufferPointer(rebasing: folded[..<n]), as: UTF8.self))
                ?? false
        }
    }

    /// A birth date recorded as 1 January 1900 or earlier is the placeholder of a system that needs a
    /// date: nobody registered at a border today was born then.
    public static func isPlaceholderBirthDate(_ date: CivilDate) -> Bool { date.year <= 1900 }
}
