import Foundation
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteIngest
import PuenteReference
import PuenteServices
import PuenteSynthetic
import PuenteTesting
import Testing

@Suite("Dashboard pages")
struct DashboardTests {
    static let pages = ["/", "/returns", "/movements", "/quality", "/imports"]

    /// A generated El Salvador year loaded into a fresh store, with its files' folder.
    private func loadedStore() async throws -> (any PuenteStore, URL) {
        let (dir, summary) = try Fixtures.generated(country: "SV", seed: 7, scale: 0.05)
        let store = try await StoreKind.sqliteMemory.makeStore()
        let importer = Importer(store: store)
        for file in summary.files {
            _ = try await importer.importFile(
                dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
        }
        return (store, dir)
    }

    /// A data officer's token: the role that sees every page, the imports page included.
    private func token(_ store: any PuenteStore) async throws -> String {
        let access = AccessService(store: store)
        try await access.createUser(
            username: "officer", role: .dataOfficer, password: nil, by: .commandOperator("test"))
        return try await access.createToken(
            username: "officer", label: "dashboard tests", days: 1, by: .commandOperator("test")
        ).1
    }

    private func get(_ client: some TestClientProtocol, _ uri: String, token: String? = nil) async throws -> (
        HTTPResponse.Status, String
    ) {
        try await client.execute(uri: uri, method: .get, headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:])
        {
            ($0.status, String(buffer: $0.body))
        }
    }

    private func apiTable(_ client: some TestClientProtocol, _ query: String) async throws -> StatisticsTableView {
        let (status, body) = try await get(client, "/api/v1/stats?" + query)
        #expect(status == .ok, "\(query): \(body)")
        return try JSONDecoder().decode(StatisticsTableView.self, from: Data(body.utf8))
    }

    /// The cells of each body row of the table with this id, keyed by the row's header cell.
    private func tableRows(_ html: String, id: String) throws -> [String: [String]] {
        let start = try #require(html.range(of: "<table id=\"\(id)\">"))
        let end = try #require(html[start.upperBound...].range(of: "</table>"))
        let body = try #require(html[start.upperBound..<end.lowerBound].components(separatedBy: "<tbody>").last)
        let cell = try NSRegularExpression(pattern: "<t[hd][^>]*>([^<]*)</t[hd]>")
        var rows: [String: [String]] = [:]
        for row in body.components(separatedBy: "</tr>") {
            let ns = row as NSString
            let cells = cell.matches(in: row, range: NSRange(location: 0, length: ns.length)).map {
                ns.substring(with: $0.range(at: 1))
            }
            if let first = cells.first { rows[first] = Array(cells.dropFirst()) }
        }
        return rows
    }

    /// `12 345` (narrow no-break space) or `12,345` → 12345.
    private func value(_ text: String) -> Double? {
        Double(
            text.filter { $0.isNumber || $0 == "." || $0 == "−" || $0 == "-" }.replacingOccurrences(of: "−", with: "-"))
    }

    @Test("Every page renders in both languages, small, with a title, summary, table and downloads for each chart")
    func pagesRender() async throws {
        let (store, _) = try await loadedStore()
        let token = try await token(store)
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            for page in Self.pages {
                for lang in ["es", "en"] {
                    let (status, html) = try await get(client, page + (lang == "en" ? "?lang=en" : ""), token: token)
                    #expect(status == .ok, "\(page)")
                    #expect(html.contains("<html lang=\"\(lang)\">"))
                    #expect(html.utf8.count < 300_000, "\(page) is \(html.utf8.count) bytes")
                    #expect(
                        !html.contains("http://") && !html.contains("https://"), "\(page) refers to an outside resource"
                    )
                    let figures = html.components(separatedBy: "<figure id=").dropFirst()
                    if page != "/imports" { #expect(!figures.isEmpty, "\(page) has no chart") }
                    for figure in figures {
                        let id = figure.prefix { $0 != " " && $0 != ">" }
                        #expect(
                            figure.contains("<title id=") && figure.contains("<desc id="),
                            "\(page) \(id) lacks a text alternative")
                        #expect(figure.contains("<table id="), "\(page) \(id) lacks its data table")
                        #expect(figure.contains("download>CSV"), "\(page) \(id) lacks a CSV download")
                    }
                }
            }
            let (_, spanish) = try await get(client, "/returns")
            let (_, english) = try await get(client, "/returns?lang=en")
            #expect(spanish.contains("Retornos por mes") && !spanish.contains("Returns by month"))
            #expect(english.contains("Returns by month") && !english.contains("Retornos por mes"))
            // The language switch keeps the other parameters.
            let (_, filtered) = try await get(client, "/returns?sex=F&period=2016-Q2")
            #expect(filtered.contains("href=\"/returns?lang=en&amp;period=2016-Q2&amp;sex=F\""))
        }
        try await store.close()
    }

    @Test("Figures on the pages equal what the API publishes for the same filters")
    func figuresMatchAPI() async throws {
        let (store, _) = try await loadedStore()
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            // Overview: the latest year is the default period.
            let byYear = try await apiTable(client, "measure=returns&by=year")
            let year = try #require(byYear.cells.map { $0.key[0] }.filter { $0 != "_U" }.max())
            let yearCell = try #require(byYear.cells.first { $0.key == [year] })
            let (_, overview) = try await get(client, "/")
            let card = try #require(overview.range(of: "id=\"total-returns\"")).upperBound
            let shown = overview[card...].components(separatedBy: "<b>")[1].components(separatedBy: "</b>")[0]
            #expect(value(shown) == yearCell.value)

            // A filter changes every chart: women in the second quarter, by month, on the returns page.
            let (_, page) = try await get(client, "/returns?sex=F&period=2016-Q2")
            let api = try await apiTable(
                client, "measure=returns&by=month&filter=month:2016-04,month:2016-05,month:2016-06,sex:F")
            let monthly = try tableRows(page, id: "returns-by-month-table")
            #expect(monthly.count == 3)
            for cell in api.cells where cell.key != ["_U"] {
                let label = ["2016-04": "abr 2016", "2016-05": "may 2016", "2016-06": "jun 2016"][cell.key[0]]!
                #expect(value(try #require(monthly[label]?.first)) == cell.value, "\(label)")
            }
            let unfiltered = try tableRows(
                try await get(client, "/returns?period=2016-Q2").1, id: "returns-by-month-table")
            #expect(unfiltered["abr 2016"] != monthly["abr 2016"])

            // The map in both of El Salvador's geographies, and as a rate.
            let (_, map2024) = try await get(client, "/returns?map=municipality_2024&map_value=rate")
            let rates = try tableRows(map2024, id: "returns-map-table")
            #expect(rates.count == 44)
            let apiRates = try await apiTable(
                client, "measure=returns_per_1000&by=municipality_2024&filter=year:\(year)")
            for cell in apiRates.cells where cell.key != ["_U"] {
                let name = try #require(
                    ReferenceData.shared.geography("SV")?.view("municipality_2024")?.units.code(cell.key[0])?.name)
                let shown = try #require(rates[name]?.last)
                // A rate over a population that is not a census figure is marked, as the API flags it.
                #expect(shown.hasSuffix("*") == (cell.populationBasis != "census"), "\(name): \(shown)")
                let number = shown.replacingOccurrences(of: ",", with: ".").replacingOccurrences(of: "*", with: "")
                #expect(abs((value(number) ?? -1) - (cell.value ?? -1)) < 0.051, "\(name)")
            }
            #expect(
                apiRates.cells.contains { $0.populationBasis == "census" }
                    && apiRates.cells.contains { $0.populationBasis == "estimated" })
            #expect(map2024.contains("class=\"note estimate\"") && map2024.contains(" est\" d="))
            let (_, map262) = try await get(client, "/returns")
            // a few names repeat across departments
            #expect(try tableRows(map262, id: "returns-map-table").count >= 250)
        }
        try await store.close()
    }

    @Test("A page asked again shows new figures as soon as an import commits or persons are linked")
    func pagesFollowTheData() async throws {
        let (store, dir) = try await loadedStore()
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            let march = "measure=returns&by=month&filter=month:2016-03"
            func shown() async throws -> Double? {
                value(
                    try #require(
                        try tableRows(try await get(client, "/returns").1, id: "returns-by-month-table")["mar 2016"]?
                            .first))
            }
            let before = try await shown()
            #expect(before == (try await apiTable(client, march)).cells.first?.value)
            let (_, unlinked) = try await get(client, "/returns")
            #expect(unlinked.contains("id=\"returned-persons\"") && !unlinked.contains("returned-persons-by-month"))

            // A further file of the same register's March returns: the page drawn again counts them.
            let source = try Data(contentsOf: dir.appendingPathComponent("sv-dgme-retornos.csv"))
            let lines = source.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            // Case number, then the day of arrival: `…;dd/03/2016;…`.
            let marchRows = lines.dropFirst().filter {
                String(decoding: $0.prefix(30), as: UTF8.self).contains("/03/2016;")
            }
            try #require(marchRows.count > 20)
            let more = dir.appendingPathComponent("more-returns.csv")
            // The same people returned again: new case numbers, the other fields as they were.
            let rows = [lines[0]] + marchRows.prefix(40).map { Data("X".utf8) + $0 }
            try Data(rows.joined(separator: [UInt8(ascii: "\n")])).write(to: more)
            let report = try await Importer(store: store).importFile(
                more, profile: try ProfileCatalogue.load("sv-dgme-retornos"), dryRun: false)
            #expect(report.rejected == 0)
            let after = try await shown()
            #expect(after == (try await apiTable(client, march)).cells.first?.value)
            #expect((after ?? 0) > (before ?? 0) + 20)

            // Persons linked: the page now shows the distinct persons.
            _ = try await PersonLinkingService(store: store).link(
                try PersonTests.linking(), by: .commandOperator("test"))
            let (_, linked) = try await get(client, "/returns")
            #expect(linked.contains("returned-persons-by-month"))
        }
        try await store.close()
    }

    @Test("Every download link answers with data, and the SDMX ones in SDMX-CSV")
    func downloadsWork() async throws {
        let (store, _) = try await loadedStore()
        let token = try await token(store)
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            var checked = 0
            for page in Self.pages {
                let (_, html) = try await get(client, page + "?department=SV-SS", token: token)
                for link in html.components(separatedBy: "<a href=\"").dropFirst() where link.contains("download>") {
                    let href = String(link.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
                    let (status, body) = try await get(client, href, token: token)
                    #expect(status == .ok, "\(page): \(href) → \(body.prefix(200))")
                    if href.contains("format=sdmx-csv") { #expect(body.hasPrefix("STRUCTURE,STRUCTURE_ID,ACTION")) }
                    if href.contains("filter=") { #expect(href.contains("department%3ASV-SS")) }
                    checked += 1
                }
            }
            #expect(checked > 20)
        }
        try await store.close()
    }

    @Test("Bad parameters get a 400 naming the parameter, never echoing its value; no personal data on any page")
    func badInputAndPrivacy() async throws {
        let (store, dir) = try await loadedStore()
        let token = try await token(store)
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            for (parameter, value) in [
                ("period", "Q9-2016"), ("country", "XXZ"), ("department", "<script>"), ("sex", "W"),
                ("lang", "fr"), ("map", "rivers"), ("map_value", "total"),
            ] {
                let (status, body) = try await get(
                    client,
                    "/returns?\(parameter)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
                #expect(status == .badRequest)
                #expect(body.contains("`\(parameter)`") && !body.contains(value), "\(parameter): \(body)")
            }
            let (status, _) = try await get(client, "/assets/secret.txt")
            #expect(status == .notFound)

            // Names and document numbers of the generated people appear on no page.
            let persons = try Fixtures.truthRows(dir.appendingPathComponent("truth/persons.csv"))
            let fullNames = persons.prefix(2000).map { "\($0["given_names"]!) \($0["first_surname"]!)" }
            let documents = persons.prefix(2000).flatMap { [$0["national_id"]!, $0["passport"]!] }.filter {
                $0.count >= 6
            }
            #expect(fullNames.count > 100)
            for page in Self.pages {
                let (_, html) = try await get(client, page + "?lang=en", token: token)
                let leaked = (fullNames + documents).filter { html.contains($0) }
                #expect(leaked.isEmpty, "\(page) shows \(leaked.count) personal values")
            }
        }
        try await store.close()
    }

    @Test(
        "Markup in any query parameter of any page, or in a file's name, comes out escaped: no page carries it as markup"
    )
    func markupEscaped() async throws {
        let (store, dir) = try await loadedStore()
        let token = try await token(store)
        // A file whose name is markup, imported like any export; the imports page lists it.
        let payload = "\"><svg onload=alert(1)>"
        let source = dir.appendingPathComponent("sv-dgme-retornos.csv")
        let hostile = dir.appendingPathComponent(payload + ".csv")
        // The first rows only: the same bytes as an earlier file would be no new import.
        let bytes = try Data(contentsOf: source)
        let thirtyLines = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }[29]
        try bytes.prefix(through: thirtyLines).write(to: hostile)
        _ = try await Importer(store: store).importFile(
            hostile, profile: try ProfileCatalogue.load("sv-dgme-retornos"), dryRun: false)
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            let (_, imports) = try await get(client, "/imports", token: token)
            #expect(!imports.contains("<svg onload") && imports.contains("&lt;svg onload=alert(1)&gt;"))
            // Every page the API document describes, each of its parameters (and the pages' own) set to
            // markup: an HTML answer never carries it unescaped, whatever the status.
            let (_, document) = try await get(client, "/openapi.json")
            let paths =
                try #require(
                    try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])["paths"]
                as? [String: [String: Any]]
            let value = payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            var pages = 0
            for (path, operations) in try #require(paths) {
                guard let get = operations["get"] as? [String: Any] else { continue }
                let declared = (get["parameters"] as? [[String: Any]] ?? []).filter { $0["in"] as? String == "query" }
                    .compactMap { $0["name"] as? String }
                let uri = path.replacingOccurrences(of: "{id}", with: "1")
                    .replacingOccurrences(of: #"\{[a-z]+\}"#, with: value, options: .regularExpression)
                for name in Set(declared + ["lang", "done", "period", "scope"]) {
                    let (_, body) = try await self.get(client, "\(uri)?\(name)=\(value)", token: token)
                    guard body.contains("<html") || body.contains("<!DOCTYPE") else { continue }
                    pages += 1
                    #expect(!body.contains("<svg onload"), "\(path)?\(name)= carries the markup")
                }
            }
            // Pages answered as HTML (a parameter refused before the page is drawn answers as JSON).
            #expect(pages >= 18)
        }
        try await store.close()
    }

    @Test("Boundaries join the shipped divisions: every unit drawn has a code Puente knows")
    func boundaries() throws {
        let reference = ReferenceData.shared
        for (country, level, expected) in [
            ("SLV", BoundaryMap.Level.municipality, 262), ("SLV", .municipality2024, 44),
            ("GTM", .municipality, 340), ("HND", .municipality, 297),
        ] {
            let map = try #require(BoundaryMap.of(country: country, level: level))
            let ids = Set(map.units.map(\.id))
            #expect(ids.count == expected, "\(country) \(level)")
            let known =
                level == .municipality2024
                ? Set(reference.geography("SV")!.view("municipality_2024")!.units.codes.map(\.id))
                : Set(reference.geography(country)!.baseUnits.codes.map(\.id))
            #expect(ids.isSubset(of: known), "\(country): \(ids.subtracting(known).sorted().prefix(5))")
            #expect(map.units.allSatisfy { $0.path.hasPrefix("M") && $0.path.hasSuffix("z") })
            #expect(map.width == 600 && map.height > 100)
        }
        #expect(BoundaryMap.of(country: "GTM", level: .municipality2024) == nil)
    }
}
