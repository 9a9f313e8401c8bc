import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteIngest
import PuenteReference
import PuenteServices
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

/// A generated region has a known answer for every mirror figure: the hub's pairs, built from the
/// members' protected packages and Mexico's published figures, must match it.
@Suite("Mirror statistics: both sides of a flow at the hub, against the generator's truth")
struct MirrorTests {
    static let officer = Actor.commandOperator("officer")
    static let scale = 0.05

    /// One generated region for the suite (the generator is deterministic: every test sees the same).
    static let region: (dir: URL, summary: RegionSummary) = {
        let dir = try! Fixtures.tempDir()
        return (dir, try! RegionGenerator(year: 2016, seed: 5, scale: scale).write(to: dir))
    }()

    /// Truth by flow, sender and receiver: what each side recorded in the year and the true flow.
    static func truth() throws -> [String: (sender: Double, receiver: Double, true: Double)] {
        var out: [String: (sender: Double, receiver: Double, true: Double)] = [:]
        for row in try Fixtures.truthRows(region.dir.appendingPathComponent("truth/mirror.csv")) {
            let key = "\(row["flow"]!) \(row["sender"]!) \(row["receiver"]!)"
            var t = out[key] ?? (0, 0, 0)
            t.sender += Double(row["sender_recorded"]!)!
            t.receiver += Double(row["receiver_recorded"]!)!
            t.true += Double(row["true_flow"]!)!
            out[key] = t
        }
        return out
    }

    @Test("The generated region is calibrated, consistent on both sides of each border, and concentrated")
    func generatedRegion() throws {
        let (dir, summary) = Self.region
        let truth = try Self.truth()
        func scaled(_ v: Int) -> Double { (Double(v) * Self.scale).rounded() }
        // Mexico's published figures are every removal, registered or not; reception registers the rest.
        let mexico = try Fixtures.truthRows(dir.appendingPathComponent(summary.partnerFigures))
        for (country, published, registered) in [
            ("SLV", 31_347, 31_147), ("GTM", 59_679, 57_889), ("HND", 50_964, 48_925),
        ] {
            let figures = mexico.filter { $0["counterpart"] == country }
            #expect(figures.map { Double($0["value"]!)! }.reduce(0, +) == scaled(published))
            #expect(truth["RETURN MEX \(country)"]?.true == scaled(published))
            // Registered returns from Mexico, less the malformed rows ingest refuses, are the receiver's side.
            #expect(truth["RETURN MEX \(country)"]!.receiver <= scaled(registered))
            #expect(truth["RETURN MEX \(country)"]!.receiver >= scaled(registered) * 0.95)
        }
        // Each border's flows: exits all recorded, entries missing the known share.
        for (key, t) in truth where key.hasPrefix("EXIT_ENTRY") {
            let parts = key.split(separator: " ").map(String.init)
            let coverage = RegionGenerator.entryCoverage(into: parts[2], from: parts[1])
            #expect(t.true > 50, "\(key)")
            #expect(t.sender <= t.true && t.sender >= t.true * 0.95, "\(key): exits \(t.sender) of \(t.true)")
            let share = t.receiver / t.true
            #expect(abs(share - coverage) < 0.06, "\(key): entries recorded \(share), coverage \(coverage)")
        }
        // Emigration is concentrated: returns per inhabitant differ widely between departments.
        let reference = ReferenceData.shared
        for code in ["SV", "GT", "HN"] {
            let returns = summary.countries[code]!.files[0]
            let rows = try Fixtures.truthRows(dir.appendingPathComponent("\(code)/truth/\(returns.profile).truth.csv"))
            var byDepartment: [String: Double] = [:]
            for row in rows {
                if let d = reference.departmentOfUnit[row["division"]!] { byDepartment[d, default: 0] += 1 }
            }
            let rates = byDepartment.compactMap { d, n in reference.departmentPopulation[d].map { n / $0.population } }
            #expect(rates.count >= 10)
            #expect(rates.max()! / rates.min()! > 4, "\(code): per-capita rates \(rates.min()!)…\(rates.max()!)")
        }
    }

    /// Three members load their generated year and send it to a hub of `hubKind` under agreements that
    /// share returns by returning country and movements by crossing point, by quarter; the hub loads
    /// Mexico's published figures.
    static let hubIdentity = try! NodeIdentity.generate(id: "HB-SICA", country: "SLV")

    static func hub(_ hubKind: StoreKind) async throws -> (any PuenteStore, [any PuenteStore]) {
        let hub = hubIdentity
        let hubStore = try await hubKind.makeStore()
        var members: [any PuenteStore] = []
        for (code, id, country) in [("SV", "SV-DGME", "SLV"), ("GT", "GT-IGM", "GTM"), ("HN", "HN-INM", "HND")] {
            let store = try await StoreKind.sqliteMemory.makeStore()
            for file in region.summary.countries[code]!.files {
                _ = try await Importer(store: store).importFile(
                    region.dir.appendingPathComponent("\(code)/\(file.file)"),
                    profile: try ProfileCatalogue.load(file.profile))
            }
            let identity = try NodeIdentity.generate(id: id, country: country)
            var agreement = try SignedAgreement(
                drafting: Agreement(
                    id: "\(id)-HUB", sender: .init(identity), receiver: .init(hub), purpose: .mirrorStatistics,
                    measures: ["returns", "entries", "exits"], dimensions: ["returning_from", "place", "quarter"],
                    finestGeography: .country, finestPeriod: .quarter, validFrom: "2016-01-01", validTo: "2030-12-31",
                    retentionDays: 1825))
            try agreement.sign(by: identity)
            try agreement.sign(by: hub)
            for (store, node) in [(store, identity), (hubStore, hub)] {
                _ = try await AgreementService(store: store, node: node).accept(
                    try agreement.file(), source: "agreement", by: officer)
            }
            let sent = try await ExchangeService(store: store, node: identity).export(
                agreement: "\(id)-HUB", year: 2016, by: officer)
            _ = try await ExchangeService(store: hubStore, node: hub).receive(
                Data(sent.file.utf8), source: id, by: officer)
            members.append(store)
        }
        let partner = region.dir.appendingPathComponent(region.summary.partnerFigures)
        _ = try await MirrorStatistics(regional: RegionalStatistics(store: hubStore)).loadPartnerFigures(
            try Data(contentsOf: partner), name: partner.lastPathComponent, by: officer)
        return (hubStore, members)
    }

    @Test(
        "Each pair's figures are the truth within the cell key's noise; the undercount a side was given is found and flagged",
        arguments: StoreKind.available)
    func pairsAgainstTruth(kind: StoreKind) async throws {
        let (hubStore, members) = try await Self.hub(kind)
        let truth = try Self.truth()
        // The hub's identity names a member's country (SLV), yet it has no records: every side is a member's.
        let pairs = try await MirrorStatistics(regional: RegionalStatistics(store: hubStore), node: Self.hubIdentity)
            .pairs(period: "2016")
        let maxNoise = Double(PerturbationTable.standard.maxNoise)
        #expect(pairs.filter { $0.flow == "RETURN" }.count == 3)
        #expect(pairs.filter { $0.flow == "EXIT_ENTRY" }.count == 6)
        for pair in pairs {
            let key = "\(pair.flow) \(pair.sender.country) \(pair.receiver.country)"
            let t = try #require(truth[key], "\(key) has no truth")
            #expect(pair.status == "complete" && pair.periods.count == 4, "\(key)")
            let sender = try #require(pair.sender.figure), receiver = try #require(pair.receiver.figure)
            // A member's side adds up perturbed cells: quarters, times its posts on that border.
            let posts = Double(pair.flow == "RETURN" ? 1 : 4)
            if pair.flow == "RETURN" {
                #expect(sender == t.sender, "\(key): Mexico's figure as published")
                #expect(pair.sender.protection == "published")
            } else {
                #expect(abs(sender - t.sender) <= 4 * posts * maxNoise, "\(key): \(sender) against \(t.sender)")
                #expect(pair.sender.protection == "perturbed")
            }
            #expect(abs(receiver - t.receiver) <= 4 * posts * maxNoise, "\(key): \(receiver) against \(t.receiver)")
            #expect(pair.receiver.protection == "perturbed")
            #expect(pair.difference == sender - receiver)
            // U is both sides' ratio here (both count every event), near the truth's ratio.
            let u = try #require(pair.adjusted), low = try #require(pair.low), high = try #require(pair.high)
            #expect(abs(u - t.sender / t.receiver) < 0.03, "\(key): U \(u), truth \(t.sender / t.receiver)")
            #expect(low <= u && u <= high)
            // Flagged exactly where a side was made to miss a quarter of the flow.
            let undercounted = key == "EXIT_ENTRY GTM HND"
            #expect(pair.flagged == undercounted, "\(key): U \(u)")
            if undercounted {
                #expect(low <= 1 / 0.75 * 1.03 && high >= 1 / 0.75 * 0.97, "\(key): interval \(low)–\(high)")
            }
        }
        // A quarter: its months are the cells (Mexico's) or the quarter itself (members') — one pair each.
        let quarter = try await MirrorStatistics(regional: RegionalStatistics(store: hubStore)).pairs(
            period: "2016-Q2", flow: .returns)
        #expect(quarter.count == 3 && quarter.allSatisfy { $0.periods == ["2016-Q2"] && $0.low == nil })
        // A year nobody reported is missing on both sides, never zero.
        let absent = try await MirrorStatistics(regional: RegionalStatistics(store: hubStore)).pairs(period: "2019")
        #expect(absent.allSatisfy { $0.status == "missing" && $0.sender.figure == nil && $0.adjusted == nil })
        for store in members { try await store.close() }
        try await hubStore.close()
    }

    @Test(
        "At a national node its own published cells are one side: against what a neighbour sent under an agreement and Mexico's figures",
        arguments: StoreKind.available)
    func nationalNode(kind: StoreKind) async throws {
        let sv = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        let gt = try NodeIdentity.generate(id: "GT-IGM", country: "GTM")
        let svStore = try await kind.makeStore(), gtStore = try await StoreKind.sqliteMemory.makeStore()
        for (code, store) in [("SV", svStore), ("GT", gtStore)] {
            for file in Self.region.summary.countries[code]!.files {
                _ = try await Importer(store: store).importFile(
                    Self.region.dir.appendingPathComponent("\(code)/\(file.file)"),
                    profile: try ProfileCatalogue.load(file.profile))
            }
        }
        var agreement = try SignedAgreement(
            drafting: Agreement(
                id: "GT-SV-MIRROR", sender: .init(gt), receiver: .init(sv), purpose: .mirrorStatistics,
                measures: ["entries", "exits"], dimensions: ["place", "quarter"], finestGeography: .country,
                finestPeriod: .quarter, validFrom: "2016-01-01", validTo: "2030-12-31", retentionDays: 365))
        try agreement.sign(by: gt)
        try agreement.sign(by: sv)
        for (store, node) in [(gtStore, gt), (svStore, sv)] {
            _ = try await AgreementService(store: store, node: node).accept(
                try agreement.file(), source: "agreement", by: Self.officer)
        }
        let sent = try await ExchangeService(store: gtStore, node: gt).export(
            agreement: "GT-SV-MIRROR", year: 2016, by: Self.officer)
        _ = try await ExchangeService(store: svStore, node: sv).receive(
            Data(sent.file.utf8), source: "gt", by: Self.officer)
        let partner = Self.region.dir.appendingPathComponent(Self.region.summary.partnerFigures)
        let mirror = MirrorStatistics(regional: RegionalStatistics(store: svStore), node: sv)
        _ = try await mirror.loadPartnerFigures(try Data(contentsOf: partner), name: "mx.csv", by: Self.officer)
        let pairs = try await mirror.pairs(period: "2016")
        let truth = try Self.truth()
        // Mexico's returns of Salvadorans, and both directions of the Salvadoran–Guatemalan border.
        #expect(
            Set(pairs.map { "\($0.flow) \($0.sender.country) \($0.receiver.country)" }) == [
                "RETURN MEX SLV", "EXIT_ENTRY SLV GTM", "EXIT_ENTRY GTM SLV",
            ])
        let engine = StatisticsEngine(store: svStore)
        for pair in pairs {
            let key = "\(pair.flow) \(pair.sender.country) \(pair.receiver.country)"
            let t = try #require(truth[key])
            let noise = Double(PerturbationTable.standard.maxNoise) * 16
            #expect(abs(try #require(pair.sender.figure) - t.sender) <= noise, "\(key)")
            #expect(abs(try #require(pair.receiver.figure) - t.receiver) <= noise, "\(key)")
            #expect(!pair.flagged && pair.status == "complete", "\(key)")
        }
        // El Salvador's side is exactly what it publishes: its exits by crossing point, by quarter.
        let exits = try await engine.run(
            StatisticsQuery(measure: .exits, by: [.place, .quarter]), policy: .standard)
        let toGuatemala = Set(
            ReferenceData.shared.places.filter { $0.kind == .land && $0.neighbour == "GTM" }.map(\.code))
        let published = exits.cells.filter { toGuatemala.contains($0.key[0]) }.compactMap(\.value).reduce(0, +)
        #expect(pairs.first { $0.flow == "EXIT_ENTRY" && $0.sender.country == "SLV" }?.sender.figure == published)
        try await svStore.close()
        try await gtStore.close()
    }

    @Test("A partner's file with a bad row is refused naming the row and field, and nothing of it is kept")
    func partnerFiguresRefused() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let mirror = MirrorStatistics(regional: RegionalStatistics(store: store))
        let cases: [(String, Int?, String?)] = [
            (
                "reporter,flow,counterpart,period,value\nMEX,RETURN,GTM,2016-01,10\nMEX,RETURN,GTM,2016-02,diez\n", 3,
                "value"
            ),
            ("reporter,flow,counterpart,period,value\nMEX,RETURN,GTM,2016-13,10\n", 2, "period"),
            ("reporter,flow,counterpart,period,value\nMEX,LEAVE,GTM,2016-01,10\n", 2, "flow"),
            ("reporter,flow,counterpart,period,value\nMEX,RETURN,XXX,2016-01,10\n", 2, "counterpart"),
            ("reporter,flow,counterpart,period,value\nMEX,RETURN,GTM,2016-01,10\nMEX,RETURN,GTM,2016-01,11\n", 3, nil),
            ("reporter,flow,period,value\nMEX,RETURN,2016-01,10\n", 1, nil),
        ]
        for (text, row, field) in cases {
            let error = try await #require(throws: PuenteError.self) {
                _ = try await mirror.loadPartnerFigures(Data(text.utf8), name: "mx.csv", by: Self.officer)
            }
            #expect(error.code == .invalidInput)
            #expect(error.location?.file == "mx.csv" && error.location?.row == row && error.location?.field == field)
        }
        #expect(try await store.partnerFigures().isEmpty)
        // A good file is kept; loading a revised figure replaces it.
        _ = try await mirror.loadPartnerFigures(
            Data("reporter,flow,counterpart,period,value,source\nMEX,RETURN,GTM,2016-01,10,UPM\n".utf8), name: "a.csv",
            by: Self.officer)
        _ = try await mirror.loadPartnerFigures(
            Data("reporter,flow,counterpart,period,value,source\nMEX,RETURN,GTM,2016-01,12,UPM rev.\n".utf8),
            name: "b.csv", by: Self.officer)
        let kept = try await store.partnerFigures()
        #expect(kept.count == 1 && kept[0].value == 12 && kept[0].source == "UPM rev.")
        try await store.close()
    }
}
