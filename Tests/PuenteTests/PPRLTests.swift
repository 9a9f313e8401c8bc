import ArgumentParser
import Crypto
import Foundation
import PuenteAccess
import PuenteCore
import PuenteSynthetic
import Testing

@testable import PuenteCLI
@testable import PuenteLinkage

@Suite("Privacy-preserving linkage: the hardened encoding, matching without the secret, and an attacker")
struct PPRLTests {
    static let secret = Array("the parties' shared secret".utf8)

    static func encoder(_ scheme: PPRLScheme = .standard, context: String = "SV-GT-LINK-2026") throws -> PPRLEncoder {
        try PPRLEncoder(scheme: scheme, secret: secret, context: context)
    }

    static func normalised(_ given: String, _ surnames: String, _ dob: String, _ sex: String, _ doc: String = "")
        -> [String]
    {
        func words(_ s: String) -> String {
            SpanishNames.words(s).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
        }
        return [words(given), words(surnames), dob, sex, doc]
    }

    static func encode(_ e: PPRLEncoder, _ values: [String], _ id: String) -> EncodingSet {
        var set = EncodingSet(bits: e.scheme.encodedLength)
        var words: [UInt64] = []
        e.encode(values, record: id, into: &words, work: HMACSHA256.Work())
        set.append(id: id, words: words)
        return set
    }

    static func dice(_ a: EncodingSet, _ b: EncodingSet) -> Double {
        // Counted bit by bit from the bytes, apart from the matcher's word arithmetic.
        let (x, y) = (a.bytes(0), b.bytes(0))
        var common = 0, total = 0
        for k in x.indices {
            for bit in 0..<8 {
                let (p, q) = (x[k] >> bit & 1, y[k] >> bit & 1)
                common += Int(p & q)
                total += Int(p) + Int(q)
            }
        }
        return 2 * Double(common) / Double(total)
    }

    @Test("Encoded in batches on several threads: every record's encoding, in order, as one at a time gives it")
    func batches() throws {
        let e = try Self.encoder()
        let names = ["Ana", "José Luis", "María", "Pedro", "Rosa", "Juan Carlos", "Elena"]
        let records = (0..<50).map { k in
            (
                "R\(k)",
                Self.normalised(
                    names[k % names.count], "Pérez \(k % 3 == 0 ? "López" : "Cruz")", "1990010\(k % 9)", "f")
            )
        }
        var out: [(String, String)] = []
        var batches = EncodingBatches<String>(size: 7, threads: 3, encode: e.bytesOfRecord) { id, clk in
            out.append((id, clk))
        }
        for (id, values) in records { try batches.add(id, values: values, record: id) }
        #expect(out.count == 49)  // seven full batches handed back, one record pending
        try batches.flush()
        #expect(out.map(\.0) == records.map(\.0))
        for ((id, clk), (_, values)) in zip(out, records) {
            #expect(clk == Data(Self.encode(e, values, id).bytes(0)).base64EncodedString())
        }
        #expect(Set(out.map(\.1)).count == 50)
    }

    @Test("The scheme's parameters hash to the SHA-256 of their documented line; any change changes it")
    func parameterHash() throws {
        let s = PPRLScheme.standard
        #expect(
            s.parameterText
                == "puente-pprl/1;length=1024;salt=;balanced=1;flip_per_mille=10;given_names:bigrams:12:1;"
                + "surnames:bigrams:12:1;birth_date:positional:10:0;sex:exact:10:0;document:exact:30:0")
        let digest = SHA256.hash(data: Data(s.parameterText.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(s.parameterHash == digest)
        var changed = s
        changed.flipPerMille = 11
        #expect(changed.parameterHash != s.parameterHash)
        changed = s
        changed.features[1].bitsPerToken = 13
        #expect(changed.parameterHash != s.parameterHash)
        changed = s
        changed.salt = "sex"
        #expect(changed.parameterHash != s.parameterHash)
        // A scheme that cannot be encoded is refused by its field.
        changed = s
        changed.length = 1000
        #expect { try changed.check() } throws: { "\($0)".contains("length") }
        changed = s
        changed.salt = "municipality"
        #expect { try changed.check() } throws: { "\($0)".contains("salt") }
    }

    @Test("Hardened encodings: a person's variants stay close, another person does not, another agreement is unrelated")
    func hardenedEncodings() throws {
        var exact = PPRLScheme.standard
        exact.flipPerMille = 0
        let e = try Self.encoder(exact)
        let jose = Self.encode(e, Self.normalised("José Luis", "Hernández López", "19850304", "m", "A1234567"), "1")
        // Balanced: every encoding sets exactly `length` of its bits, whatever the name's length.
        for values in [
            Self.normalised("Ana", "Paz", "20000101", "f"),
            Self.normalised("María de los Ángeles", "Villanueva Castellanos", "19700707", "f", "0123456789"),
        ] {
            #expect(Self.encode(e, values, "x").words.reduce(0) { $0 + $1.nonzeroBitCount } == exact.length)
        }
        #expect(jose.words.reduce(0) { $0 + $1.nonzeroBitCount } == exact.length)
        let same = Self.encode(e, Self.normalised("JOSE LUIS", "HERNANDEZ LOPEZ", "19850304", "m", "A1234567"), "2")
        #expect(Self.dice(jose, same) == 1)
        // Names typed in each other's field share one token space.
        let swapped = Self.encode(e, Self.normalised("Hernández López", "José Luis", "19850304", "m", "A1234567"), "3")
        #expect(Self.dice(jose, swapped) == 1)
        let typo = Self.encode(e, Self.normalised("José Luis", "Hernándes López", "19850304", "m", "A1234567"), "4")
        #expect(Self.dice(jose, typo) > 0.95)
        let other = Self.encode(e, Self.normalised("María", "Ramírez Ortiz", "19920712", "f", "B7654321"), "5")
        #expect(Self.dice(jose, other) < 0.8)
        // Another agreement (same secret, same person): no closer than another person.
        let elsewhere = try Self.encoder(exact, context: "SV-HN-LINK-2026")
        let joseThere = Self.encode(
            elsewhere, Self.normalised("José Luis", "Hernández López", "19850304", "m", "A1234567"), "1")
        #expect(Self.dice(jose, joseThere) < 0.8)

        // BLIP: flips keyed by the record, so the same values under two ids differ a little.
        let blip = try Self.encoder()
        let a = Self.encode(blip, Self.normalised("José Luis", "Hernández López", "19850304", "m"), "r1")
        let b = Self.encode(blip, Self.normalised("José Luis", "Hernández López", "19850304", "m"), "r2")
        let again = Self.encode(blip, Self.normalised("José Luis", "Hernández López", "19850304", "m"), "r1")
        #expect(a.words == again.words)
        #expect(a.words != b.words && Self.dice(a, b) > 0.95)
    }

    /// Pairwise precision, recall and F1 of `found` (left id, right id) against the truth's persons.
    static func score(_ found: Set<[String]>, left: [String], right: [String], person: [String: String]) -> (
        precision: Double, recall: Double, f1: Double
    ) {
        let tp = found.filter { person[$0[0]] == person[$0[1]] }.count
        var l: [String: Int] = [:], r: [String: Int] = [:]
        for id in left { l[person[id]!, default: 0] += 1 }
        for id in right { r[person[id]!, default: 0] += 1 }
        let trueCount = l.reduce(0) { $0 + $1.value * (r[$1.key] ?? 0) }
        let p = Double(tp) / Double(max(found.count, 1)), rc = Double(tp) / Double(max(trueCount, 1))
        return (p, rc, 2 * p * rc / max(p + rc, 1e-9))
    }

    @Test(
        "Matching without the secret on the hard corpus: LSH finds the pairs all-pairs finds, F1 near clear-text linkage of the same fields"
    )
    func matchingOnCorpus() async throws {
        let dir = try Fixtures.tempDir()
        _ = try LinkageCorpus(records: 6_000, seed: 11).write(to: dir)
        let person = Dictionary(
            uniqueKeysWithValues: try Fixtures.truthRows(dir.appendingPathComponent("truth.csv")).map {
                ($0["record_id"]!, $0["person_id"]!)
            })
        let secretFile = dir.appendingPathComponent("secret.txt")
        try "the parties' shared secret".write(to: secretFile, atomically: true, encoding: .utf8)
        for side in ["left", "right"] {
            try await Link.Encode.parse([
                "--input", dir.appendingPathComponent("\(side).csv").path, "--config", "linkage-corpus",
                "--secret-file", secretFile.path, "--agreement", "SV-GT-LINK-2026", "--output",
                dir.appendingPathComponent("\(side).enc").path,
            ]).run()
        }
        let left = try EncodingFile.read(dir.appendingPathComponent("left.enc"))
        let right = try EncodingFile.read(dir.appendingPathComponent("right.enc"))
        #expect(left.bits == 2048 && left.count > 2_500 && right.count > 2_500)
        let threshold = PPRLScheme.standardThreshold
        let result = try EncodingMatcher.match(left, right, .init(threshold: threshold))
        // Every pair at the threshold, counted over all pairs apart from the matcher.
        var all = Set<[Int32]>()
        left.words.withUnsafeBufferPointer { a in
            right.words.withUnsafeBufferPointer { b in
                for i in 0..<left.count {
                    for j in 0..<right.count
                    where EncodingSet.dice(a, i, b, j, left.wordsPerRecord) >= threshold {
                        all.insert([Int32(i), Int32(j)])
                    }
                }
            }
        }
        let lsh = Set(result.matches.map { [$0.left, $0.right] })
        #expect(lsh.isSubset(of: all))
        #expect(Double(lsh.count) >= 0.99 * Double(all.count), "LSH found \(lsh.count) of \(all.count)")
        #expect(result.compared < left.count * right.count / 20)

        let pprl = Self.score(
            Set(result.matches.map { [left.ids[Int($0.left)], right.ids[Int($0.right)]] }), left: left.ids,
            right: right.ids, person: person)
        // Clear-text linkage of the same records on the same fields (no municipality: not encoded).
        let config = dir.appendingPathComponent("same-fields.yaml")
        try """
        id_column: record_id
        fields:
          - {name: given_names, type: given_names, column: given_names}
          - {name: surnames, type: surnames, columns: [first_surname, second_surname]}
          - {name: birth_date, type: date, column: birth_date}
          - {name: sex, type: exact, column: sex}
          - {name: document, type: document, column: document_number, type_column: document_type}
        blocking: [[birth_date, given_names.initial], [surnames.phonetic, given_names.phonetic], [document]]
        threshold: 0.9
        """.write(to: config, atomically: true, encoding: .utf8)
        let pairs = dir.appendingPathComponent("clear.csv")
        try await Link.Pair.parse([
            "--left", dir.appendingPathComponent("left.csv").path, "--right",
            dir.appendingPathComponent("right.csv").path, "--config", config.path, "--output", pairs.path,
        ]).run()
        let clearPairs = try Fixtures.truthRows(pairs).map { [$0["id_l"]!, $0["id_r"]!] }
        let clear = Self.score(Set(clearPairs), left: left.ids, right: right.ids, person: person)
        #expect(pprl.f1 > 0.93, "PPRL F1 \(pprl.f1)")
        #expect(pprl.f1 > clear.f1 - 0.02, "PPRL F1 \(pprl.f1), clear text \(clear.f1)")

        // Each party groups its own records into persons (clear-text deduplication at home); the unit
        // then matches persons. Clear-text linkage gets the same grouping: its pairs lifted to persons.
        var clusters: [[String: String]] = []
        for side in ["left", "right"] {
            let out = dir.appendingPathComponent("\(side)-clusters.csv")
            try await Link.Dedupe.parse([
                "--input", dir.appendingPathComponent("\(side).csv").path, "--config", config.path, "--output",
                out.path,
            ]).run()
            clusters.append(
                Dictionary(
                    uniqueKeysWithValues: try Fixtures.truthRows(out).map { ($0["record_id"]!, $0["cluster_id"]!) }))
        }
        let persons = try EncodingMatcher.matchPersons(
            left, right,
            leftPersons: try Link.Match.persons(dir.appendingPathComponent("left-clusters.csv").path, left.ids),
            rightPersons: try Link.Match.persons(dir.appendingPathComponent("right-clusters.csv").path, right.ids),
            EncodingMatcher.personParameters(threshold: PPRLScheme.standardPersonThreshold))
        let pprlPersons = Self.score(
            Set(persons.matches.map { [left.ids[Int($0.left)], right.ids[Int($0.right)]] }), left: left.ids,
            right: right.ids, person: person)
        let members = clusters.map { side in Dictionary(grouping: Array(side.keys), by: { side[$0]! }) }
        var lifted = Set<[String]>()
        for pair in Set(clearPairs.map { [clusters[0][$0[0]]!, clusters[1][$0[1]]!] }) {
            for a in members[0][pair[0]]! { for b in members[1][pair[1]]! { lifted.insert([a, b]) } }
        }
        let clearPersons = Self.score(lifted, left: left.ids, right: right.ids, person: person)
        #expect(pprlPersons.f1 > pprl.f1, "persons \(pprlPersons.f1), records \(pprl.f1)")
        #expect(
            pprlPersons.f1 > clearPersons.f1 - 0.01,
            "PPRL F1 \(pprlPersons.f1), clear text \(clearPersons.f1) (persons)")
    }

    @Test(
        "Persons in a crowd need more: one partner at 0.88 matches, eight partners at 0.89 do not; with a flat threshold they would"
    )
    func crowdingRaisesThePersonThreshold() throws {
        var rng = SplitMix64(seed: 7)
        // 2,048 bits, 1,024 set, as a balanced encoding; a variant moves `k` set bits elsewhere, so its
        // Dice with the original is (1024 − k) / 1024.
        func base() -> [Bool] { Array(repeating: true, count: 1024) + Array(repeating: false, count: 1024) }
        func shuffled(_ bits: [Bool]) -> [Bool] { bits.shuffled(using: &rng) }
        func variant(_ bits: [Bool], moving k: Int) -> [Bool] {
            let set = bits.indices.filter { bits[$0] }.shuffled(using: &rng).prefix(k)
            let clear = bits.indices.filter { !bits[$0] }.shuffled(using: &rng).prefix(k)
            var out = bits
            for i in set { out[i] = false }
            for i in clear { out[i] = true }
            return out
        }
        func words(_ bits: [Bool]) -> [UInt64] {
            var out = [UInt64](repeating: 0, count: 32)
            for (i, bit) in bits.enumerated() where bit { out[i / 64] |= UInt64(1) << UInt64(63 - i % 64) }
            return out
        }
        let alone = shuffled(base()), crowded = shuffled(base())
        var left = EncodingSet(bits: 2048), right = EncodingSet(bits: 2048)
        left.append(id: "alone", words: words(alone))
        left.append(id: "crowded", words: words(crowded))
        right.append(id: "alone'", words: words(variant(alone, moving: 123)))  // 0.880
        for i in 0..<8 { right.append(id: "crowd \(i)", words: words(variant(crowded, moving: 113))) }  // 0.890
        func matched(_ p: EncodingMatcher.Parameters) throws -> Set<String> {
            var p = p
            p.bands = 200  // every candidate found: this test is about the rule, not LSH
            let result = try EncodingMatcher.matchPersons(
                left, right, leftPersons: [0, 1], rightPersons: Array(0..<9), p)
            return Set(result.matches.map { "\(left.ids[Int($0.left)])|\(right.ids[Int($0.right)])" })
        }
        let unit = EncodingMatcher.personParameters(threshold: 0.87)
        // Eight partners: 0.87 + 0.01 × log2(8) = 0.90, above every one of them.
        #expect(try matched(unit) == ["alone|alone'"])
        var flat = unit
        flat.personDensitySlope = 0
        let kept = try matched(flat)
        #expect(kept.contains("alone|alone'") && kept.filter { $0.hasPrefix("crowded|") }.count == 8)
    }

    @Test(
        "An attacker with the encodings and the surnames' frequencies: field-level CLKs give names away, hardened ones do not"
    )
    func frequencyAttack() throws {
        let dir = try Fixtures.tempDir()
        _ = try LinkageCorpus(records: 8_000, seed: 12).write(to: dir)
        let rows = try Fixtures.truthRows(dir.appendingPathComponent("records.csv"))
        let surnames = rows.map { Self.normalised("", $0["first_surname"]!, "", "")[1] }
        // The attacker knows how often each surname occurs (the strongest public knowledge: the exact
        // frequencies of these very records).
        let byFrequency = Dictionary(grouping: surnames.indices, by: { surnames[$0] }).sorted {
            ($0.value.count, $1.key) > ($1.value.count, $0.key)
        }.map(\.key)

        // Frequency alignment: the k-th most frequent encoding is taken for the k-th most frequent
        // surname; the share of records whose surname that recovers.
        func attack(_ encodings: [[UInt64]]) -> Double {
            let ranked = Dictionary(grouping: encodings.indices, by: { encodings[$0] }).sorted {
                $0.value.count > $1.value.count
            }
            var recovered = 0
            for (rank, group) in ranked.prefix(byFrequency.count).enumerated() {
                recovered += group.value.filter { surnames[$0] == byFrequency[rank] }.count
            }
            return Double(recovered) / Double(rows.count)
        }

        // A field-level CLK of the surname alone (clkhash's double hashing, no hardening).
        let fieldLevel = CLKEncoder(
            schema: CLKSchema(features: [
                .init("surnames", comparison: .ngram(n: 2, positional: false), bitsPerToken: 20)
            ]),
            secret: Self.secret)
        let naive = attack(surnames.map { fieldLevel.encode([$0]).words })
        #expect(naive > 0.3, "the attack recovers \(naive) of field-level encodings")

        let hardened = try Self.encoder()
        let work = HMACSHA256.Work()
        var words: [UInt64] = []
        let encoded = rows.enumerated().map { k, row in
            hardened.encode(
                Self.normalised(
                    row["given_names"]!, row["first_surname"]! + " " + row["second_surname"]!,
                    row["birth_date"]!.replacingOccurrences(of: "-", with: ""), row["sex"]!.lowercased()),
                record: "r\(k)", into: &words, work: work)
            return words
        }
        let share = attack(encoded)
        #expect(share < 0.01, "the attack recovers \(share) of hardened encodings")
        // And the number of bits set says nothing of a name's length: it is the same for every record
        // up to BLIP's flips.
        let counts = encoded.map { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
        let lengths = rows.map { Double(($0["given_names"]! + $0["first_surname"]!).count) }
        #expect(abs(Self.correlation(counts.map(Double.init), lengths)) < 0.05)
        let plain = rows.map {
            Double(fieldLevel.encode([Self.normalised("", $0["first_surname"]!, "", "")[1]]).popcount)
        }
        #expect(Self.correlation(plain, rows.map { Double($0["first_surname"]!.count) }) > 0.5)
    }

    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let (mx, my) = (x.reduce(0, +) / n, y.reduce(0, +) / n)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for k in x.indices {
            sxy += (x[k] - mx) * (y[k] - my)
            sxx += (x[k] - mx) * (x[k] - mx)
            syy += (y[k] - my) * (y[k] - my)
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
    }
}
