import Foundation
import PuenteCore
import PuenteSynthetic
import Testing

@testable import PuenteCLI
@testable import PuenteLinkage

@Suite("Record linkage: the hard corpus and blocking diagnostics")
struct LinkageCorpusTests {
    static func rows(_ url: URL) throws -> [[String: String]] { try Fixtures.truthRows(url) }

    @Test(
        "The corpus: every record in the truth once, one to ten records a person, the errors asked for, and the same seed the same files"
    )
    func corpus() throws {
        let dir = try Fixtures.tempDir()
        let summary = try LinkageCorpus(records: 6_000, seed: 3).write(to: dir)
        let records = try Self.rows(dir.appendingPathComponent("records.csv"))
        let truth = try Self.rows(dir.appendingPathComponent("truth.csv"))
        #expect(records.count == 6_000 && summary.records == 6_000)
        #expect(truth.map { $0["record_id"]! } == records.map { $0["record_id"]! })
        #expect(Set(records.map { $0["record_id"]! }).count == records.count)
        // The two sides of the linking files are the records, split.
        let left = try Self.rows(dir.appendingPathComponent("left.csv"))
        let right = try Self.rows(dir.appendingPathComponent("right.csv"))
        #expect(
            Set(left.map { $0["record_id"]! }).union(right.map { $0["record_id"]! })
                == Set(truth.map { $0["record_id"]! }))
        #expect(left.count + right.count == 6_000 && left.count > 2_500 && right.count > 2_500)

        let perPerson = Dictionary(grouping: truth, by: { $0["person_id"]! })
        #expect(perPerson.count == summary.persons)
        #expect(perPerson.values.allSatisfy { (1...10).contains($0.count) })
        #expect(perPerson.values.contains { $0.count >= 8 })
        // Families: persons sharing a family id, several of them.
        let families = Dictionary(grouping: truth.filter { !$0["family_id"]!.isEmpty }, by: { $0["family_id"]! })
        #expect(families.values.filter { Set($0.map { $0["person_id"]! }).count >= 3 }.count > 50)

        let kinds = Set(truth.flatMap { $0["errors"]!.split(separator: ";").map(String.init) })
        for kind in [
            "given_name_initial", "given_name_dropped", "surnames_one_field", "married_name", "names_in_wrong_field",
            "birth_year_mistyped", "birth_day_mistyped", "document_renewed", "document_ocr", "moved",
            "municipality_2024", "accents_dropped", "surnames_swapped",
        ] {
            #expect(kinds.contains(kind), "no record with \(kind)")
        }
        // The truth is exact: a person's national documents with no error named are one number.
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0["record_id"]!, $0) })
        for rows in perPerson.values {
            let numbers = Set(
                rows.filter { !$0["errors"]!.contains("document") }.map { byID[$0["record_id"]!]! }
                    .filter { ["DUI", "DPI", "DNI"].contains($0["document_type"]!) }.map { $0["document_number"]! })
            #expect(numbers.count <= 1)
        }
        // And a record said to carry a 2024 municipality carries one.
        for row in truth where row["errors"]!.contains("municipality_2024") {
            #expect(byID[row["record_id"]!]!["municipality"]!.hasPrefix("SV-M"))
        }

        let again = try Fixtures.tempDir()
        _ = try LinkageCorpus(records: 6_000, seed: 3).write(to: again)
        let other = try Fixtures.tempDir()
        _ = try LinkageCorpus(records: 6_000, seed: 4).write(to: other)
        let bytes = { (d: URL) in try Data(contentsOf: d.appendingPathComponent("records.csv")) }
        #expect(try bytes(again) == bytes(dir))
        #expect(try bytes(other) != bytes(dir))
        #expect(throws: PuenteError.self) { try LinkageCorpus(records: 0) }
    }

    /// Nine records of four persons, counted by hand: pass 1 blocks on the birth date, pass 2 on the
    /// surname's sound; Pedro's two records share neither.
    static let handCounted = """
        id,given,surname,born,person
        1,Ana,Pérez,1990-01-01,A
        2,Ana,Perez,1990-01-01,A
        3,Ana,Pérez,1991-05-05,A
        4,Luis,Gómez,1990-01-01,B
        5,Luis,Gomez,1980-02-02,B
        6,Marta,Ruiz,1970-03-03,C
        7,Marta,Ruis,1970-03-04,C
        8,Pedro,Sol,1960-06-06,D
        9,Pedro,Luna,1960-06-07,D

        """

    @Test(
        "Blocking diagnostics: pairs, new pairs, blocks and recall per pass as counted by hand; a suggested pass reaches the missed pair"
    )
    func blockingByHand() throws {
        let dir = try Fixtures.tempDir()
        let file = dir.appendingPathComponent("records.csv")
        try Self.handCounted.write(to: file, atomically: true, encoding: .utf8)
        let truthFile = dir.appendingPathComponent("truth.csv")
        try Self.handCounted.replacingOccurrences(of: "id,given,surname,born,person", with: "record_id,g,s,b,person_id")
            .write(to: truthFile, atomically: true, encoding: .utf8)
        let config = try LinkageConfig.load(
            yaml: """
                id_column: id
                fields:
                  - {name: given, type: given_names, column: given}
                  - {name: surname, type: surnames, column: surname}
                  - {name: born, type: date, column: born}
                blocking: [[born], [surname.phonetic]]
                """)
        var table = RecordTable(fields: config.fields)
        try table.load(file, config: config)
        let persons = try Link.Blocking.readTruth(truthFile.path)
        let report = Linker(config: config).diagnoseBlocking(table, truth: table.ids.map { persons[$0] })

        #expect(report.truePairs == 6)  // A: 3, B: 1, C: 1, D: 1
        #expect(report.passes.count == 2)
        let born = report.passes[0], sound = report.passes[1]
        #expect(born.candidatePairs == 3 && born.newPairs == 3 && born.blocks == 1 && born.largestBlock == 3)
        #expect(born.newTruePairs == 1)  // 1–2; 1–4 and 2–4 are Ana and Luis
        #expect(sound.candidatePairs == 5 && sound.newPairs == 4 && sound.blocks == 3 && sound.largestBlock == 3)
        #expect(sound.newTruePairs == 4)  // 1–3, 2–3, 4–5, 6–7
        #expect(abs((born.recall ?? 0) - 1.0 / 6) < 1e-9 && abs((sound.recall ?? 0) - 5.0 / 6) < 1e-9)
        #expect(report.unionPairs == 7)
        // A pass on the given name reaches Pedro's pair: recall 1.
        #expect(report.suggestions.contains { $0.rule.contains { $0.hasPrefix("given") } && $0.recall == 1 })
        #expect(report.suggestions.allSatisfy { ($0.newTruePairs ?? 0) > 0 && $0.rule != ["born"] })

        // The command's text says the same, and a truth file without its columns is refused by name.
        let bad = dir.appendingPathComponent("bad.csv")
        try "id,person\n1,A\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect {
            _ = try Link.Blocking.readTruth(bad.path)
        } throws: { ($0 as? PuenteError)?.description.contains("record_id and person_id") == true }
        let text = Link.Blocking.text(report, pairMode: false)
        #expect(text.contains("pass 2 [surname.phonetic]: 5 pairs, 4 new"))
        #expect(text.contains("recall so far 83.33 %"))
    }

    @Test(
        "Pair mode links through persons: every left–right pair of a person, each with its own weight, more of the truth than pairs alone at the same precision; one-to-one uses each record once"
    )
    func pairThroughPersons() throws {
        let dir = try Fixtures.tempDir()
        _ = try LinkageCorpus(records: 8_000, seed: 7).write(to: dir)
        let config = try LinkageConfigs.load("linkage-corpus")
        var table = RecordTable(fields: config.fields, placeholders: config.placeholderValues)
        try table.load(dir.appendingPathComponent("left.csv"), config: config, side: .left)
        table.markLeftSide()
        try table.load(dir.appendingPathComponent("right.csv"), config: config, side: .right)
        let truth = Dictionary(
            uniqueKeysWithValues: try Self.rows(dir.appendingPathComponent("truth.csv")).map {
                ($0["record_id"]!, $0["person_id"]!)
            })
        let linker = Linker(config: config)
        let (result, links) = linker.link(table)
        #expect(links.allSatisfy { Int($0.i) < table.leftCount && Int($0.j) >= table.leftCount })
        #expect(Set(links.map { [$0.i, $0.j] }).count == links.count)

        // Persons, not loose pairs: the links of a connected group are all its left × right pairs.
        var parent = Array(0..<Int32(table.count))
        func find(_ x: Int32) -> Int32 { parent[Int(x)] == x ? x : find(parent[Int(x)]) }
        for l in links { parent[Int(find(l.i))] = find(l.j) }
        var sides: [Int32: (l: Set<Int32>, r: Set<Int32>, links: Int)] = [:]
        for l in links {
            sides[find(l.i), default: ([], [], 0)].l.insert(l.i)
            sides[find(l.i), default: ([], [], 0)].r.insert(l.j)
            sides[find(l.i), default: ([], [], 0)].links += 1
        }
        #expect(sides.values.allSatisfy { $0.links == $0.l.count * $0.r.count })
        #expect(sides.values.contains { $0.l.count >= 2 && $0.r.count >= 2 })

        // Each link carries the pair's own weight: those below the threshold were joined through the
        // person's other records, and most of them are right.
        let threshold = Float(LinkageModel.weight(probability: config.linkThreshold))
        let through = links.filter { $0.weight < threshold }
        #expect(through.count > 20)
        let rightThrough = through.filter { truth[table.ids[Int($0.i)]] == truth[table.ids[Int($0.j)]] }
        #expect(Double(rightThrough.count) / Double(through.count) > 0.8)
        let sample = try #require(through.first)
        let own = Linker.explain(table, model: result.model, Int(sample.i), Int(sample.j))
            .reduce(result.model.priorWeight) { $0 + $1.weight + $1.termFrequencyAdjustment }
        #expect(abs(own - Double(sample.weight)) < 1e-3)

        // Against pairs alone (the same model's pairs at the threshold), scored on the truth.
        let alone = linker.scorePairs(table).pairs.filter { $0.weight >= threshold }
        let persons = LinkBench.crossPairScore(table, links: links, truth: truth)
        let pairs = LinkBench.crossPairScore(table, links: alone, truth: truth)
        print("pair mode on the corpus, 8,000 records: through persons \(persons); pairs alone \(pairs)")
        #expect(persons.recall > pairs.recall + 0.005)
        #expect(persons.precision > pairs.precision - 0.003)
        #expect(persons.f1 > pairs.f1)

        var oneToOne = config
        oneToOne.oneToOne = true
        let single = Linker(config: oneToOne).link(table).links
        #expect(Set(single.map(\.i)).count == single.count && Set(single.map(\.j)).count == single.count)
        #expect(single.allSatisfy { $0.weight >= threshold } && single.count > 1_000)
    }

    @Test("Blocking diagnostics on the corpus: each pass's new pairs add up to the distinct pairs the linker compares")
    func blockingOnCorpus() throws {
        let dir = try Fixtures.tempDir()
        _ = try LinkageCorpus(records: 4_000, seed: 5).write(to: dir)
        let config = try LinkageConfigs.load("linkage-corpus-8")
        var table = RecordTable(fields: config.fields, placeholders: config.placeholderValues)
        try table.load(dir.appendingPathComponent("records.csv"), config: config)
        let linker = Linker(config: config)
        let report = linker.diagnoseBlocking(table)
        #expect(report.passes.count == 8)
        #expect(report.unionPairs == linker.scorePairs(table).candidatePairs)
        #expect(report.passes.allSatisfy { $0.newPairs <= $0.candidatePairs && $0.recall == nil })
        #expect(report.passes[0].newPairs == report.passes[0].candidatePairs)
    }
}
