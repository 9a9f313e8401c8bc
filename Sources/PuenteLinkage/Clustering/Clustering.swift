/// Groups records into persons: pairs at or above the threshold are joined best first (union–find),
/// but two groups are joined only when enough of their other cross-pairs also score at the threshold,
/// so a chain of near matches (A–B, B–C) does not merge two different people through one doubtful
/// record.
public struct Clustering: Sendable {
    /// Match probability at which a pair links.
    public var threshold: Double
    /// Share of sampled cross-pairs (other than the linking pair) that must score at the threshold.
    public var minAgreement: Double
    /// Records sampled from each group for that check.
    public var sample: Int

    public init(threshold: Double, minAgreement: Double = 0.5, sample: Int = 3) {
        self.threshold = threshold
        self.minAgreement = minAgreement
        self.sample = sample
    }

    /// - Parameters:
    ///   - pairs: scored pairs, best first.
    ///   - score: the match weight of any pair (for the cross-pair check).
    /// - Returns: for each record, the smallest record index of its cluster; and how many joins the
    ///   guard refused.
    ///   - cannotLink: records that must never share a cluster (reviewers' non-match decisions).
    public func cluster(
        _ n: Int, pairs: [ScoredPair], cannotLink: [Int32: [Int32]] = [:],
        score: (Int, Int) -> Double
    ) -> ([Int32], Int) {
        var parent = Array(0..<Int32(n))
        var size = [Int32](repeating: 1, count: n)
        var next = Array(0..<Int32(n))  // circular list of each cluster's members
        func find(_ x: Int32) -> Int32 {
            var x = x
            while parent[Int(x)] != x { parent[Int(x)] = parent[Int(parent[Int(x)])]; x = parent[Int(x)] }
            return x
        }
        func members(from start: Int32, limit: Int) -> [Int32] {
            var out = [start]
            var x = next[Int(start)]
            while x != start && out.count < limit { out.append(x); x = next[Int(x)] }
            return out
        }
        let linkWeight = Float(LinkageModel.weight(probability: threshold))
        let needed = LinkageModel.weight(probability: threshold)
        var refused = 0
        for p in pairs {
            if p.weight < linkWeight { break }
            let ri = find(p.i), rj = find(p.j)
            if ri == rj { continue }
            if !cannotLink.isEmpty {
                // Walk the smaller cluster: does any member have a non-match decision into the other?
                let (small, other) = size[Int(ri)] <= size[Int(rj)] ? (ri, rj) : (rj, ri)
                var blocked = false
                for x in members(from: small, limit: Int.max) {
                    if let banned = cannotLink[x], banned.contains(where: { find($0) == other }) {
                        blocked = true; break
                    }
                }
                if blocked { refused += 1; continue }
            }
            if p.weight < Linker.forcedWeight && (size[Int(ri)] > 1 || size[Int(rj)] > 1) {
                let a = members(from: p.i, limit: sample), b = members(from: p.j, limit: sample)
                var agree = 0, total = 0
                for x in a {
                    for y in b where !(x == p.i && y == p.j) {
                        total += 1
                        if score(Int(min(x, y)), Int(max(x, y))) >= needed { agree += 1 }
                    }
                }
                if total > 0 && Double(agree) < minAgreement * Double(total) { refused += 1; continue }
            }
            // Union by size; splice the member lists.
            let (big, small) = size[Int(ri)] >= size[Int(rj)] ? (ri, rj) : (rj, ri)
            parent[Int(small)] = big
            size[Int(big)] += size[Int(small)]
            let t = next[Int(big)]; next[Int(big)] = next[Int(small)]; next[Int(small)] = t
        }
        var smallest = [Int32](repeating: Int32.max, count: n)
        for x in 0..<Int32(n) { let r = Int(find(x)); smallest[r] = min(smallest[r], x) }
        return ((0..<Int32(n)).map { smallest[Int(find($0))] }, refused)
    }
}
