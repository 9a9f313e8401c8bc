import Foundation
import PuenteCore

extension StatisticsTable {
    /// CSV with one column per dimension, then `value`, `obs_status`, `conf_status` and the changes;
    /// the total last, with `_T` in every dimension column. Suppressed values are empty and flagged.
    ///
    /// Rates carry two more columns: `population_basis` (`census`, `census_unverified` or `estimated`) and
    /// `population_reference` (the census date or year).
    public func csv() -> String {
        let rates = measure == .returnsPer1000
        var out = CSVWriter.line(
            dimensions.map(\.rawValue) + [
                "value", "obs_status", "conf_status", "change_previous_pct",
                "change_year_ago_pct",
            ] + (rates ? ["population_basis", "population_reference"] : []))
        for cell in cells + [totalRow] {
            out += CSVWriter.line(
                cell.key + [
                    Self.format(cell.value), cell.obsStatus, cell.confStatus,
                    Self.format(cell.changePrevious), Self.format(cell.changeYearAgo),
                ]
                    + (rates ? [cell.populationBasis ?? "", cell.populationReference ?? ""] : []))
        }
        return out
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// An aligned text table for terminals; suppressed cells show as `x`.
    public func textTable() -> String {
        let header = dimensions.map(\.rawValue) + [measure.rawValue]
        let rows = (cells + [totalRow]).map { $0.key + [$0.value.map { Self.format($0) } ?? "x"] }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, s in
                let padding = String(repeating: " ", count: widths[i] - s.count)
                return i == r.count - 1 ? padding + s : s + padding
            }.joined(separator: "  ")
        }
        var out = line(header) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for r in rows { out += line(r) + "\n" }
        if cells.contains(where: \.suppressed) || total.suppressed {
            out +=
                "x: suppressed to protect the people counted (fewer than \(protection.threshold), or needed to keep one such figure hidden).\n"
        }
        if protection.method == "ckm" {
            out +=
                "Values carry small random noise (at most ±\(protection.maxNoise ?? 0)), the same in every query; totals are protected on their own and need not add up.\n"
        }
        return out
    }

    var totalRow: StatisticsCell {
        var t = total
        t.key = dimensions.map { _ in "_T" }
        return t
    }

    /// Whole numbers without a decimal point; empty for nil.
    static func format(_ v: Double?) -> String {
        guard let v else { return "" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return String(v)
    }
}

/// The formats a statistics table is published in, by the API and the CLI alike.
public enum StatisticsFormat: String, CaseIterable, Sendable {
    case json, csv
    case sdmxCSV = "sdmx-csv"
    case sdmxJSON = "sdmx-json"

    public var mediaType: String {
        switch self {
        case .json: "application/json; charset=utf-8"
        case .csv: "text/csv; charset=utf-8"
        case .sdmxCSV: "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8"
        case .sdmxJSON: "application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8"
        }
    }
}

extension StatisticsTable {
    public func rendered(as format: StatisticsFormat, flow: SDMXFlow = SDMXFlow()) throws -> String {
        switch format {
        case .json: try json()
        case .csv: csv()
        case .sdmxCSV: try sdmxCSV(flow: flow)
        case .sdmxJSON: try sdmxJSON(flow: flow)
        }
    }
}
