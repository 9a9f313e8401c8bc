import PuenteCore

/// Harmonised fields a profile can feed from an export's columns.
public enum Field: String, CaseIterable, Sendable {
    case recordKey, eventType, eventDate
    /// Date of the entry an exit closes, when a register keeps both in one record.
    case entryDate
    case givenNames, surnames, firstSurname, secondSurname
    case sex, birthDate, age
    case nationality, birthCountry, residenceCountry
    case department, municipality
    case documentType, documentNumber, migrationStatus
    case place, transportMode
    case returningFrom, returnType, unaccompanied, daysAbroad

    /// A dense number per field, so that per-row lookups index an array instead of hashing a string
    /// (the tests check the numbers are distinct and below `allCases.count`).
    public var ordinal: Int {
        switch self {
        case .recordKey: 0
        case .eventType: 1
        case .eventDate: 2
        case .entryDate: 3
        case .givenNames: 4
        case .surnames: 5
        case .firstSurname: 6
        case .secondSurname: 7
        case .sex: 8
        case .birthDate: 9
        case .age: 10
        case .nationality: 11
        case .birthCountry: 12
        case .residenceCountry: 13
        case .department: 14
        case .municipality: 15
        case .documentType: 16
        case .documentNumber: 17
        case .migrationStatus: 18
        case .place: 19
        case .transportMode: 20
        case .returningFrom: 21
        case .returnType: 22
        case .unaccompanied: 23
        case .daysAbroad: 24
        }
    }
}

/// A declarative description of one agency export: how to read it and how each column becomes a
/// harmonised field. Profiles are YAML files (`docs/profiles.md`); the shipped ones live in
/// `Sources/PuenteIngest/Profiles/`.
public struct SourceProfile: Hashable, Sendable {
    public enum FormatType: String, CaseIterable, Sendable {
        /// RFC 4180 CSV with any single-character delimiter.
        case csv
        /// JSON Lines: one JSON object per line; keys play the part of headers.
        case jsonl
        /// An Excel workbook; one sheet, its first row the header.
        case xlsx
    }

    public struct Format: Hashable, Sendable {
        public var type: FormatType
        /// CSV only: a single character; default `,`.
        public var delimiter: String
        /// CSV only: declared encoding; detected from the bytes when `nil`.
        public var encoding: TextEncoding?
        /// XLSX only: the sheet to read; the first sheet when `nil`.
        public var sheet: String?

        public init(
            type: FormatType = .csv, delimiter: String = ",", encoding: TextEncoding? = nil, sheet: String? = nil
        ) {
            self.type = type
            self.delimiter = delimiter
            self.encoding = encoding
            self.sheet = sheet
        }
    }

    public struct Column: Hashable, Sendable {
        /// Header of the column in the export.
        public var name: String
        public var field: Field

        public init(name: String, field: Field) {
            self.name = name
            self.field = field
        }
    }

    public var id: String
    public var title: String
    /// Agency that produces the export, e.g. `SV-DGME`; record keys are unique per agency.
    public var agency: String
    /// The agency's register the export comes from, e.g. `sv-dgme-retornos`. A record is identified by
    /// agency, register and the register's own record id, never by the profile's name: a copy of the
    /// profile under another id still recognises the records it reads again.
    public var register: String
    /// ISO alpha-3 of the reporting country.
    public var reportingCountry: String
    public var format: Format
    /// In the order the export has them (the generator writes them in this order).
    public var columns: [Column]
    /// Fields with the same value on every row (e.g. `eventType` of a returns register).
    public var constants: [Field: String]
    /// Code → the spellings agencies use for it, per field. The first spelling is the canonical one.
    /// Matching ignores case and accents. Codes not listed are accepted as written when they are valid.
    public var values: [Field: [String: [String]]]
    /// Accepted date patterns, tried in order: `dd/MM/yyyy`, `d/M/yyyy`, `yyyy-MM-dd`, `dd/MM/yy`, `excel`.
    public var dateFormats: [String]
    /// Two-digit years up to this value are 20xx, above it 19xx.
    public var twoDigitYearPivot: Int
    /// Ages outside this range are rejected (rule `age_range`).
    public var ageRange: ClosedRange<Int>
    /// Fields that must be present for a row to be accepted.
    public var required: [Field]
    /// Values this agency types for "unknown", added to `Placeholders.standard`: read as missing.
    public var placeholders: [Placeholders.Kind: [String]]

    public init(
        id: String, title: String, agency: String, register: String? = nil, reportingCountry: String,
        format: Format = Format(),
        columns: [Column], constants: [Field: String] = [:], values: [Field: [String: [String]]] = [:],
        dateFormats: [String], twoDigitYearPivot: Int = 30, ageRange: ClosedRange<Int> = 0...120,
        required: [Field] = [], placeholders: [Placeholders.Kind: [String]] = [:]
    ) {
        self.id = id
        self.title = title
        self.agency = agency
        self.register = register ?? id
        self.reportingCountry = reportingCountry
        self.format = format
        self.columns = columns
        self.constants = constants
        self.values = values
        self.dateFormats = dateFormats
        self.twoDigitYearPivot = twoDigitYearPivot
        self.ageRange = ageRange
        self.required = required
        self.placeholders = placeholders
    }

    public func column(for field: Field) -> Column? { columns.first { $0.field == field } }
}

extension SourceProfile {
    /// Checks the profile's own consistency; each problem is a sentence naming what to fix.
    public func problems() -> [String] {
        var out: [String] = []
        if id.isEmpty { out.append("Give the profile an `id`.") }
        if register.isEmpty || register.contains(":") {
            out.append(
                "Give the profile a `register`: the name of the agency's register the export comes from, without `:`.")
        }
        if format.delimiter.utf8.count != 1 { out.append("format.delimiter must be a single character.") }
        let mapped = Set(columns.map(\.field)).union(constants.keys)
        for field in required where !mapped.contains(field) && !(field == .surnames && mapped.contains(.firstSurname)) {
            out.append("Required field `\(field.rawValue)` is fed by no column and no constant.")
        }
        for field in [Field.eventDate, .eventType] where !mapped.contains(field) {
            out.append("Field `\(field.rawValue)` needs a column or a constant: every event has one.")
        }
        if dateFormats.isEmpty { out.append("List at least one date format in `dateFormats`.") }
        for f in dateFormats where DatePattern(f) == nil {
            out.append(
                "Date format `\(f)` is not understood; use d, dd, M, MM, yy, yyyy with / - or . between, or `excel`.")
        }
        if !(0...99).contains(twoDigitYearPivot) { out.append("twoDigitYearPivot must be from 0 to 99.") }
        // A spelling that maps to two codes would be read as either, depending on hash order.
        for (field, map) in values.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            var codeOf: [String: String] = [:]
            for (code, spellings) in map.sorted(by: { $0.key < $1.key }) {
                for spelling in spellings + [code] {
                    let folded = TextFolding.fold(spelling)
                    if let other = codeOf[folded], other != code {
                        out.append(
                            "In values.\(field.rawValue), `\(spelling)` is listed for both `\(other)` and `\(code)`; keep it under one code."
                        )
                    }
                    codeOf[folded] = code
                }
            }
        }
        var seenHeaders: Set<String> = [], seenFields: Set<Field> = []
        for column in columns {
            if !seenHeaders.insert(TextFolding.fold(column.name)).inserted {
                out.append("Column `\(column.name)` is listed twice (headers match ignoring case and accents).")
            }
            if !seenFields.insert(column.field).inserted {
                out.append("Field `\(column.field.rawValue)` is fed by two columns; keep one.")
            }
            if constants[column.field] != nil {
                out.append("Field `\(column.field.rawValue)` has both a column and a constant; keep one.")
            }
        }
        return out
    }
}
