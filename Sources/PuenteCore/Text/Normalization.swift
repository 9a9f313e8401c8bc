/// Folding used to compare names of places, countries and codes as clerks type them:
/// accents dropped, case ignored, punctuation and repeated spaces collapsed.
public enum TextFolding {
    /// `"  San José  de la Montaña "` → `"san jose de la montana"`.
    public static func fold(_ text: some StringProtocol) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            guard let folded = fold(scalar) else { continue }
            if folded == " " {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(folded)
        }
        return String(out)
    }

    /// One character folded: nil when it is dropped (a combining accent), `" "` when it separates words.
    static func fold(_ s: Unicode.Scalar) -> Unicode.Scalar? {
        switch s.value {
        case 0x41...0x5A: return Unicode.Scalar(s.value + 32)!
        case 0x61...0x7A, 0x30...0x39: return s
        case 0xC0...0xC5, 0xE0...0xE5: return "a"
        case 0xC7, 0xE7: return "c"
        case 0xC8...0xCB, 0xE8...0xEB: return "e"
        case 0xCC...0xCF, 0xEC...0xEF: return "i"
        case 0xD1, 0xF1: return "n"
        case 0xD2...0xD6, 0xF2...0xF6: return "o"
        case 0xD9...0xDC, 0xF9...0xFC: return "u"
        case 0xDD, 0xFD, 0xFF: return "y"
        case 0x0300...0x036F: return nil  // combining accents of decomposed input
        default:
            if s.properties.isAlphabetic { return s.properties.lowercaseMapping.unicodeScalars.first }
            return " "
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> String {
        guard let first = firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(self[first...last])
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs; most values have none and come back
    /// without copying.
    public func trimmingSpaces() -> String {
        // The contiguous bytes of a native string: much cheaper than the generic `utf8.last`.
        let ends =
            utf8.withContiguousStorageIfAvailable { $0.isEmpty ? nil : ($0[0], $0[$0.count - 1]) }
            ?? (utf8.first.map { ($0, utf8.last!) })
        guard let (a, z) = ends else { return self }
        if a != 32, a != 9, z != 32, z != 9 { return self }
        return self[...].trimmingSpaces()
    }
}
