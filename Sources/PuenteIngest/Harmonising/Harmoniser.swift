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
    /// Field → folded spelling → code.
    private let valueIndex: [Field: [String: String]]
    /// Field → column index in the header.
    private var columnIndex: [Field: Int] = [:]

    public init(profile: SourceProfile, reference: ReferenceData = .shared) {
        self.profile = profile
        self.reference = reference
        countries = CountryResolver(reference: reference)
        divisions = DivisionResolver(reference: reference)
        patterns = profile.dateFormats.compactMap(DatePattern.init)
        pivot = profile.twoDigitYearPivot ?? 30
        var index: [Field: [String: String]] = [:]
        for (field, map) in profile.values ?? [:] {
            for (code, spellings) in map {
                for s in spellings + [code] { index[field, default: [:]][TextFolding.fold(s)] = code }
            }
        }
        valueIndex = index
    }

    /// Binds the profile's columns to the header; throws naming the columns the file lacks.
    public mutating func bind(header: [String], file: String) throws {
        let positions = Dictionary(header.enumerated().map { (TextFolding.fold($1), $0) }, uniquingKeysWith: { a, _ in a })
        var missing: [String] = []
        for column in profile.columns {
            if let i = positions[TextFolding.fold(column.name)] { columnIndex[column.field] = i } else { missing.append(column.name) }
        }
        if !missing.isEmpty {
            throw PuenteError(.invalidInput, "The header lacks the column(s) \(missing.joined(separator: ", ")) that profile "
                + "`\(profile.id)` expects. Check that the file is a \(profile.title) export, or use another --profile.",
                at: InputLocation(file: file, row: 0))
        }
    }

    /// Harmonises one data row (`row` is 1-based, after the header).
    public func harmonise(_ fields: [String], file: String, row: Int) -> Outcome {
        var reasons: [RejectionReason] = []
        func raw(_ field: Field) -> String? {
            if let i = columnIndex[field] {
                guard i < fields.count else { return nil }
                let v = fields[i].trimmingSpaces()
                return v.isEmpty ? nil : v
            }
            return profile.constants?[field]
        }
        func reject(_ rule: String, _ field: Field, _ expected: String) {
            reasons.append(RejectionReason(rule: rule, field: profile.column(for: field)?.name ?? field.rawValue,
                                           expected: expected))
        }
        func coded<T: RawRepresentable>(_ field: Field, _ type: T.Type) -> T? where T.RawValue == String {
            guard let text = raw(field) else { return nil }
            let code = valueIndex[field]?[TextFolding.fold(text)] ?? text.uppercased()
            if let v = T(rawValue: code) { return v }
            reject("code_exists", field, "one of the codes or spellings the profile lists for \(field.rawValue)")
            return nil
        }
        func country(_ field: Field) -> String? {
            guard let text = raw(field) else { return nil }
            if let code = valueIndex[field]?[TextFolding.fold(text)] ?? countries.resolve(text) { return code }
            reject("code_exists", field, "a country name or ISO 3166-1 code")
            return nil
        }
        func date(_ field: Field) -> CivilDate? {
            guard let text = raw(field) else { return nil }
            for p in patterns { if let d = p.parse(Substring(text), pivot: pivot) { return d } }
            reject("date_format", field, "a real date written as " + profile.dateFormats.joined(separator: " or "))
            return nil
        }
        for field in profile.required where raw(field) == nil
            && !(field == .surnames && raw(.firstSurname) != nil) {
            reject("required", field, "a value; this field is required")
        }

        let recordKey = raw(.recordKey)
        let type = coded(.eventType, EventType.self)
        let eventDate = date(.eventDate)
        let sex = coded(.sex, Sex.self)
        let birth = date(.birthDate)
        var age: Int?
        if let text = raw(.age) {
            if let a = Int(text), (0...120).contains(a) { age = a } else { reject("age_range", .age, "a whole number of years from 0 to 120") }
        }
        if let birth, let eventDate {
            if eventDate < birth {
                reject("birth_before_event", .birthDate, "a birth date on or before the event date")
            } else {
                let derived = birth.age(on: eventDate)
                if derived > 120 { reject("age_range", .birthDate, "a birth date at most 120 years before the event") }
                else { age = derived }
            }
        }
        let surnames = raw(.surnames) ?? [raw(.firstSurname), raw(.secondSurname)].compactMap { $0 }.joined(separator: " ")
        var division: String?
        if let muni = raw(.municipality) {
            division = divisions.resolve(municipality: muni, department: raw(.department), country: profile.reportingCountry)
            if division == nil { reject("code_exists", .municipality, "a municipality or district of \(profile.reportingCountry), by name or code, matching its department") }
        }
        var place: String?
        if let text = raw(.place) {
            place = valueIndex[.place]?[TextFolding.fold(text)] ?? (reference.place(text) != nil ? text : nil)
            if place == nil { reject("code_exists", .place, "a crossing point or reception centre listed in the profile or CL_PLACE") }
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
            if let d = Int(text), d >= 0 { daysAbroad = d } else { reject("number", .daysAbroad, "a whole number of days") }
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
            let child: ChildStatus? = age.map { $0 >= 18 ? .adult : (unaccompanied == true ? .unaccompanied : .accompanied) }
            details = ReturnDetails(returningFrom: returningFrom, returnType: returnType, childStatus: child,
                                    daysAbroad: daysAbroad)
        }
        // Without a record key of its own, a row is identified by its content: the same row imported
        // again is then recognised as a duplicate.
        let key = "\(profile.id):" + (recordKey ?? "row-" + ContentKey.of(fields))
        return .accepted(MovementEvent(
            source: SourceReference(agency: profile.agency, file: file, row: row, recordKey: key),
            type: type, date: eventDate, reportingCountry: profile.reportingCountry, place: place,
            transportMode: transport, person: person, returnDetails: details))
    }
}

/// A short stable key of a row's content (FNV-1a 64 over the fields).
enum ContentKey {
    static func of(_ fields: [String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for f in fields {
            for b in f.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0x1f) &* 0x100_0000_01b3
        }
        return String(h, radix: 16)
    }
}
