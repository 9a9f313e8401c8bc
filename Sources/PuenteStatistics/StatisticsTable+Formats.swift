import Foundation
import PuenteCore

extension StatisticsTable {
    /// CSV with one column per dimension, then `value`, `obs_status`, `conf_status`; the total last,
    /// with `_T` in every dimension column. Suppressed values are empty and flagged.
    public func csv() -> String {
        var out = CSVWriter.line(dimensions.map(\.rawValue) + ["value", "obs_status", "conf_status"])
        for cell in cells + [totalRow] {
            out += CSVWriter.line(cell.key + [cell.value.map(String.init) ?? "", cell.obsStatus, cell.confStatus])
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
        let rows = (cells + [totalRow]).map { $0.key + [$0.value.map(String.init) ?? "x"] }
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
            out += "x: fewer than \(disclosureThreshold), suppressed to protect the people counted.\n"
        }
        return out
    }

    var totalRow: StatisticsCell {
        var t = total
        t.key = dimensions.map { _ in "_T" }
        return t
    }
}
