import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest
import PuenteReference

/// A return registered on a reception centre's form: stored as a record of the centre's register,
/// through the register's source profile as if the agency had exported it (the same checks, the same
/// rejections, its own import batch), and the person's case opened at once.
public struct ReceptionService: Sendable {
    let store: any PuenteStore
    let cases: CaseService
    let reference: ReferenceData
    let audit: AuditLog

    public init(store: any PuenteStore, reference: ReferenceData = .shared) {
        self.store = store
        cases = CaseService(store: store)
        self.reference = reference
        audit = AuditLog(store: store)
    }

    /// What the reception form records of one arrival, in Puente's codes.
    public struct Arrival: Sendable {
        /// The register's own number for the return.
        public var recordKey: String
        public var arrivedOn: CivilDate
        public var givenNames: String
        public var firstSurname: String
        public var secondSurname: String?
        /// `F` or `M`.
        public var sex: String
        public var birthDate: CivilDate?
        /// A municipality (base unit) code of the register's country.
        public var municipality: String?
        /// ISO 3166-1 alpha-3 of the country the person was returned from.
        public var returnedFrom: String?
        public var transportMode: String?
        public var returnType: String?
        public var unaccompanied: Bool
        /// The reception centre or crossing point (`PlaceCatalogue`).
        public var place: String?
        public var documentType: String?
        public var documentNumber: String?
        public var phone: String?
        public var language: String?

        public init(
            recordKey: String, arrivedOn: CivilDate, givenNames: String, firstSurname: String,
            secondSurname: String? = nil, sex: String, birthDate: CivilDate? = nil, municipality: String? = nil,
            returnedFrom: String? = nil, transportMode: String? = nil, returnType: String? = nil,
            unaccompanied: Bool = false, place: String? = nil, documentType: String? = nil,
            documentNumber: String? = nil, phone: String? = nil, language: String? = nil
        ) {
            self.recordKey = recordKey
            self.arrivedOn = arrivedOn
            self.givenNames = givenNames
            self.firstSurname = firstSurname
            self.secondSurname = secondSurname
            self.sex = sex
            self.birthDate = birthDate
            self.municipality = municipality
            self.returnedFrom = returnedFrom
            self.transportMode = transportMode
            self.returnType = returnType
            self.unaccompanied = unaccompanied
            self.place = place
            self.documentType = documentType
            self.documentNumber = documentNumber
            self.phone = phone
            self.language = language
        }
    }

    /// The shipped registers of returns (profiles whose every record is a return), of `country` when
    /// given: the registers a reception form can write to.
    public static func registers(country: String? = nil) -> [SourceProfile] {
        returnRegisters.filter { country == nil || $0.reportingCountry == country }
    }

    /// Read from the shipped profiles once: they are resources of the build.
    private static let returnRegisters: [SourceProfile] = ProfileCatalogue.shippedIDs.compactMap {
        try? ProfileCatalogue.load($0)
    }.filter { $0.constants[.eventType] == EventType.return.rawValue }

    /// Stores the arrival in `register` (a shipped return register) and opens its case at `office`
    /// (the actor's own when nil). A refused arrival stores nothing: the form's values are checked
    /// through the profile first, and a refusal names the form's field and what it expects.
    public func register(
        _ arrival: Arrival, in register: String, office: String? = nil, by actor: Actor, today: CivilDate = .today
    ) async throws -> CaseFile {
        try require(.cases, for: actor)
        guard let profile = Self.returnRegisters.first(where: { $0.id == register }) else {
            throw PuenteError(
                .invalidArgument,
                "register: expected one of " + Self.returnRegisters.map(\.id).joined(separator: ", ") + ".")
        }
        if let country = actor.country, country != profile.reportingCountry {
            throw PuenteError(.forbidden, "Your account registers returns of \(country) only.")
        }
        guard arrival.arrivedOn <= today else {
            throw PuenteError(.invalidArgument, "eventDate: the day of arrival cannot be later than today.")
        }
        let key = arrival.recordKey.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(key.count), !key.contains(where: { $0.isNewline || $0 == ":" }) else {
            throw PuenteError(
                .invalidArgument, "recordKey: expected the register's number for the return, 1 to 64 characters.")
        }
        let recordKey = "\(profile.register):\(key)"
        let opening = CaseService.Opening(
            agency: profile.agency, recordKey: recordKey, office: office,
            // A case worker who registers the arrival takes the case; a supervisor assigns it later.
            assignee: actor.role == .caseWorker ? actor.name : nil, phone: arrival.phone,
            language: arrival.language)
        let holder = try await cases.check(opening, by: actor)
        if try await store.receptionReturn(agency: profile.agency, recordKey: recordKey) != nil {
            throw PuenteError(
                .conflict, "recordKey: a return is stored under that number in \(profile.id) already; open its case.")
        }

        let spelling = ProfileSpelling(profile: profile)
        let records = [spelling.header, spelling.cells(try values(arrival, key: key, profile: profile))]
        // Named by the office and the time, never by the person.
        let file = "reception-form \(holder) \(Timestamp.now())"
        let importer = Importer(store: store, reference: reference)
        let check = try await importer.importRecords(records, named: file, profile: profile, dryRun: true)
        if let refused = check.previewRejects?.first {
            let fields = Dictionary(
                profile.columns.map { ($0.name, $0.field.rawValue) }, uniquingKeysWith: { a, _ in a })
            throw PuenteError(
                .invalidArgument,
                refused.reasons.map { "\(fields[$0.field] ?? $0.field): expected \($0.expected)" }
                    .joined(separator: "; ") + ".")
        }
        let report = try await importer.importRecords(records, named: file, profile: profile)
        guard report.accepted == 1, let importID = report.importID else {
            throw PuenteError(.conflict, "recordKey: a return is stored under that number already; open its case.")
        }
        try await audit.record(
            .init(
                actor: actor.name, action: "reception_registered", target: "import:\(importID) office:\(holder)",
                address: actor.address))
        return try await cases.open(opening, by: actor, today: today)
    }

    /// The form's values as the register's fields.
    private func values(_ arrival: Arrival, key: String, profile: SourceProfile) throws -> [Field: RecordedValue] {
        func line(_ text: String?, _ field: Field, required: Bool = false) throws -> String? {
            let value = text?.trimmingCharacters(in: .whitespaces)
            guard let value, !value.isEmpty else {
                if required { throw PuenteError(.invalidArgument, "\(field.rawValue): required.") }
                return nil
            }
            guard value.count <= 120, !value.contains(where: { $0.isNewline || $0.isASCII && $0.asciiValue! < 32 })
            else {
                throw PuenteError(.invalidArgument, "\(field.rawValue): expected one line of at most 120 characters.")
            }
            return value
        }
        let given = try line(arrival.givenNames, .givenNames, required: true)!
        let first = try line(arrival.firstSurname, .firstSurname, required: true)!
        let second = try line(arrival.secondSurname, .secondSurname)
        var values: [Field: RecordedValue] = [
            .recordKey: .text(key), .eventDate: .date(arrival.arrivedOn), .givenNames: .text(given),
            .firstSurname: .text(first), .surnames: .text([first, second].compactMap { $0 }.joined(separator: " ")),
            .sex: .code(arrival.sex), .unaccompanied: .code(arrival.unaccompanied ? "true" : "false"),
        ]
        if let second { values[.secondSurname] = .text(second) }
        if let birth = arrival.birthDate {
            values[.birthDate] = .date(birth)
            values[.age] = .int(birth.age(on: arrival.arrivedOn))
        }
        if let code = arrival.municipality, !code.isEmpty {
            guard let geography = reference.geography(profile.reportingCountry),
                let unit = geography.baseUnits.code(code),
                let department = unit.parent.flatMap(geography.departments.code)
            else {
                throw PuenteError(
                    .invalidArgument, "municipality: expected a municipality code of \(profile.reportingCountry).")
            }
            values[.department] = .text(department.name)
            values[.municipality] = .text(unit.name)
        }
        if let c = arrival.returnedFrom, !c.isEmpty { values[.returningFrom] = .country(c) }
        if let c = arrival.transportMode, !c.isEmpty { values[.transportMode] = .code(c) }
        if let c = arrival.returnType, !c.isEmpty { values[.returnType] = .code(c) }
        if let c = arrival.place, !c.isEmpty { values[.place] = .code(c) }
        if let c = arrival.documentType, !c.isEmpty { values[.documentType] = .code(c) }
        if let number = try line(arrival.documentNumber, .documentNumber) { values[.documentNumber] = .text(number) }
        return values
    }
}
