/// A small, fast, seedable generator (SplitMix64), so the same seed gives the same data on every machine.
package struct RandomSource: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func chance(_ p: Double) -> Bool { unit() < p }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// Draws items in proportion to their weights, by binary search over the cumulative weights.
struct WeightedTable<T> {
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
