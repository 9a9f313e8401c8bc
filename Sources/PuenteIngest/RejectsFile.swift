import Foundation
import PuenteCore

/// Quarantined rows written back in the layout their profile reads, so that a clerk can correct them
/// and load the file again with the same profile.
public enum RejectsFile {
    /// Column naming why each row was rejected (ignored when the file is loaded again).
    public static let reasonsColumn = "puente_reasons"

    /// The file's bytes: CSV in the profile's delimiter and encoding, or JSON Lines for a JSON Lines
    /// profile (XLSX profiles get CSV, which a copy of the profile with `type: csv` reads).
    public static func render(_ rows: [RejectedRow], profile: SourceProfile) -> Data {
        var header = profile.columns.map(\.name)
        let known = Set(header)
        header += Set(rows.flatMap(\.values.keys)).subtracting(known).sorted()
        header += [RejectedRow.idColumn, reasonsColumn]
        func cells(_ row: RejectedRow) -> [String] {
            header.dropLast(2).map { row.values[$0] ?? "" } + [String(row.id), reasons(row)]
        }
        if profile.format.type == .jsonl {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var out = Data()
            for row in rows {
                let object = Dictionary(uniqueKeysWithValues: zip(header, cells(row)))
                out += (try? encoder.encode(object)) ?? Data()
                out += Data("\n".utf8)
            }
            return out
        }
        let delimiter = Character(profile.format.type == .csv ? profile.format.delimiter : ",")
        let encoding = profile.format.type == .csv ? profile.format.encoding ?? .utf8 : .utf8
        var text = CSVWriter.line(header, delimiter: delimiter)
        for row in rows { text += CSVWriter.line(cells(row), delimiter: delimiter) }
        return Data(encoding.encode(text))
    }

    static func reasons(_ row: RejectedRow) -> String {
        row.reasons.map { "\($0.field): \($0.rule), expected \($0.expected)" }.joined(separator: " | ")
    }
}
