import PuenteCore
import PuenteReference
import PuenteServices
import PuenteStatistics

/// The hub's page for regional analysts: each member country's returns per 1,000 inhabitants on a map
/// of the region, the countries side by side, and what each has sent. A country that has not reported
/// the year is shown without data, never as zero.
extension DashboardPages {
    func region(_ context: Context) async throws -> String {
        let state = context.state
        let noData = state.t("sin dato", "no data")
        guard let regional else {
            return
                "<p class=\"none\">\(state.t("Este nodo no recibe paquetes.", "This node receives no packages."))</p>"
        }
        let byYear = try await regional.table(measure: .returns, by: [.reportingCountry, .year])
        let years = Set(byYear.cells.map { $0.key[1] }).sorted()
        let year = state.period.map { String($0.prefix(4)) }.flatMap { years.contains($0) ? $0 : nil } ?? years.last
        guard let year else {
            return
                "<p class=\"none\" id=\"region-empty\">\(state.t("Ningún país ha enviado cifras todavía.", "No country has sent figures yet."))</p>"
        }
        let coverage = try await regional.coverage()
        var mapValues: [String: StatisticsCell] = [:]
        var rows: [[String]] = []
        var marked: [Bool] = []
        for country in byYear.countries {
            let cell = byYear.cells.first { $0.key == [country, year] }
            let name = labels.name(.reportingCountry, country, state)
            let population = regional.population(of: country)
            let sent = coverage.filter { $0.country == country }
            let last = sent.compactMap(\.lastPublishedAt).max().map { String($0.prefix(10)) } ?? "—"
            let years = Set(sent.flatMap(\.years)).sorted().joined(separator: ", ")
            guard let cell, let value = cell.value, cell.status != .missing else {
                rows.append([
                    name, noData, population.map { context.charts.number($0.population) } ?? "—", noData, years, last,
                ])
                marked.append(true)
                continue
            }
            var rate: String = "—"
            if let population, population.population > 0 {
                let perThousand = value / population.population * 1000
                mapValues[country] = StatisticsCell(key: [country], value: perThousand, obsStatus: "E")
                rate = context.charts.number(perThousand, decimals: 2)
            }
            rows.append([
                name, context.charts.number(value),
                population.map { "\(context.charts.number($0.population)) (\($0.reference))" } ?? "—",
                rate, years, last,
            ])
            marked.append(cell.status != .complete)
        }
        let title = state.t(
            "Retornos por 1 000 habitantes, \(year), por país que registra",
            "Returns per 1,000 inhabitants, \(year), by reporting country")
        var html = "<p class=\"switch\">" + state.t("Año", "Year") + ": "
        html += years.map { y in
            y == year
                ? "<strong>\(y)</strong>"
                : "<a href=\"\(HTML.escape(state.link("/region", changing: ["period": y])))\">\(y)</a>"
        }.joined(separator: " · ")
        html += "</p>"
        if let map = BoundaryMap.region {
            html += context.charts.choropleth(
                id: "region-map", title: title, map: map, values: mapValues,
                valueHeader: state.t("Por 1 000 habitantes", "Per 1,000 inhabitants"),
                downloads: [
                    Download(label: "JSON", url: "/api/v1/regional/stats?measure=returns&by=reporting_country,year")
                ], decimals: 2, missingLabel: noData)
        }
        html += "<section id=\"region-countries\"><h2>\(state.t("Países", "Countries"))</h2>"
        html += context.charts.table(
            id: "region-table",
            headers: [
                state.t("País", "Country"), state.t("Retornos", "Returns"),
                state.t("Población (censo)", "Population (census)"), state.t("Por 1 000", "Per 1,000"),
                state.t("Años recibidos", "Years received"), state.t("Último paquete", "Last package"),
            ], rows: rows, marked: marked)
        html +=
            "<p class=\"note\">"
            + state.t(
                "Cada cifra es la que el país publica, con su propia protección; un país que no ha enviado el año aparece sin dato, nunca como cero. Las poblaciones son las del último censo de cada país.",
                "Each figure is the one the country publishes, with its own protection; a country that has not sent the year shows no data, never zero. Populations are each country's latest census."
            ) + "</p></section>"
        return html
    }
}

/// The hub's page of mirror statistics: for each pair of countries and each flow, what each side
/// records, their ratio and the undercount U with its interval; flagged pairs stand out.
extension DashboardPages {
    func mirror(_ context: Context) async throws -> String {
        let state = context.state
        guard let regional, let mirror else {
            return
                "<p class=\"none\">\(state.t("Este nodo no recibe paquetes.", "This node receives no packages."))</p>"
        }
        var known = Set(try await regional.table(measure: .returns, by: [.year]).cells.map { $0.key[0] })
        // A national node's own years count too: its records are one side of its pairs.
        if !hub {
            let own = try await engine.run(StatisticsQuery(measure: .events, by: [.year]), policy: policy)
            known.formUnion(own.cells.map { $0.key[0] })
        }
        let years = known.sorted()
        let year = state.period.map { String($0.prefix(4)) }.flatMap { years.contains($0) ? $0 : nil } ?? years.last
        guard let year else {
            return
                "<p class=\"none\" id=\"mirror-empty\">\(state.t("Ningún país ha enviado cifras todavía.", "No country has sent figures yet."))</p>"
        }
        let pairs = try await mirror.pairs(period: year)
        func name(_ country: String) -> String { labels.name(.reportingCountry, country, state) }
        func figure(_ side: MirrorStatistics.Side) -> String {
            guard let value = side.figure else { return state.t("sin dato", "no data") }
            let mark =
                switch side.protection {
                case "perturbed": " (E)"
                case "suppressed_contributions": " (x)"
                default: ""
                }
            return context.charts.number(value) + mark
        }
        func ratio(_ v: Double?) -> String { v.map { context.charts.number($0, decimals: 3) } ?? "—" }
        func status(_ p: MirrorStatistics.Pair) -> String {
            if p.status == "missing" { return state.t("sin dato de un lado", "one side missing") }
            if p.flagged { return state.t("discrepancia", "discrepancy") }
            if p.status == "incomplete" { return state.t("incompleto", "incomplete") }
            return state.t("coherente", "consistent")
        }
        func row(_ p: MirrorStatistics.Pair) -> [String] {
            let difference = p.difference.map { context.charts.number($0) } ?? "—"
            let interval = p.low.map { "\(ratio($0)) – \(ratio(p.high))" } ?? "—"
            return [
                name(p.sender.country), name(p.receiver.country), figure(p.sender), figure(p.receiver), difference,
                ratio(p.ratio), ratio(p.adjusted), interval, status(p),
            ]
        }
        var html = "<p class=\"switch\">" + state.t("Año", "Year") + ": "
        html += years.map { y in
            y == year
                ? "<strong>\(y)</strong>"
                : "<a href=\"\(HTML.escape(state.link("/region/mirror", changing: ["period": y])))\">\(y)</a>"
        }.joined(separator: " · ")
        html += "</p>"
        let flows: [(MirrorStatistics.Flow, String, Bilingual, Bilingual)] = [
            (
                .returns, "mirror-returns",
                Bilingual(
                    "Retornos: país que devuelve y país que recibe", "Returns: returning country and receiving country"),
                Bilingual("Devueltos según el país que devuelve", "Returned, as the returning country reports"),
            ),
            (
                .movements, "mirror-movements",
                Bilingual(
                    "Salidas de un país y entradas en el vecino",
                    "Exits from one country and entries into its neighbour"),
                Bilingual("Salidas hacia el vecino", "Exits to the neighbour"),
            ),
        ]
        for (flow, id, title, senderHeader) in flows {
            let rows = pairs.filter { $0.flow == flow.rawValue }
            html += "<section id=\"\(id)\"><h2>\(state.t(title))</h2>"
            guard !rows.isEmpty else {
                html +=
                    "<p class=\"none\">\(state.t("No hay cifras de ambos lados.", "No figures from both sides."))</p></section>"
                continue
            }
            html += context.charts.table(
                id: id + "-table",
                headers: [
                    state.t("De", "From"), state.t("A", "To"), state.t(senderHeader),
                    state.t("Registrados por el receptor", "Recorded by the receiver"),
                    state.t("Diferencia", "Difference"),
                    state.t("Razón", "Ratio"), "U", state.t("Intervalo 95 %", "95 % interval"),
                    state.t("Estado", "Status"),
                ],
                rows: rows.map(row), marked: rows.map { $0.flagged || $0.status != "complete" })
            html +=
                "<p class=\"dl\">\(state.t("Descargar", "Download")): <a href=\"/api/v1/regional/mirror?period=\(year)&amp;flow=\(flow.rawValue)\" download>JSON</a></p></section>"
        }
        html +=
            "<p class=\"note\">"
            + state.t(
                "U = cifra del que envía × R / cifra del que recibe × R, con coeficientes de duración de estancia R (ambos lados cuentan cada evento: R = 0,53). El intervalo es un bootstrap sobre los trimestres o meses que ambos lados informaron; se marca una discrepancia cuando |log U| > log 1,25. (E): cifra perturbada por el método de claves de celda; (x): incluye una celda suprimida.",
                "U = sender's figure × R / receiver's figure × R, with duration-of-stay coefficients R (both sides count every event: R = 0.53). The interval is a bootstrap over the quarters or months both sides reported; a discrepancy is flagged when |log U| > log 1.25. (E): figure perturbed by the cell key method; (x): includes a suppressed cell."
            ) + "</p>"
        return html
    }
}
