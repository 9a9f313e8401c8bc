import PuenteCore
import PuenteReference

/// Applies a disclosure policy to counts, differences and ratios.
struct Protector {
    let policy: DisclosurePolicy

    var note: ProtectionNote {
        ProtectionNote(
            method: policy.method.rawValue, threshold: policy.threshold,
            maxNoise: policy.method == .cellKey ? policy.perturbation.maxNoise : nil,
            variance: policy.method == .cellKey ? policy.perturbation.variance : nil)
    }

    /// The value published for a count, and whether it is too small to publish.
    func published(_ t: CellTally) -> (value: Int, small: Bool) {
        let value =
            policy.method == .cellKey ? t.count + policy.perturbation.noise(count: t.count, cellKey: t.keySum) : t.count
        return (value, policy.method != .none && value > 0 && value < policy.threshold)
    }

    private func cell(_ key: [String], _ t: CellTally) -> StatisticsCell {
        let (value, small) = published(t)
        if small { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
        return StatisticsCell(key: key, value: Double(value), obsStatus: policy.method == .cellKey ? "E" : "A")
    }

    /// The cells of a table whose count may not be published, by CONF_STATUS: `A` too small, and under
    /// suppression `D` for the complements that would let a margin reveal a small one.
    func withheld(keys: [[String]], tallies: [CellTally]) -> [String?] {
        var suppressed = tallies.map { published($0).small }
        var out: [String?] = suppressed.map { $0 ? "A" : nil }
        if policy.method == .suppression {
            for i in ComplementarySuppression.apply(keys: keys, values: tallies.map(\.count), suppressed: &suppressed) {
                out[i] = "D"
            }
        }
        return out
    }

    func counts(keys: [[String]], tallies: [CellTally], total: CellTally) -> ([StatisticsCell], StatisticsCell) {
        let withheld = withheld(keys: keys, tallies: tallies)
        let cells = keys.indices.map { i in
            withheld[i].map { StatisticsCell(key: keys[i], value: nil, obsStatus: "Q", confStatus: $0) }
                ?? cell(keys[i], tallies[i])
        }
        return (cells, cell([], total))
    }

    /// Net figures: each term published on its own, then combined; withheld when a term is (with its
    /// complements, so no term's table reveals a small count either).
    func differences(keys: [[String]], terms: [(counts: [[String]: CellTally], total: CellTally, sign: Int)]) -> (
        [StatisticsCell], StatisticsCell
    ) {
        let withheld = terms.map { term in
            self.withheld(keys: keys, tallies: keys.map { term.counts[$0] ?? CellTally() })
        }
        func combine(_ key: [String], _ tallies: [(CellTally, Int)], withheld: String?) -> StatisticsCell {
            if let withheld { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: withheld) }
            var value = 0
            for (t, sign) in tallies {
                let (v, small) = published(t)
                if small { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
                value += sign * v
            }
            return StatisticsCell(key: key, value: Double(value), obsStatus: policy.method == .cellKey ? "E" : "A")
        }
        let cells = keys.indices.map { i in
            combine(
                keys[i], terms.map { ($0.counts[keys[i]] ?? CellTally(), $0.sign) },
                withheld: withheld.lazy.compactMap { $0[i] }.min())
        }
        return (cells, combine([], terms.map { ($0.total, $0.sign) }, withheld: nil))
    }

    /// Ratios of a table: numerator and denominator counts each withheld as a count table would be.
    func ratios(
        keys: [[String]], numerators: [[String]: CellTally], denominators: [[String]: CellTally],
        factor: Double
    ) -> [StatisticsCell] {
        let n = keys.map { numerators[$0] ?? CellTally() }, d = keys.map { denominators[$0] ?? CellTally() }
        let withheldN = withheld(keys: keys, tallies: n), withheldD = withheld(keys: keys, tallies: d)
        return keys.indices.map { i in
            if let status = [withheldN[i], withheldD[i]].compactMap({ $0 }).min() {
                return StatisticsCell(key: keys[i], value: nil, obsStatus: "Q", confStatus: status)
            }
            return ratio(n[i], d[i], factor: factor, key: keys[i])
        }
    }

    /// A ratio of two protected counts; suppressed when either is small, absent when the denominator is 0.
    func ratio(_ numerator: CellTally, _ denominator: CellTally, factor: Double, key: [String]) -> StatisticsCell {
        let (n, nSmall) = published(numerator), (d, dSmall) = published(denominator)
        if nSmall || dSmall { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
        guard d > 0 else { return StatisticsCell(key: key, value: nil, obsStatus: "M", confStatus: "F") }
        return StatisticsCell(
            key: key, value: Self.round(Double(n) / Double(d) * factor),
            obsStatus: policy.method == .cellKey ? "E" : "A")
    }

    /// A count per 1,000 of a population that is public.
    func rate(_ numerator: CellTally, denominator: Double?, key: [String]) -> StatisticsCell {
        let (n, small) = published(numerator)
        if small { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
        guard let denominator, denominator > 0 else {
            return StatisticsCell(key: key, value: nil, obsStatus: "O", confStatus: "F")
        }
        return StatisticsCell(
            key: key, value: Self.round(Double(n) / denominator * 1000),
            obsStatus: policy.method == .cellKey ? "E" : "A")
    }

    static func round(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}
