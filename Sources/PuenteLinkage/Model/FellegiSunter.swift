import Foundation

/// Fellegi–Sunter parameters: for every field, the probability of each agreement level among matches (m)
/// and among non-matches (u), and the prior probability that two records match.
///
/// u comes from random pairs (almost all non-matches); m from EM on the candidate pairs of each blocking
/// rule, with the fields that rule blocks on left out of that rule's estimate (their agreement there is
/// forced by blocking), then averaged over rules.
public struct LinkageModel: Sendable {
    public let fields: [FieldSpec]
    /// `m[f][l - 1]`, `u[f][l - 1]` for levels 1…L.
    public internal(set) var m: [[Double]]
    public internal(set) var u: [[Double]]
    /// Prior probability that a random pair of records matches.
    public internal(set) var lambda: Double
    /// Whether EM estimated `m` of each field (otherwise it is the config's or a default prior).
    public internal(set) var estimated: [Bool]
    /// log2(m/u) by field and level (index 0: missing, weight 0).
    var weights: [[Double]] = []
    var priorWeight: Double = 0
    /// Term frequencies of value keys, per field with `tf`, and the total they count.
    var frequencies: [[UInt64: UInt32]?] = []
    var recordCount: Int = 1

    init(fields: [FieldSpec]) {
        self.fields = fields
        m = fields.map { Self.defaultM($0) }
        u = fields.map { Array(repeating: 1 / Double($0.levelCount), count: $0.levelCount) }
        lambda = 1e-4
        estimated = fields.map { _ in false }
    }

    static func defaultM(_ spec: FieldSpec) -> [Double] {
        if let m = spec.m, m.count == spec.levelCount { return normalised(m) }
        let n = spec.levelCount
        var m = [Double](repeating: 0, count: n)
        m[n - 1] = 0.8
        let rest = (0..<(n - 1)).reduce(0.0) { $0 + pow(2, Double($1)) }
        for l in 0..<(n - 1) { m[l] = 0.2 * pow(2, Double(l)) / rest }
        return m
    }

    static func normalised(_ p: [Double]) -> [Double] {
        let s = p.reduce(0, +)
        return s > 0 ? p.map { max($0 / s, 1e-9) } : p
    }

    mutating func finish() {
        weights = fields.indices.map { f in
            [0] + (0..<fields[f].levelCount).map { l in log2(max(m[f][l], 1e-9) / max(u[f][l], 1e-12)) }
        }
        let lam = min(max(lambda, 1e-12), 0.999_999)
        priorWeight = log2(lam / (1 - lam))
    }

    /// Bayes factor (log2) of field `f` at `level`, without term frequencies.
    public func weight(field f: Int, level: Int) -> Double { weights[f][level] }

    /// Term-frequency adjustment (log2) for a value match on field `f` of a value with key `key`:
    /// positive for rare values, negative for common ones.
    @inline(__always)
    func tfAdjustment(_ f: Int, level: UInt8, key: UInt64) -> Double {
        guard let table = frequencies[f], let n = table[key] else { return 0 }
        let freq = max(Double(n), 1) / Double(recordCount)
        return log2(u[f][Int(level) - 1] / freq)
    }

    /// Match weight (log2 odds) of a pair with `pattern`, including the prior and term frequencies.
    @inline(__always)
    func score(_ pattern: UInt64, _ i: Int, table: RecordTable) -> Double {
        var w = priorWeight
        for f in 0..<fields.count {
            let level = UInt8((pattern >> UInt64(4 * f)) & 0xF)
            if level == 0 { continue }
            w += weights[f][Int(level)]
            if frequencies[f] != nil && Comparer.isValueMatch(fields[f].type, level: level) {
                w += tfAdjustment(f, level: level, key: table.columns[f].value[i])
            }
        }
        return w
    }

    public static func probability(weight: Double) -> Double { 1 / (1 + exp2(-weight)) }
    public static func weight(probability p: Double) -> Double {
        let q = min(max(p, 1e-12), 1 - 1e-12)
        return log2(q / (1 - q))
    }
}

/// The contribution of one field to a pair's match weight.
public struct FieldContribution: Sendable, Codable, Hashable {
    public var field: String
    public var level: String
    public var weight: Double
    public var termFrequencyAdjustment: Double
}

/// Expectation–maximisation of m and λ over comparison patterns, with u held fixed.
enum ExpectationMaximisation {
    /// - Parameters:
    ///   - patterns: distinct patterns and how many candidate pairs have each.
    ///   - active: the fields whose m this session estimates (the others are ignored).
    /// - Returns: m per field (only active ones meaningful) and the share of matches among the pairs.
    static func run(
        patterns: [(UInt64, Int)], fields: [FieldSpec], u: [[Double]], initialM: [[Double]],
        active: [Bool], iterations: Int = 60
    ) -> (m: [[Double]], lambda: Double) {
        var m = initialM
        var lambda = 0.1
        let total = Double(patterns.reduce(0) { $0 + $1.1 })
        guard total > 0 else { return (m, 0) }
        let nf = fields.count
        let levels = patterns.map { p in (0..<nf).map { Int((p.0 >> UInt64(4 * $0)) & 0xF) } }
        for _ in 0..<iterations {
            var mNew = fields.map { [Double](repeating: 0, count: $0.levelCount) }
            var matchMass = 0.0
            for (k, p) in patterns.enumerated() {
                var lm = log(lambda), lu = log(1 - lambda)
                for f in 0..<nf where active[f] {
                    let l = levels[k][f]
                    if l == 0 { continue }
                    lm += log(max(m[f][l - 1], 1e-12))
                    lu += log(max(u[f][l - 1], 1e-12))
                }
                let g = 1 / (1 + exp(lu - lm))
                let w = g * Double(p.1)
                matchMass += w
                for f in 0..<nf where active[f] {
                    let l = levels[k][f]
                    if l > 0 { mNew[f][l - 1] += w }
                }
            }
            var change = abs(matchMass / total - lambda)
            lambda = min(max(matchMass / total, 1e-9), 1 - 1e-9)
            for f in 0..<nf where active[f] {
                let s = mNew[f].reduce(0, +)
                guard s > 0 else { continue }
                let next = mNew[f].map { max($0 / s, 1e-6) }
                for l in next.indices { change = max(change, abs(next[l] - m[f][l])) }
                m[f] = next
            }
            if change < 1e-6 { break }
        }
        return (m, lambda)
    }
}
