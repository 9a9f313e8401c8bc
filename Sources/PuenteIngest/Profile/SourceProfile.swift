import PuenteCore

/// Harmonised fields a profile can feed from an export's columns.
public enum Field: String, Codable, CodingKeyRepresentable, CaseIterable, Sendable {
    case recordKey, eventType, eventDate
    case givenNames, surnames, firstSurname, secondSurname
    case sex, birthDate, age
    case nationality, birthCountry, residenceCountry
    case department, municipality
    case documentType, documentNumber, migrationStatus
    case place, transportMode
    case returningFrom, returnType, unaccompanied, daysAbroad
}

/// A declarative description of one agency export: how to read it and how each column becomes a
/// harmonised field. Shipped profiles live in `Sources/PuenteIngest/Profiles/`; `docs/profiles.md`
/// documents the format.
public struct SourceProfile: Codable, Hashable, Sendable {
    public struct Format: Codable, Hashable, Sendable {
        /// `csv` (the only reader of this version).
        public var type: String
        /// A single character; default `,`.
        public var delimiter: String?
        /// `utf-8` or `windows-1252`; detected from the bytes when absent.
        public var encoding: TextEncoding?
    }

    public struct Column: Codable, Hashable, Sendable {
        /// Header of the column in the export.
        public var name: String
        public var field: Field
    }

    public var id: String
    public var title: String
    /// Agency that produces the export, e.g. `SV-DGME`; record keys are unique per agency and dataset.
    public var agency: String
    /// ISO alpha-3 of the reporting country.
    public var reportingCountry: String
    public var format: Format
    public var columns: [Column]
    /// Fields with the same value on every row (e.g. `eventType` of a returns register).
    public var constants: [Field: String]?
    /// Code → the spellings agencies use for it, per field. The first spelling is the canonical one.
    /// Matching ignores case and accents. Codes not listed are accepted as written when they are valid.
    public var values: [Field: [String: [String]]]?
    /// Accepted date patterns, tried in order: `dd/MM/yyyy`, `d/M/yyyy`, `yyyy-MM-dd`, `dd/MM/yy`, `excel`.
    public var dateFormats: [String]
    /// Two-digit years up to this value are 20xx, above it 19xx. Default 30.
    public var twoDigitYearPivot: Int?
    /// Fields that must be present for a row to be accepted.
    public var required: [Field]

    public func column(for field: Field) -> Column? { columns.first { $0.field == field } }
}

extension SourceProfile {
    /// Checks the profile's own consistency; each problem is a sentence naming what to fix.
    public func problems() -> [String] {
        var out: [String] = []
        if id.isEmpty { out.append("Give the profile an `id`.") }
        if format.type != "csv" { out.append("format.type must be `csv`; other readers come with later versions.") }
        if let d = format.delimiter, d.utf8.count != 1 { out.append("format.delimiter must be a single character.") }
        let mapped = Set(columns.map(\.field)).union((constants ?? [:]).keys)
        for field in required where !mapped.contains(field) && !(field == .surnames && mapped.contains(.firstSurname)) {
            out.append("Required field `\(field.rawValue)` is fed by no column and no constant.")
        }
        for field in [Field.eventDate, .eventType] where !mapped.contains(field) {
            out.append("Field `\(field.rawValue)` needs a column or a constant: every event has one.")
        }
        if dateFormats.isEmpty { out.append("List at least one date format in `dateFormats`.") }
        for f in dateFormats where DatePattern(f) == nil {
            out.append("Date format `\(f)` is not understood; use d, dd, M, MM, yy, yyyy with / - or . between, or `excel`.")
        }
        // A spelling that maps to two codes would be read as either, depending on hash order.
        for (field, map) in (values ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            var codeOf: [String: String] = [:]
            for (code, spellings) in map.sorted(by: { $0.key < $1.key }) {
                for spelling in spellings + [code] {
                    let folded = TextFolding.fold(spelling)
                    if let other = codeOf[folded], other != code {
                        out.append("In values.\(field.rawValue), `\(spelling)` is listed for both `\(other)` and `\(code)`; keep it under one code.")
                    }
                    codeOf[folded] = code
                }
            }
        }
        let names = columns.map(\.name)
        if Set(names).count != names.count { out.append("A column is listed twice.") }
        return out
    }
}
