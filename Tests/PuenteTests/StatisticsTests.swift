import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest
import PuenteReference
import PuenteSQLite
import PuenteServices
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite("Statistics: measures, freshness, disclosure control and SDMX")
struct StatisticsTests {
    private func request(_ hash: String) -> ImportRequest {
        ImportRequest(profile: "t", agency: "TEST", file: "t.csv", contentHash: hash)
    }

    /// Loads events as one committed batch.
    @discardableResult
    private func load(_ events: [MovementEvent], into store: any EventStore, hash: String = UUID().uuidString)
        async throws -> Int64
    {
        let id = try await store.startImport(request(hash))
        try await store.appendCounted(events, to: id)
        try await store.finishImport(id, counts: ImportCounts(read: events.count, accepted: events.count))
        return id
    }

    @Test("Every measure equals a plain loop over the stored events", arguments: StoreKind.available)
    func measuresMatchEvents(kind: StoreKind) async throws {
        let (dir, summary) = try Fixtures.generated(country: "SV", seed: 5, scale: 0.05)
        let store = try await kind.makeStore()
        var imports: [Int64] = []
        for file in summary.files {
            let report = try await Importer(store: store).importFile(
                dir.appendingPathComponent(file.file),
                profile: try ProfileCatalogue.load(file.profile))
            imports.append(try #require(report.importID))
        }
        var events: [MovementEvent] = []
        for id in imports { events += try await store.events(importID: id, limit: 1_000_000) }
        #expect(events.count > 1000)
        let engine = StatisticsEngine(store: store)
        func run(_ measure: String, _ by: String?, _ filter: String? = nil) async throws -> [[String]: Double] {
            let table = try await engine.run(
                try StatisticsQuery.parse(measure: measure, by: by, filter: filter), policy: .unprotected)
            var out = Dictionary(uniqueKeysWithValues: table.cells.compactMap { c in c.value.map { (c.key, $0) } })
            if let total = table.total.value { out[["_T"]] = total }
            return out
        }
        // Independent codes, written here rather than taken from the engine.
        func ageGroup(_ a: Int?) -> String {
            guard let a else { return "_U" }
            return a >= 85 ? "Y_GE85" : "Y\(a / 5 * 5)T\(a / 5 * 5 + 4)"
        }
        func month(_ e: MovementEvent) -> String { String(e.date.description.prefix(7)) }
        let deptISO = Dictionary(
            uniqueKeysWithValues: ResourceCSVForTests.rows(named: "slv_departamentos.csv").map {
                ($0["dept_code"]!, $0["iso_3166_2"]!)
            })
        func department(_ e: MovementEvent) -> String {
            guard let d = e.person.residenceDivision, d.hasPrefix("SV-"),
                let iso = deptISO[String(d.dropFirst(3).prefix(2))]
            else { return "_U" }
            return iso
        }
        func percent(_ n: Int, _ d: Int) -> Double { (Double(n) / Double(d) * 100 * 100).rounded() / 100 }
        let returns = events.filter { $0.type == .return }

        // Counts by sex and five-year age group, with the total.
        var expected: [[String]: Double] = [["_T"]: Double(returns.count)]
        for e in returns { expected[[e.person.sex.rawValue, ageGroup(e.person.age)], default: 0] += 1 }
        #expect(try await run("returns", "sex,age_group") == expected)

        // Net movements by month.
        expected = [:]
        for e in events where e.type == .entry || e.type == .exit {
            expected[[month(e)], default: 0] += e.type == .entry ? 1 : -1
        }
        expected[["_T"]] = Double(events.filter { $0.type == .entry }.count - events.filter { $0.type == .exit }.count)
        #expect(try await run("net_movements", "month") == expected)

        // Share of children among returns of known age, by department.
        var children: [String: Int] = [:], known: [String: Int] = [:]
        for e in returns {
            guard let age = e.person.age else { continue }
            known[department(e), default: 0] += 1
            if age < 18 { children[department(e), default: 0] += 1 }
        }
        expected = Dictionary(uniqueKeysWithValues: known.map { ([$0.key], percent(children[$0.key] ?? 0, $0.value)) })
        expected[["_T"]] = percent(children.values.reduce(0, +), known.values.reduce(0, +))
        #expect(try await run("child_share", "department") == expected)

        // Unaccompanied among returned children.
        let returnedChildren = returns.filter { ($0.person.age ?? 99) < 18 }
        let unaccompanied = returnedChildren.filter { $0.returnDetails?.childStatus == .unaccompanied }.count
        #expect(try await run("unaccompanied_share", nil)[["_T"]] == percent(unaccompanied, returnedChildren.count))

        // Registration coverage per source and month.
        for (measure, present) in [
            ("coverage_document", { (e: MovementEvent) in !(e.person.documentNumber ?? "").isEmpty }),
            ("coverage_age", { $0.person.age != nil }),
            ("coverage_sex", { $0.person.sex != .unknown }),
            ("coverage_municipality", { $0.person.residenceDivision != nil }),
        ] {
            var n: [[String]: Int] = [:], d: [[String]: Int] = [:]
            for e in events {
                d[[e.source.agency, month(e)], default: 0] += 1
                if present(e) { n[[e.source.agency, month(e)], default: 0] += 1 }
            }
            expected = Dictionary(uniqueKeysWithValues: d.map { ($0.key, percent(n[$0.key] ?? 0, $0.value)) })
            expected[["_T"]] = percent(n.values.reduce(0, +), d.values.reduce(0, +))
            #expect(try await run(measure, "source,month") == expected, "\(measure)")
        }

        // Returns per 1,000 inhabitants by department, over the department's census population.
        var population: [String: Double] = [:]
        for row in ResourceCSVForTests.rows(named: "departamentos_poblacion_censo.csv", folder: "population")
        where row["country_iso3"] == "SLV" {
            population[row["iso_3166_2"]!] = Double(row["population"]!)
        }
        var perDepartment: [String: Int] = [:]
        for e in returns { perDepartment[department(e), default: 0] += 1 }
        let rates = try await run("returns_per_1000", "department")
        for (dept, count) in perDepartment where dept != "_U" {
            #expect(rates[[dept]] == (Double(count) / population[dept]! * 1000 * 100).rounded() / 100, "\(dept)")
        }

        // Quarters with the change on the previous quarter.
        let table = try await engine.run(
            try StatisticsQuery.parse(measure: "returns", by: "quarter", filter: nil), policy: .unprotected)
        var quarters: [String: Int] = [:]
        for e in returns { quarters["\(e.date.year)-Q\((e.date.month - 1) / 3 + 1)", default: 0] += 1 }
        var changesChecked = 0
        for cell in table.cells {
            #expect(cell.value == Double(quarters[cell.key[0]]!))
            // The quarter before, of this cell's own year (or the last of the year before), not of a fixed year.
            let year = Int(cell.key[0].prefix(4))!, q = Int(cell.key[0].suffix(1))!
            let previous = q > 1 ? "\(year)-Q\(q - 1)" : "\(year - 1)-Q4"
            if let before = quarters[previous], before > 0 {
                #expect(
                    cell.changePrevious == (Double(quarters[cell.key[0]]! - before) / Double(before) * 100 * 100)
                        .rounded() / 100)
                changesChecked += 1
            } else {
                #expect(cell.changePrevious == nil)
            }
        }
        #expect(changesChecked >= 3)

        // Event types as a breakdown, filtered by one of them.
        expected = [["EXIT"]: Double(events.filter { $0.type == .exit }.count)]
        expected[["_T"]] = expected[["EXIT"]]
        #expect(try await run("events", "event_type", "event_type:EXIT") == expected)
        try await store.close()
    }

    @Test("Mirror coverage sets returns registered here against the partner's reported exits")
    func mirrorCoverage() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        // El Salvador registers 30 returns from Mexico; Mexico reports 40 exits of Salvadorans.
        let here = (0..<30).map { Fixtures.event(key: "r\($0)") }
        let partner = (0..<40).map { i -> MovementEvent in
            var e = Fixtures.event(key: "x\(i)", type: .exit)
            e.reportingCountry = "MEX"
            e.source.agency = "MX-INM"
            return e
        }
        try await load(here + partner, into: store)
        let table = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .mirrorCoverage, by: [.reportingCountry, .returningFrom]), policy: .unprotected)
        #expect(table.cells.first { $0.key == ["SLV", "MEX"] }?.value == 75)
        await #expect(throws: PuenteError.self) {
            try await StatisticsEngine(store: store).run(StatisticsQuery(measure: .mirrorCoverage, by: [.sex]))
        }
        try await store.close()
    }

    @Test(
        "Rates divide by census figures where shipped, flag every other population, and leave those out when asked for census only"
    )
    func ratesAndTheirPopulations() async throws {
        // The shipped tables, read here: a municipality with a census figure, one with a figure from an
        // unverified secondary source (grade C, the last column) and one without.
        let municipal = ResourceCSVForTests.rows(named: "slv_municipios_censo2007_full.csv", folder: "population")
        let lines = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(
                    "Sources/PuenteReference/Data/population/slv_municipios_censo2007_full.csv"),
            encoding: .utf8
        ).split(whereSeparator: \.isNewline).dropFirst()
        let gradeOf = Dictionary(
            uniqueKeysWithValues: lines.map { line in
                (String(line.prefix(4)), String(line.split(separator: ",", omittingEmptySubsequences: false).last!))
            })
        let censusRow = try #require(
            municipal.first { Double($0["pop_total"]!) != nil && ["A", "B"].contains(gradeOf[$0["muni_code"]!]) })
        let unverifiedRow = try #require(
            municipal.first { Double($0["pop_total"]!) != nil && gradeOf[$0["muni_code"]!] == "C" })
        let missingRow = try #require(municipal.first { $0["pop_total"]!.isEmpty })
        let (census, unverified, missing) = (
            "SV-" + censusRow["muni_code"]!, "SV-" + unverifiedRow["muni_code"]!, "SV-" + missingRow["muni_code"]!
        )
        let store = try await StoreKind.sqliteMemory.makeStore()
        var events: [MovementEvent] = []
        for unit in [census, unverified, missing] {
            for i in 0..<120 { events.append(Fixtures.event(key: "\(unit)-\(i)", division: unit)) }
        }
        try await load(events, into: store)
        let engine = StatisticsEngine(store: store)
        let rates = try await engine.run(
            StatisticsQuery(measure: .returnsPer1000, by: [.municipality]), policy: .unprotected)
        func cell(_ t: StatisticsTable, _ code: String) throws -> StatisticsCell {
            try #require(t.cells.first { $0.key == [code] })
        }
        let censusCell = try cell(rates, census)
        #expect(censusCell.value == (120 / Double(censusRow["pop_total"]!)! * 1000 * 100).rounded() / 100)
        #expect(censusCell.populationBasis == "census" && censusCell.populationReference == "2007-05-12")
        #expect(try cell(rates, unverified).populationBasis == "census_unverified")
        #expect(try cell(rates, missing).populationBasis == "estimated" && cell(rates, missing).value != nil)
        // Census only: the others are left out, flagged, and the census one is unchanged.
        let censusOnly = try await engine.run(
            StatisticsQuery(measure: .returnsPer1000, by: [.municipality], population: .census),
            policy: .unprotected)
        #expect(try cell(censusOnly, census).value == censusCell.value)
        for code in [unverified, missing] {
            #expect(try cell(censusOnly, code).value == nil && cell(censusOnly, code).obsStatus == "O")
        }
        // The CSV carries the basis; the 2024 municipalities divide by the 2024 census where shipped.
        #expect(
            rates.csv().hasPrefix(
                "municipality,value,obs_status,conf_status,change_previous_pct,change_year_ago_pct,population_basis,population_reference\n"
            ))
        let districts = ResourceCSVForTests.rows(named: "slv_distritos_2024.csv")
        let municipality2024 = try #require(districts.first { "SV-" + $0["distrito_code"]! == census }?["mun2024_code"])
        let row2024 = ResourceCSVForTests.rows(
            named: "slv_municipios2024_censos_1992_2007_2024.csv", folder: "population"
        )
        .first { $0["mun2024_code"] == municipality2024 }
        let by2024 = try await engine.run(
            StatisticsQuery(measure: .returnsPer1000, by: [.municipality2024]), policy: .unprotected)
        let cell2024 = try cell(by2024, "SV-M" + municipality2024)
        let returns2024 =
            120
            * [census, unverified, missing].filter { unit in
                districts.contains { "SV-" + $0["distrito_code"]! == unit && $0["mun2024_code"] == municipality2024 }
            }.count
        if let pop = row2024.flatMap({ Double($0["pop_census_2024"]!) }) {
            #expect(
                cell2024.value == (Double(returns2024) / pop * 1000 * 100).rounded() / 100
                    && cell2024.populationReference == "2024")
        } else {
            #expect(cell2024.populationBasis == "estimated")
        }
        try await store.close()
    }

    @Test("A file rolled back and imported again publishes the same perturbed figures: cell keys come from the records")
    func cellKeysFollowRecords() async throws {
        let (dir, summary) = try Fixtures.generated(country: "SV", seed: 21, scale: 0.02)
        let file = try #require(summary.files.first { $0.profile == "sv-dgme-retornos" })
        let store = try await StoreKind.sqliteMemory.makeStore()
        let engine = StatisticsEngine(store: store)
        let query = StatisticsQuery(measure: .returns, by: [.department, .sex])
        func load() async throws -> Int64 {
            try #require(
                try await Importer(store: store).importFile(
                    dir.appendingPathComponent(file.file),
                    profile: try ProfileCatalogue.load(file.profile)
                ).importID)
        }
        let first = try await load()
        let published = try await engine.run(query)
        #expect(published.cells.contains { $0.perturbed && $0.value != nil })
        try await store.rollbackImport(first)
        _ = try await load()
        #expect(try await engine.run(query) == published)
        // Another node's keys give other cell keys: the noise is not computable without them.
        let other = try SQLiteStore(
            path: ":memory:", cipher: Keyring.generate(file: URL(fileURLWithPath: "/nonexistent/keys")))
        try await other.migrate()
        _ = try #require(
            try await Importer(store: other).importFile(
                dir.appendingPathComponent(file.file),
                profile: try ProfileCatalogue.load(file.profile)
            ).importID)
        #expect(try await StatisticsEngine(store: other).run(query) != published)
        try await store.close()
        try await other.close()
    }

    @Test("A query reflects a commit at once, and a rollback", arguments: StoreKind.available)
    func freshness(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let engine = StatisticsEngine(store: store)
        let query = StatisticsQuery(measure: .returns, by: [.sex])
        try await load((0..<10).map { Fixtures.event(key: "a\($0)") }, into: store)
        #expect(try await engine.run(query, policy: .unprotected).total.value == 10)
        let pending = try await store.startImport(request("p"))
        try await store.appendCounted((0..<7).map { Fixtures.event(key: "b\($0)", sex: .female) }, to: pending)
        #expect(try await engine.run(query, policy: .unprotected).total.value == 10)  // not committed yet
        try await store.finishImport(pending, counts: ImportCounts(read: 7, accepted: 7))
        let after = try await engine.run(query, policy: .unprotected)
        #expect(after.total.value == 17 && after.cells.first { $0.key == ["F"] }?.value == 7)
        try await store.rollbackImport(pending)
        let rolledBack = try await engine.run(query, policy: .unprotected)
        #expect(rolledBack.total.value == 10 && rolledBack.cells.allSatisfy { $0.key != ["F"] })
        // A batch whose counted records change after its commit (a rollback lets its duplicates count) is
        // loaded again, although the same batches are committed.
        let copies = try await load((5..<15).map { Fixtures.event(key: "a\($0)", sex: .female) }, into: store)
        let first = try #require(try await store.committedImportIDs().first)
        #expect(try await engine.run(query, policy: .unprotected).cells.first { $0.key == ["F"] }?.value == 5)
        try await store.rollbackImport(first)
        let restored = try await engine.run(query, policy: .unprotected)
        #expect(restored.total.value == 10 && restored.cells.first { $0.key == ["F"] }?.value == 10)
        #expect(try await store.committedImportIDs() == [copies])
        try await store.close()
    }

    @Test("An answer kept in memory is served only under its own protection and committed state")
    func answerCache() async throws {
        let (store, location) = try await StoreKind.sqliteFile.makeStoreWithLocation()
        let engine = StatisticsEngine(store: store)
        let query = StatisticsQuery(measure: .returns, by: [.sex])
        try await load((0..<3).map { Fixtures.event(key: "s\($0)") }, into: store)
        // Protected, every figure is perturbed (E) or withheld (Q); unprotected, exact (A): whichever came first.
        let protected = try await engine.run(query)
        #expect((protected.cells + [protected.total]).allSatisfy { ["E", "Q"].contains($0.obsStatus) })
        let exact = try await engine.run(query, policy: .unprotected)
        #expect(exact.total.value == 3 && exact.total.obsStatus == "A")
        let again = try await engine.run(query)
        #expect(again.cells.map(\.value) == protected.cells.map(\.value) && again.total.value == protected.total.value)
        #expect((again.cells + [again.total]).allSatisfy { ["E", "Q"].contains($0.obsStatus) })
        // Another process commits behind the engine's back: the next answer counts it.
        let service = StatisticsService(store: store, disclosure: .unprotected)
        let request = StatisticsService.Request(query: query, purpose: "cache test", format: .json)
        let before = try await service.publish(request, by: .commandOperator("test")).body
        let other = try StoreKind.reopen(location, cipher: StoreKind.keyring)
        try await load((0..<4).map { Fixtures.event(key: "t\($0)") }, into: other)
        #expect(try await engine.run(query, policy: .unprotected).total.value == 7)
        // The service's rendered bodies follow too: the body is the new table's, not the one kept.
        let after = try await service.publish(request, by: .commandOperator("test"))
        #expect(after.table.total.value == 7 && before?.isEmpty == false)
        let fresh = try after.table.rendered(as: .json, flow: SDMXFlow())
        #expect(after.body != before && after.body == fresh)
        try await other.close()
        try await store.close()
    }

    @Test("Queries arriving together while the cube loads share the load and all see the data")
    func concurrentQueries() async throws {
        let store = try await StoreKind.sqliteFile.makeStore()
        try await load((0..<50).map { Fixtures.event(key: "c\($0)") }, into: store)
        let engine = StatisticsEngine(store: store)
        async let warm: Void = { _ = try await engine.warmUp() }()
        let totals = try await withThrowingTaskGroup(of: Double?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await engine.run(StatisticsQuery(measure: .returns), policy: .unprotected).total.value
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await warm
        #expect(totals == Array(repeating: 50, count: 20))
        try await store.close()
    }

    @Test("The perturbation table: bounded, unbiased, never publishes 1…js, with the stated variance")
    func perturbationTable() {
        let table = PerturbationTable.standard
        for count in 1...40 {
            let distribution = table.distribution(count: count)
            let mean = distribution.reduce(0) { $0 + Double($1.key) * $1.value }
            #expect(abs(mean) < 0.03, "count \(count): mean noise \(mean)")
            for noise in distribution.keys {
                #expect(abs(noise) <= table.maxNoise)
                let published = count + noise
                #expect(published == 0 || published > table.smallValues, "count \(count) could publish \(published)")
            }
        }
        let large = table.distribution(count: 100)
        let variance = large.reduce(0) { $0 + Double($1.key * $1.key) * $1.value }
        #expect(abs(variance - table.variance) < 0.15)
        #expect(table.noise(count: 0, cellKey: 17) == 0)
    }

    @Test("The same cell gets the same noise in every query that contains it")
    func consistentNoise() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        var events: [MovementEvent] = []
        for i in 0..<400 {
            events.append(
                Fixtures.event(
                    key: "e\(i)", date: "2016-0\(i % 9 + 1)-10", sex: i % 3 == 0 ? .female : .male, age: 15 + i % 50))
        }
        try await load(events, into: store)
        let engine = StatisticsEngine(store: store)
        let a = try await engine.run(try StatisticsQuery.parse(measure: "returns", by: "sex,month", filter: nil))
        let b = try await engine.run(try StatisticsQuery.parse(measure: "returns", by: "month,sex", filter: "sex:F"))
        let c = try await engine.run(try StatisticsQuery.parse(measure: "returns", by: "sex,month", filter: nil))
        #expect(a == c)
        for cell in b.cells {
            #expect(a.cells.first { $0.key == [cell.key[1], cell.key[0]] }?.value == cell.value)
        }
        #expect(a.cells.allSatisfy { $0.perturbed || $0.suppressed })
        try await store.close()
    }

    @Test("Fixed tables: no row or column is left with a single suppressed cell")
    func complementarySuppression() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        var events: [MovementEvent] = []
        let divisions = ["SV-0614", "SV-0101", "SV-0501"]
        for (d, division) in divisions.enumerated() {
            for sex in [Sex.female, .male] {
                let n = d == 0 && sex == .female ? 2 : 10 + d * 3 + (sex == .male ? 1 : 0)
                for i in 0..<n {
                    events.append(Fixtures.event(key: "\(division)\(sex)\(i)", sex: sex, division: division))
                }
            }
        }
        try await load(events, into: store)
        let table = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .returns, by: [.municipality, .sex]),
            policy: .fixedTable)
        let suppressed = table.cells.filter(\.suppressed)
        #expect(suppressed.count >= 4)  // the small cell, one in its row, one in its column, and the corner
        #expect(suppressed.filter { $0.confStatus == "A" }.map(\.key) == [["SV-0614", "F"]])
        for d in 0..<2 {
            let lines = Dictionary(grouping: table.cells) { $0.key[1 - d] }
            for (_, line) in lines { #expect(line.filter(\.suppressed).count != 1) }
        }
        #expect(table.cells.filter { !$0.suppressed }.allSatisfy { $0.value! >= 5 && $0.obsStatus == "A" })
        try await store.close()
    }

    @Test("Fixed tables of net movements: a small term is withheld with its complements, so no total solves it")
    func complementarySuppressionOfDerivedMeasures() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        // Entries and exits at three municipalities; one has only 2 entries by women.
        var events: [MovementEvent] = []
        for (d, division) in ["SV-0614", "SV-0101", "SV-0501"].enumerated() {
            for type in [EventType.entry, .exit] {
                for sex in [Sex.female, .male] {
                    let n = d == 0 && type == .entry && sex == .female ? 2 : 12 + d * 3 + (sex == .male ? 1 : 0)
                    for i in 0..<n {
                        events.append(
                            Fixtures.event(
                                key: "\(division)\(type)\(sex)\(i)", type: type, sex: sex, division: division))
                    }
                }
            }
        }
        try await load(events, into: store)
        let engine = StatisticsEngine(store: store)
        let net = try await engine.run(
            StatisticsQuery(measure: .netMovements, by: [.municipality, .sex]), policy: .fixedTable)
        let entries = try await engine.run(
            StatisticsQuery(measure: .entries, by: [.municipality, .sex]), policy: .fixedTable)
        // Every net cell whose entries are withheld in the entries table is withheld too; else the exits
        // (published in full) and the net would give the entries back.
        for cell in entries.cells where cell.suppressed {
            #expect(net.cells.first { $0.key == cell.key }?.suppressed == true, "\(cell.key)")
        }
        let withheld = net.cells.filter(\.suppressed)
        #expect(withheld.filter { $0.confStatus == "A" }.map(\.key) == [["SV-0614", "F"]])
        #expect(withheld.contains { $0.confStatus == "D" })
        for d in 0..<2 {
            for (_, line) in Dictionary(grouping: net.cells, by: { $0.key[1 - d] }) {
                #expect(line.filter(\.suppressed).count != 1)
            }
        }
        try await store.close()
    }

    @Test(
        "Fixed tables of shares: a small numerator is withheld with a complement, so the published total does not solve it"
    )
    func complementarySuppressionOfShares() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        var events: [MovementEvent] = []
        for (d, division) in ["SV-0614", "SV-0101", "SV-0501"].enumerated() {
            let children = d == 0 ? 2 : 10 + d
            for i in 0..<(children + 20) {
                events.append(Fixtures.event(key: "\(division)-\(i)", age: i < children ? 10 : 30, division: division))
            }
        }
        try await load(events, into: store)
        let share = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .childShare, by: [.municipality]),
            policy: .fixedTable)
        #expect(share.cells.filter { $0.confStatus == "A" }.map(\.key) == [["SV-0614"]])
        #expect(share.cells.filter { $0.confStatus == "D" }.count == 1)  // the smallest other numerator
        try await store.close()
    }

    @Test("SDMX-CSV and SDMX-JSON keys are unique and every code is in the flow's code lists")
    func sdmxOutputs() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        var events: [MovementEvent] = []
        for i in 0..<300 {
            events.append(
                Fixtures.event(
                    key: "s\(i)", date: "2016-0\(i % 9 + 1)-10", sex: i % 2 == 0 ? .female : .male, age: i % 80))
        }
        try await load(events, into: store)
        let table = try await StatisticsEngine(store: store).run(
            try StatisticsQuery.parse(measure: "returns", by: "sex,age_group,month", filter: "department:SV-SS"))
        let flow = SDMXFlow()
        let xml = flow.structureMessage()
        // Code lists as declared in the structure message, read back with Foundation's XML parser.
        let lists = try StructureCodes.read(Data(xml.utf8))
        #expect(lists["CL_AGE"]?.contains("Y15T19") == true && lists["CL_TERRITORY"]?.contains("SV-SS") == true)
        let csv = try table.sdmxCSV()
        let lines = csv.split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = lines[0]
        #expect(Array(header.prefix(4)) == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ"])
        let dimensionLists = [
            "FREQ": "CL_FREQ", "REF_AREA": "CL_AREA", "MIG_FLOW": "CL_MIG_FLOW", "SEX": "CL_SEX", "AGE": "CL_AGE",
            "TERRITORY": "CL_TERRITORY", "OBS_STATUS": "CL_OBS_STATUS", "CONF_STATUS": "CL_CONF_STATUS",
        ]
        var keys = Set<[String]>()
        for row in lines.dropFirst() {
            let record = Dictionary(uniqueKeysWithValues: zip(header, row))
            for (column, list) in dimensionLists {
                #expect(lists[list]?.contains(record[column]!) == true, "\(column)=\(record[column]!)")
            }
            #expect(record["TERRITORY"] == "SV-SS" && record["MIG_FLOW"] == "RETURN" && record["FREQ"] == "M")
            let key = header.indices.filter {
                !["OBS_VALUE", "OBS_STATUS", "CONF_STATUS", "STRUCTURE", "STRUCTURE_ID", "ACTION"].contains(header[$0])
            }.map { row[$0] }
            #expect(keys.insert(key).inserted)
            if record["OBS_STATUS"] == "Q" { #expect(record["OBS_VALUE"] == "NaN") }
        }
        #expect(keys.count == table.cells.count)
        let json = try JSONSerialization.jsonObject(with: Data(try table.sdmxJSON().utf8)) as! [String: Any]
        let data = json["data"] as! [String: Any]
        let observations = ((data["dataSets"] as! [[String: Any]])[0]["observations"] as! [String: Any])
        #expect(observations.count == table.cells.count)
        // Ratios and a breakdown without a period are refused with a reason.
        let ratio = try await StatisticsEngine(store: store).run(StatisticsQuery(measure: .childShare, by: [.year]))
        #expect(throws: PuenteError.self) { try ratio.sdmxCSV() }
        let noPeriod = try await StatisticsEngine(store: store).run(StatisticsQuery(measure: .returns, by: [.sex]))
        #expect(throws: PuenteError.self) { try noPeriod.sdmxCSV() }
        try await store.close()
    }
}

/// Reads code ids per code list from an SDMX-ML 2.1 structure message.
final class StructureCodes: NSObject, XMLParserDelegate {
    private var lists: [String: Set<String>] = [:]
    private var current: String?

    static func read(_ data: Data) throws -> [String: Set<String>] {
        let reader = StructureCodes()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = reader
        guard parser.parse() else { throw PuenteError(.invalidInput, "The structure message is not well-formed XML.") }
        return reader.lists
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if element == "Codelist" { current = attributes["id"]; lists[current!] = [] }
        if element == "Code", let list = current, let id = attributes["id"] { lists[list]!.insert(id) }
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        if element == "Codelist" { current = nil }
    }
}
