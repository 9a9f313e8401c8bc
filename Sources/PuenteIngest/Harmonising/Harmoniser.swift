import PuenteCore
import PuenteReference

/// Turns one row of an export into a harmonised event, or into the reasons it cannot be one.
///
/// It checks everything it can and reports every problem of a row, not just the first, so a clerk can
/// correct the row in one go. Reasons name the field and what was expected, never the value.
public struct Harmoniser: Sendable {
    public enum Outcome: Sendable {
        case accepted(MovementEvent)
        case rejected([RejectionReason])
    }

    public let profile: SourceProfile
    private let countries: CountryResolver
    private let divisions: DivisionResolver
    private let reference: ReferenceData
    private let patterns: [DatePattern]
    private let pivot: Int
    /// Events dated after this day are rejected (rule `date_in_future`).
    private let latestDate: CivilDate
    /// Field → folded spelling → code.
    private let valueIndex: [Field: [String: String]]
    /// Column index in the header per `Field.ordinal` (-1: no column); an array, for the per-row lookups.
    private var columnOf = [Int](repeating: -1, count: Field.allCases.count)
    /// Raw text → resolved code, per field: registers repeat a few hundred spellings millions of
    /// times, so each is folded and resolved once.
    private var memo = [[String: String?]](repeating: [:], count: Field.allCases.count)
    private var divisionMemo: [DivisionKey: String?] = [:]
    /// The placeholder kind of each field that may hold one (`Field.ordinal`), and the list in force.
    private let placeholderKind: [Placeholders.Kind?]
    private let placeholders: Placeholders
    private struct DivisionKey: Hashable { var municipality: String; var department: String?; var version: Int }

    public init(profile: SourceProfile, reference: ReferenceData = .shared, today: CivilDate = .today) {
        self.profile = profile
        self.reference = reference
        placeholders = Placeholders.standard.adding(profile.placeholders)
        placeholderKind = Field.allCases.sorted { $0.ordinal < $1.ordinal }.map { field -> Placeholders.Kind? in
            switch field {
            case .documentNumber: .document
            case .birthDate: .date
            case .givenNames, .surnames, .firstSurname, .secondSurname: .name
            default: nil
            }
        }
        countries = CountryResolver(reference: reference)
        divisions = DivisionResolver(reference: reference)
        patterns = profile.dateFormats.compactMap(DatePattern.init)
        pivot = profile.twoDigitYearPivot
        latestDate = today
        var index: [Field: [String: String]] = [:]
        for (field, map) in profile.values {
            for (code, spellings) in map {
                for s in spellings + [code] { index[field, default: [:]][TextFolding.fold(s)] = code }
            }
        }
        valueIndex = index
    }

    /// Binds the profile's columns to the header; throws naming the columns the file lacks.
    public mutating func bind(header: [String], file: String) throws {
        let folded = header.map(TextFolding.fold)
        let positions = Dictionary(folded.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // A header named twice would feed a field from either column: refuse rather than guess.
        let twice = profile.columns.filter { c in folded.filter { $0 == TextFolding.fold(c.name) }.count > 1 }.map(
            \.name)
        if !twice.isEmpty {
            throw PuenteError(
                .invalidInput,
                "The header has the column(s) \(twice.joined(separator: ", ")) more than once; "
                    + "rename or remove the copies so each field has one source.", at: InputLocation(file: file, row: 0)
            )
        }
        var missing: [String] = []
        for column in profile.columns {
            if let i = positions[TextFolding.fold(column.name)] {
                columnOf[column.field.ordinal] = i
            } else {
                missing.append(column.name)
            }
        }
        if !missing.isEmpty {
            throw PuenteError(
                .invalidInput,
                "The header lacks the column(s) \(missing.joined(separator: ", ")) that profile "
                    + "`\(profile.id)` expects. Check that the file is a \(profile.title) export, or use another --profile.",
                at: InputLocation(file: file, row: 0))
        }
    }

    /// The code `text` stands for in `field`, resolved once per distinct spelling.
    private mutating func resolved(_ field: Field, _ text: String, _ resolve: (String) -> String?) -> String? {
        if let hit = memo[field.ordinal][text] { return hit }
        let code = resolve(text)
        memo[field.ordinal][text] = code
        return code
    }

    /// Whether `text` holds a control character other than tab, line feed and carriage return.
    private static func hasControlCharacters(_ text: String) -> Bool {
        let isControl = { (b: UInt8) in b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D }
        return text.utf8.withContiguousStorageIfAvailable { $0.contains(where: isControl) }
            ?? text.utf8.contains(where: isControl)
    }

    /// Harmonises one data row (`row` is 1-based, after the header).
    public mutating func harmonise(_ fields: [String], file: String, row: Int) -> Outcome {
        var reasons: [RejectionReason] = []
        let columnOf = self.columnOf, placeholderKind = self.placeholderKind, placeholders = self.placeholders
        func raw(_ field: Field) -> String? {
            let i = columnOf[field.ordinal]
            if i >= 0 {
                guard i < fields.count else { return nil }
                let v = fields[i].trimmingSpaces()
                // "S/N", "NO TIENE", "000000", "00/00/0000": missing, not a value.
                if let kind = placeholderKind[field.ordinal], placeholders.contains(v, kind) { return nil }
                return v.isEmpty ? nil : v
            }
            return profile.constants[field]
        }
        func reject(_ rule: String, _ field: Field, _ expected: String) {
            reasons.append(
                RejectionReason(
                    rule: rule, field: profile.column(for: field)?.name ?? field.rawValue,
                    expected: expected))
        }
        let valueIndex = self.valueIndex, countries = self.countries
        func coded<T: RawRepresentable>(_ field: Field, _ type: T.Type) -> T? where T.RawValue == String {
            guard let text = raw(field) else { return nil }
            let code = resolved(field, text) { valueIndex[field]?[TextFolding.fold($0)] ?? $0.uppercased() }
            if let v = code.flatMap(T.init(rawValue:)) { return v }
            reject("code_exists", field, "one of the codes or spellings the profile lists for \(field.rawValue)")
            return nil
        }
        func country(_ field: Field) -> String? {
            guard let text = raw(field) else { return nil }
            if let code = resolved(field, text, { valueIndex[field]?[TextFolding.fold($0)] ?? countries.resolve($0) }) {
                return code
            }
            reject("code_exists", field, "a country name or ISO 3166-1 code")
            return nil
        }
        func date(_ field: Field) -> CivilDate? {
            guard let text = raw(field) else { return nil }
            for p in patterns { if let d = p.parse(Substring(text), pivot: pivot) { return d } }
            reject("date_format", field, "a real date written as " + profile.dateFormats.joined(separator: " or "))
            return nil
        }
        for field in profile.required
        where raw(field) == nil
            && !(field == .surnames && raw(.firstSurname) != nil)
        {
            reject("required", field, "a value; this field is required")
        }
        // Control characters are never register text: they mean binary data or a broken export.
        for column in profile.columns {
            let i = columnOf[column.field.ordinal]
            if i >= 0, i < fields.count, Self.hasControlCharacters(fields[i]) {
                reject("text_characters", column.field, "text without control characters")
            }
        }

        let recordKey = raw(.recordKey)
        let type = coded(.eventType, EventType.self)
        let eventDate = date(.eventDate)
        if let eventDate, latestDate < eventDate {
            reject("date_in_future", .eventDate, "a date not after the day of import")
        }
        if let entry = date(.entryDate), let eventDate, eventDate < entry {
            reject("exit_after_entry", .eventDate, "an exit on or after the entry date of the same record")
        }
        let sex = coded(.sex, Sex.self)
        let birth = date(.birthDate).flatMap { Placeholders.isPlaceholderBirthDate($0) ? nil : $0 }
        var age: Int?
        if let text = raw(.age) {
            if let a = Int(text), profile.ageRange.contains(a) {
                age = a
            } else {
                reject(
                    "age_range", .age,
                    "a whole number of years from \(profile.ageRange.lowerBound) to \(profile.ageRange.upperBound)")
            }
        }
        if let birth, let eventDate {
            if eventDate < birth {
                reject("birth_before_event", .birthDate, "a birth date on or before the event date")
            } else {
                let derived = birth.age(on: eventDate)
                if !profile.ageRange.contains(derived) {
                    reject(
                        "age_range", .birthDate,
                        "a birth date giving an age from \(profile.ageRange.lowerBound) to \(profile.ageRange.upperBound) at the event"
                    )
                } else {
                    age = derived
                }
            }
        }
        let surnames =
            raw(.surnames) ?? [raw(.firstSurname), raw(.secondSurname)].compactMap { $0 }.joined(separator: " ")
        var division: String?
        if let muni = raw(.municipality) {
            let key = DivisionKey(
                municipality: muni, department: raw(.department),
                version: divisions.version(on: eventDate, country: profile.reportingCountry))
            if let hit = divisionMemo[key] {
                division = hit
            } else {
                division = divisions.resolve(
                    municipality: muni, department: key.department, country: profile.reportingCountry,
                    on: eventDate)
                divisionMemo[key] = division
            }
            if division == nil {
                reject(
                    "code_exists", .municipality,
                    "a municipality or district of \(profile.reportingCountry) in force on the event date, by name or code, matching its department"
                )
            }
        }
        var place: String?
        let reference = self.reference
        if let text = raw(.place) {
            place = resolved(.place, text) {
                valueIndex[.place]?[TextFolding.fold($0)] ?? (reference.place($0) != nil ? $0 : nil)
            }
            if place == nil {
                reject("code_exists", .place, "a crossing point or reception centre listed in the profile or CL_PLACE")
            }
        }
        var unaccompanied: Bool?
        if let text = raw(.unaccompanied) {
            switch valueIndex[.unaccompanied]?[TextFolding.fold(text)] ?? text.lowercased() {
            case "true": unaccompanied = true
            case "false": unaccompanied = false
            default: reject("code_exists", .unaccompanied, "yes or no as the profile spells them")
            }
        }
        var daysAbroad: Int?
        if let text = raw(.daysAbroad) {
            if let d = Int(text), d >= 0 {
                daysAbroad = d
            } else {
                reject("number", .daysAbroad, "a whole number of days")
            }
        }
        let nationality = country(.nationality), birthCountry = country(.birthCountry)
        let residenceCountry = country(.residenceCountry), returningFrom = country(.returningFrom)
        let person = PersonAttributes(
            givenNames: raw(.givenNames), surnames: surnames.isEmpty ? nil : surnames, sex: sex ?? .unknown,
            birthDate: birth, age: age, nationality: nationality, birthCountry: birthCountry,
            residenceCountry: residenceCountry, residenceDivision: division,
            documentType: coded(.documentType, DocumentType.self), documentNumber: raw(.documentNumber),
            migrationStatus: coded(.migrationStatus, MigrationStatus.self))
        let transport = coded(.transportMode, TransportMode.self)
        let returnType = coded(.returnType, ReturnType.self)
        guard reasons.isEmpty, let type, let eventDate else {
            return .rejected(reasons)
        }
        var details: ReturnDetails?
        if type == .return {
            // A child whose flag is blank is of unknown status, not accompanied: a blank would bias the share down.
            let child: ChildStatus? = age.flatMap { age in
                age >= 18 ? .adult : unaccompanied.map { $0 ? .unaccompanied : .accompanied }
            }
            details = ReturnDetails(
                returningFrom: returningFrom, returnType: returnType, childStatus: child,
                daysAbroad: daysAbroad)
        }
        // A record is identified within its agency by its register and the register's own id (not by
        // the profile's name, which a statistician may copy). Without an id of its own, a row is
        // identified by its content: the same row imported again is then recognised as a duplicate.
        let key = "\(profile.register):" + (recordKey ?? "row-" + ContentKey.of(fields))
        return .accepted(
            MovementEvent(
                source: SourceReference(agency: profile.agency, file: file, row: row, recordKey: key),
                type: type, date: eventDate, reportingCountry: profile.reportingCountry, place: place,
                transportMode: transport, person: person, returnDetails: details))
    }
}

/// A short stable key of a row's content (FNV-1a 64 over the fields).
enum ContentKey {
    static func of(_ fields: [String]) -> String {
        var h = FNV1a.offsetBasis
        for f in fields { h = FNV1a.hash(CollectionOfOne(0x1f), seed: FNV1a.hash(f.utf8, seed: h)) }
        return String(h, radix: 16)
    }
}
