import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteHTTP
import PuenteIngest
import PuenteServices
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

/// Three member nodes with their own generated registers send a year each to a hub: the hub's regional
/// figures must be the members' own published cells, added up, with a country that has not reported a
/// period shown as missing.
@Suite("Region: a hub's figures are the cells its members publish")
struct RegionalTests {
    static let hub = try! NodeIdentity.generate(id: "HB-SICA", country: "SLV")
    static let officer = Actor.commandOperator("officer")
    static let members: [(id: String, country: String, generator: String)] = [
        ("SV-DGME", "SLV", "SV"), ("GT-IGM", "GTM", "GT"), ("HN-INM", "HND", "HN"),
    ]

    struct Member {
        var identity: NodeIdentity
        var country: String
        var store: any PuenteStore
        var persons: URL
        var files: [Data] = []
    }

    /// Each member's store with its generated year, an agreement with the hub kept on both sides, and the
    /// packages it sent; `later` members also send an empty 2017.
    static func region(hubKind: StoreKind, later: Set<String> = []) async throws -> ([Member], any PuenteStore) {
        let hubStore = try await hubKind.makeStore()
        var out: [Member] = []
        for (n, m) in members.enumerated() {
            let (dir, summary) = try Fixtures.generated(country: m.generator, seed: UInt64(20 + n), scale: 0.02)
            let store = try await StoreKind.sqliteMemory.makeStore()
            for file in summary.files {
                _ = try await Importer(store: store).importFile(
                    dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
            }
            let identity = try NodeIdentity.generate(id: m.id, country: m.country)
            var agreement = try SignedAgreement(
                drafting: Agreement(
                    id: "\(m.id)-HUB", sender: .init(identity), receiver: .init(hub), purpose: .regionalStatistics,
                    measures: ["returns", "entries", "exits"],
                    dimensions: ["sex", "age_group", "returning_from", "nationality", "year"],
                    finestGeography: .country, finestPeriod: .year, validFrom: "2016-01-01", validTo: "2030-12-31",
                    retentionDays: 1825))
            try agreement.sign(by: identity)
            try agreement.sign(by: hub)
            _ = try await AgreementService(store: store, node: identity).accept(
                try agreement.file(), source: "a", by: officer)
            _ = try await AgreementService(store: hubStore, node: hub).accept(
                try agreement.file(), source: "a", by: officer)
            var member = Member(
                identity: identity, country: m.country, store: store,
                persons: dir.appendingPathComponent("truth/persons.csv"))
            let exchange = ExchangeService(store: store, node: identity)
            for year in later.contains(m.country) ? [2016, 2017] : [2016] {
                let sent = try await exchange.export(agreement: "\(m.id)-HUB", year: year, by: officer)
                member.files.append(Data(sent.file.utf8))
                _ = try await ExchangeService(store: hubStore, node: hub).receive(
                    Data(sent.file.utf8), source: "\(m.id)-\(year)", by: officer)
            }
            out.append(member)
        }
        return (out, hubStore)
    }

    @Test(
        "The hub's regional figures equal the sum of the members' published cells; each country's are its own; a period not reported is missing",
        arguments: StoreKind.available)
    func regionalFigures(kind: StoreKind) async throws {
        let (members, hubStore) = try await Self.region(hubKind: kind, later: ["GTM"])
        let regional = RegionalStatistics(store: hubStore)

        // What each member publishes itself, with its own engine (the independent computation).
        var published: [String: [[String]: StatisticsCell]] = [:]
        for m in members {
            let table = try await StatisticsEngine(store: m.store).run(
                StatisticsQuery(
                    measure: .returns, by: [.sex, .year],
                    filters: [.year: ["2016"], .reportingCountry: [m.country]]),
                policy: .standard)
            published[m.country] = Dictionary(uniqueKeysWithValues: table.cells.map { ($0.key, $0) })
        }
        // Per country: the country's own cells, exactly.
        let byCountry = try await regional.table(
            measure: .returns, by: [.reportingCountry, .sex, .year], filters: [.year: ["2016"]])
        for m in members {
            let own = byCountry.cells.filter { $0.key[0] == m.country }
            #expect(own.count == published[m.country]!.count)
            for cell in own {
                let mine = try #require(published[m.country]![[cell.key[1], cell.key[2]]])
                #expect(cell.value == mine.value ?? 0)
                #expect((cell.status == .suppressedContributions) == mine.suppressed)
            }
        }
        // The region: the sum over members, naming the three countries.
        let region = try await regional.table(measure: .returns, by: [.sex], filters: [.year: ["2016"]])
        #expect(region.countries == ["GTM", "HND", "SLV"])
        for cell in region.cells {
            let contributions = members.compactMap { published[$0.country]![[cell.key[0], "2016"]] }
            #expect(cell.value == contributions.compactMap(\.value).reduce(0, +))
            #expect(
                cell.countries
                    == members.map(\.country).filter { published[$0]![[cell.key[0], "2016"]] != nil }.sorted())
        }
        #expect(region.cells.count >= 2)

        // 2017: only Guatemala reported (a year without records): the others are missing, not zero.
        let years = try await regional.table(measure: .returns, by: [.reportingCountry, .year])
        let y2017 = Dictionary(uniqueKeysWithValues: years.cells.filter { $0.key[1] == "2017" }.map { ($0.key[0], $0) })
        #expect(y2017["GTM"]?.value == 0 && y2017["GTM"]?.status == .complete)
        for country in ["SLV", "HND"] {
            #expect(y2017[country]?.value == nil && y2017[country]?.status == .missing)
        }
        let total2017 = try await regional.table(measure: .returns, by: [.year], filters: [.year: ["2017"]])
        #expect(total2017.cells.allSatisfy { $0.missing == ["HND", "SLV"] && $0.status != .complete })

        // No personal field left a node: no name or document of the generated people in any package or
        // in the hub's observations.
        let hubText = try await hubStore.exchangeObservations(dataflow: SDMXFlow.flowID, updatedAfter: nil)
            .map { "\($0.seriesKey) \($0.period)" }.joined(separator: "\n")
        for m in members {
            let rows = try Fixtures.truthRows(m.persons)
            #expect(rows.count > 100)
            let needles = rows.flatMap { row in
                [row["national_id"] ?? "", row["passport"] ?? "", "\(row["first_surname"] ?? "")"]
            }.filter { $0.count >= 6 }
            // Every word of the texts (split where a name or document cannot continue), looked up at once.
            func words(_ text: String) -> Set<String> {
                Set(text.split { !($0.isLetter || $0.isNumber || $0 == "-") }.map(String.init))
            }
            // The control: the same scan finds them in the generator's own list of the people.
            #expect(needles.filter(words(try String(contentsOf: m.persons, encoding: .utf8)).contains).count > 100)
            for text in m.files.map({ String(decoding: $0, as: UTF8.self) }) + [hubText] {
                let found = words(text)
                #expect(needles.allSatisfy { !found.contains($0) })
            }
        }

        // The hub's page: each country, Guatemala's zero and the others' missing 2017 named as such.
        var configuration = PuenteServer.Configuration(publicStatistics: true)
        configuration.node = Self.hub
        configuration.hub = true
        let app = Application(router: PuenteServer.router(store: hubStore, configuration: configuration))
        try await app.test(.router) { client in
            let home = try await client.execute(uri: "/?lang=en", method: .get) { String(buffer: $0.body) }
            #expect(home.contains("id=\"region-map\"") && home.contains("El Salvador") && home.contains("Honduras"))
            let page = try await client.execute(uri: "/region?period=2017&lang=en", method: .get) {
                String(buffer: $0.body)
            }
            #expect(page.components(separatedBy: "no data").count - 1 >= 2)
            let api = try await client.execute(
                uri: "/api/v1/regional/stats?measure=returns&by=sex&filter=year:2016", method: .get
            ) { try JSONDecoder().decode(RegionalStatistics.Table.self, from: Data($0.body.readableBytesView)) }
            #expect(api.cells == region.cells)
        }
        for m in members { try await m.store.close() }
        try await hubStore.close()
    }
}
