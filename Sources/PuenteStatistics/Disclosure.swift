import Foundation

/// How published figures are protected (see docs/statistics.md).
public struct DisclosurePolicy: Hashable, Sendable {
    public enum Method: String, Hashable, Sendable, CaseIterable {
        /// Cell key method, for ad-hoc queries: every cell gets the noise its contributors' keys
        /// determine, the same in every query; then the threshold.
        case cellKey = "ckm"
        /// Threshold with complementary suppression, for fixed tables.
        case suppression
        /// Exact values, for roles entitled to them.
        case none
    }

    public var method: Method
    /// Published counts from 1 to `threshold - 1` are suppressed.
    public var threshold: Int
    public var perturbation: PerturbationTable

    public init(method: Method, threshold: Int = 5, perturbation: PerturbationTable = .standard) {
        self.method = method
        self.threshold = threshold
        self.perturbation = perturbation
    }

    public static let standard = DisclosurePolicy(method: .cellKey)
    public static let fixedTable = DisclosurePolicy(method: .suppression)
    public static let unprotected = DisclosurePolicy(method: .none, threshold: 0)

    /// Whether values are exact (only for entitled roles).
    public var isUnprotected: Bool { method == .none }
}

/// A perturbation table for the cell key method: for a count `n` and a cell key (the sum of its
/// contributors' record keys modulo 256), the noise to add.
///
/// Built from the published parameters: noise at most `maxNoise` either way, variance `variance` for
/// counts away from zero, counts 1…`smallValues` never published. Each row is a discretised normal
/// distribution tilted so that its mean noise is zero; key 0…255 picks a value by inverse cumulative
/// probability, so the same cell always gets the same noise.
public struct PerturbationTable: Hashable, Sendable {
    public let maxNoise: Int
    public let variance: Double
    public let smallValues: Int
    /// rows[n][key] = noise for a count n (rows beyond the last serve all larger counts).
    let rows: [[Int8]]

    public static let standard = PerturbationTable(maxNoise: 5, variance: 2, smallValues: 2)

    public init(maxNoise: Int, variance: Double, smallValues: Int) {
        self.maxNoise = maxNoise
        self.variance = variance
        self.smallValues = smallValues
        let sigma = Self.sigma(forVariance: variance, maxNoise: maxNoise)
        let last = maxNoise + smallValues + 1
        rows = (0...last).map { n in Self.row(count: n, sigma: sigma, maxNoise: maxNoise, smallValues: smallValues) }
    }

    /// The noise for a count with this cell key.
    public func noise(count: Int, cellKey: Int) -> Int {
        guard count > 0 else { return 0 }
        return Int(rows[min(count, rows.count - 1)][cellKey & 0xFF])
    }

    /// The distribution of published values for a count, as probabilities by noise: for tests and docs.
    public func distribution(count: Int) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for noise in rows[min(count, rows.count - 1)] { out[Int(noise), default: 0] += 1.0 / 256 }
        return out
    }

    /// The σ whose normal distribution, discretised on −D…D, has the given variance.
    private static func sigma(forVariance v: Double, maxNoise d: Int) -> Double {
        var low = 0.05, high = 50.0
        for _ in 0..<100 {
            let mid = (low + high) / 2
            let w = (-d...d).map { exp(-Double($0 * $0) / (2 * mid * mid)) }
            let total = w.reduce(0, +)
            let variance = zip(-d...d, w).reduce(0) { $0 + Double($1.0 * $1.0) * $1.1 } / total
            if variance < v { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    private static func row(count n: Int, sigma: Double, maxNoise d: Int, smallValues js: Int) -> [Int8] {
        guard n > 0 else { return Array(repeating: 0, count: 256) }
        // Published values allowed for n: within ±D, not negative, not 1…js.
        let targets = (max(0, n - d)...(n + d)).filter { $0 == 0 || $0 > js }
        func weights(_ lambda: Double) -> [Double] {
            targets.map { t in
                let x = Double(t - n)
                return exp(-x * x / (2 * sigma * sigma) + lambda * x)
            }
        }
        func mean(_ lambda: Double) -> Double {
            let w = weights(lambda)
            return zip(targets, w).reduce(0) { $0 + Double($1.0 - n) * $1.1 } / w.reduce(0, +)
        }
        // Tilt until the mean noise is zero (rows near zero lose values on one side).
        var low = -20.0, high = 20.0
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if mean(mid) < 0 { low = mid } else { high = mid }
        }
        let w = weights((low + high) / 2)
        let total = w.reduce(0, +)
        // 256 key slots by cumulative probability.
        var out: [Int8] = []
        var cumulative = 0.0
        for (t, weight) in zip(targets, w) {
            cumulative += weight / total
            let end = Int((cumulative * 256).rounded())
            while out.count < min(end, 256) { out.append(Int8(t - n)) }
        }
        while out.count < 256 { out.append(Int8(targets.last! - n)) }
        return out
    }
}

/// Complementary suppression for a table published with its margins: wherever a row, column or the
/// table total has exactly one suppressed cell, that cell could be solved from the margin, so the
/// smallest other non-zero cell of the line is suppressed too, until no line has exactly one.
enum ComplementarySuppression {
    /// - Parameters:
    ///   - keys: each cell's codes, one per dimension.
    ///   - values: exact values.
    ///   - suppressed: primary suppressions on entry; primary and secondary on return.
    /// - Returns: the cells suppressed as complements.
    static func apply(keys: [[String]], values: [Int], suppressed: inout [Bool]) -> Set<Int> {
        var secondary = Set<Int>()
        let dimensions = keys.first?.count ?? 0
        // Lines: cells sharing every code but one dimension's (for one dimension, the whole table).
        var lines: [[Int]] = []
        for d in 0..<max(dimensions, 1) {
            var byRest: [[String]: [Int]] = [:]
            for (i, key) in keys.enumerated() {
                var rest = key
                if d < rest.count { rest.remove(at: d) }
                byRest[rest, default: []].append(i)
            }
            lines += byRest.values
        }
        var changed = true
        while changed {
            changed = false
            for line in lines where line.filter({ suppressed[$0] }).count == 1 {
                let candidates = line.filter { !suppressed[$0] && values[$0] != 0 }
                guard let pick = candidates.min(by: { (values[$0], $0) < (values[$1], $1) }) else { continue }
                suppressed[pick] = true
                secondary.insert(pick)
                changed = true
            }
        }
        return secondary
    }
}
