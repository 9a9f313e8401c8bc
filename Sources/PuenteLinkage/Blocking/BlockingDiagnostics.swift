import Foundation

/// What a config's blocking passes do on a file, before any pair is scored: how many pairs each pass
/// compares and how many of them no earlier pass compared, how skewed its blocks are, and (with the
/// truth of who is who) how many true pairs the passes reach. Then passes that would add recall cheaply.
public struct BlockingReport: Sendable, Codable {
    public struct Pass: Sendable, Codable {
        public var rule: [String]
        /// Pairs the pass compares (in pair mode, left × right pairs only).
        public var candidatePairs: Int
        /// Those no earlier pass compares: what the pass costs on top of them.
        public var newPairs: Int
        public var blocks: Int
        public var largestBlock: Int
        /// Share of the pass's pairs that come from its largest 1 % of blocks: near 1, a few keys (a common
        /// surname, a placeholder date) make most of the work.
        public var largestBlocksShare: Double
        /// Blocks over the size limit, not compared under this pass, and the records in them.
        public var oversizedBlocks: Int
        public var oversizedRecords: Int
        /// With truth: true pairs among the new pairs, and the share of all true pairs reached by this pass
        /// and the ones before it.
        public var newTruePairs: Int?
        public var recall: Double?
        /// New pairs the model (estimated on the config's passes) would link.
        public var newLinks: Int
    }

    /// A pass not in the config, as it would add to the config's passes.
    public struct Suggestion: Sendable, Codable {
        public var rule: [String]
        public var newPairs: Int
        public var newLinks: Int
        public var newTruePairs: Int?
        /// Recall with the config's passes and this one.
        public var recall: Double?
    }

    public var records: Int
    public var passes: [Pass]
    public var unionPairs: Int
    /// With truth: the pairs of records of the same person (in pair mode, across the two sides).
    public var truePairs: Int?
    public var suggestions: [Suggestion]
}

extension Linker {
    /// Diagnoses the config's blocking on `table`.
    /// - Parameters:
    ///   - truth: optionally, each record's person (nil where unknown), for blocking recall.
    ///   - suggestions: how many additional passes to suggest.
    public func diagnoseBlocking(_ table: RecordTable, truth: [Int64?]? = nil, suggestions: Int = 5) -> BlockingReport {
        let (rules, _, _) = makeRules(table)
        let chunks = self.chunks(rules)
        let left = table.leftCount
        let truePairs = truth.map { Self.truePairCount($0, leftCount: left) }
        return table.arena.withUnsafeBufferPointer { arena in
            let comparer = Comparer(table: table, arena: arena)
            let model = estimate(table, rules, chunks, comparer: comparer)
            let threshold = LinkageModel.weight(probability: config.linkThreshold)
            // Pairs each pass adds to the ones before it (chunks are per pass, `firstRuleOnly` drops the rest).
            let counted: [(pairs: Int, links: Int, truePairs: Int)] = parallel(chunks.count) { k in
                var out = (pairs: 0, links: 0, truePairs: 0)
                forEachPair(chunks[k], rules, leftCount: left, firstRuleOnly: true) { i, j in
                    out.pairs += 1
                    if model.score(comparer.pattern(i, j), i, table: table) >= threshold { out.links += 1 }
                    if let truth, let a = truth[i], a == truth[j] { out.truePairs += 1 }
                }
                return out
            }
            var passes: [BlockingReport.Pass] = []
            var reached = 0
            for (r, rule) in rules.enumerated() {
                let sizes = rule.groups.map { $0.end - $0.start }
                let pairsPerBlock = rule.groups.map { blockPairs($0, rule, leftCount: left) }.sorted(by: >)
                let total = pairsPerBlock.reduce(0, +)
                let top = pairsPerBlock.prefix(max(1, pairsPerBlock.count / 100)).reduce(0, +)
                let mine = chunks.indices.filter { chunks[$0].rule == r }.map { counted[$0] }
                let newTrue = mine.reduce(0) { $0 + $1.truePairs }
                reached += newTrue
                passes.append(
                    BlockingReport.Pass(
                        rule: config.blocking[r], candidatePairs: total, newPairs: mine.reduce(0) { $0 + $1.pairs },
                        blocks: sizes.count, largestBlock: sizes.max() ?? 0,
                        largestBlocksShare: total > 0 ? Double(top) / Double(total) : 0,
                        oversizedBlocks: rule.oversized.blocks, oversizedRecords: rule.oversized.records,
                        newTruePairs: truth == nil ? nil : newTrue,
                        recall: truePairs.map { $0 > 0 ? Double(reached) / Double($0) : 1 },
                        newLinks: mine.reduce(0) { $0 + $1.links }))
            }
            let union = passes.reduce(0) { $0 + $1.newPairs }
            // Trying the candidate passes costs about as much as scoring their pairs: only when asked.
            let suggested =
                suggestions <= 0
                ? []
                : suggest(
                    table, existing: rules, model: model, comparer: comparer, truth: truth, truePairs: truePairs,
                    reached: reached, unionPairs: union
                ).prefix(suggestions)
            return BlockingReport(
                records: table.count, passes: passes, unionPairs: union, truePairs: truePairs,
                suggestions: Array(suggested))
        }
    }

    /// Pairs of one block (left × right in pair mode).
    func blockPairs(_ g: (start: Int, end: Int), _ rule: Rule, leftCount: Int) -> Int {
        guard leftCount > 0 else { return pairCount(g) }
        let l = rule.order[g.start..<g.end].reduce(0) { $0 + (Int($1) < leftCount ? 1 : 0) }
        return l * (g.end - g.start - l)
    }

    static func truePairCount(_ truth: [Int64?], leftCount: Int) -> Int {
        var sides: [Int64: (Int, Int)] = [:]
        for (k, person) in truth.enumerated() {
            guard let person else { continue }
            if leftCount > 0 && k >= leftCount {
                sides[person, default: (0, 0)].1 += 1
            } else {
                sides[person, default: (0, 0)].0 += 1
            }
        }
        return sides.values.reduce(0) { $0 + (leftCount > 0 ? $1.0 * $1.1 : $1.0 * ($1.0 - 1) / 2) }
    }

    /// Candidate passes: each key of the config's fields alone, and every two keys of different fields,
    /// that the config does not already have; ranked by the links (or true pairs) they add per pair.
    func suggest(
        _ table: RecordTable, existing: [Rule], model: LinkageModel, comparer: Comparer, truth: [Int64?]?,
        truePairs: Int?, reached: Int, unionPairs: Int
    ) -> [BlockingReport.Suggestion] {
        var keys: [String] = []
        for spec in table.fields {
            for part in ["value", "phonetic", "first_phonetic", "initial", "first", "year"] {
                let key = part == "value" ? spec.name : spec.name + "." + part
                if BlockingKey(key, field: spec) != nil { keys.append(key) }
            }
        }
        let field = { (key: String) in String(key.split(separator: ".")[0]) }
        let have = Set(config.blocking.map { Set($0) })
        var candidates: [[String]] = keys.map { [$0] }
        for a in keys.indices {
            for b in keys.indices where b > a && field(keys[a]) != field(keys[b]) {
                candidates.append([keys[a], keys[b]])
            }
        }
        candidates.removeAll { have.contains(Set($0)) }
        // A pass comparing more pairs than the config's passes together is no cheap addition.
        let budget = max(unionPairs, 100_000)
        let threshold = LinkageModel.weight(probability: config.linkThreshold)
        var out: [BlockingReport.Suggestion] = []
        for candidate in candidates {
            var config = self.config
            config.blocking = [candidate]
            var trial = Linker(config: config)
            trial.maxBlockSize = maxBlockSize
            trial.threads = threads
            let (rules, oversized, _) = trial.makeRules(table)
            guard oversized == 0, let rule = rules.first else { continue }
            let pairs = rule.groups.reduce(0) { $0 + blockPairs($1, rule, leftCount: table.leftCount) }
            guard pairs > 0, pairs <= budget else { continue }
            let all = existing + [rule]
            let chunks = trial.chunks([rule]).map { Chunk(rule: all.count - 1, groups: $0.groups) }
            let counted: [(pairs: Int, links: Int, truePairs: Int)] = parallel(chunks.count) { k in
                var out = (pairs: 0, links: 0, truePairs: 0)
                forEachPair(chunks[k], all, leftCount: table.leftCount, firstRuleOnly: true) { i, j in
                    out.pairs += 1
                    if model.score(comparer.pattern(i, j), i, table: table) >= threshold { out.links += 1 }
                    if let truth, let a = truth[i], a == truth[j] { out.truePairs += 1 }
                }
                return out
            }
            let newPairs = counted.reduce(0) { $0 + $1.pairs }
            let newLinks = counted.reduce(0) { $0 + $1.links }
            let newTrue = counted.reduce(0) { $0 + $1.truePairs }
            guard (truth == nil ? newLinks : newTrue) > 0 else { continue }
            out.append(
                BlockingReport.Suggestion(
                    rule: candidate, newPairs: newPairs, newLinks: newLinks, newTruePairs: truth == nil ? nil : newTrue,
                    recall: truePairs.map { $0 > 0 ? Double(reached + newTrue) / Double($0) : 1 }))
        }
        // Cheap first: the most gained per pair compared, among passes gaining at least a tenth of the
        // best one (a pass of ten pairs that finds one more is no answer); a key that blocks exactly as
        // another (`sex.initial` and `sex`) is listed once.
        let gained = { (s: BlockingReport.Suggestion) in s.newTruePairs ?? s.newLinks }
        let best = out.map(gained).max() ?? 0
        var seen = Set<[Int]>()
        return out.filter { 10 * gained($0) >= best }
            .sorted {
                let a = Double(gained($0)) / Double(max($0.newPairs, 1)),
                    b = Double(gained($1)) / Double(max($1.newPairs, 1))
                return a != b ? a > b : $0.rule.count < $1.rule.count
            }
            .filter { seen.insert([$0.newPairs, $0.newLinks, $0.newTruePairs ?? -1]).inserted }
    }
}
