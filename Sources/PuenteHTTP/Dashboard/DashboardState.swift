import Hummingbird
import PuenteCore
import PuenteReference
import PuenteStatistics

/// Two languages side by side, so no text can lack its translation.
struct Bilingual: Sendable {
    let es: String
    let en: String

    init(_ es: String, _ en: String) {
        self.es = es
        self.en = en
    }
}

enum Language: String, CaseIterable, Sendable {
    case es, en

    /// A `lang` field or parameter: Spanish unless it asks for English (empty is absent, as the
    /// dashboard's forms send it); another value is a 400.
    init(form value: String?) throws {
        guard let value, !value.isEmpty else { self = .es; return }
        guard let language = Language(rawValue: value) else {
            throw PuenteError(.invalidArgument, "lang: expected es or en.")
        }
        self = language
    }
}

/// Everything a dashboard page is asked for, read from its URL: language, filters and map options.
/// Every link on a page is built from it, so a view can be shared by copying the address.
struct DashboardState: Hashable, Sendable {
    var language: Language = .es
    /// `2016`, `2016-Q1`, `2016-03`, `all`, or nil for the latest year with data.
    var period: String?
    /// Reporting country, ISO alpha-3.
    var country: String?
    /// ISO 3166-2 department of residence.
    var department: String?
    var sex: String?
    /// El Salvador's map: the 262 former municipalities or the 44 of 2024.
    var mapLevel: BoundaryMap.Level = .municipality
    /// What the map's colours show: counts or returns per 1,000 inhabitants.
    var mapRate = false

    /// The URL parameters the dashboard understands, in the order links write them.
    static let parameters = ["lang", "period", "country", "department", "sex", "map", "map_value"]

    init() {}

    /// Reads the parameters, refusing values outside their lists with a message naming the parameter
    /// (never echoing the value).
    init(query: [String: String], reference: ReferenceData) throws {
        func value(_ name: String) -> String? {
            guard let v = query[name], !v.isEmpty else { return nil }
            return v
        }
        func refuse(_ name: String, _ expected: String) -> PuenteError {
            PuenteError(.invalidArgument, "The dashboard parameter `\(name)` must be \(expected).")
        }
        if let lang = value("lang") {
            guard let l = Language(rawValue: lang) else { throw refuse("lang", "es or en") }
            language = l
        }
        if let p = value("period") {
            guard p == "all" || Self.periodDimension(p) != nil else {
                throw refuse("period", "all, a year (2016), a quarter (2016-Q1) or a month (2016-03)")
            }
            period = p
        }
        if let c = value("country") {
            guard reference.geographies[c] != nil else {
                throw refuse("country", reference.geographies.keys.sorted().joined(separator: ", "))
            }
            country = c
        }
        if let d = value("department") {
            guard reference.geographies.values.contains(where: { $0.departments.code(d) != nil }) else {
                throw refuse("department", "an ISO 3166-2 department code such as SV-SS")
            }
            department = d
        }
        if let s = value("sex") {
            guard ["F", "M"].contains(s) else { throw refuse("sex", "F or M") }
            sex = s
        }
        if let m = value("map") {
            guard let level = BoundaryMap.Level(rawValue: m) else {
                throw refuse("map", "municipality or municipality_2024")
            }
            mapLevel = level
        }
        if let v = value("map_value") {
            guard ["count", "rate"].contains(v) else { throw refuse("map_value", "count or rate") }
            mapRate = v == "rate"
        }
    }

    /// The dimension a period code is written in, or nil when it is not a period.
    static func periodDimension(_ code: String) -> Dimension? {
        let year = code.count >= 4 && Int(code.prefix(4)) != nil
        if code.count == 4 && year { return .year }
        if code.count == 7 && year && code.dropFirst(4).hasPrefix("-Q"), let q = Int(code.suffix(1)),
            (1...4).contains(q)
        {
            return .quarter
        }
        if code.count == 7 && year && code.dropFirst(4).hasPrefix("-"), let m = Int(code.suffix(2)),
            (1...12).contains(m)
        {
            return .month
        }
        return nil
    }

    func t(_ text: Bilingual) -> String { language == .es ? text.es : text.en }
    func t(_ es: String, _ en: String) -> String { language == .es ? es : en }

    /// The filters of the state as statistics filters, limited to those a measure accepts.
    func filters(period resolved: String?, accepted: Set<Dimension>? = nil) -> [Dimension: [String]] {
        var out: [Dimension: [String]] = [:]
        if let resolved, let d = Self.periodDimension(resolved) { out[d] = [resolved] }
        if let country { out[.reportingCountry] = [country] }
        if let department { out[.department] = [department] }
        if let sex { out[.sex] = [sex] }
        if let accepted { out = out.filter { accepted.contains($0.key) } }
        return out
    }

    /// The URL parameters of the state, with some changed (nil removes one).
    func parameters(changing changes: [String: String?] = [:]) -> [(String, String)] {
        var values: [String: String] = [:]
        if language != .es { values["lang"] = language.rawValue }
        values["period"] = period
        values["country"] = country
        values["department"] = department
        values["sex"] = sex
        if mapLevel != .municipality { values["map"] = mapLevel.rawValue }
        if mapRate { values["map_value"] = "rate" }
        for (name, value) in changes { values[name] = value }
        return Self.parameters.compactMap { name in values[name].map { (name, $0) } }
    }

    /// A link to a dashboard page keeping the state.
    func link(_ path: String, changing changes: [String: String?] = [:]) -> String {
        let query = parameters(changing: changes).map { "\($0.0)=\(URLText.encode($0.1))" }.joined(separator: "&")
        return query.isEmpty ? path : path + "?" + query
    }
}

/// Escaping for the two places page text goes: HTML and URL query values.
enum URLText {
    static func encode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    /// The text with zeros in front up to `width` characters.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
