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

    /// The date `text` names, or `nil` if it does not match or names no real day.
    public func parse(_ text: Substring, pivot: Int) -> CivilDate? {
        if parts == [.excel] {
            // Excel's serial day 1 is 1900-01-01 and it counts a 29 February 1900 that never was.
            guard let serial = Int(text), serial > 60, serial < 2_958_466 else { return nil }
            return CivilDate(year: 1899, month: 12, day: 30)!.adding(days: serial)
        }
        guard let separator else { return nil }
        let tokens = text.split(separator: separator, omittingEmptySubsequences: false)
        guard tokens.count == 3 else { return nil }
        var d = 0, m = 0, y = 0
        for (part, token) in zip(parts, tokens) {
            guard !token.isEmpty, token.count <= 4, token.allSatisfy(\.isASCII), let v = Int(token) else { return nil }
            switch part {
            case .day: guard token.count <= 2 else { return nil }; d = v
            case .month: guard token.count <= 2 else { return nil }; m = v
            case .year2: guard token.count == 2 else { return nil }; y = v <= pivot ? 2000 + v : 1900 + v
            case .year4: guard token.count == 4 else { return nil }; y = v
            case .excel: return nil
            }
        }
        return CivilDate(year: y, month: m, day: d)
    }

    /// Writes `date` in this pattern (used by the generator, so it writes what the profile reads).
    public func format(_ date: CivilDate) -> String {
        if parts == [.excel] { return String(date.daysSinceEpoch - CivilDate(year: 1899, month: 12, day: 30)!.daysSinceEpoch) }
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
