/// Agreement levels of a pair of records, field by field, read straight from a ``RecordTable``.
///
/// Level 0 means a value is missing on either side (the field then says nothing); higher levels mean
/// closer agreement. Levels of all fields pack into one `UInt64`, 4 bits each: the comparison pattern.
struct Comparer: @unchecked Sendable {
    let table: RecordTable
    let arena: UnsafeBufferPointer<UInt8>
    /// The given-names and surnames fields, when the config has both: their values may have been typed in
    /// each other's field.
    private let names: (given: Int, surnames: Int)?

    init(table: RecordTable, arena: UnsafeBufferPointer<UInt8>) {
        self.table = table
        self.arena = arena
        if let g = table.columns.firstIndex(where: { $0.spec.type == .givenNames }),
            let s = table.columns.firstIndex(where: { $0.spec.type == .surnames })
        {
            names = (g, s)
        } else {
            names = nil
        }
    }

    @inline(__always)
    private func bytes(_ r: TextRef) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: arena[Int(r.start)..<Int(r.start + r.count)])
    }

    @inline(__always)
    private func same(_ x: TextRef, _ y: TextRef) -> Bool {
        x.count == y.count && StringSimilarity.memcmpEqual(bytes(x), bytes(y))
    }

    @inline(__always)
    private func jw(_ x: TextRef, _ y: TextRef) -> Double { StringSimilarity.jaroWinkler(bytes(x), bytes(y)) }

    func pattern(_ i: Int, _ j: Int) -> UInt64 {
        var p: UInt64 = 0
        for f in 0..<table.columns.count { p |= UInt64(level(f, i, j)) << UInt64(4 * f) }
        if let (g, s) = names, (p >> UInt64(4 * g)) & 0xF == 1, (p >> UInt64(4 * s)) & 0xF == 1,
            namesCrossed(i, j, g, s)
        {
            // Names typed in each other's field: the given names agree with the other record's surnames and
            // the other way round. Scored as a compound given name and close surnames, not as two persons.
            p &= ~((0xF << UInt64(4 * g)) | (0xF << UInt64(4 * s)))
            p |= (4 << UInt64(4 * g)) | (3 << UInt64(4 * s))
        }
        return p
    }

    /// The levels of `pattern` field by field.
    static func levels(_ pattern: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8((pattern >> UInt64(4 * $0)) & 0xF) }
    }

    /// Whether each record's first given name is the other's first surname.
    private func namesCrossed(_ i: Int, _ j: Int, _ g: Int, _ s: Int) -> Bool {
        let given = table.columns[g], surnames = table.columns[s]
        func firstWord(_ r: TextRef) -> UnsafeBufferPointer<UInt8> {
            let all = bytes(r)
            var end = 0
            while end < all.count && all[end] != 0x20 { end += 1 }
            return UnsafeBufferPointer(rebasing: all[0..<end])
        }
        let gi = firstWord(given.a[i]), gj = firstWord(given.a[j])
        let si = firstWord(surnames.a[i]), sj = firstWord(surnames.a[j])
        guard gi.count > 1, gj.count > 1, si.count > 1, sj.count > 1 else { return false }
        return gi.count == sj.count && StringSimilarity.memcmpEqual(gi, sj) && gj.count == si.count
            && StringSimilarity.memcmpEqual(gj, si)
    }

    func level(_ f: Int, _ i: Int, _ j: Int) -> UInt8 {
        let c = table.columns[f]
        switch c.spec.type {
        case .givenNames:
            let x = c.a[i], y = c.a[j]
            if x.count == 0 || y.count == 0 { return 0 }
            if c.value[i] == c.value[j] && same(x, y) { return 5 }
            if wordsContained(x, y) { return 4 }
            let s = jw(x, y)
            return s >= 0.92 ? 3 : s >= 0.80 ? 2 : 1
        case .surnames:
            let a1 = c.a[i], a2 = c.b[i], b1 = c.a[j], b2 = c.b[j]
            if a1.count == 0 || b1.count == 0 { return 0 }
            let e11 = same(a1, b1)
            if e11 && (a2.count == 0) == (b2.count == 0) && (a2.count == 0 || same(a2, b2)) { return 5 }
            if a2.count > 0 && b2.count > 0 {
                let e12 = same(a1, b2), e21 = same(a2, b1)
                if e12 && e21 { return 4 }
                if (jw(a1, b1) >= 0.9 && jw(a2, b2) >= 0.9) || (jw(a1, b2) >= 0.9 && jw(a2, b1) >= 0.9) { return 3 }
                return e11 || e12 || e21 || same(a2, b2) ? 2 : 1
            }
            if a2.count == 0 && b2.count == 0 { return jw(a1, b1) >= 0.9 ? 3 : 1 }
            // One side has a single surname: it agrees if it is one of the other side's two.
            let (single, o1, o2) = a2.count == 0 ? (a1, b1, b2) : (b1, a1, a2)
            if same(single, o1) || same(single, o2) { return 3 }
            return jw(single, o1) >= 0.9 || jw(single, o2) >= 0.9 ? 2 : 1
        case .date:
            let x = c.value[i], y = c.value[j]
            if x == 0 || y == 0 { return 0 }
            return BirthDateAgreement.compare(Int32(x), Int32(y)).rawValue
        case .document:
            let x = c.a[i], y = c.a[j]
            if x.count == 0 || y.count == 0 { return 0 }
            let ti = c.keyA[i], tj = c.keyA[j]
            if ti != 0 && tj != 0 && ti != tj { return 0 }  // a passport number says nothing about an ID card's
            if c.value[i] == c.value[j] && same(x, y) { return 3 }
            return StringSimilarity.withinOneEdit(bytes(x), bytes(y)) ? 2 : 1
        case .exact:
            let x = c.value[i], y = c.value[j]
            if x == 0 || y == 0 { return 0 }
            return x == y ? 2 : 1
        case .text:
            let x = c.a[i], y = c.a[j]
            if x.count == 0 || y.count == 0 { return 0 }
            if c.value[i] == c.value[j] && same(x, y) { return 4 }
            let s = jw(x, y)
            return s >= 0.92 ? 3 : s >= 0.80 ? 2 : 1
        }
    }

    /// Whether every word of the shorter name occurs in the longer (`jose` in `jose luis`); a one-letter
    /// word is an initial and stands for any word it begins (`jose a` in `jose antonio`).
    private func wordsContained(_ x: TextRef, _ y: TextRef) -> Bool {
        let (short, long) = x.count <= y.count ? (bytes(x), bytes(y)) : (bytes(y), bytes(x))
        var start = 0
        while start < short.count {
            var end = start
            while end < short.count && short[end] != 0x20 { end += 1 }
            if !containsWord(long, short, start, end) { return false }
            start = end + 1
        }
        return true
    }

    private func containsWord(_ text: UnsafeBufferPointer<UInt8>, _ w: UnsafeBufferPointer<UInt8>, _ ws: Int, _ we: Int)
        -> Bool
    {
        let len = we - ws
        var s = 0
        while s < text.count {
            var e = s
            while e < text.count && text[e] != 0x20 { e += 1 }
            if len == 1 && e > s && text[s] == w[ws] { return true }
            if e - s == len {
                var k = 0
                while k < len && text[s + k] == w[ws + k] { k += 1 }
                if k == len { return true }
            }
            s = e + 1
        }
        return false
    }

    /// Whether the pair's agreement at `level` is a value match whose rarity the term frequency measures.
    static func isValueMatch(_ kind: FieldKind, level: UInt8) -> Bool {
        switch kind {
        case .givenNames: level == 5
        case .surnames: level >= 4
        case .date: level == 5
        case .document: level == 3
        case .exact: level == 2
        case .text: level == 4
        }
    }
}
