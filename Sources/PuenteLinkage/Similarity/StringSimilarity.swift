/// String similarity on byte strings (the folded names), without Foundation and without allocating
/// for names up to 64 bytes: these run tens of millions of times in a linkage.
public enum StringSimilarity {
    /// Jaro–Winkler similarity in [0, 1] (prefix scale 0.1, up to 4 prefix characters).
    public static func jaroWinkler(_ a: [UInt8], _ b: [UInt8]) -> Double {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in jaroWinkler(pa, pb) } }
    }

    public static func jaroWinkler(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Double {
        let n = a.count, m = b.count
        if n == 0 || m == 0 { return n == m ? 1 : 0 }
        if n == m && memcmpEqual(a, b) { return 1 }
        // Matched flags as bit sets: names longer than 64 bytes fall back to arrays.
        if n > 64 || m > 64 { return jaroWinklerLong(Array(a), Array(b)) }
        let window = max(0, max(n, m) / 2 - 1)
        var flagsA: UInt64 = 0, flagsB: UInt64 = 0
        var matches = 0
        for i in 0..<n {
            let lo = max(0, i - window), hi = min(m - 1, i + window)
            if lo > hi { continue }
            let c = a[i]
            var j = lo
            while j <= hi {
                if flagsB & (1 << UInt64(j)) == 0 && b[j] == c {
                    flagsA |= 1 << UInt64(i); flagsB |= 1 << UInt64(j); matches += 1
                    break
                }
                j += 1
            }
        }
        if matches == 0 { return 0 }
        var transpositions = 0
        var j = 0
        for i in 0..<n where flagsA & (1 << UInt64(i)) != 0 {
            while flagsB & (1 << UInt64(j)) == 0 { j += 1 }
            if a[i] != b[j] { transpositions += 1 }
            j += 1
        }
        return winkler(matches: matches, halfTranspositions: transpositions, a, b)
    }

    private static func winkler(
        matches: Int, halfTranspositions t: Int, _ a: UnsafeBufferPointer<UInt8>,
        _ b: UnsafeBufferPointer<UInt8>
    ) -> Double {
        let mm = Double(matches)
        let jaro = (mm / Double(a.count) + mm / Double(b.count) + (mm - Double(t / 2)) / mm) / 3
        var prefix = 0
        while prefix < 4 && prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }

    private static func jaroWinklerLong(_ a: [UInt8], _ b: [UInt8]) -> Double {
        let n = a.count, m = b.count
        let window = max(0, max(n, m) / 2 - 1)
        var fa = [Bool](repeating: false, count: n), fb = [Bool](repeating: false, count: m)
        var matches = 0
        for i in 0..<n {
            let lo = max(0, i - window), hi = min(m - 1, i + window)
            if lo > hi { continue }
            for j in lo...hi where !fb[j] && b[j] == a[i] { fa[i] = true; fb[j] = true; matches += 1; break }
        }
        if matches == 0 { return 0 }
        var t = 0, j = 0
        for i in 0..<n where fa[i] {
            while !fb[j] { j += 1 }
            if a[i] != b[j] { t += 1 }
            j += 1
        }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                winkler(matches: matches, halfTranspositions: t, pa, pb)
            }
        }
    }

    /// Levenshtein distance, or `limit + 1` as soon as it is known to exceed `limit`.
    public static func levenshtein(_ a: [UInt8], _ b: [UInt8], limit: Int = .max) -> Int {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in levenshtein(pa, pb, limit: limit) } }
    }

    public static func levenshtein(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, limit: Int = .max)
        -> Int
    {
        let n = a.count, m = b.count
        if abs(n - m) > limit { return limit == .max ? abs(n - m) : limit + 1 }
        if n == 0 { return m }
        if m == 0 { return n }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (m + 1)) { buf in
            var prev = buf.baseAddress!, cur = buf.baseAddress! + (m + 1)
            for j in 0...m { prev[j] = j }
            for i in 1...n {
                cur[0] = i
                var rowMin = i
                let ca = a[i - 1]
                for j in 1...m {
                    let cost = ca == b[j - 1] ? 0 : 1
                    let v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                    cur[j] = v
                    if v < rowMin { rowMin = v }
                }
                if rowMin > limit { return limit + 1 }
                swap(&prev, &cur)
            }
            return prev[m]
        }
    }

    /// Whether `a` and `b` are one edit apart at most: a substitution, insertion, deletion or the
    /// transposition of two adjacent characters (so `12345` ~ `12354`).
    public static func withinOneEdit(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = a.count, m = b.count
        if abs(n - m) > 1 { return false }
        var i = 0
        while i < n && i < m && a[i] == b[i] { i += 1 }
        if i == n && i == m { return true }
        if n == m {
            // substitution, or adjacent transposition
            if equalTail(a, i + 1, b, i + 1) { return true }
            return i + 1 < n && a[i] == b[i + 1] && a[i + 1] == b[i] && equalTail(a, i + 2, b, i + 2)
        }
        return n > m ? equalTail(a, i + 1, b, i) : equalTail(a, i, b, i + 1)
    }

    @inline(__always)
    private static func equalTail(_ a: UnsafeBufferPointer<UInt8>, _ i: Int, _ b: UnsafeBufferPointer<UInt8>, _ j: Int)
        -> Bool
    {
        if a.count - i != b.count - j { return false }
        var i = i, j = j
        while i < a.count { if a[i] != b[j] { return false }; i += 1; j += 1 }
        return true
    }

    @inline(__always)
    static func memcmpEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if a.count != b.count { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }
}

/// Dates of birth as `yyyymmdd` integers (0 when missing), compared the way clerks get them wrong.
public enum BirthDateAgreement: UInt8, Sendable, CaseIterable {
    case different = 1
    /// The year agrees and nothing closer does: a day typed wrong in both digits, or a date heaped on
    /// 1 January when only the year was known. Far likelier for one person than for two.
    case sameYear = 2
    /// One of the eight digits differs, or two adjacent digits are transposed (1985 ↔ 1958).
    case oneDigit = 3
    /// Day and month swapped (03/04 ↔ 04/03).
    case dayMonthSwapped = 4
    case exact = 5

    public static func compare(_ a: Int32, _ b: Int32) -> BirthDateAgreement {
        if a == b { return .exact }
        let ay = a / 10000, am = (a / 100) % 100, ad = a % 100
        let by = b / 10000, bm = (b / 100) % 100, bd = b % 100
        if ay == by && am == bd && ad == bm { return .dayMonthSwapped }
        // Digits from the least significant, without allocating.
        var x = a, y = b, count = 0, p1 = -1, p2 = -1
        var a1: Int32 = 0, b1: Int32 = 0, a2: Int32 = 0, b2: Int32 = 0
        for k in 0..<8 {
            let dx = x % 10, dy = y % 10
            if dx != dy {
                count += 1
                if count == 1 {
                    p1 = k; a1 = dx; b1 = dy
                } else if count == 2 {
                    p2 = k; a2 = dx; b2 = dy
                } else {
                    break
                }
            }
            x /= 10; y /= 10
        }
        if count == 1 && x == y { return .oneDigit }
        if count == 2 && x == y && p2 == p1 + 1 && a1 == b2 && a2 == b1 { return .oneDigit }
        return ay == by ? .sameYear : .different
    }
}
