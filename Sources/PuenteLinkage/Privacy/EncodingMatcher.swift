import Foundation
import PuenteCore
import Synchronization

/// Encodings of one party, side by side in one array: record i's words are
/// `words[i * wordsPerRecord ..< (i + 1) * wordsPerRecord]`, bit 0 the most significant of the first.
public struct EncodingSet: Sendable {
    public let bits: Int
    public var ids: [String] = []
    public private(set) var words: [UInt64] = []
    public var wordsPerRecord: Int { bits / 64 }
    public var count: Int { ids.count }

    public init(bits: Int) {
        precondition(bits % 64 == 0 && bits > 0)
        self.bits = bits
    }

    public mutating func append(id: String, words record: [UInt64]) {
        precondition(record.count == wordsPerRecord)
        ids.append(id)
        words += record
    }

    public mutating func reserve(_ n: Int) {
        ids.reserveCapacity(n)
        words.reserveCapacity(n * wordsPerRecord)
    }

    /// The bytes of record i, first bit as the most significant bit of the first byte.
    public func bytes(_ i: Int) -> [UInt8] {
        Self.bytes(of: words[i * wordsPerRecord..<(i + 1) * wordsPerRecord])
    }

    /// The bytes of one encoding's words, first bit as the most significant bit of the first byte.
    public static func bytes(of words: some Collection<UInt64>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(words.count * 8)
        for w in words {
            for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8((w >> UInt64(s)) & 0xFF)) }
        }
        return out
    }

    /// Reads `bits / 8` bytes as a record; false when there are not as many.
    public mutating func append(id: String, bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count == bits / 8 else { return false }
        var record = [UInt64](repeating: 0, count: wordsPerRecord)
        for (k, b) in bytes.enumerated() { record[k >> 3] |= UInt64(b) << UInt64(56 - 8 * (k & 7)) }
        append(id: id, words: record)
        return true
    }

    /// Bits set in each record.
    func popcounts() -> [Int32] {
        let n = wordsPerRecord
        return (0..<count).map { i in
            var c = 0
            for k in i * n..<(i + 1) * n { c &+= words[k].nonzeroBitCount }
            return Int32(c)
        }
    }

    /// Dice coefficient of left record i and right record j when it reaches `threshold`, else nil; `bits`
    /// is the two records' bits set. Dice = 1 − |A xor B|/(|A| + |B|), so the differing bits are counted
    /// and the count stops once they exceed what the threshold allows: most candidates stop halfway.
    @inline(__always) static func dice(
        _ a: UnsafeBufferPointer<UInt64>, _ i: Int, _ b: UnsafeBufferPointer<UInt64>, _ j: Int, _ n: Int,
        atLeast threshold: Double, bits: Int
    ) -> Double? {
        guard bits > 0 else { return nil }
        let allowed = Int(((1 - threshold) * Double(bits)).rounded(.down))
        var differing = 0
        let (x, y) = (i * n, j * n)
        var k = 0
        while k < n {
            let end = min(k + 4, n)
            while k < end {
                differing &+= (a[x + k] ^ b[y + k]).nonzeroBitCount
                k += 1
            }
            if differing > allowed { return nil }
        }
        let dice = 1 - Double(differing) / Double(bits)
        return dice >= threshold ? dice : nil
    }

    /// Dice coefficient of left record i and right record j.
    @inline(__always) static func dice(
        _ a: UnsafeBufferPointer<UInt64>, _ i: Int, _ b: UnsafeBufferPointer<UInt64>, _ j: Int, _ n: Int
    )
        -> Double
    {
        var common = 0, total = 0
        let (x, y) = (i * n, j * n)
        for k in 0..<n {
            common &+= (a[x + k] & b[y + k]).nonzeroBitCount
            total &+= a[x + k].nonzeroBitCount &+ b[y + k].nonzeroBitCount
        }
        return total == 0 ? 0 : 2 * Double(common) / Double(total)
    }
}

/// Matching of two parties' encodings by the linkage unit, which has no secret: candidate pairs come
/// from locality-sensitive hashing on the encodings (bit sampling: records that agree on all of a
/// band's sampled bits share a bucket), never from all pairs; a candidate is a match when its Dice
/// coefficient reaches the threshold.
public enum EncodingMatcher {
    public struct Parameters: Sendable, Hashable {
        public var threshold: Double
        /// Bands of sampled bits; a pair is compared when it agrees on every bit of one band.
        public var bands: Int
        public var bitsPerBand: Int
        /// Seeds the choice of sampled bits (public: it is no secret which bits are sampled).
        public var seed: UInt64
        /// Each record in at most one match (best first), or every pair at the threshold.
        public var oneToOne: Bool
        /// A bucket comparing more pairs is skipped (counted in `skippedPairs`).
        public var maxBucketPairs: Int
        /// Persons: a pair of persons is kept only when its Dice is within this margin of each one's best
        /// partner. One person's records in the other register are one person there too; a weaker
        /// second partner is, at a million records, mostly someone else of the same name and birth date.
        public var personMargin: Double = 0.04
        /// Persons: how far below the threshold a pair of records still counts as a candidate partner.
        public var personCandidates: Double = 0
        /// Persons: the threshold rises by this much for every doubling of the candidate partners of the
        /// busier of the two persons. Common names and birth dates crowd together, and at a million
        /// records a side most of a crowded person's partners at the plain threshold are other people;
        /// a person alone in its neighbourhood needs less. The unit's stand-in for the frequency weights
        /// of clear-text linkage, which it cannot compute without the names.
        public var personDensitySlope: Double = 0

        public init(
            threshold: Double, bands: Int = 60, bitsPerBand: Int = 24, seed: UInt64 = 0x5EED, oneToOne: Bool = false,
            maxBucketPairs: Int = 1_000_000
        ) {
            self.threshold = threshold
            self.bands = bands
            self.bitsPerBand = bitsPerBand
            self.seed = seed
            self.oneToOne = oneToOne
            self.maxBucketPairs = maxBucketPairs
        }
    }

    /// Matching persons: candidates from 0.02 below the threshold, the threshold rising 0.01 for each
    /// doubling of a person's candidate partners (docs/linkage.md measures the choice).
    public static func personParameters(threshold: Double) -> Parameters {
        var p = Parameters(threshold: threshold, bands: 60, bitsPerBand: personBitsPerBand)
        p.personCandidates = 0.02
        p.personDensitySlope = 0.01
        return p
    }
    static let personBitsPerBand = 26

    /// Two record (or person) numbers as one dictionary key, and back.
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    static func pair(_ key: UInt64) -> (Int32, Int32) {
        (Int32(bitPattern: UInt32(key >> 32)), Int32(bitPattern: UInt32(key & 0xFFFF_FFFF)))
    }

    public struct Match: Sendable, Hashable {
        public var left: Int32
        public var right: Int32
        public var dice: Float
    }

    public struct Result: Sendable {
        public var matches: [Match]
        /// Pair comparisons made, counting a pair once per band it met in.
        public var compared: Int
        /// Pairs in buckets skipped as too large.
        public var skippedPairs: Int
    }

    public static func match(_ left: EncodingSet, _ right: EncodingSet, _ p: Parameters) throws -> Result {
        guard left.bits == right.bits else {
            throw PuenteLinkageError(
                "The two parties' encodings differ in length (\(left.bits) and \(right.bits) bits).")
        }
        guard (1...64).contains(p.bitsPerBand), p.bands > 0 else {
            throw PuenteLinkageError("Give 1 to 64 bits per band and at least one band.")
        }
        var rng = SplitMix64(seed: p.seed)
        let bands: [[Int]] = (0..<p.bands).map { _ in
            var positions = Set<Int>()
            while positions.count < min(p.bitsPerBand, left.bits) {
                positions.insert(Int(rng.next() % UInt64(left.bits)))
            }
            return positions.sorted()
        }
        // Each band's matches merged at once: most true pairs meet in many bands, and keeping every band's
        // copies until the end took gigabytes at a million records a side.
        let merged = Mutex<(pairs: [UInt64: Float], compared: Int, skipped: Int)>(([:], 0, 0))
        // Bands are independent: two at a time on two cores, each holding only its own keys.
        let counts = (left: left.popcounts(), right: right.popcounts())
        DispatchQueue.concurrentPerform(iterations: bands.count) { b in
            let found = band(bands[b], left, right, counts, p)
            merged.withLock { (m: inout (pairs: [UInt64: Float], compared: Int, skipped: Int)) in
                // A pair met in several bands is one match.
                for match in found.matches {
                    m.pairs[key(match.left, match.right)] = match.dice
                }
                m.compared += found.compared
                m.skipped += found.skipped
            }
        }
        let (pairs, compared, skipped) = merged.withLock { $0 }
        var unique = pairs.map { key, dice in
            let (l, r) = pair(key)
            return Match(left: l, right: r, dice: dice)
        }
        unique.sort { ($0.left, $0.right) < ($1.left, $1.right) }
        if p.oneToOne {
            unique.sort { ($0.dice, $1.left, $1.right) > ($1.dice, $0.left, $0.right) }
            var usedL = Set<Int32>(), usedR = Set<Int32>()
            unique = unique.filter { m in
                guard !usedL.contains(m.left), !usedR.contains(m.right) else { return false }
                usedL.insert(m.left)
                usedR.insert(m.right)
                return true
            }
            unique.sort { ($0.left, $0.right) < ($1.left, $1.right) }
        }
        return Result(matches: unique, compared: compared, skippedPairs: skipped)
    }

    /// Matching persons rather than records, when each party knows which of its records are one person
    /// (its own linkage, in clear, at home): two persons match when their best pair of records reaches
    /// the threshold (raised where persons crowd, `personDensitySlope`) and is within `personMargin` of
    /// each one's best partner, and then every record of one is linked with every record of the other. A person's
    /// records that would not pass on their own (an initial, a missing document) follow their person;
    /// `leftPersons[i]` is record i's person on the left, any numbering.
    public static func matchPersons(
        _ left: EncodingSet, _ right: EncodingSet, leftPersons: [Int32], rightPersons: [Int32], _ p: Parameters
    ) throws -> Result {
        guard leftPersons.count == left.count, rightPersons.count == right.count else {
            throw PuenteLinkageError("Give each record's person, for every record of both parties.")
        }
        var records = p
        records.oneToOne = false
        records.threshold = p.threshold - p.personCandidates
        let found = try match(left, right, records)
        var best: [UInt64: Float] = [:]
        for m in found.matches {
            let persons = key(leftPersons[Int(m.left)], rightPersons[Int(m.right)])
            best[persons] = max(best[persons] ?? 0, m.dice)
        }
        var bestL: [Int32: Float] = [:], bestR: [Int32: Float] = [:]
        var partnersL: [Int32: Int32] = [:], partnersR: [Int32: Int32] = [:]
        for (key, dice) in best {
            let (l, r) = pair(key)
            bestL[l] = max(bestL[l] ?? 0, dice)
            bestR[r] = max(bestR[r] ?? 0, dice)
            partnersL[l, default: 0] += 1
            partnersR[r, default: 0] += 1
        }
        let margin = Float(p.personMargin)
        func threshold(_ l: Int32, _ r: Int32) -> Float {
            let crowd = max(partnersL[l]!, partnersR[r]!)
            return Float(p.threshold + p.personDensitySlope * log2(Double(crowd)))
        }
        let membersL = Dictionary(grouping: left.ids.indices, by: { leftPersons[$0] })
        let membersR = Dictionary(grouping: right.ids.indices, by: { rightPersons[$0] })
        var matches: [Match] = []
        for (key, dice) in best {
            let (l, r) = pair(key)
            guard dice >= bestL[l]! - margin, dice >= bestR[r]! - margin, dice >= threshold(l, r) else { continue }
            for i in membersL[l] ?? [] {
                for j in membersR[r] ?? [] {
                    matches.append(Match(left: Int32(i), right: Int32(j), dice: dice))
                }
            }
        }
        matches.sort { ($0.left, $0.right) < ($1.left, $1.right) }
        return Result(matches: matches, compared: found.compared, skippedPairs: found.skippedPairs)
    }

    /// One band: both sides' keys sorted, equal keys joined, every pair of a bucket compared.
    static func band(
        _ positions: [Int], _ left: EncodingSet, _ right: EncodingSet, _ counts: (left: [Int32], right: [Int32]),
        _ p: Parameters
    ) -> (matches: [Match], compared: Int, skipped: Int) {
        let n = left.wordsPerRecord
        func keys(_ set: EncodingSet) -> [(key: UInt64, index: Int32)] {
            set.words.withUnsafeBufferPointer { w in
                var out: [(key: UInt64, index: Int32)] = []
                out.reserveCapacity(set.count)
                for i in 0..<set.count {
                    var key: UInt64 = 0
                    let base = i * n
                    for bit in positions { key = key << 1 | (w[base + bit >> 6] >> UInt64(63 - (bit & 63)) & 1) }
                    out.append((key, Int32(i)))
                }
                return out.sorted { $0.key < $1.key }
            }
        }
        let (l, r) = (keys(left), keys(right))
        var matches: [Match] = []
        var compared = 0, skipped = 0
        left.words.withUnsafeBufferPointer { a in
            right.words.withUnsafeBufferPointer { b in
                var i = 0, j = 0
                while i < l.count && j < r.count {
                    if l[i].key < r[j].key { i += 1; continue }
                    if l[i].key > r[j].key { j += 1; continue }
                    let key = l[i].key
                    var iEnd = i, jEnd = j
                    while iEnd < l.count && l[iEnd].key == key { iEnd += 1 }
                    while jEnd < r.count && r[jEnd].key == key { jEnd += 1 }
                    let pairs = (iEnd - i) * (jEnd - j)
                    if pairs > p.maxBucketPairs {
                        skipped += pairs
                    } else {
                        compared += pairs
                        for x in i..<iEnd {
                            for y in j..<jEnd {
                                let (i, j) = (Int(l[x].index), Int(r[y].index))
                                if let d = EncodingSet.dice(
                                    a, i, b, j, n, atLeast: p.threshold, bits: Int(counts.left[i] + counts.right[j]))
                                {
                                    matches.append(Match(left: l[x].index, right: r[y].index, dice: Float(d)))
                                }
                            }
                        }
                    }
                    (i, j) = (iEnd, jEnd)
                }
            }
        }
        return (matches, compared, skipped)
    }
}
