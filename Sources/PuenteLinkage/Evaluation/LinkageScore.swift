/// Precision, recall and F1 of a linkage against the truth.
public struct LinkageScore: Sendable, Hashable, Codable, CustomStringConvertible {
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int

    public init(truePositives: Int, falsePositives: Int, falseNegatives: Int) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
    }

    public var precision: Double {
        truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives)
    }
    public var recall: Double {
        truePositives + falseNegatives == 0 ? 1 : Double(truePositives) / Double(truePositives + falseNegatives)
    }
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }

    public var description: String {
        return
            "precision \(fmt(precision)) recall \(fmt(recall)) F1 \(fmt(f1)) (TP \(truePositives), FP \(falsePositives), FN \(falseNegatives))"
    }

    private func fmt(_ x: Double) -> String {
        let v = Int((x * 10000).rounded())
        return "\(v / 10000).\(String(v % 10000).leftPadded(4))"
    }

    /// Pairwise scores of a clustering: a pair of records is predicted linked when both have the same
    /// predicted label, truly linked when both have the same true label. Counted from the contingency
    /// table, never by listing pairs.
    public static func pairwise<P: Hashable, T: Hashable>(predicted: [P], truth: [T]) -> LinkageScore {
        precondition(predicted.count == truth.count)
        func pairs(_ n: Int) -> Int { n * (n - 1) / 2 }
        var byPredicted: [P: Int] = [:], byTruth: [T: Int] = [:]
        var both: [Pair<P, T>: Int] = [:]
        for k in predicted.indices {
            byPredicted[predicted[k], default: 0] += 1
            byTruth[truth[k], default: 0] += 1
            both[Pair(a: predicted[k], b: truth[k]), default: 0] += 1
        }
        let tp = both.values.reduce(0) { $0 + pairs($1) }
        let predictedPairs = byPredicted.values.reduce(0) { $0 + pairs($1) }
        let truePairs = byTruth.values.reduce(0) { $0 + pairs($1) }
        return LinkageScore(truePositives: tp, falsePositives: predictedPairs - tp, falseNegatives: truePairs - tp)
    }

    /// Cluster-level scores: a predicted cluster is right when it holds exactly the records of one true
    /// person (singletons included).
    public static func clusters<P: Hashable, T: Hashable>(predicted: [P], truth: [T]) -> LinkageScore {
        var predictedSets: [P: Set<Int>] = [:], trueSets: [T: Set<Int>] = [:]
        for k in predicted.indices {
            predictedSets[predicted[k], default: []].insert(k); trueSets[truth[k], default: []].insert(k)
        }
        let truthSet = Set(trueSets.values)
        let exact = predictedSets.values.filter { truthSet.contains($0) }.count
        return LinkageScore(
            truePositives: exact, falsePositives: predictedSets.count - exact,
            falseNegatives: trueSets.count - exact)
    }

    /// Scores of predicted links against true links (pair mode); pairs are unordered within each side.
    public static func links<L: Hashable, R: Hashable>(predicted: some Sequence<(L, R)>, truth: some Sequence<(L, R)>)
        -> LinkageScore
    {
        let p = Set(predicted.map { Pair(a: $0.0, b: $0.1) }), t = Set(truth.map { Pair(a: $0.0, b: $0.1) })
        let tp = p.intersection(t).count
        return LinkageScore(truePositives: tp, falsePositives: p.count - tp, falseNegatives: t.count - tp)
    }
}

struct Pair<A: Hashable, B: Hashable>: Hashable { var a: A; var b: B }

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
