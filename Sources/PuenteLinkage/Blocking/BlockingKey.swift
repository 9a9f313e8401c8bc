/// One part of a blocking rule: a key derived from a field (`surnames.phonetic`, `birth_date.year`).
struct BlockingKey: Sendable, Hashable {
    enum Part: String, Sendable { case value, phonetic, initial, year, first, firstPhonetic = "first_phonetic" }
    let field: String
    let part: Part

    init?(_ key: String, field spec: FieldSpec) {
        let pieces = key.split(separator: ".", maxSplits: 1).map(String.init)
        guard pieces.first == spec.name, let part = Part(rawValue: pieces.count > 1 ? pieces[1] : "value") else {
            return nil
        }
        switch (spec.type, part) {
        case (_, .value), (.givenNames, .phonetic), (.givenNames, .initial), (.givenNames, .first),
            (.surnames, .phonetic), (.surnames, .initial), (.surnames, .first), (.surnames, .firstPhonetic),
            (.date, .year), (.text, .phonetic), (.text, .initial), (.exact, .initial), (.document, .initial):
            break
        default: return nil
        }
        self.field = spec.name
        self.part = part
    }

    /// The key of record `i`, or 0 when the field is missing.
    func key(_ c: FieldColumn, _ i: Int, arena: [UInt8]) -> UInt64 {
        switch part {
        case .value: return c.value[i]
        case .initial: return c.initial[i] == 0 ? 0 : UInt64(c.initial[i]) &* 0x9E37_79B9 | 1
        case .year: return c.value[i] == 0 ? 0 : c.value[i] / 10000
        case .phonetic:
            if c.spec.type == .surnames {
                let p1 = c.keyA[i], p2 = c.keyB[i]
                if p1 == 0 { return 0 }
                return combineHash(min(p1, p2), max(p1, p2))
            }
            return c.keyA[i]
        case .firstPhonetic: return c.keyA[i]
        case .first:
            let r = c.a[i]
            if r.count == 0 { return 0 }
            var end = Int(r.start)
            while end < Int(r.start + r.count) && arena[end] != 0x20 { end += 1 }
            return hashBytes(arena[Int(r.start)..<end])
        }
    }
}
