import Foundation
import PuenteCore
import PuenteIngest
import PuenteReference
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

@Suite("Generated data, ingest and statistics against the ground truth")
struct GeneratedDataTests {
    @Test("The same seed gives byte-identical files; another seed does not")
    func deterministic() throws {
        let (a, _) = try Fixtures.generated(seed: 11, scale: 0.01)
        let (b, _) = try Fixtures.generated(seed: 11, scale: 0.01)
        let (c, _) = try Fixtures.generated(seed: 12, scale: 0.01)
        for name in ["sv-dgme-retornos.csv", "sv-dgme-movimientos.csv", "truth/persons.csv"] {
            let da = try Data(contentsOf: a.appendingPathComponent(name))
            #expect(da == (try Data(contentsOf: b.appendingPathComponent(name))))
            #expect(da != (try Data(contentsOf: c.appendingPathComponent(name))))
        }
    }

    @Test("Returns follow the published magnitudes and the planted error rates", arguments: ["SV", "GT", "HN"])
    func magnitudes(country: String) throws {
        let scale = 0.1
        let (dir, summary) = try Fixtures.generated(country: country, seed: 3, scale: scale)
        let published = ["SV": 52_487, "GT": 95_000, "HN": 69_400][country]!
        let returns = summary.files[0]
        #expect(returns.rows == Int((Double(published) * scale).rounded()))
        let truth = try Fixtures.truthRows(dir.appendingPathComponent("truth/\(returns.profile).truth.csv"))
        #expect(truth.count == returns.rows)
        let n = Double(truth.count)
        let children = Double(truth.filter { Int($0["age"]!)! < 18 }.count) / n
        #expect(abs(children - 0.16) < 0.02, "children share \(children)")
        let adults = truth.filter { Int($0["age"]!)! >= 18 }
        let men = Double(adults.filter { $0["sex"] == "M" }.count) / Double(adults.count)
        #expect(men > 0.8 && men < 0.92, "share of men among adults \(men)")
        let young = Double(adults.filter { (18...40).contains(Int($0["age"]!)!) }.count) / Double(adults.count)
        #expect(young > 0.65, "share aged 18–40 \(young)")
        let typos = Double(truth.filter { $0["errors"]!.contains("typo") }.count) / n
        #expect(abs(typos - RegisterErrorsRates.typo) < 0.01)
        let accents = Double(truth.filter { $0["errors"]!.contains("accents_dropped") }.count) / n
        #expect(abs(accents - 0.15) < 0.02)
        // Placeholders, heaped birth dates and married names are there for the tests downstream to meet.
        for kind in ["birth_date_placeholder", "birth_date_heaped", "document_placeholder", "married_name"] {
            #expect(truth.contains { $0["errors"]!.contains(kind) }, "\(kind)")
        }
        let married = truth.filter { $0["errors"]!.contains("married_name") }
        #expect(married.allSatisfy { $0["sex"] == "F" && Int($0["age"]!)! >= 20 })
        let malformed = truth.filter { !$0["malformed"]!.isEmpty }.count
        #expect(malformed == returns.malformedRows)
        #expect(malformed > 0)
        // Months follow the seasonality: none empty, none more than twice another.
        let byMonth = Dictionary(grouping: truth, by: { $0["event_date"]!.dropFirst(5).prefix(2) }).mapValues(\.count)
        #expect(byMonth.count == 12)
        #expect(byMonth.values.max()! < 2 * byMonth.values.min()!)
    }

    @Test(
        "Ingest accepts every well-formed generated row and rejects exactly the planted ones",
        arguments: ["SV", "GT", "HN"])
    func ingestMatchesTruth(country: String) async throws {
        let (dir, summary) = try Fixtures.generated(country: country, seed: 5, scale: 0.02)
        let store = try await StoreKind.sqliteMemory.makeStore()
        let importer = Importer(store: store)
        for file in summary.files {
            let report = try await importer.importFile(
                dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
            #expect(report.read == file.rows)
            #expect(report.rejected == file.malformedRows, "\(file.file)")
            #expect(report.read == report.accepted + report.rejected + report.duplicates)
            let truth = try Fixtures.truthRows(dir.appendingPathComponent("truth/\(file.profile).truth.csv"))
            var expectedRules: [String: Int] = [:]
            for row in truth where !row["malformed"]!.isEmpty { expectedRules[row["malformed"]!, default: 0] += 1 }
            #expect(report.rejectionsByRule == expectedRules)
            // Importing the same file again changes nothing.
            let again = try await importer.importFile(
                dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
            #expect(again.alreadyImported)
        }
        let rejects = try await store.rejectedRows(importID: nil, limit: 10_000)
        #expect(rejects.count == summary.files.map(\.malformedRows).reduce(0, +))
        try await store.close()
    }

    @Test(
        "Rows keep their numbers and keys through batches harmonised in parallel shares", arguments: StoreKind.available
    )
    func rowsKeepTheirPlace(kind: StoreKind) async throws {
        let (dir, summary) = try Fixtures.generated(country: "GT", seed: 5, scale: 0.1)
        let file = try #require(summary.files.first { $0.profile == "gt-igm-retornos" })
        let store = try await kind.makeStore()
        var importer = Importer(store: store)
        importer.batchSize = 3_000  // several batches, each larger than one share
        let report = try await importer.importFile(
            dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
        let truth = try Fixtures.truthRows(dir.appendingPathComponent("truth/\(file.profile).truth.csv"))
        #expect(report.read == truth.count && truth.count > 3 * importer.batchSize)
        let wellFormed = Set(truth.filter { $0["malformed"]!.isEmpty }.map { Int($0["row"]!)! })
        let malformed = Set(truth.filter { !$0["malformed"]!.isEmpty }.map { Int($0["row"]!)! })

        let events = try await store.events(importID: try #require(report.importID), limit: 1_000_000)
        #expect(events.count == report.accepted && wellFormed.count == report.accepted + report.duplicates)
        for event in events {
            // The stored row number leads back to the row of the file the event came from.
            let row = truth[event.source.row - 1]
            #expect(event.source.recordKey == "\(file.profile):" + row["record_key"]!)
            #expect(wellFormed.contains(event.source.row))
        }
        let rejects = try await store.rejectedRows(importID: report.importID, limit: 1_000_000)
        #expect(Set(rejects.map(\.row)) == malformed && rejects.count == malformed.count)
        try await store.close()
    }

    @Test(
        "A record repeated within a file is stored once and counted as a duplicate; alternative names resolve",
        arguments: StoreKind.available)
    func duplicateWithinFile(kind: StoreKind) async throws {
        let dir = try Fixtures.tempDir()
        let url = dir.appendingPathComponent("hn-inm-retornos.csv")
        let header =
            "Correlativo,Fecha,Nombre,Apellidos,Sexo,Fecha Nacimiento,Edad,Departamento,Municipio,DNI,País de Retorno,Vía,Condición NNA,Centro,Dias fuera\n"
        let row1 =
            "100001,05/03/2016,Ana,López Cruz,2,01/02/1990,26,Francisco Morazán,Tegucigalpa,,México,Terrestre,Acompañado,CAMR Omoa,30\n"
        let row2 =
            "100002,06/03/2016,José,Paz Díaz,1,01/02/1985,31,Cortés,San Pedro Sula,,Estados Unidos,Aérea,Acompañado,CAMR San Pedro Sula,\n"
        try (header + row1 + row2 + row1).write(to: url, atomically: true, encoding: .utf8)
        let store = try await kind.makeStore()
        let report = try await Importer(store: store).importFile(
            url, profile: try ProfileCatalogue.load("hn-inm-retornos"))
        #expect(report.read == 3 && report.accepted == 2 && report.duplicates == 1 && report.rejected == 0)
        let byDept = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .returns, by: [.department]), policy: .unprotected)
        #expect(Set(byDept.cells.map(\.key)) == [["HN-FM"], ["HN-CR"]])
        try await store.close()
    }

    @Test("Returns by sex and department equal a plain count over the ground truth", arguments: StoreKind.available)
    func statisticsMatchTruth(kind: StoreKind) async throws {
        let (dir, summary) = try Fixtures.generated(country: "SV", seed: 9, scale: 0.03)
        let store = try await kind.makeStore()
        let file = summary.files[0]
        _ = try await Importer(store: store).importFile(
            dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
        let truth = try Fixtures.truthRows(dir.appendingPathComponent("truth/\(file.profile).truth.csv")).filter {
            $0["malformed"]!.isEmpty
        }

        // Independent computation: department = first two digits of the true district, through the
        // shipped department list; municipality missing in the register means unknown.
        let deptISO = try departmentISO()
        var expected: [[String]: Int] = [:]
        for row in truth {
            let dept =
                row["errors"]!.contains("municipality_missing") || row["division"]!.isEmpty
                ? "_U" : deptISO[String(row["division"]!.dropFirst(3).prefix(2))]!
            expected[[dept, row["sex"]!], default: 0] += 1
        }
        let table = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .returns, by: [.department, .sex]), policy: .unprotected)
        #expect(Dictionary(uniqueKeysWithValues: table.cells.map { ($0.key, Int($0.value!)) }) == expected)
        #expect(table.total.value == Double(truth.count))

        // Re-aggregation to El Salvador's 44 municipalities of 2024, through the law's district list.
        let mapping = try districtTo2024()
        var expected2024: [String: Int] = [:]
        for row in truth {
            let unit =
                row["errors"]!.contains("municipality_missing") || row["division"]!.isEmpty
                ? "_U" : "SV-M" + mapping[String(row["division"]!.dropFirst(3))]!
            expected2024[unit, default: 0] += 1
        }
        let by2024 = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .returns, by: [.municipality2024]), policy: .unprotected)
        #expect(Dictionary(uniqueKeysWithValues: by2024.cells.map { ($0.key[0], Int($0.value!)) }) == expected2024)
        #expect(by2024.cells.count <= 45)

        // Children and adults: age derived from the recorded birth date. Rows whose day and month were
        // swapped, or heaped on 1 January, may move across the 18th birthday, so those alone may differ.
        let swapped = truth.filter {
            $0["errors"]!.contains("day_month_swap") || $0["errors"]!.contains("birth_date_heaped")
        }.count
        let trueChildren = truth.filter { Int($0["age"]!)! < 18 }.count
        let byChild = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .returns, by: [.ageChild]), policy: .unprotected)
        let children = Int(byChild.cells.first { $0.key == ["Y0T17"] }?.value ?? 0)
        #expect(abs(children - trueChildren) <= swapped)

        // Filters narrow exactly: women in one department.
        let women = try await StatisticsEngine(store: store).run(
            try StatisticsQuery.parse(measure: "returns", by: nil, filter: "sex:F,department:SV-SS"),
            policy: .unprotected)
        #expect(women.total.value == Double(expected[["SV-SS", "F"]] ?? 0))
        try await store.close()
    }

    @Test("Small cells are suppressed and flagged; larger ones are not")
    func disclosure() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let id = try await store.startImport(
            ImportRequest(profile: "t", agency: "TEST", file: "t.csv", contentHash: "d"))
        let events =
            (0..<12).map { Fixtures.event(key: "m\($0)", sex: .male) }
            + (0..<3).map { Fixtures.event(key: "f\($0)", sex: .female) }
        _ = try await store.appendCounted(events, to: id)
        try await store.finishImport(id, counts: ImportCounts(read: 15, accepted: 15))
        let table = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .returns, by: [.sex]),
            policy: .fixedTable)
        let female = try #require(table.cells.first { $0.key == ["F"] })
        #expect(female.value == nil && female.obsStatus == "Q" && female.confStatus == "A")
        // The total is published, so the other cell would give the small one away: it is suppressed too.
        let male = try #require(table.cells.first { $0.key == ["M"] })
        #expect(male.value == nil && male.obsStatus == "Q" && male.confStatus == "D")
        #expect(table.total.value == 15)
        #expect(table.csv().contains("F,,Q,A"))
        try await store.close()
    }

    @Test("Unknown measures, dimensions and codes are refused with what is allowed")
    func badQueries() throws {
        #expect(throws: PuenteError.self) { try StatisticsQuery.parse(measure: "persons", by: nil, filter: nil) }
        // #require(throws:) fails the test when parsing stops throwing, not only when it throws the wrong error.
        let dimension = try #require(throws: PuenteError.self) {
            try StatisticsQuery.parse(measure: "returns", by: "colour", filter: nil)
        }
        #expect(dimension.code == .unknownDimension && dimension.message.contains("age_group"))
        let code = try #require(throws: PuenteError.self) {
            try StatisticsQuery.parse(measure: "returns", by: nil, filter: "sex:X")
        }
        #expect(code.code == .unknownCode && code.message.contains("F, M"))
    }

    private func departmentISO() throws -> [String: String] {
        let rows = ResourceCSVForTests.rows(named: "slv_departamentos.csv")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["dept_code"]!, $0["iso_3166_2"]!) })
    }

    private func districtTo2024() throws -> [String: String] {
        let rows = ResourceCSVForTests.rows(named: "slv_distritos_2024.csv")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["distrito_code"]!, $0["mun2024_code"]!) })
    }
}

/// The rates `RegisterErrors.standard` plants, restated here so a change there is a visible decision.
enum RegisterErrorsRates {
    static let typo = 0.02
}

/// Reads a shipped division file straight from the source tree (not through the code under test).
enum ResourceCSVForTests {
    /// Rows of a shipped CSV file, split naively: only columns before any quoted field are reliable.
    static func rows(named name: String, folder: String = "divisions") -> [[String: String]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Sources/PuenteReference/Data/\(folder)/\(name)")
        let text = try! String(contentsOf: url, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        return lines.map {
            Dictionary(
                uniqueKeysWithValues: zip(
                    header, $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }
}
