import PuenteCore

/// A date pattern such as `dd/MM/yyyy`, parsed without Foundation formatters (which manage about
/// 20,000 dates per second; registers have millions).
public struct DatePattern: Hashable, Sendable {
    enum Part: Hashable { case day, month, year2, year4, excel }
    let parts: [Part]
    let separator: Character?
    public let text: String

    public init?(_ text: String) {
        self.text = text
        if text == "excel" { parts = [.excel]; separator = nil; return }
        guard let sep = text.first(where: { "/-.".contains($0) }) else { return nil }
        var parts: [Part] = []
        for token in text.split(separator: sep, omittingEmptySubsequences: false) {
            switch token {
            case "d", "dd": parts.append(.day)
            case "M", "MM": parts.append(.month)
            case "yy": parts.append(.year2)
            case "yyyy": parts.append(.year4)
            default: return nil
            }
        }
        guard parts.count == 3, Set(parts).count == 3, parts.contains(.day), parts.contains(.month) else { return nil }
        self.parts = parts
        separator = sep
    }

    /// The date `text` names, or `nil` if it does not match or names no real day. Reads the bytes
    /// directly: registers have millions of dates.
    public func parse(_ text: Substring, pivot: Int) -> CivilDate? {
        if parts == [.excel] {
            // Excel's serial day 1 is 1900-01-01 and it counts a 29 February 1900 that never was. A
            // fraction is a time of day.
            let whole = text.utf8.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
            guard whole.count <= 2, whole.last?.allSatisfy({ $0 >= 48 && $0 <= 57 }) == true,
                let serial = Int(Substring(whole[0])), serial > 60, serial < 2_958_466
            else { return nil }
            return CivilDate(year: 1899, month: 12, day: 30)!.adding(days: serial)
        }
        guard let separator = separator?.asciiValue else { return nil }
        var values = (0, 0, 0), lengths = (0, 0, 0), token = 0
        for b in text.utf8 {
            if b == separator {
                token += 1
                guard token < 3 else { return nil }
                continue
            }
            guard b >= 48 && b <= 57 else { return nil }
            let digit = Int(b - 48)
            switch token {
            case 0: values.0 = values.0 * 10 + digit; lengths.0 += 1
            case 1: values.1 = values.1 * 10 + digit; lengths.1 += 1
            default: values.2 = values.2 * 10 + digit; lengths.2 += 1
            }
        }
        guard token == 2 else { return nil }
        var d = 0, m = 0, y = 0
        for (i, part) in parts.enumerated() {
            let (v, n) = i == 0 ? (values.0, lengths.0) : i == 1 ? (values.1, lengths.1) : (values.2, lengths.2)
            switch part {
            case .day: guard (1...2).contains(n) else { return nil }; d = v
            case .month: guard (1...2).contains(n) else { return nil }; m = v
            case .year2: guard n == 2 else { return nil }; y = v <= pivot ? 2000 + v : 1900 + v
            case .year4: guard n == 4 else { return nil }; y = v
            case .excel: return nil
            }
        }
        return CivilDate(year: y, month: m, day: d)
    }

    /// Writes `date` in this pattern (used by the generator, so it writes what the profile reads).
    public func format(_ date: CivilDate) -> String {
        if parts == [.excel] {
            return String(date.daysSinceEpoch - CivilDate(year: 1899, month: 12, day: 30)!.daysSinceEpoch)
        }
        let tokens = text.split(separator: separator!)
        return zip(parts, tokens).map { part, token in
            switch part {
            case .day: return token.count == 2 ? pad(date.day) : String(date.day)
            case .month: return token.count == 2 ? pad(date.month) : String(date.month)
            case .year2: return pad(date.year % 100)
            case .year4: return String(date.year)
            case .excel: return ""
            }
        }.joined(separator: String(separator!))
    }

    private func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
}
