import Foundation
import PuenteCore
import PuenteIngest
import PuenteReference
import PuenteReintegration

/// Options of `puente generate`.
public struct GeneratorOptions: Sendable {
    /// `SV`, `GT` or `HN` (or their alpha-3 codes).
    public var country: String
    public var year: Int
    public var seed: UInt64
    /// Multiplies every volume; 1 gives the published magnitudes.
    public var scale: Double

    public init(country: String, year: Int, seed: UInt64 = 1, scale: Double = 1) {
        self.country = country
        self.year = year
        self.seed = seed
        self.scale = scale
    }
}

/// What was written, for the command's output and for tests.
public struct GenerationSummary: Codable, Sendable {
    public struct FileSummary: Codable, Sendable {
        public var file: String
        public var profile: String
        public var rows: Int
        public var malformedRows: Int
        /// Applied register errors by kind (`typo`, `accents_dropped`, …).
        public var errors: [String: Int]
    }

    public var country: String
    public var year: Int
    public var seed: UInt64
    public var scale: Double
    public var files: [FileSummary]
    public var persons: Int
}

/// Generates a realistic, deterministic country-year of agency exports with their ground truth.
///
/// The same options always give byte-identical files. Ground truth goes to `truth/`: every person as
/// they really are, and for each row who it is, what really happened and which errors were planted.
public struct Generator {
    public let options: GeneratorOptions
    private let scenario: Scenario
    private let reference: ReferenceData
    private let errors = RegisterErrors.standard
    /// In a generated region: the crossings this country shares with its neighbours.
    let region: RegionPlan?

    /// The random stream of the errors added after the first ones (`RegisterErrors`), one per row.
    private static func extraErrors(_ options: GeneratorOptions, register: UInt64, row: Int) -> RandomSource {
        var seeder = RandomSource(
            seed: options.seed &* 0x9E37_79B9 &+ UInt64(options.year) &+ register << 40 &+ UInt64(row))
        return RandomSource(seed: seeder.next())
    }

    public init(options: GeneratorOptions, reference: ReferenceData = .shared) throws {
        try self.init(options: options, reference: reference, region: nil)
    }

    init(options: GeneratorOptions, reference: ReferenceData, region: RegionPlan?) throws {
        guard let scenario = Scenario.named(options.country) else {
            throw PuenteError(
                .invalidArgument, "Puente generates data for SV, GT or HN; use --country with one of them.")
        }
        guard (2000...2100).contains(options.year) else {
            throw PuenteError(.invalidArgument, "Give a --year between 2000 and 2100.")
        }
        guard options.scale > 0, options.scale <= 50 else {
            throw PuenteError(
                .invalidArgument, "Give a --scale above 0 and at most 50 (1 gives the published magnitudes).")
        }
        self.options = options
        self.scenario = scenario
        self.reference = reference
        self.region = region
    }

    /// The names of the files `write(to:)` produces.
    public var fileNames: [String] { [scenario.returnsProfile + ".csv", scenario.movementsProfile + ".csv"] }

    public func write(to directory: URL) throws -> GenerationSummary {
        try writeLogged(to: directory).summary
    }

    /// Writes the files, and what a generated region needs of them: which removals by Mexico and which
    /// shared crossings made it into an accepted row.
    func writeLogged(to directory: URL) throws -> (summary: GenerationSummary, log: RegionLog) {
        let fm = FileManager.default
        try fm.createDirectory(at: directory.appendingPathComponent("truth"), withIntermediateDirectories: true)
        var rng = RandomSource(seed: options.seed &* 0x9E37_79B9 &+ UInt64(options.year))
        var people = PersonFactory(reference: reference)
        var truthPersons: [TruePerson] = []
        var log = RegionLog()
        let returns = try writeReturns(directory, &rng, &people, &truthPersons, &log)
        let movements = try writeMovements(directory, &rng, &people, &truthPersons, &log)
        try writePersons(truthPersons, to: directory.appendingPathComponent("truth/persons.csv"))
        let summary = GenerationSummary(
            country: scenario.country, year: options.year, seed: options.seed,
            scale: options.scale, files: [returns, movements], persons: truthPersons.count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(to: directory.appendingPathComponent("truth/summary.json"))
        return (summary, log)
    }

    /// Writes a reintegration programme's year over the returns `write(to:)` wrote in `directory`:
    /// `reintegration/` (staff, partners, the actions `puente cases load` replays) and its truth.
    public func writeReintegration(to directory: URL) throws -> (cases: Int, actions: Int) {
        let profile = try ProfileCatalogue.load(scenario.returnsProfile)
        return try ReintegrationCohort(
            scenario: scenario, options: options, instrument: try SustainabilitySurvey.defaultInstrument()
        ).write(
            to: directory,
            returnsTruth: directory.appendingPathComponent("truth/\(scenario.returnsProfile).truth.csv"),
            agency: profile.agency, register: profile.register)
    }

    // MARK: Returns

    private func randomDay(inMonth month: Int, _ rng: inout RandomSource) -> CivilDate {
        CivilDate(
            year: options.year, month: month, day: rng.int(1...CivilDate.daysIn(month: month, year: options.year)))!
    }

    private func returnAge(child: Bool, _ rng: inout RandomSource) -> Int {
        if child { return rng.chance(0.7) ? rng.int(12...17) : rng.int(0...11) }
        let band = rng.unit()
        return band < 0.76 ? rng.int(18...40) : band < 0.95 ? rng.int(41...55) : rng.int(56...70)
    }

    private func birthDate(age: Int, on date: CivilDate, _ rng: inout RandomSource) -> CivilDate {
        // A day uniformly within the year of life that gives `age` on `date`.
        let latest = CivilDate(
            year: date.year - age, month: date.month,
            day: min(date.day, CivilDate.daysIn(month: date.month, year: date.year - age)))!
        return latest.adding(days: -rng.int(0...364))
    }

    private func writeReturns(
        _ dir: URL, _ rng: inout RandomSource, _ people: inout PersonFactory,
        _ persons: inout [TruePerson], _ log: inout RegionLog
    ) throws -> GenerationSummary.FileSummary {
        let profile = try ProfileCatalogue.load(scenario.returnsProfile)
        let file = scenario.returnsProfile + ".csv"
        var writer = try ExportWriter(profile: profile, url: dir.appendingPathComponent(file))
        var truth = TruthWriter(url: dir.appendingPathComponent("truth/\(scenario.returnsProfile).truth.csv"))
        func scaled(_ v: Int) -> Int { Int((Double(v) * options.scale).rounded()) }
        // Exact volumes: registered returns from Mexico and the United States, and the removals Mexico
        // counted that no reception centre registered.
        let total = scaled(scenario.returnsPerYear)
        let fromMexico = scaled(scenario.returnsFromMexico)
        let missed = max(0, scaled(scenario.removalsByMexico) - fromMexico)
        var origins =
            [Origin](repeating: .mexico, count: fromMexico)
            + [Origin](repeating: .unitedStates, count: total - fromMexico)
            + [Origin](repeating: .mexicoUnregistered, count: missed)
        origins.shuffle(using: &rng)
        let months = WeightedTable(Array(zip(1...12, Scenario.monthWeights)))
        var dates = origins.map { _ in randomDay(inMonth: months.draw(&rng), &rng) }
        dates.sort()
        var returnees: [TruePerson] = []  // people who may come back again within the year
        var errorCounts: [String: Int] = [:]
        var malformed = 0
        var n = -1  // the row written last
        for (date, origin) in zip(dates, origins) {
            if origin == .mexicoUnregistered {
                log.removals.append(RegionLog.Removal(date: date, registered: false, accepted: false))
                continue
            }
            n += 1
            let fromMexico = origin == .mexico
            let mode: TransportMode = fromMexico ? .land : .air
            var person: TruePerson
            if !returnees.isEmpty, rng.chance(0.08) {
                person = returnees[rng.int(0...returnees.count - 1)]  // a repeat return
            } else {
                // 16 % of all returns are children; repeat returns are adults, so new returnees are a
                // little more often children.
                let child = rng.chance(0.16 / (1 - 0.08))
                let age = returnAge(child: child, &rng)
                let male = rng.chance(child ? 0.66 : 0.86)
                person = people.make(
                    sex: male ? .male : .female, birthDate: birthDate(age: age, on: date, &rng),
                    nationality: scenario.country, on: date, emigrant: true, rng: &rng)
                persons.append(person)
                if age >= 18 { returnees.append(person) }
            }
            let age = person.birthDate.age(on: date)
            let child = age < 18
            let unaccompanied = child && rng.chance(fromMexico ? 0.45 : 0.25)
            let returnType: ReturnType =
                rng.chance(fromMexico ? 0.9 : 0.97) ? .deportation : (rng.chance(0.7) ? .assisted : .spontaneous)
            var errs: [String] = []
            var extra = Self.extraErrors(options, register: 1, row: n)
            var names = errors.names(of: person, uppercase: scenario.uppercaseNames, rng: &rng, errors: &errs)
            let recordedBirth = errors.heapedOrPlaceholder(
                errors.birthDate(person.birthDate, rng: &rng, errors: &errs),
                extra: &extra, errors: &errs)
            if let married = errors.marriedSecondSurname(
                of: person, age: age, uppercase: scenario.uppercaseNames, extra: &extra, errors: &errs)
            {
                names.second = married
            }
            var v: [Field: RecordedValue] = [
                .recordKey: .text(scenario.returnKey(options.year, n + 1)), .eventDate: .date(date),
                .givenNames: .text(names.given), .firstSurname: .text(names.first), .secondSurname: .text(names.second),
                .surnames: .text(names.first + " " + names.second),
                .sex: .code(person.sex.rawValue), .age: .int(age),
                .returningFrom: .country(fromMexico ? "MEX" : "USA"), .transportMode: .code(mode.rawValue),
                .returnType: .code(returnType.rawValue), .unaccompanied: .code(unaccompanied ? "true" : "false"),
                .place: .code(scenario.receptionPlace(mode, child && !unaccompanied)),
            ]
            if let recordedBirth { v[.birthDate] = .date(recordedBirth) }
            if let division = person.division,
                let unit = reference.geography(scenario.country)?.baseUnits.code(division)
            {
                if rng.chance(errors.municipalityMissing) {
                    errs.append("municipality_missing")
                } else {
                    let dept = reference.geography(scenario.country)!.departments.code(unit.parent!)!.name
                    let accentless = rng.chance(errors.accentsDropped)
                    v[.department] = .text(accentless ? RegisterErrors.stripAccents(dept) : dept)
                    v[.municipality] = .text(accentless ? RegisterErrors.stripAccents(unit.name) : unit.name)
                }
            }
            if child {
                v[.documentType] = .code(
                    rng.chance(0.7) ? DocumentType.birthCertificate.rawValue : DocumentType.none.rawValue)
            } else if let id = person.nationalID, !rng.chance(errors.documentMissing) {
                v[.documentType] = .code(DocumentType.nationalID.rawValue)
                v[.documentNumber] = .text(errors.documentPlaceholder(extra: &extra, errors: &errs) ?? id)
            } else if !errs.contains("document_missing") {
                errs.append("document_missing")
                v[.documentType] = .code(DocumentType.travelDocument.rawValue)
            }
            if rng.chance(0.6) {
                v[.daysAbroad] = .int(fromMexico ? rng.int(3...120) : rng.int(30...3650))
            }
            var malformation: Malformation?
            if rng.chance(errors.malformed) {
                malformation = Malformation.allCases[rng.int(0...Malformation.allCases.count - 1)]
                plant(malformation!, in: &v, eventDate: date)
                malformed += 1
            }
            for e in errs { errorCounts[e, default: 0] += 1 }
            try writer.write(v)
            if fromMexico {
                log.removals.append(RegionLog.Removal(date: date, registered: true, accepted: malformation == nil))
            }
            truth.add(
                row: n + 1, key: scenario.returnKey(options.year, n + 1), person: person.id, type: .return,
                date: date, sex: person.sex, age: age, division: person.division,
                errors: errs, malformation: malformation)
        }
        try writer.close()
        try truth.close()
        return .init(file: file, profile: profile.id, rows: total, malformedRows: malformed, errors: errorCounts)
    }

    private func plant(_ m: Malformation, in v: inout [Field: RecordedValue], eventDate: CivilDate) {
        switch m {
        case .impossibleDate: v[.eventDate] = .raw("31/02/\(eventDate.year)")
        case .unknownSex: v[.sex] = .raw("X")
        case .birthAfterEvent: v[.birthDate] = .date(eventDate.adding(days: 400)); v[.age] = nil
        case .missingKey: v[.recordKey] = .raw("")
        }
    }

    // MARK: Border movements

    private func writeMovements(
        _ dir: URL, _ rng: inout RandomSource, _ people: inout PersonFactory,
        _ persons: inout [TruePerson], _ log: inout RegionLog
    ) throws -> GenerationSummary.FileSummary {
        let profile = try ProfileCatalogue.load(scenario.movementsProfile)
        let file = scenario.movementsProfile + ".csv"
        let target = Int((Double(scenario.movementsPerYear) * options.scale).rounded())
        let nationalities = WeightedTable(scenario.nationalities)
        // In a region, crossings to its other countries come from the shared trips only, so both sides
        // of a border record the same people.
        let regionCountries = region?.countries ?? []
        let places = reference.places.filter {
            $0.country == scenario.country && $0.kind != .receptionCentre
                && !regionCountries.contains($0.neighbour ?? "")
        }
        let yearStart = CivilDate(year: options.year, month: 1, day: 1)!
        let daysInYear = CivilDate.isLeap(options.year) ? 366 : 365
        struct Movement {
            var date: CivilDate; var type: EventType; var person: Int; var place: Place; var passport: String?
            var shared: Int? = nil
        }
        var movements: [Movement] = []
        var travellers: [TruePerson] = []
        while movements.count < target {
            let nationality = nationalities.draw(&rng)
            let age = rng.chance(0.12) ? rng.int(0...17) : rng.int(18...75)
            let birth = birthDate(age: age, on: yearStart, &rng)  // age on 1 January: born before any trip
            var person = people.make(
                sex: rng.chance(0.55) ? .male : .female, birthDate: birth, nationality: nationality,
                on: yearStart, rng: &rng)
            if person.passport == nil { person.passport = PersonFactory.passport(nationality, rng: &rng) }
            persons.append(person)
            travellers.append(person)
            // Most people cross once or twice a year; traders and cross-border workers cross often.
            let trips = rng.chance(0.7) ? 1 : rng.chance(0.8) ? rng.int(2...4) : rng.int(5...24)
            let national = nationality == scenario.country
            let neighbourCrossings = places.filter { $0.neighbour == nationality }
            var passport = person.passport
            for _ in 0..<trips {
                let place: Place
                if !neighbourCrossings.isEmpty, rng.chance(0.8) {
                    place = neighbourCrossings[rng.int(0...neighbourCrossings.count - 1)]
                } else if rng.chance(0.6), let air = places.first(where: { $0.kind == .air }) {
                    place = air
                } else {
                    place = places[rng.int(0...places.count - 1)]
                }
                let start = yearStart.adding(days: rng.int(0...daysInYear - 1))
                let stay = place.kind == .land ? rng.int(0...10) : rng.int(3...45)
                let end = min(start.adding(days: stay), yearStart.adding(days: daysInYear - 1))
                // Nationals leave and come back; foreigners arrive and leave.
                let (first, second): (EventType, EventType) = national ? (.exit, .entry) : (.entry, .exit)
                if rng.chance(0.01) { passport = PersonFactory.passport(nationality, rng: &rng) }  // a renewed passport
                movements.append(
                    Movement(date: start, type: first, person: persons.count - 1, place: place, passport: passport))
                movements.append(
                    Movement(date: end, type: second, person: persons.count - 1, place: place, passport: passport))
            }
        }
        var sharedPersons: [Int: Int] = [:]  // person id → index in `persons`
        for (i, crossing) in (region?.crossings ?? []).enumerated() where crossing.recorded {
            let index =
                sharedPersons[crossing.person.id]
                ?? {
                    persons.append(crossing.person)
                    sharedPersons[crossing.person.id] = persons.count - 1
                    return persons.count - 1
                }()
            movements.append(
                Movement(
                    date: crossing.date, type: crossing.type, person: index, place: crossing.place,
                    passport: crossing.person.passport, shared: i))
        }
        movements.sort { ($0.date, $0.person, $0.type.rawValue) < ($1.date, $1.person, $1.type.rawValue) }
        var writer = try ExportWriter(profile: profile, url: dir.appendingPathComponent(file))
        var truth = TruthWriter(url: dir.appendingPathComponent("truth/\(scenario.movementsProfile).truth.csv"))
        var errorCounts: [String: Int] = [:]
        var malformed = 0
        for (n, m) in movements.enumerated() {
            let person = persons[m.person]
            var errs: [String] = []
            var extra = Self.extraErrors(options, register: 2, row: n)
            var names = errors.names(of: person, uppercase: scenario.uppercaseNames, rng: &rng, errors: &errs)
            let birth = errors.heapedOrPlaceholder(
                errors.birthDate(person.birthDate, rng: &rng, errors: &errs), extra: &extra, errors: &errs)
            if let married = errors.marriedSecondSurname(
                of: person, age: person.birthDate.age(on: m.date), uppercase: scenario.uppercaseNames,
                extra: &extra, errors: &errs)
            {
                names.second = married
            }
            let national = person.nationality == scenario.country
            let status: MigrationStatus =
                national ? .national : (rng.chance(0.08) ? .resident : rng.chance(0.1) ? .transit : .visitor)
            let key = scenario.movementKey(options.year, n + 1)
            var v: [Field: RecordedValue] = [
                .recordKey: .text(key), .eventType: .code(m.type.rawValue), .eventDate: .date(m.date),
                .place: .code(m.place.code),
                .transportMode: .code(m.place.kind == .air ? "AIR" : m.place.kind == .sea ? "SEA" : "LAND"),
                .givenNames: .text(names.given), .surnames: .text(names.first + " " + names.second),
                .sex: .code(person.sex.rawValue), .nationality: .country(person.nationality),
                .birthCountry: .country(person.nationality), .residenceCountry: .country(person.nationality),
                .migrationStatus: .code(status.rawValue),
            ]
            if let birth { v[.birthDate] = .date(birth) }
            // Central Americans cross land borders with their national identity card (CA-4 agreement).
            if m.place.kind == .land, let id = person.nationalID,
                ["SLV", "GTM", "HND", "NIC"].contains(person.nationality)
            {
                v[.documentType] = .code(DocumentType.nationalID.rawValue)
                v[.documentNumber] = .text(errors.documentPlaceholder(extra: &extra, errors: &errs) ?? id)
            } else if let passport = m.passport {
                v[.documentType] = .code(DocumentType.passport.rawValue)
                v[.documentNumber] = .text(passport)
            }
            var malformation: Malformation?
            if rng.chance(errors.malformed) {
                malformation = Malformation.allCases[rng.int(0...Malformation.allCases.count - 1)]
                plant(malformation!, in: &v, eventDate: m.date)
                malformed += 1
            }
            for e in errs { errorCounts[e, default: 0] += 1 }
            try writer.write(v)
            if let shared = m.shared, malformation == nil { log.acceptedCrossings.insert(shared) }
            truth.add(
                row: n + 1, key: key, person: person.id, type: m.type, date: m.date, sex: person.sex,
                age: person.birthDate.age(on: m.date), division: nil, errors: errs, malformation: malformation)
        }
        try writer.close()
        try truth.close()
        return .init(
            file: file, profile: profile.id, rows: movements.count, malformedRows: malformed, errors: errorCounts)
    }

    private func writePersons(_ persons: [TruePerson], to url: URL) throws {
        var out =
            "person_id,given_names,first_surname,second_surname,sex,birth_date,nationality,division,national_id,passport\n"
        for p in persons {
            out += CSVWriter.line([
                String(p.id), p.givenNames, p.firstSurname, p.secondSurname, p.sex.rawValue,
                p.birthDate.description, p.nationality, p.division ?? "", p.nationalID ?? "", p.passport ?? "",
            ])
        }
        try out.write(to: url, atomically: true, encoding: .utf8)
    }
}

/// Where a return came from, as the generator decides it before making the person.
enum Origin { case mexico, unitedStates, mexicoUnregistered }

/// What a country of a generated region shares with its neighbours.
struct RegionPlan {
    /// The region's countries (ISO alpha-3): land crossings between them come only from `crossings`.
    var countries: Set<String>
    /// This country's side of the shared trips, in a fixed order.
    var crossings: [SharedCrossing]
}

/// One side of a border crossing by a person both countries may record.
struct SharedCrossing {
    var person: TruePerson
    var date: CivilDate
    var type: EventType
    var place: Place
    /// False when this side's register missed it (the known undercount).
    var recorded: Bool
}

/// What a generated region needs to know of one country's files.
struct RegionLog {
    struct Removal {
        var date: CivilDate
        /// Registered at a reception centre, and accepted on ingest (not a malformed row).
        var registered: Bool
        var accepted: Bool
    }
    /// Every return from Mexico Mexico counted, registered or not.
    var removals: [Removal] = []
    /// Indexes into the plan's crossings written as rows that ingest accepts.
    var acceptedCrossings: Set<Int> = []
}

/// The ground truth of one generated file, a row per data row.
struct TruthWriter {
    let url: URL
    private var text = "row,record_key,person_id,event_type,event_date,sex,age,division,errors,malformed\n"

    init(url: URL) { self.url = url }

    mutating func add(
        row: Int, key: String, person: Int, type: EventType, date: CivilDate, sex: Sex, age: Int,
        division: String?, errors: [String], malformation: Malformation?
    ) {
        text += CSVWriter.line([
            String(row), key, String(person), type.rawValue, date.description, sex.rawValue,
            String(age), division ?? "", errors.joined(separator: ";"), malformation?.rawValue ?? "",
        ])
    }

    func close() throws { try text.write(to: url, atomically: true, encoding: .utf8) }
}
