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
