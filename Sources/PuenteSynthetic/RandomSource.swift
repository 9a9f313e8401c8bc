import PuenteCore

/// The generator's random numbers: SplitMix64, so the same seed gives the same data on every machine.
package struct RandomSource: RandomNumberGenerator {
    private var generator: SplitMix64

    package init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    package mutating func next() -> UInt64 { generator.next() }

    /// A uniform number in [0, 1).
    mutating func unit() -> Double { generator.unit() }

    mutating func chance(_ p: Double) -> Bool { unit() < p }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// Draws items in proportion to their weights, by binary search over the cumulative weights.
struct WeightedTable<T: Sendable>: Sendable {
    let items: [T]
    private let cumulative: [Double]

    init(_ pairs: [(T, Double)]) {
        items = pairs.map(\.0)
        var running = 0.0
        cumulative = pairs.map {
            running += max($0.1, 0); return running
        }
    }

    func draw(_ rng: inout RandomSource) -> T {
        let x = rng.unit() * cumulative.last!
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > x { hi = mid } else { lo = mid + 1 }
        }
        return items[lo]
    }
}
