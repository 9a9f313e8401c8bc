import ArgumentParser
import Foundation
import PuenteCore
import Testing

@testable import PuenteCLI
@testable import PuenteLinkage

@Suite("Record linkage")
struct LinkageTests {
    // MARK: Scoring code, checked by hand first

    @Test("One verdict type reads reviewers' words alike everywhere; anything else is refused")
    func reviewVerdicts() {
        for word in ["match", "MATCH", "yes", "Sí", "si", "1", "true", "m"] {
            #expect(ReviewVerdict(reviewerText: word) == .match)
        }
        for word in ["non-match", "Non match", "nonmatch", "no", "NO", "0", "false", "n"] {
            #expect(ReviewVerdict(reviewerText: word) == .nonMatch)
        }
        for word in ["", "maybe", "matched", "nomatch?"] { #expect(ReviewVerdict(reviewerText: word) == nil) }
        #expect(ReviewVerdict(rawValue: "yes") == nil)  // the API and the store take the raw values only
    }

    @Test("Pairwise and cluster scores on a hand-counted case")
    func scoringByHand() {
        // Given five records of two true persons {0,1,2} and {3,4}, predicted as {0,1} {2,3} {4}
        let truth = ["p", "p", "p", "q", "q"], predicted = [1, 1, 2, 2, 3]
        // When scored pairwise: predicted pairs (0,1) (2,3); true pairs (0,1) (0,2) (1,2) (3,4)
        let s = LinkageScore.pairwise(predicted: predicted, truth: truth)
        // Then one pair is right, one wrong, three missed
        #expect(s.truePositives == 1 && s.falsePositives == 1 && s.falseNegatives == 3)
        #expect(abs(s.precision - 0.5) < 1e-12 && abs(s.recall - 0.25) < 1e-12 && abs(s.f1 - 1.0 / 3) < 1e-12)
        // and no predicted cluster equals a true one
        let c = LinkageScore.clusters(predicted: predicted, truth: truth)
        #expect(c.truePositives == 0 && c.falsePositives == 3 && c.falseNegatives == 2)
        #expect(LinkageScore.clusters(predicted: [7, 7, 7, 9, 9], truth: truth).f1 == 1)
        let links = LinkageScore.links(predicted: [("a", 1), ("b", 2)], truth: [("a", 1), ("c", 3)])
        #expect(links.truePositives == 1 && links.falsePositives == 1 && links.falseNegatives == 1)
    }

    // MARK: Comparisons

    @Test("Jaro–Winkler and Levenshtein agree with textbook values")
    func similarity() {
        func jw(_ a: String, _ b: String) -> Double { StringSimilarity.jaroWinkler(Array(a.utf8), Array(b.utf8)) }
        #expect(abs(jw("martha", "marhta") - 0.9611) < 1e-3)
        #expect(abs(jw("dwayne", "duane") - 0.84) < 1e-3)
        #expect(abs(jw("dixon", "dicksonx") - 0.8133) < 1e-3)
        #expect(jw("", "") == 1 && jw("abc", "") == 0 && jw("same", "same") == 1)
        #expect(StringSimilarity.levenshtein(Array("kitten".utf8), Array("sitting".utf8)) == 3)
        #expect(StringSimilarity.levenshtein(Array("kitten".utf8), Array("sitting".utf8), limit: 1) == 2)
        func one(_ a: String, _ b: String) -> Bool {
            Array(a.utf8).withUnsafeBufferPointer { x in
                Array(b.utf8).withUnsafeBufferPointer { y in StringSimilarity.withinOneEdit(x, y) }
            }
        }
        #expect(
            one("01234567", "01234567") && one("01234567", "01243567") && one("01234567", "0123456")
                && one("0123", "01293"))
        #expect(!one("01234567", "10234576") && !one("0123", "0145"))
    }

    @Test("Dates of birth: exact, day/month swapped, one digit or transposed digits, different")
    func birthDates() {
        #expect(BirthDateAgreement.compare(19850304, 19850304) == .exact)
        #expect(BirthDateAgreement.compare(19850304, 19850403) == .dayMonthSwapped)
        #expect(BirthDateAgreement.compare(19850304, 19860304) == .oneDigit)
        #expect(BirthDateAgreement.compare(19850304, 19580304) == .oneDigit)
        #expect(BirthDateAgreement.compare(19850304, 19900304) == .different)
        // The year alone: a day mistyped in both digits, a date heaped on 1 January; another year is different.
        #expect(BirthDateAgreement.compare(19850314, 19850327) == .sameYear)
        #expect(BirthDateAgreement.compare(19850714, 19850101) == .sameYear)
        #expect(BirthDateAgreement.compare(19850714, 19860101) == .different)
        #expect(DateFormat("dd/MM/yyyy").parse("04/03/1985") == 19850304)
        #expect(DateFormat("d/M/yyyy").parse("4/3/1985") == 19850304)
        #expect(DateFormat("yyyyMMdd").parse("19850304") == 19850304)
        #expect(DateFormat("yyyy-MM-dd").parse("1985-13-04") == nil)
    }

    @Test("Spanish names: accents, case, particles, hyphens and a phonetic key")
    func spanishNames() {
        func w(_ s: String) -> [String] { SpanishNames.words(s).map { String(decoding: $0, as: UTF8.self) } }
        #expect(w("María de los Ángeles") == ["maria", "angeles"])
        #expect(w("PÉREZ-de la O") == ["perez", "o"])
        #expect(w("Ortiz y Peña") == ["ortiz", "pena"])
        let (a, b) = SpanishNames.surnames(["De León-Núñez"])
        #expect(String(decoding: a, as: UTF8.self) == "leon" && String(decoding: b, as: UTF8.self) == "nunez")
        func key(_ s: String) -> String {
            String(decoding: SpanishPhonetic.key(SpanishNames.words(s)[0]), as: UTF8.self)
        }
        #expect(key("Hernández") == key("Ernandes"))
        #expect(key("Yovany") == key("Llobani"))
        #expect(key("Quiroz") == key("Kiros"))
        #expect(key("Gerardo") == key("Jerardo"))
        #expect(key("Martínez") != key("Ramírez"))
    }

    @Test("Pair levels: compound given names, swapped and missing surnames, document types")
    func levels() throws {
        let config = try LinkageConfig.load(
            yaml: """
                id_column: id
                fields:
                  - {name: given, type: given_names, column: g}
                  - {name: surnames, type: surnames, columns: [s1, s2]}
                  - {name: doc, type: document, column: d, type_column: t}
                blocking: [[given]]
                """)
        var table = RecordTable(fields: config.fields)
        let rows: [[String]] = [
            ["José Luis", "Pérez", "López", "01234567-8", "DUI"],
            ["JOSE", "LOPEZ", "PEREZ", "012345678", "DUI"],
            ["José Luís", "Pérez", "", "01234576-8", "DUI"],
            ["Jose Luis", "Perez", "Lopez", "A1234567", "PASAPORTE"],
        ]
        for (k, r) in rows.enumerated() {
            table.append(id: "\(k)") { f in [[r[0]], [r[1], r[2]], [r[3], r[4]]][f] }
        }
        let levels = table.arena.withUnsafeBufferPointer { arena in
            let c = Comparer(table: table, arena: arena)
            return [(0, 1), (0, 2), (0, 3)].map { (i, j) in (0..<3).map { c.level($0, i, j) } }
        }
        #expect(levels[0] == [4, 4, 3])  // compound ⊃ simple, surnames swapped, same number once normalised
        #expect(levels[1] == [5, 3, 2])  // accent only, one surname missing, transposed digits
        #expect(levels[2] == [5, 5, 0])  // a passport number is not compared with an ID card's
    }

    @Test("An initial stands for the name it begins; names typed in each other's field are compared crosswise")
    func initialsAndCrossedNames() throws {
        let config = try LinkageConfig.load(
            yaml: """
                id_column: id
                fields:
                  - {name: given, type: given_names, column: g}
                  - {name: surnames, type: surnames, columns: [s1, s2]}
                blocking: [[given]]
                """)
        var table = RecordTable(fields: config.fields)
        let rows: [[String]] = [
            ["José Antonio", "López", "García"],
            ["José A.", "López", "García"],
            ["LOPEZ GARCIA", "JOSE ANTONIO", ""],  // typed in each other's field
            ["José B.", "López", "García"],
            ["Ana", "Pérez", "Soto"],
            ["Pérez Soto", "Luisa", ""],  // a surname as given name, but not Ana's record crossed
        ]
        for (k, r) in rows.enumerated() { table.append(id: "\(k)") { f in [[r[0]], [r[1], r[2]]][f] } }
        let levels = table.arena.withUnsafeBufferPointer { arena in
            let c = Comparer(table: table, arena: arena)
            return [(0, 1), (0, 2), (1, 2), (0, 3), (4, 5)].map { Comparer.levels(c.pattern($0.0, $0.1), count: 2) }
        }
        #expect(levels[0] == [4, 5])  // an initial: compound
        #expect(levels[1] == [4, 3])  // crossed: a compound given name, close surnames
        #expect(levels[2] == [4, 3])
        #expect(levels[3][0] < 4)  // B does not begin Antonio
        #expect(levels[4] == [1, 1])
    }

    @Test("Placeholders for unknown values are missing, not values every record carrying them shares")
    func placeholders() throws {
        let config = try LinkageConfig.load(
            yaml: """
                id_column: id
                fields:
                  - {name: given, type: given_names, column: g}
                  - {name: birth, type: date, column: b, formats: [dd/MM/yyyy]}
                  - {name: doc, type: document, column: d}
                blocking: [[given]]
                placeholders: {document: [EN TRAMITE DE RENOVACION]}
                """)
        var table = RecordTable(fields: config.fields, placeholders: config.placeholderValues)
        let rows = [
            ["NN", "01/01/1900", "S/N"], ["N.N.", "00/00/0000", "000000"], ["Ana", "05/03/1990", "NO TIENE"],
            ["Ana", "05/03/1990", "en trámite de renovación"], ["Ana", "05/03/1990", "01234567-8"],
        ]
        for (k, r) in rows.enumerated() { table.append(id: "\(k)") { [[r[$0]]][0] } }
        for f in 0..<3 {
            for k in 0..<4 { #expect(table.columns[f].value[k] == 0 || (k >= 2 && f < 2), "field \(f), row \(k)") }
        }
        #expect(table.columns[2].value[4] != 0 && table.columns[1].value[2] != 0)  // real values stay
        #expect(throws: PuenteError.self) {
            try LinkageConfig.load(
                yaml:
                    "id_column: id\nfields: [{name: g, type: given_names, column: g}]\nblocking: [[g]]\nplaceholders: {passport: [X]}\n"
            )
        }
    }

    @Test(
        "A block too large for one rule leaves its pairs to the other rules, and the run says how many records it held")
    func oversizedBlocks() throws {
        let config = try LinkageConfig.load(
            yaml: """
                id_column: id
                fields:
                  - {name: sex, type: exact, column: s}
                  - {name: birth, type: date, column: b, formats: [yyyy-MM-dd]}
                blocking: [[sex], [birth]]
                """)
        var table = RecordTable(fields: config.fields)
        // Twelve women: too many for the first rule's block; six pairs share a birth date.
        for k in 0..<12 { table.append(id: "\(k)") { [["F"], ["1990-01-\(10 + k / 2)"]][$0] } }
        var linker = Linker(config: config)
        linker.maxBlockSize = 5
        let result = linker.dedupe(table)
        #expect(result.oversizedBlocks == 1 && result.oversizedRecords == 12)
        #expect(result.candidatePairs == 6)
    }

    // MARK: Privacy-preserving encodings

    @Test("CLKs reproduce clkhash bit for bit on its own test vectors")
    func clkhashVectors() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/linkage/clkhash-vectors.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let cases = root["cases"] as! [[String: Any]]
        #expect(cases.count == 3)
        for c in cases {
            let schema = try CLKSchema(clkhashV3: JSONSerialization.data(withJSONObject: c["schema"]!))
            let encoder = CLKEncoder(schema: schema, secret: Array((c["secret"] as! String).utf8))
            let records = c["records"] as! [[String]], expected = c["clks"] as! [String]
            for (record, clk) in zip(records, expected) {
                #expect(
                    Data(encoder.encode(record).bytes).base64EncodedString() == clk,
                    "case \(c["name"]!), record \(record[0])")
            }
        }
    }

    @Test("Dice on encodings alone: accents vanish, a typo costs little, another person scores low")
    func diceMatching() throws {
        let encoder = CLKEncoder(schema: .person, secret: Array("owner key".utf8))
        func clk(_ given: String, _ surnames: String, _ dob: String, _ sex: String) -> BloomFilter {
            let g = SpanishNames.words(given).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            let s = SpanishNames.words(surnames).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            return encoder.encode([g, s, dob, sex])
        }
        let a = clk("José Luis", "Hernández López", "19850304", "m")
        #expect(a.dice(clk("JOSE LUIS", "HERNANDEZ LOPEZ", "19850304", "m")) == 1)
        #expect(a.dice(clk("José Luis", "Hernándes López", "19850304", "m")) > 0.9)
        #expect(a.dice(clk("María", "Ramírez Ortiz", "19920712", "f")) < 0.5)
        let left = [a, clk("Ana", "Pérez", "20000101", "f")]
        let right = [clk("Ana", "Peres", "20000101", "f"), clk("Jose Luis", "Hernandez Lopez", "19850304", "m")]
        func set(_ filters: [BloomFilter]) -> EncodingSet {
            var set = EncodingSet(bits: 1024)
            for (i, f) in filters.enumerated() { set.append(id: "\(i)", words: f.words) }
            return set
        }
        let matches = try EncodingMatcher.match(set(left), set(right), .init(threshold: 0.8, oneToOne: true))
        #expect(matches.matches.map { [$0.left, $0.right] } == [[0, 1], [1, 0]])
    }

    // MARK: Accuracy on generated data

    static func truthPersons(_ dir: URL, _ profile: String) throws -> [String: String] {
        var map: [String: String] = [:]
        for row in try Fixtures.truthRows(dir.appendingPathComponent("truth/\(profile).truth.csv")) {
            map[row["record_key"]!] = row["person_id"]!
        }
        return map
    }

    @Test(
        "Deduplicating generated returns and movements: pairwise F1 ≥ 0.98 against the ground truth",
        arguments: ["sv-dgme-retornos", "sv-dgme-movimientos"])
    func generatedAccuracy(profile: String) throws {
        // Given a generated country-year with realistic register errors
        let (dir, _) = try Fixtures.generated(country: "SV", seed: 11, scale: 0.05)
        let config = try LinkageConfigs.load(profile)
        var table = RecordTable(fields: config.fields)
        try table.load(dir.appendingPathComponent("\(profile).csv"), config: config)
        // When deduplicated with the shipped config
        let result = Linker(config: config).dedupe(table)
        // Then the clusters match the true persons
        let truth = try Self.truthPersons(dir, profile)
        let persons = table.ids.map { truth[$0] ?? "unknown-\($0)" }
        let score = LinkageScore.pairwise(predicted: result.clusterOf, truth: persons)
        print(
            "\(profile): \(table.count) records, pairwise \(score); clusters \(LinkageScore.clusters(predicted: result.clusterOf, truth: persons))"
        )
        #expect(score.truePositives > 100)
        #expect(score.f1 >= 0.98)
        // and every linked pair explains itself field by field
        if let top = result.pairs.first {
            let parts = Linker.explain(table, model: result.model, Int(top.i), Int(top.j))
            #expect(parts.count == config.fields.count)
            let total = parts.reduce(result.model.priorWeight) { $0 + $1.weight + $1.termFrequencyAdjustment }
            #expect(abs(total - Double(top.weight)) < 1e-3)
        }
    }

    @Test("Linking exits to entries of generated movements: F1 ≥ 0.98 on cross pairs")
    func generatedPairAccuracy() throws {
        let (dir, _) = try Fixtures.generated(country: "SV", seed: 12, scale: 0.03)
        let profile = "sv-dgme-movimientos"
        let (left, right) = try LinkBench.split(dir.appendingPathComponent("\(profile).csv"), into: dir, delimiter: ";")
        let config = try LinkageConfigs.load(profile)
        var table = RecordTable(fields: config.fields)
        try table.load(left, config: config, side: .left)
        table.markLeftSide()
        try table.load(right, config: config, side: .right)
        let (_, links) = Linker(config: config).link(table)
        let truth = try Self.truthPersons(dir, profile)
        let score = LinkBench.crossPairScore(table, links: links, truth: truth)
        print("pair \(profile): \(score)")
        #expect(score.truePositives > 100)
        #expect(score.f1 >= 0.98)
    }

    // MARK: Configs and command line

    @Test("Every shipped config loads, and problems name the key at fault")
    func configs() throws {
        #expect(
            Set(LinkageConfigs.names).isSuperset(of: [
                "febrl", "sv-dgme-retornos", "sv-dgme-movimientos", "gt-igm-retornos",
                "gt-igm-movimientos", "hn-inm-retornos", "hn-inm-movimientos",
            ]))
        for name in LinkageConfigs.names { _ = try LinkageConfigs.load(name) }
        #expect(throws: PuenteError.self) {
            try LinkageConfig.load(yaml: "id_column: id\nfields: [{name: a, type: text, column: a}]\nblocking: [[b]]")
        }
        #expect(throws: PuenteError.self) { try LinkageConfig.load(yaml: "fields: []") }
    }

    @Test("puente link dedupe and pair write their CSV files in-process")
    func commandLine() async throws {
        let dir = try Fixtures.tempDir()
        let input = dir.appendingPathComponent("people.csv")
        try """
        rec_id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth,soc_sec_id
        rec-1-org,maria,garcia,12,main street,,sydney,2000,nsw,19850304,1234567
        rec-1-dup-0,mria,garcia,12,main st,,sydney,2000,nsw,19850304,1234567
        rec-2-org,john,smith,5,high road,,perth,6000,wa,19700101,7654321
        rec-3-org,anne,brown,7,low lane,,hobart,7000,tas,19600606,5555555
        """.write(to: input, atomically: true, encoding: .utf8)
        let clusters = dir.appendingPathComponent("clusters.csv").path
        let dedupe = try Link.Dedupe.parse(["--input", input.path, "--config", "febrl", "--output", clusters])
        try await dedupe.run()
        let lines = try String(contentsOfFile: clusters, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "record_id,cluster_id" && lines.count == 5)
        #expect(lines.contains("rec-1-dup-0,rec-1-org"))
        // A reviewer's decisions overrule the model in the next run: keep 1 apart, join 2 and 3.
        let decisions = dir.appendingPathComponent("decisions.csv")
        try "id_l,id_r,decision\nrec-1-org,rec-1-dup-0,non-match\nrec-2-org,rec-3-org,match\n"
            .write(to: decisions, atomically: true, encoding: .utf8)
        let again = try Link.Dedupe.parse([
            "--input", input.path, "--config", "febrl", "--output", clusters,
            "--decisions", decisions.path,
        ])
        try await again.run()
        let decided = try String(contentsOfFile: clusters, encoding: .utf8).split(separator: "\n")
        #expect(decided.contains("rec-1-dup-0,rec-1-dup-0") && decided.contains("rec-3-org,rec-2-org"))
        let pairs = dir.appendingPathComponent("pairs.csv").path
        let pair = try Link.Pair.parse([
            "--left", input.path, "--right", input.path, "--config", "febrl", "--output", pairs, "--explain",
        ])
        try await pair.run()
        let header = try String(contentsOfFile: pairs, encoding: .utf8).split(separator: "\n").first ?? ""
        #expect(header.hasPrefix("id_l,id_r,match_probability,match_weight,given_names_level"))
        #expect(PuenteCommand.helpMessage(for: Link.self).contains("dedupe"))
    }
}
