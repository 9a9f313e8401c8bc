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
    /// Runs on several fields of every imported row: the bytes are looked at first, and only a short
    /// value is folded and looked up.
    public func contains(_ text: String, _ kind: Kind) -> Bool {
        var count = 0, letterOrDigit = false, ascii = true, first: UInt8 = 0, oneDigitRepeated = true
        for byte in text.utf8 {
            if count == 0 { first = byte }
            count += 1
            // Any byte beyond ASCII belongs to a letter here (accents, ñ): registers hold no other.
            if byte >= 0x80 || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
                || (0x61...0x7A).contains(byte)
            {
                letterOrDigit = true
            }
            if byte >= 0x80 { ascii = false }
            if byte != first || !(0x30...0x39).contains(byte) { oneDigitRepeated = false }
        }
        guard count > 0 else { return false }
        if !letterOrDigit { return true }
        if kind == .document, oneDigitRepeated { return true }
        guard count <= longest, let listed = values[kind] else { return false }
        guard ascii else { return listed.contains(TextFolding.fold(text)) }
        // ASCII folds byte by byte, as `TextFolding.fold` would: letters lowercased, digits kept, anything
        // else one space, none at the ends. Short results are small strings, with no allocation.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { folded in
            var n = 0, pendingSpace = false
            for byte in text.utf8 {
                let mapped: UInt8 =
                    (0x41...0x5A).contains(byte)
                    ? byte + 32
                    : ((0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)) ? byte : 0x20
                if mapped == 0x20 { pendingSpace = n > 0; continue }
                if pendingSpace { folded[n] = 0x20; n += 1; pendingSpace = false }
                folded[n] = mapped
                n += 1
            }
            return listed.contains(String(decoding: UnsafeBufferPointer(rebasing: folded[..<n]), as: UTF8.self))
        }
    }

    /// A birth date recorded as 1 January 1900 or earlier is the placeholder of a system that needs a
    /// date: nobody registered at a border today was born then.
    public static func isPlaceholderBirthDate(_ date: CivilDate) -> Bool { date.year <= 1900 }
}
