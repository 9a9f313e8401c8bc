import PuenteCore

/// Name normalisation for Spanish-language registers.
///
/// Names are folded with ``TextFolding`` (accents dropped, lower case, punctuation and hyphens become
/// spaces), split into words, and the particles clerks add or drop (`de`, `del`, `de la`, `de los`, `y`)
/// are removed, so `"PÉREZ-de la O"` and `"perez o"` compare equal. The result is plain bytes, which the
/// comparison functions work on directly.
public enum SpanishNames {
    /// Folded words of a name without particles: `"María de los Ángeles"` → `["maria", "angeles"]`.
    public static func words(_ text: some StringProtocol) -> [[UInt8]] {
        let folded = TextFolding.fold(text)
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        var previousWasDe = false
        func flush() {
            guard !current.isEmpty else { return }
            let isDe = current == de || current == del
            let isArticle = current == la || current == las || current == los
            let isConnector = current == y || current == e
            if !(isDe || isConnector || (isArticle && previousWasDe)) { words.append(current) }
            previousWasDe = isDe
            current.removeAll(keepingCapacity: true)
        }
        for b in folded.utf8 {
            if b == 0x20 { flush() } else { current.append(b) }
        }
        flush()
        return words
    }

    /// Surnames split into a first and a second one. `columns` are the register's surname columns in
    /// order (one combined column, or first and second): hyphenated and combined surnames are split into
    /// words, the first word is the first surname and the rest is the second.
    public static func surnames(_ columns: [String]) -> (first: [UInt8], second: [UInt8]) {
        var all: [[UInt8]] = []
        for c in columns { all.append(contentsOf: words(c)) }
        guard let first = all.first else { return ([], []) }
        guard all.count > 1 else { return (first, []) }
        var second = all[1]
        for extra in all.dropFirst(2) { second.append(contentsOf: extra) }
        return (first, second)
    }

    private static let de: [UInt8] = Array("de".utf8), del: [UInt8] = Array("del".utf8)
    private static let la: [UInt8] = Array("la".utf8), las: [UInt8] = Array("las".utf8),
        los: [UInt8] = Array("los".utf8)
    private static let y: [UInt8] = Array("y".utf8), e: [UInt8] = Array("e".utf8)
}

/// A phonetic key for Spanish words, for blocking: letters that sound alike in Central American Spanish
/// get one code (`b`/`v`/`w`; `c`/`s`/`z` before `e` and `i`; `ll`/`y`; silent `h`; `gue`/`gui`; `qu`),
/// doubled letters collapse and vowels after the first letter are dropped, so `Hernández` and
/// `Ernandes` share a key, as do `Yovany` and `Llobani`.
public enum SpanishPhonetic {
    public static func key(_ w: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(w.count)
        let n = w.count
        var i = 0
        func at(_ k: Int) -> UInt8 { k < n ? w[k] : 0 }
        func isFront(_ c: UInt8) -> Bool { c == 0x65 || c == 0x69 || c == 0x79 }  // e i y
        func isVowel(_ c: UInt8) -> Bool { c == 0x61 || c == 0x65 || c == 0x69 || c == 0x6F || c == 0x75 }
        while i < n {
            let c = w[i]
            var code: UInt8 = c
            var advance = 1
            switch c {
            case 0x68: code = 0  // h: silent
            case 0x76, 0x77: code = 0x62  // v, w → b
            case 0x7A, 0x78: code = 0x73  // z, x → s
            case 0x6B: code = 0x6B
            case 0x71: code = 0x6B; if at(i + 1) == 0x75 { advance = 2 }  // qu → k
            case 0x63:  // c
                if at(i + 1) == 0x68 {
                    code = 0x43; advance = 2
                }  // ch
                else if isFront(at(i + 1)) {
                    code = 0x73
                } else {
                    code = 0x6B
                }
            case 0x67:  // g
                if at(i + 1) == 0x75 && isFront(at(i + 2)) {
                    code = 0x67; advance = 2
                } else if isFront(at(i + 1)) {
                    code = 0x6A
                }
            case 0x6C: if at(i + 1) == 0x6C { code = 0x79; advance = 2 }  // ll → y
            case 0x79: code = (i + 1 < n && isVowel(at(i + 1))) ? 0x79 : 0x69  // y as a vowel → i
            case 0x70: if at(i + 1) == 0x68 { code = 0x66; advance = 2 }  // ph → f
            default: break
            }
            i += advance
            if code == 0 { continue }
            if isVowel(code) && !out.isEmpty { continue }
            if let last = out.last, last == code { continue }
            out.append(code)
        }
        return out
    }
}

/// 64-bit FNV-1a, mixed: keys for blocking and term frequencies. 0 is reserved for "missing".
@inline(__always)
func hashBytes(_ bytes: some Sequence<UInt8>, seed: UInt64 = FNV1a.offsetBasis) -> UInt64 {
    var h = FNV1a.hash(bytes, seed: seed)
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    return h == 0 ? 1 : h
}

@inline(__always)
func combineHash(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var h = a ^ (b &+ 0x9E37_79B9_7F4A_7C15 &+ (a << 6) &+ (a >> 2))
    h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 29
    return h == 0 ? 1 : h
}
