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
        var out: [UInt8] = []
        out.reserveCapacity(bits / 8)
        for w in words[i * wordsPerRecord..<(i + 1) * wordsPerRecord] {
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

        public init(
            threshold: Double, bands: Int = 40, bitsPerBand: Int = 20, seed: UInt64 = 0x5EED, oneToOne: Bool = false,
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
        let results = Mutex<[(matches: [Match], compared: Int, skipped: Int)]>([])
        // Bands are independent: two at a time on two cores, each holding only its own keys.
        DispatchQueue.concurrentPerform(iterations: bands.count) { b in
            let found = band(bands[b], left, right, p)
            results.withLock { (all: inout [(matches: [Match], compared: Int, skipped: Int)]) in all.append(found) }
        }
        var all: [Match] = []
        var compared = 0, skipped = 0
        for r in results.withLock({ $0 }) {
            all += r.matches
            compared += r.compared
            skipped += r.skipped
        }
        // A pair met in several bands is one match.
        all.sort { ($0.left, $0.right) < ($1.left, $1.right) }
        var unique: [Match] = []
        unique.reserveCapacity(all.count)
        for m in all where unique.last.map({ ($0.left, $0.right) != (m.left, m.right) }) ?? true { unique.append(m) }
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

    /// One band: both sides' keys sorted, equal keys joined, every pair of a bucket compared.
    static func band(_ positions: [Int], _ left: EncodingSet, _ right: EncodingSet, _ p: Parameters)
        -> (matches: [Match], compared: Int, skipped: Int)
    {
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
                                let d = EncodingSet.dice(a, Int(l[x].index), b, Int(r[y].index), n)
                                if d >= p.threshold {
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
