import Foundation
import PuenteCore
import PuenteReference

/// A value as a register would hold it, before the agency's layout spells it.
public enum RecordedValue: Sendable {
    case text(String)
    /// A harmonised code, spelled the agency's way through the profile's value map.
    case code(String)
    case country(String)
    case date(CivilDate)
    case int(Int)
    /// Written exactly as given: how malformed values are planted.
    case raw(String)
}

/// Spells records the way a source profile reads them: each code as the agency writes it (the first
/// spelling the profile lists), dates in its first date format, countries by its spelling or their
/// Spanish name. Generated exports and returns entered on a reception form both go through it, so
/// neither can drift from the profiles that read them.
public struct ProfileSpelling: Sendable {
    public let profile: SourceProfile
    private let datePattern: DatePattern

    public init(profile: SourceProfile) {
        self.profile = profile
        // The reader checks every date format when it loads a profile.
        datePattern = DatePattern(profile.dateFormats[0])!
    }

    /// Each country's first Spanish name, read once.
    private static let countryNames: [String: String] = {
        var names: [String: String] = [:]
        for row in ResourceCSV.rows("Data/country_aliases_es.csv", in: ReferenceData.bundle)
        where names[row["alpha_3"]!] == nil {
            names[row["alpha_3"]!] = row["alias"]!
        }
        return names
    }()

    /// The header the profile reads.
    public var header: [String] { profile.columns.map(\.name) }

    /// One record's cells, in the header's order; fields not given are empty.
    public func cells(_ values: [Field: RecordedValue]) -> [String] {
        profile.columns.map { column -> String in
            guard let value = values[column.field] else { return "" }
            switch value {
            case .text(let s), .raw(let s): return s
            case .int(let i): return String(i)
            case .date(let d): return datePattern.format(d)
            case .code(let c): return profile.values[column.field]?[c]?.first ?? c
            case .country(let c): return profile.values[column.field]?[c]?.first ?? Self.countryNames[c] ?? c
            }
        }
    }
}
