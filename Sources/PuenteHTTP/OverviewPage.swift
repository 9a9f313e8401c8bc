import Foundation
import PuenteCore
import PuenteReference
import PuenteStatistics

/// The first page of the dashboard: headline figures, returns by month, by sex and age, and the top
/// municipalities. Rendered on the server as plain HTML with an inline SVG chart: no scripts, no fonts,
/// a few kilobytes, so it opens on a slow link. Every figure goes through disclosure control.
struct OverviewPage {
    enum Language: String { case es, en }

    let engine: StatisticsEngine
    let reference: ReferenceData
    let policy: DisclosurePolicy
    let language: Language

    private func t(_ es: String, _ en: String) -> String { language == .es ? es : en }

    func render() async throws -> String {
        let returns = try await engine.run(StatisticsQuery(measure: .returns), policy: policy)
        let entries = try await engine.run(StatisticsQuery(measure: .entries), policy: policy)
        let exits = try await engine.run(StatisticsQuery(measure: .exits), policy: policy)
        let byMonth = try await engine.run(StatisticsQuery(measure: .returns, by: [.month]), policy: policy)
        let bySexAge = try await engine.run(StatisticsQuery(measure: .returns, by: [.ageBroad, .sex]), policy: policy)
        let byMuni = try await engine.run(StatisticsQuery(measure: .returns, by: [.municipality]), policy: policy)

        var html = """
        <!doctype html><html lang="\(language.rawValue)"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Puente — \(t("Resumen", "Overview"))</title>
        <style>body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a}
        .cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:.75rem 1rem;min-width:10rem}
        .card b{display:block;font-size:1.8rem}table{border-collapse:collapse;margin:.5rem 0}td,th{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right}
        th:first-child,td:first-child{text-align:left}svg text{font-size:11px}nav a{margin-right:1rem}</style></head><body>
        <nav><a href="/?lang=es">Español</a><a href="/?lang=en">English</a><a href="/openapi.json">API</a></nav>
        <h1>Puente — \(t("resumen del nodo", "node overview"))</h1>
        <p>\(t("Cifras protegidas: llevan un pequeño ruido aleatorio, siempre el mismo para la misma cifra, y los valores menores que \(policy.threshold) se suprimen (x).",
               "Protected figures: they carry small random noise, always the same for the same figure, and values below \(policy.threshold) are suppressed (x)."))</p>
        <div class="cards">
        <div class="card" id="total-returns">\(t("Retornos", "Returns"))<b>\(format(returns.total))</b></div>
        <div class="card" id="total-entries">\(t("Entradas", "Entries"))<b>\(format(entries.total))</b></div>
        <div class="card" id="total-exits">\(t("Salidas", "Exits"))<b>\(format(exits.total))</b></div>
        </div>
        <h2>\(t("Retornos por mes", "Returns by month"))</h2>
        \(barChart(byMonth))
        <h2>\(t("Retornos por sexo y edad", "Returns by sex and age"))</h2>
        \(sexAgeTable(bySexAge))
        <h2>\(t("Municipios con más retornos", "Municipalities with most returns"))</h2>
        \(topTable(byMuni))
        </body></html>
        """
        html += "\n"
        return html
    }

    private func format(_ cell: StatisticsCell) -> String {
        guard let value = cell.value else { return "x" }
        let v = Int(value.rounded())
        var digits = String(abs(v))
        var grouped = ""
        while digits.count > 3 { grouped = (language == .es ? " " : ",") + String(digits.suffix(3)) + grouped; digits = String(digits.dropLast(3)) }
        return (v < 0 ? "−" : "") + digits + grouped
    }

    private func barChart(_ table: StatisticsTable) -> String {
        let cells = table.cells.filter { $0.key[0] != "_U" }
        guard !cells.isEmpty else { return "<p>\(t("Sin datos.", "No data."))</p>" }
        let maxValue = max(cells.compactMap(\.value).max() ?? 1, 1)
        let width = 640, height = 220, barWidth = max(4, (width - 40) / max(cells.count, 1) - 4)
        var svg = "<svg role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 \(width) \(height + 30)\" width=\"100%\">"
        svg += "<title id=\"chart-title\">\(t("Retornos por mes", "Returns by month"))</title>"
        for (i, cell) in cells.enumerated() {
            let h = Int(Double(cell.value ?? 0) / Double(maxValue) * Double(height - 20))
            let x = 30 + i * (barWidth + 4)
            svg += "<rect x=\"\(x)\" y=\"\(height - h)\" width=\"\(barWidth)\" height=\"\(h)\" fill=\"#2a6f97\"><title>\(cell.key[0]): \(format(cell))</title></rect>"
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(height + 14)\" text-anchor=\"middle\">\(cell.key[0].suffix(2))</text>"
        }
        svg += "</svg>"
        var rows = ""
        for cell in cells { rows += "<tr><td>\(cell.key[0])</td><td>\(format(cell))</td></tr>" }
        return svg + "<details><summary>\(t("Tabla de datos", "Data table"))</summary><table id=\"returns-by-month\"><tr><th>\(t("Mes", "Month"))</th><th>\(t("Retornos", "Returns"))</th></tr>\(rows)</table></details>"
    }

    private func sexAgeTable(_ table: StatisticsTable) -> String {
        let ages = ["Y0T14", "Y15T64", "Y_GE65", "_U"]
        let values = Dictionary(uniqueKeysWithValues: table.cells.map { ($0.key, $0) })
        var rows = ""
        for age in ages {
            let f = values[[age, "F"]], m = values[[age, "M"]]
            if f == nil && m == nil { continue }
            let name = reference.codeList("CL_AGE")?.code(age).map { language == .es ? $0.name : ($0.nameEN ?? $0.name) } ?? age
            rows += "<tr><td>\(name)</td><td>\(f.map(format) ?? "0")</td><td>\(m.map(format) ?? "0")</td></tr>"
        }
        return "<table id=\"returns-by-sex-age\"><tr><th>\(t("Edad", "Age"))</th><th>\(t("Mujeres", "Women"))</th><th>\(t("Hombres", "Men"))</th></tr>\(rows)</table>"
    }

    private func topTable(_ table: StatisticsTable) -> String {
        let names = Dictionary(reference.geographies.values.flatMap { $0.baseUnits.codes.map { ($0.id, $0.name) } },
                               uniquingKeysWith: { a, _ in a })
        let top = table.cells.filter { $0.key[0] != "_U" && $0.value != nil }.sorted { ($0.value ?? 0) > ($1.value ?? 0) }.prefix(10)
        var rows = ""
        for cell in top {
            let code = cell.key[0]
            let population = reference.population[code]?.population ?? 0
            let rate = population > 0 ? Double(cell.value ?? 0) / population * 1000 : nil
            rows += "<tr><td>\(names[code] ?? code) <small>\(code)</small></td><td>\(format(cell))</td><td>\(rate.map { String(format: "%.1f", $0) } ?? "—")</td></tr>"
        }
        return "<table id=\"top-municipalities\"><tr><th>\(t("Municipio", "Municipality"))</th><th>\(t("Retornos", "Returns"))</th><th>\(t("por 1 000 hab.", "per 1,000 inhabitants"))</th></tr>\(rows)</table>"
    }
}
