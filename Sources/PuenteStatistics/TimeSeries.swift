import PuenteCore
import PuenteReference

/// Changes on the previous period and on the same period a year before.
enum TimeSeries {
    static func addChanges(to cells: inout [StatisticsCell], periodAt p: Int, dimension: Dimension) {
        var index: [[String]: Int] = [:]
        for (i, c) in cells.enumerated() { index[c.key] = i }
        func shifted(_ code: String, by steps: Int) -> String? {
            guard let year = Int(code.prefix(4)) else { return nil }
            switch dimension {
            case .year: return String(year - steps)
            case .quarter:
                guard let q = Int(code.suffix(1)) else { return nil }
                let n = year * 4 + q - 1 - steps
                return "\(n / 4)-Q\(n % 4 + 1)"
            default:
                guard let m = Int(code.suffix(2)) else { return nil }
                let n = year * 12 + m - 1 - steps
                let month = n % 12 + 1
                return "\(n / 12)-\(month < 10 ? "0" : "")\(month)"
            }
        }
        let perYear = dimension == .year ? 1 : dimension == .quarter ? 4 : 12
        for i in cells.indices {
            guard let value = cells[i].value else { continue }
            func change(_ steps: Int) -> Double? {
                guard let code = shifted(cells[i].key[p], by: steps) else { return nil }
                var key = cells[i].key
                key[p] = code
                guard let j = index[key], let before = cells[j].value, before != 0 else { return nil }
                return Protector.round((value - before) / abs(before) * 100)
            }
            cells[i].changePrevious = change(1)
            if dimension != .year { cells[i].changeYearAgo = change(perYear) }
        }
    }
}
