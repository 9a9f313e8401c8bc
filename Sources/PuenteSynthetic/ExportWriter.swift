import Foundation
import PuenteCore
import PuenteIngest
import PuenteReference

/// A value as a register would hold it, before the agency's layout spells it.
enum RecordedValue: Sendable {
    case text(String)
    /// A harmonised code, spelled the agency's way through the profile's value map.
    case code(String)
    case country(String)
    case date(CivilDate)
    case int(Int)
    /// Written exactly as given: how malformed values are planted.
    case raw(String)
}

/// Writes records in the layout a source profile reads, so generated files and shipped profiles can
/// never drift apart: the generator spells every value the way the profile expects to read it.
struct ExportWriter {
    let profile: SourceProfile
    private var file: BufferedFileWriter
    private let encoding: TextEncoding
    private let delimiter: Character
    private let datePattern: DatePattern
    private let countryNames: [String: String]

    init(profile: SourceProfile, url: URL) throws {
        self.profile = profile
        file = try BufferedFileWriter(path: url.path)
        encoding = profile.format.encoding ?? .utf8
        delimiter = Character(profile.format.delimiter)
        datePattern = DatePattern(profile.dateFormats[0])!
        var names: [String: String] = [:]
        for row in ResourceCSV.rows("Data/country_aliases_es.csv", in: ReferenceData.bundle)
        where names[row["alpha_3"]!] == nil {
            names[row["alpha_3"]!] = row["alias"]!
        }
        countryNames = names
        try file.append(bytes: encoding.encode(CSVWriter.line(profile.columns.map(\.name), delimiter: delimiter)))
    }

    mutating func write(_ values: [Field: RecordedValue]) throws {
        let line = profile.columns.map { column -> String in
            guard let value = values[column.field] else { return "" }
            switch value {
            case .text(let s), .raw(let s): return s
            case .int(let i): return String(i)
            case .date(let d): return datePattern.format(d)
            case .code(let c): return profile.values[column.field]?[c]?.first ?? c
            case .country(let c): return profile.values[column.field]?[c]?.first ?? countryNames[c] ?? c
            }
        }
        try file.append(bytes: encoding.encode(CSVWriter.line(line, delimiter: delimiter)))
    }

    mutating func close() throws { try file.close() }
}
