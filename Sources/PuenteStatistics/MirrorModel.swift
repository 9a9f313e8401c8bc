import Foundation
import PuenteCore

/// Mirror statistics: what one country records of a flow against what its partner records of the
/// same flow. The two sides count by different rules (a return registered at reception against a
/// removal counted by the removing country; an exit declared for any stay against an entry counted only
/// for stays of a year), so the raw ratio mixes undercount with definitions. The bilateral undercount
/// model puts both on one footing with duration-of-stay coefficients:
///
///     U = Σ flows reported by the sender × R(sender's criterion) / Σ flows reported by the receiver × R(receiver's criterion)
///
/// with R = 0.53 for no minimum stay, 0.63 for 3 months, 0.73 for 6, 1.00 for 12 (linear in between) and
/// 2.26 for permanent migration. The interval comes from a bootstrap over the cells the totals add up
/// (months, or sex and age groups), and a pair is flagged when |log U| exceeds a tolerance.
public enum MirrorModel {
    /// How long a stay must be for a side to count the flow.
    public enum Criterion: Hashable, Sendable, Codable {
        case months(Double)
        case permanent

        /// The duration-of-stay coefficient.
        public var coefficient: Double {
            switch self {
            case .permanent: return 2.26
            case .months(let m):
                let points: [(Double, Double)] = [(0, 0.53), (3, 0.63), (6, 0.73), (12, 1.00)]
                if m <= 0 { return 0.53 }
                if m >= 12 { return 1.00 }
                let upper = points.firstIndex { $0.0 >= m }!
                let (m0, r0) = points[upper - 1], (m1, r1) = points[upper]
                return r0 + (r1 - r0) * (m - m0) / (m1 - m0)
            }
        }
    }

    /// One cell both sides report: the sender's figure and the receiver's.
    public struct Pair: Hashable, Sendable {
        public var sender: Double
        public var receiver: Double

        public init(sender: Double, receiver: Double) {
            self.sender = sender
            self.receiver = receiver
        }
    }

    public struct Comparison: Hashable, Sendable, Codable {
        public var sender: Double
        public var receiver: Double
        /// Sender minus receiver.
        public var difference: Double
        /// Sender over receiver, as reported (nil when the receiver reports none).
        public var ratio: Double?
        /// U: the ratio with both sides on the same definition.
        public var adjusted: Double?
        /// The bootstrap interval of U (2.5th and 97.5th percentiles).
        public var low: Double?
        public var high: Double?
        /// |log U| beyond the tolerance: the two sides disagree beyond what definitions explain.
        public var flagged: Bool
    }

    /// Compares the two sides over `pairs`; `resamples` bootstrap draws from a generator seeded with
    /// `seed`, so the same figures always give the same interval.
    public static func compare(
        _ pairs: [Pair], sender: Criterion, receiver: Criterion, tolerance: Double = log(1.25),
        resamples: Int = 1_000, seed: UInt64 = 1
    ) -> Comparison {
        let s = pairs.map(\.sender).reduce(0, +), r = pairs.map(\.receiver).reduce(0, +)
        let scale = sender.coefficient / receiver.coefficient
        func undercount(_ s: Double, _ r: Double) -> Double? { r > 0 ? s * scale / r : nil }
        let u = undercount(s, r)
        var draws: [Double] = []
        var random = SplitMix64(seed: seed)
        if !pairs.isEmpty {
            for _ in 0..<resamples {
                var bs = 0.0, br = 0.0
                for _ in pairs.indices {
                    let pair = pairs[Int(random.next() % UInt64(pairs.count))]
                    bs += pair.sender
                    br += pair.receiver
                }
                if let d = undercount(bs, br) { draws.append(d) }
            }
        }
        draws.sort()
        func percentile(_ p: Double) -> Double? {
            draws.isEmpty ? nil : draws[min(draws.count - 1, max(0, Int((Double(draws.count) * p).rounded(.down))))]
        }
        return Comparison(
            sender: s, receiver: r, difference: s - r, ratio: r > 0 ? s / r : nil, adjusted: u, low: percentile(0.025),
            high: percentile(0.975), flagged: u.map { abs(log($0)) > tolerance } ?? true)
    }
}
