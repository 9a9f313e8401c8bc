import Foundation
import PuenteReference
import PuenteStatistics

/// One labelled figure of a chart.
struct ChartRow: Sendable {
    var code: String
    var label: String
    var cell: StatisticsCell
}

/// Charts and maps drawn as SVG on the server. Each is a `<figure>` with a title, a text summary (the
/// SVG's `<desc>`), the chart, and the data table behind it; no script is needed to read any of them.
/// Suppressed figures are drawn as hatched marks and written `x`.
struct Charts {
    let state: DashboardState

    // MARK: Numbers

    /// A figure as published: grouped digits (`12 345` in Spanish, `12,345` in English), one decimal
    /// for ratios, `x` when suppressed, `—` when it cannot be computed (a ratio without denominator).
    func number(_ cell: StatisticsCell?, decimals: Int = 0) -> String {
        guard let cell else { return "0" }
        guard let value = cell.value else { return cell.suppressed ? "x" : "—" }
        // A rate over a population that is not a verified census figure is marked (see `estimateNote`).
        return number(value, decimals: decimals) + (cell.estimatedPopulation ? "*" : "")
    }

    func number(_ value: Double, decimals: Int = 0) -> String {
        let scaled = (abs(value) * pow(10, Double(decimals))).rounded()
        let whole = Int(scaled / pow(10, Double(decimals)))
        var digits = String(whole), grouped = ""
        let separator = state.language == .es ? "\u{202F}" : ","
        while digits.count > 3 {
            grouped = separator + String(digits.suffix(3)) + grouped
            digits = String(digits.dropLast(3))
        }
        var text = (value < 0 && scaled > 0 ? "−" : "") + digits + grouped
        if decimals > 0 {
            let fraction = Int(scaled) % Int(pow(10, Double(decimals)))
            text += (state.language == .es ? "," : ".") + String(fraction).leftPadded(to: decimals)
        }
        return text
    }

    /// A change in percent, signed: `+4,2 %`.
    func change(_ percent: Double?) -> String {
        guard let percent else { return "—" }
        return (percent >= 0 ? "+" : "−") + number(abs(percent), decimals: 1) + "\u{00A0}%"
    }

    private func mark(_ cell: StatisticsCell) -> String {
        cell.suppressed ? " class=\"supp\"" : ""
    }

    // MARK: Figure frame

    /// The frame every chart shares: title, SVG, data table and downloads.
    func figure(
        id: String, title: String, summary: String, size: (width: Int, height: Int), svg: String,
        table: String, downloads: [Download]
    ) -> String {
        let links = downloads.map { "<a href=\"\(HTML.escape($0.url))\" download>\(HTML.escape($0.label))</a>" }.joined(
            separator: " ")
        return """
            <figure id="\(id)"><figcaption>\(HTML.escape(title))</figcaption>
            <svg role="img" aria-labelledby="\(id)-t \(id)-d" viewBox="0 0 \(size.width) \(size.height)">\
            <title id="\(id)-t">\(HTML.escape(title))</title><desc id="\(id)-d">\(HTML.escape(summary))</desc>\(svg)</svg>
            <details><summary>\(state.t("Tabla de datos", "Data table"))</summary>\(table)</details>
            <p class="dl">\(state.t("Descargar", "Download")): \(links)</p></figure>
            """
    }

    /// A plain data table: header cells, then rows whose first cell is a label.
    func table(id: String, headers: [String], rows: [[String]], marked: [Bool] = []) -> String {
        var html =
            "<table id=\"\(id)\"><thead><tr>" + headers.map { "<th scope=\"col\">\(HTML.escape($0))</th>" }.joined()
            + "</tr></thead><tbody>"
        for (i, row) in rows.enumerated() {
            let supp = i < marked.count && marked[i] ? " class=\"supp\"" : ""
            html +=
                "<tr\(supp)><th scope=\"row\">\(HTML.escape(row.first ?? ""))</th>"
                + row.dropFirst().map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// The text alternative of a chart: its extent and extremes, in words.
    func summary(_ rows: [ChartRow], decimals: Int = 0) -> String {
        let published = rows.filter { $0.cell.value != nil }
        guard let high = published.max(by: { $0.cell.value! < $1.cell.value! }),
            let low = published.min(by: { $0.cell.value! < $1.cell.value! })
        else {
            return state.t("Sin cifras publicables.", "No publishable figures.")
        }
        let hidden = rows.count - published.count
        return state.t(
            "\(rows.count) valores; el más alto: \(high.label) (\(number(high.cell, decimals: decimals))); el más bajo: \(low.label) (\(number(low.cell, decimals: decimals)))",
            "\(rows.count) values; highest: \(high.label) (\(number(high.cell, decimals: decimals))); lowest: \(low.label) (\(number(low.cell, decimals: decimals)))"
        )
            + (hidden > 0 ? state.t("; \(hidden) suprimidos.", "; \(hidden) suppressed.") : ".")
    }

    // MARK: Charts

    /// Vertical columns, for a time series (or any ordered sequence, with its own `labelHeader`).
    func columns(
        id: String, title: String, rows: [ChartRow], labelHeader: String? = nil, valueHeader: String,
        downloads: [Download], decimals: Int = 0
    ) -> String {
        let width = 640.0, height = 200.0, left = 48.0, bottom = 24.0
        let maxValue = max(rows.compactMap(\.cell.value).max() ?? 1, 1)
        let step = rows.isEmpty ? 0 : (width - left) / Double(rows.count)
        var svg = axis(maxValue: maxValue, left: left, width: width, height: height, decimals: decimals)
        // Label every column when they fit, else every third.
        let labelEvery = rows.count > 16 ? 3 : 1
        for (i, row) in rows.enumerated() {
            let x = left + Double(i) * step + step * 0.15
            let w = max(step * 0.7, 1)
            let value = row.cell.value ?? maxValue * 0.05
            let h = value / maxValue * (height - 10)
            svg +=
                "<rect\(mark(row.cell)) x=\"\(f(x))\" y=\"\(f(height - h))\" width=\"\(f(w))\" height=\"\(f(h))\"><title>\(HTML.escape(row.label)): \(number(row.cell, decimals: decimals))</title></rect>"
            if i % labelEvery == 0 {
                svg +=
                    "<text x=\"\(f(x + w / 2))\" y=\"\(f(height + 16))\" text-anchor=\"middle\">\(HTML.escape(shortPeriod(row.code)))</text>"
            }
        }
        let table = table(
            id: "\(id)-table", headers: [labelHeader ?? state.t("Periodo", "Period"), valueHeader],
            rows: rows.map { [$0.label, number($0.cell, decimals: decimals)] }, marked: rows.map(\.cell.suppressed))
        return figure(
            id: id, title: title, summary: summary(rows, decimals: decimals), size: (Int(width), Int(height + bottom)),
            svg: svg, table: table, downloads: downloads)
    }

    /// Horizontal bars, largest first unless told otherwise, for categories (countries, crossing points, sources).
    func bars(
        id: String, title: String, rows: [ChartRow], valueHeader: String, downloads: [Download],
        decimals: Int = 0, limit: Int = 12, sorted largestFirst: Bool = true
    ) -> String {
        let sorted = largestFirst ? rows.sorted { ($0.cell.value ?? -1) > ($1.cell.value ?? -1) } : rows
        let shown = Array(sorted.prefix(limit))
        let rowHeight = 22.0, labelWidth = 200.0, width = 640.0
        let maxValue = max(shown.compactMap(\.cell.value).max() ?? 1, 1)
        let height = rowHeight * Double(max(shown.count, 1))
        var svg = ""
        for (i, row) in shown.enumerated() {
            let y = Double(i) * rowHeight
            let w = (row.cell.value ?? maxValue * 0.03) / maxValue * (width - labelWidth - 80)
            svg +=
                "<text x=\"\(f(labelWidth - 6))\" y=\"\(f(y + 15))\" text-anchor=\"end\">\(HTML.escape(String(row.label.prefix(30))))</text>"
            svg +=
                "<rect\(mark(row.cell)) x=\"\(f(labelWidth))\" y=\"\(f(y + 3))\" width=\"\(f(max(w, 1)))\" height=\"\(f(rowHeight - 6))\"><title>\(HTML.escape(row.label)): \(number(row.cell, decimals: decimals))</title></rect>"
            svg +=
                "<text x=\"\(f(labelWidth + max(w, 1) + 4))\" y=\"\(f(y + 15))\">\(number(row.cell, decimals: decimals))</text>"
        }
        let table = table(
            id: "\(id)-table", headers: [title, valueHeader],
            rows: sorted.map { [$0.label, number($0.cell, decimals: decimals)] }, marked: sorted.map(\.cell.suppressed))
        return figure(
            id: id, title: title, summary: summary(sorted, decimals: decimals), size: (Int(width), Int(height)),
            svg: svg, table: table, downloads: downloads)
    }

    /// A population pyramid: women to the left, men to the right, youngest at the bottom.
    func pyramid(
        id: String, title: String, ages: [(label: String, female: StatisticsCell?, male: StatisticsCell?)],
        downloads: [Download]
    ) -> String {
        let rowHeight = 16.0, width = 640.0, middle = 320.0, gap = 50.0
        let maxValue = max(ages.flatMap { [$0.female?.value, $0.male?.value] }.compactMap { $0 }.max() ?? 1, 1)
        let height = rowHeight * Double(ages.count) + 20
        var svg =
            "<text x=\"\(f(middle - gap - 4))\" y=\"12\" text-anchor=\"end\">\(state.t("Mujeres", "Women"))</text>"
        svg += "<text x=\"\(f(middle + gap + 4))\" y=\"12\">\(state.t("Hombres", "Men"))</text>"
        for (i, age) in ages.reversed().enumerated() {
            let y = 20 + Double(i) * rowHeight
            svg += "<text x=\"\(f(middle))\" y=\"\(f(y + 12))\" text-anchor=\"middle\">\(HTML.escape(age.label))</text>"
            for (cell, sign, cls) in [(age.female, -1.0, "f"), (age.male, 1.0, "m")] {
                guard let cell else { continue }
                let w = (cell.value ?? maxValue * 0.02) / maxValue * (middle - gap - 10)
                let x = sign < 0 ? middle - gap - w : middle + gap
                let classes = cell.suppressed ? "supp" : cls
                svg +=
                    "<rect class=\"\(classes)\" x=\"\(f(x))\" y=\"\(f(y + 2))\" width=\"\(f(max(w, 0.5)))\" height=\"\(f(rowHeight - 3))\"><title>\(HTML.escape(age.label)), \(sign < 0 ? state.t("mujeres", "women") : state.t("hombres", "men")): \(number(cell))</title></rect>"
            }
        }
        let rows =
            ages.map { ChartRow(code: $0.label, label: $0.label, cell: $0.female ?? StatisticsCell.zero) }
            + ages.map { ChartRow(code: $0.label, label: $0.label, cell: $0.male ?? StatisticsCell.zero) }
        let table = table(
            id: "\(id)-table",
            headers: [state.t("Edad", "Age"), state.t("Mujeres", "Women"), state.t("Hombres", "Men")],
            rows: ages.map { [$0.label, number($0.female), number($0.male)] },
            marked: ages.map { ($0.female?.suppressed ?? false) || ($0.male?.suppressed ?? false) })
        return figure(
            id: id, title: title, summary: summary(rows), size: (Int(width), Int(height)), svg: svg,
            table: table, downloads: downloads)
    }

    /// A choropleth map: each unit coloured by its value in five classes of equal count (quantiles),
    /// units without a published value hatched or left blank (and, with `missingLabel`, named as
    /// without data rather than counted as zero).
    func choropleth(
        id: String, title: String, map: BoundaryMap, values: [String: StatisticsCell],
        valueHeader: String, downloads: [Download], decimals: Int = 0, missingLabel: String? = nil
    ) -> String {
        let published = values.values.compactMap(\.value).filter { $0 > 0 }.sorted()
        let breaks = (1..<5).map {
            published.isEmpty ? 0 : published[min(published.count - 1, published.count * $0 / 5)]
        }
        func shade(_ value: Double) -> Int { breaks.filter { value >= $0 }.count }
        var svg = ""
        var rows: [ChartRow] = []
        for unit in map.units {
            let cell = values[unit.id]
            let cls =
                switch cell {
                case nil: "q-none"
                case let c? where c.suppressed: "supp"
                case let c?: "q\(shade(c.value ?? 0))" + (c.estimatedPopulation ? " est" : "")
                }
            svg +=
                "<path class=\"\(cls)\" d=\"\(unit.path)\"><title>\(HTML.escape(unit.name)): \(cell.map { number($0, decimals: decimals) } ?? missingLabel ?? "0")</title></path>"
            // A unit without a figure is a zero, unless the map says it has no data (then it is not listed).
            if cell != nil || missingLabel == nil {
                rows.append(ChartRow(code: unit.id, label: unit.name, cell: cell ?? StatisticsCell.zero))
            }
        }
        // Legend: the lower bound of each class.
        let legendY = map.height + 8
        for (i, lower) in ([published.first ?? 0] + breaks).enumerated() {
            svg +=
                "<rect class=\"q\(i)\" x=\"\(i * 90)\" y=\"\(legendY)\" width=\"14\" height=\"14\"/><text x=\"\(i * 90 + 18)\" y=\"\(legendY + 12)\">≥ \(number(lower, decimals: decimals))</text>"
        }
        let sorted = rows.sorted { ($0.cell.value ?? -1) > ($1.cell.value ?? -1) }
        let table = table(
            id: "\(id)-table", headers: [state.t("Unidad", "Unit"), state.t("Código", "Code"), valueHeader],
            rows: sorted.map { [$0.label, $0.code, number($0.cell, decimals: decimals)] },
            marked: sorted.map(\.cell.suppressed))
        return figure(
            id: id, title: title, summary: summary(sorted, decimals: decimals), size: (map.width, map.height + 30),
            svg: svg, table: table, downloads: downloads) + estimateNote(Array(values.values))
    }

    /// The note explaining `*`, when some rate of `cells` divides by a population that is not a verified
    /// census figure.
    func estimateNote(_ cells: [StatisticsCell]) -> String {
        guard cells.contains(where: \.estimatedPopulation) else { return "" }
        return "<p class=\"note estimate\">"
            + state.t(
                "* Tasa sobre una población estimada (la población censal del departamento repartida por superficie) o tomada de una fuente secundaria sin verificar; en el mapa, con borde punteado. Para solo tasas censales: population=census en la API.",
                "* Rate over an estimated population (the department's census population shared by area) or one from an unverified secondary source; dotted outline on the map. For census-based rates only: population=census in the API."
            ) + "</p>"
    }

    // MARK: Helpers

    private func axis(maxValue: Double, left: Double, width: Double, height: Double, decimals: Int) -> String {
        var out = ""
        for fraction in [0.0, 0.5, 1.0] {
            let y = height - fraction * (height - 10)
            out += "<line class=\"grid\" x1=\"\(f(left))\" x2=\"\(f(width))\" y1=\"\(f(y))\" y2=\"\(f(y))\"/>"
            out +=
                "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(number(maxValue * fraction, decimals: decimals))</text>"
        }
        return out
    }

    /// `2016-03` → `03/16`; years and quarters unchanged but shortened.
    private func shortPeriod(_ code: String) -> String {
        if code.count == 7, code.dropFirst(4).hasPrefix("-Q") {
            return String(code.suffix(2)) + "/" + String(code.dropFirst(2).prefix(2))
        }
        if code.count == 7 { return String(code.suffix(2)) + "/" + String(code.dropFirst(2).prefix(2)) }
        return code
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// A download link of a chart's data.
struct Download: Sendable {
    var label: String
    var url: String
}

extension StatisticsCell {
    /// A count of zero: what a breakdown leaves out because nothing was recorded.
    static var zero: StatisticsCell {
        StatisticsCell(key: [], value: 0, obsStatus: "A", confStatus: "F")
    }
}
