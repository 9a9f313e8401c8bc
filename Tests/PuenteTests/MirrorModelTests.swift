import Foundation
import PuenteStatistics
import Testing

@Suite("Mirror statistics: the bilateral undercount model")
struct MirrorModelTests {
    /// An independent generator for the test's own data (a 64-bit linear congruential one).
    struct LCG: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    @Test(
        "Duration-of-stay coefficients: 0.53, 0.63, 0.73 and 1.00 at 0, 3, 6 and 12 months, linear in between; 2.26 permanent"
    )
    func coefficients() {
        let c = { (m: Double) in MirrorModel.Criterion.months(m).coefficient }
        #expect(c(0) == 0.53 && c(3) == 0.63 && c(6) == 0.73 && c(12) == 1.00)
        #expect(abs(c(1.5) - 0.58) < 1e-12 && abs(c(9) - 0.865) < 1e-12)
        #expect(c(24) == 1.00 && MirrorModel.Criterion.permanent.coefficient == 2.26)
    }

    @Test("Figures, difference, ratio and U as defined; a pair is flagged beyond the tolerance only")
    func definitions() {
        let pairs = [MirrorModel.Pair(sender: 120, receiver: 100), .init(sender: 80, receiver: 60)]
        let same = MirrorModel.compare(pairs, sender: .months(3), receiver: .months(3))
        #expect(same.sender == 200 && same.receiver == 160 && same.difference == 40 && same.ratio == 1.25)
        #expect(same.adjusted == 1.25 && !same.flagged)
        // A sender counting every stay against a receiver counting stays of a year: U = 200·0.53 / 160·1.00.
        let mixed = MirrorModel.compare(pairs, sender: .months(0), receiver: .months(12), tolerance: log(1.1))
        #expect(abs(mixed.adjusted! - 0.6625) < 1e-12 && mixed.flagged)
        #expect(mixed.low! <= mixed.adjusted! && mixed.adjusted! <= mixed.high!)
        // Nobody on the receiving side: no ratio, and the pair is flagged.
        let none = MirrorModel.compare([.init(sender: 5, receiver: 0)], sender: .months(3), receiver: .months(3))
        #expect(none.ratio == nil && none.adjusted == nil && none.flagged)
    }

    @Test(
        "When the receiver misses a known share of the flows, the bootstrap interval contains the truth about as often as it should"
    )
    func coverageOfTheTruth() {
        // 48 monthly cells of a flow both sides count by the same rule; the receiver registers each
        // crossing with probability 0.8, so the truth is U = 1 / 0.8 = 1.25.
        var random = LCG(state: 2016)
        let missed = 0.2, truth = 1 / (1 - missed)
        var covered = 0
        let replications = 200
        for replication in 0..<replications {
            var pairs: [MirrorModel.Pair] = []
            for _ in 0..<48 {
                let flows = Int.random(in: 20...400, using: &random)
                var registered = 0
                for _ in 0..<flows where Double.random(in: 0..<1, using: &random) >= missed { registered += 1 }
                pairs.append(.init(sender: Double(flows), receiver: Double(registered)))
            }
            let result = MirrorModel.compare(
                pairs, sender: .months(6), receiver: .months(6), resamples: 400, seed: UInt64(replication))
            if result.low! <= truth && truth <= result.high! { covered += 1 }
        }
        // A 95 % interval: with 200 replications, anything from 85 % up is within what chance allows.
        #expect(Double(covered) / Double(replications) >= 0.85, "covered \(covered) of \(replications)")
        // A receiver that misses nothing: U is 1, and the pair is not flagged.
        let exact = MirrorModel.compare(
            (0..<12).map { _ in .init(sender: 100, receiver: 100) }, sender: .months(3), receiver: .months(3))
        #expect(exact.adjusted == 1 && !exact.flagged)
    }
}
