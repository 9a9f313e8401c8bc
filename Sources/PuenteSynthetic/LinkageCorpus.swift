import Foundation
import PuenteCore
import PuenteReference

/// A corpus for measuring record linkage on what the region's registers really hold, harder than the
/// agency exports: persons of El Salvador, Guatemala and Honduras recorded one to ten times each, many
/// in families (siblings sharing both surnames and a municipality, twins, a son with his father's given
/// names), with the errors data officers meet, and the exact truth of which record is whose.
///
/// Files written into a folder (UTF-8, comma-separated):
/// - `records.csv`: every record, for deduplication;
/// - `left.csv`, `right.csv`: the same records split in two at random, for linking (the matches are the
///   cross pairs of the same person);
/// - `truth.csv`: `record_id, person_id, family_id, errors` (the error kinds applied, `;`-separated).
///
/// The same records count and seed always give the same files.
public struct LinkageCorpus: Sendable {
    public static let header = [
        "record_id", "given_names", "first_surname", "second_surname", "birth_date", "sex", "document_type",
        "document_number", "municipality",
    ]

    public struct Summary: Sendable {
        public var records = 0
        public var persons = 0
        public var families = 0
        public var left = 0
        public var right = 0
    }

    public let records: Int
    public let seed: UInt64
    private let reference: ReferenceData

    public init(records: Int, seed: UInt64 = 1, reference: ReferenceData = .shared) throws {
        guard (10...20_000_000).contains(records) else {
            throw PuenteError(.invalidInput, "A linkage corpus holds from 10 to 20,000,000 records; \(records) asked.")
        }
        self.records = records
        self.seed = seed
        self.reference = reference
    }

    /// How many records a person has: most one or two, a few up to ten (people returned again and again,
    /// or crossing often), about 2.4 on average.
    static let recordsPerPerson = WeightedTable<Int>([
        (1, 0.42), (2, 0.2), (3, 0.12), (4, 0.08), (5, 0.05), (6, 0.04), (7, 0.03), (8, 0.025), (9, 0.02),
        (10, 0.015),
    ])

    static let nationalities = WeightedTable<String>([("SLV", 0.35), ("GTM", 0.4), ("HND", 0.25)])
    static let nationalDocument = ["SLV": "DUI", "GTM": "DPI", "HND": "DNI"]

    /// One person's life as the registers see it: who they are, and what changed between records.
    struct Life {
        var person: TruePerson
        var family: Int?
        var records: Int
        /// A renewed passport: records from this index on show `renewedPassport`.
        var renewedAt = Int.max
        var renewedPassport: String?
        /// A move: records from this index on show `movedTo`.
        var movedAt = Int.max
        var movedTo: String?
        /// A marriage: records from this index on may show the husband's surname (`de García`).
        var marriedAt = Int.max
        var husband = ""
    }

    public func write(to dir: URL) throws -> Summary {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = RandomSource(seed: seed ^ 0x4C49_4E4B)
        var lives = makeLives(&rng)
        // Records of one person are spread through the files, as a register's years of entries are.
        var slots: [(life: Int, index: Int)] = []
        slots.reserveCapacity(records)
        for (l, life) in lives.enumerated() { for k in 0..<life.records { slots.append((l, k)) } }
        slots.shuffle(using: &rng)

        var all = try BufferedFileWriter(path: dir.appendingPathComponent("records.csv").path)
        var left = try BufferedFileWriter(path: dir.appendingPathComponent("left.csv").path)
        var right = try BufferedFileWriter(path: dir.appendingPathComponent("right.csv").path)
        var truth = try BufferedFileWriter(path: dir.appendingPathComponent("truth.csv").path)
        let header = CSVWriter.line(Self.header)
        try all.append(header)
        try left.append(header)
        try right.append(header)
        try truth.append(CSVWriter.line(["record_id", "person_id", "family_id", "errors"]))

        var summary = Summary(persons: lives.count, families: Set(lives.compactMap(\.family)).count)
        let errors = CorpusErrors(
            municipality2024: reference.geography("SLV")?.views.first { $0.id == "municipality_2024" }?.mapping ?? [:])
        for (n, slot) in slots.enumerated() {
            var errorNames: [String] = []
            let id = "R" + pad(n + 1, 8)
            let fields = errors.record(of: &lives[slot.life], index: slot.index, rng: &rng, errors: &errorNames)
            let line = CSVWriter.line([id] + fields)
            try all.append(line)
            if rng.chance(0.5) {
                try left.append(line); summary.left += 1
            } else {
                try right.append(line); summary.right += 1
            }
            let life = lives[slot.life]
            try truth.append(
                CSVWriter.line([
                    id, String(life.person.id), life.family.map(String.init) ?? "", errorNames.joined(separator: ";"),
                ]))
        }
        summary.records = slots.count
        try all.close()
        try left.close()
        try right.close()
        try truth.close()
        return summary
    }

    /// Persons, families first among them, until their records reach the count asked.
    private func makeLives(_ rng: inout RandomSource) -> [Life] {
        var factory = PersonFactory(reference: reference)
        let today = CivilDate(year: 2026, month: 1, day: 1)!
        var lives: [Life] = []
        var total = 0, family = 0
        func add(_ person: TruePerson, family: Int?, rng: inout RandomSource) {
            let count = min(Self.recordsPerPerson.draw(&rng), max(1, records - total))
            var life = Life(person: person, family: family, records: count)
            if count > 1 {
                if person.passport != nil, rng.chance(0.15) {
                    life.renewedAt = rng.int(1...count - 1)
                    life.renewedPassport = PersonFactory.passport(person.nationality, rng: &rng)
                }
                if rng.chance(0.12) {
                    life.movedAt = rng.int(1...count - 1)
                    var other = factory.make(
                        sex: person.sex, birthDate: person.birthDate, nationality: person.nationality, on: today,
                        emigrant: true, rng: &rng)
                    other.id = person.id
                    life.movedTo = other.division
                }
            }
            if person.sex == .female, person.birthDate.age(on: today) >= 20, rng.chance(0.12) {
                life.marriedAt = rng.int(0...count - 1)
                life.husband = CorpusErrors.commonSurnames[rng.int(0...CorpusErrors.commonSurnames.count - 1)]
            }
            lives.append(life)
            total += count
        }
        func birth(age: ClosedRange<Int>, rng: inout RandomSource) -> CivilDate {
            today.adding(days: -(rng.int(age.lowerBound * 365...age.upperBound * 365 + 364)))
        }
        while total < records {
            let nationality = Self.nationalities.draw(&rng)
            let sex: Sex = rng.chance(0.7) ? .male : .female  // most people returned are men
            if rng.chance(0.25) {
                // A family: a parent and two to four children with the parent's first surname and the
                // other parent's, in the same municipality; sometimes twins, sometimes a son named after
                // his father.
                family += 1
                let parent = factory.make(
                    sex: sex, birthDate: birth(age: 38...60, rng: &rng), nationality: nationality, on: today,
                    emigrant: true, rng: &rng)
                add(parent, family: family, rng: &rng)
                let otherSurname = factory.make(
                    sex: .female, birthDate: parent.birthDate, nationality: nationality, on: today, rng: &rng
                ).firstSurname
                var previous: CivilDate?
                var namedAfterFather = false
                for _ in 0..<rng.int(2...4) where total < records {
                    let childSex: Sex = rng.chance(0.6) ? .male : .female
                    let born: CivilDate
                    if let previous, rng.chance(0.015) {
                        born = previous  // twins: about 1.5 % of births in the region are twin births
                    } else {
                        born = parent.birthDate.adding(
                            days: rng.int(18 * 365...(parent.birthDate.age(on: today) - 14) * 365))
                    }
                    previous = born
                    var child = factory.make(
                        sex: childSex, birthDate: born, nationality: nationality, on: today, emigrant: true, rng: &rng)
                    child.firstSurname = parent.sex == .male ? parent.firstSurname : otherSurname
                    child.secondSurname = parent.sex == .male ? otherSurname : parent.firstSurname
                    if child.secondSurname == child.firstSurname { child.secondSurname = parent.secondSurname }
                    child.division = parent.division
                    if parent.sex == .male, childSex == .male, !namedAfterFather, rng.chance(0.2) {
                        child.givenNames = parent.givenNames  // one son at most
                        namedAfterFather = true
                    }
                    add(child, family: family, rng: &rng)
                }
            } else {
                let person = factory.make(
                    sex: sex, birthDate: birth(age: 15...65, rng: &rng), nationality: nationality, on: today,
                    emigrant: true, rng: &rng)
                add(person, family: nil, rng: &rng)
            }
        }
        return lives
    }
}

/// The mistakes of the corpus's records, beyond the agency exports' (`RegisterErrors`): what a
/// register typed, scanned or updated differently from one record of a person to the next.
struct CorpusErrors {
    /// El Salvador's districts (the municipalities before 2024) to the municipalities since.
    let municipality2024: [String: String]

    static let commonSurnames = [
        "García", "Hernández", "López", "Martínez", "Pérez", "Rodríguez", "Flores", "Ramírez", "Cruz", "Morales",
        "Reyes", "Mejía",
    ]

    /// Letters a scanner or a hurried reader takes for others, in names and in document numbers.
    static let nameConfusions: [(String, String)] = [
        ("rn", "m"), ("m", "rn"), ("cl", "d"), ("l", "I"), ("e", "c"), ("u", "v"), ("h", "b"), ("n", "ri"),
    ]
    static let documentConfusions: [(Character, Character)] = [
        ("0", "O"), ("1", "I"), ("5", "S"), ("8", "B"), ("2", "Z"), ("6", "G"),
    ]

    /// The fields of record `index` of `life` (after the id), in ``LinkageCorpus/header`` order.
    func record(of life: inout LinkageCorpus.Life, index: Int, rng: inout RandomSource, errors: inout [String])
        -> [String]
    {
        let person = life.person
        var given = person.givenNames, first = person.firstSurname, second = person.secondSurname
        if index >= life.marriedAt, rng.chance(0.7) {
            second = "de " + life.husband
            errors.append("married_name")
        }
        let words = given.split(separator: " ")
        if words.count > 1 {
            if rng.chance(0.06) {
                given = words[0] + " " + String(words[1].first!) + "."
                errors.append("given_name_initial")
            } else if rng.chance(0.10) {
                given = String(words[0])
                errors.append("given_name_dropped")
            }
        }
        if rng.chance(0.03) {
            switch rng.int(0...2) {
            case 0: given = RegisterErrors.typo(given, rng: &rng)
            case 1: first = RegisterErrors.typo(first, rng: &rng)
            default: second = RegisterErrors.typo(second, rng: &rng)
            }
            errors.append("typo")
        }
        if rng.chance(0.015) {
            let (from, to) = Self.nameConfusions[rng.int(0...Self.nameConfusions.count - 1)]
            let target = rng.int(0...1)
            let text = target == 0 ? given : first
            if let range = text.range(of: from) {
                let changed = text.replacingCharacters(in: range, with: to)
                if target == 0 { given = changed } else { first = changed }
                errors.append("ocr")
            }
        }
        if rng.chance(0.02) { swap(&first, &second); errors.append("surnames_swapped") }
        if rng.chance(0.04) { second = ""; errors.append("second_surname_missing") }
        if rng.chance(0.08), !second.isEmpty {
            first = first + " " + second
            second = ""
            errors.append("surnames_one_field")
        }
        if rng.chance(0.015) {
            // Given names typed where the surnames go, and the other way round.
            (given, first, second) = ([first, second].filter { !$0.isEmpty }.joined(separator: " "), given, "")
            errors.append("names_in_wrong_field")
        }
        if rng.chance(0.25) {
            given = RegisterErrors.stripAccents(given)
            first = RegisterErrors.stripAccents(first)
            second = RegisterErrors.stripAccents(second)
            errors.append("accents_dropped")
        }
        if rng.chance(0.5) { given = given.uppercased(); first = first.uppercased(); second = second.uppercased() }

        return [given, first, second, birthDate(person.birthDate, rng: &rng, errors: &errors)]
            + sex(person.sex, rng: &rng, errors: &errors)
            + document(life, index: index, rng: &rng, errors: &errors)
            + [municipality(life, index: index, rng: &rng, errors: &errors)]
    }

    private func birthDate(_ date: CivilDate, rng: inout RandomSource, errors: inout [String]) -> String {
        if rng.chance(0.05) { errors.append("birth_date_missing"); return "" }
        if rng.chance(0.005) { errors.append("birth_date_placeholder"); return "1900-01-01" }
        var year = date.year, month = date.month, day = date.day
        if rng.chance(0.01) { month = 1; day = 1; errors.append("birth_date_heaped") }
        if rng.chance(0.01), day <= 12, day != month { swap(&day, &month); errors.append("day_month_swap") }
        if rng.chance(0.02) {
            // One digit of the year mistyped: the last (1985 → 1986) or the one before it (1985 → 1995).
            year += rng.chance(0.6) ? (rng.chance(0.5) ? 1 : -1) : (rng.chance(0.5) ? 10 : -10)
            errors.append("birth_year_mistyped")
        }
        if rng.chance(0.02) {
            let typed = rng.int(1...28)
            if typed != day { day = typed; errors.append("birth_day_mistyped") }
        }
        let written = CivilDate(year: year, month: month, day: min(day, CivilDate.daysIn(month: month, year: year)))
        return written?.description ?? date.description
    }

    private func sex(_ sex: Sex, rng: inout RandomSource, errors: inout [String]) -> [String] {
        if rng.chance(0.01) { errors.append("sex_missing"); return [""] }
        if rng.chance(0.005) { errors.append("sex_wrong"); return [sex == .male ? "F" : "M"] }
        return [sex == .male ? "M" : "F"]
    }

    private func document(_ life: LinkageCorpus.Life, index: Int, rng: inout RandomSource, errors: inout [String])
        -> [String]
    {
        let person = life.person
        var type: String, number: String
        let draw = rng.unit()
        if draw < 0.55, let id = person.nationalID {
            type = LinkageCorpus.nationalDocument[person.nationality] ?? "DNI"
            number = id
        } else if draw < 0.9, let passport = person.passport {
            type = "PASAPORTE"
            if index >= life.renewedAt, let renewed = life.renewedPassport {
                number = renewed
                errors.append("document_renewed")
            } else {
                number = passport
            }
        } else {
            errors.append("document_missing")
            return ["", ""]
        }
        if rng.chance(0.01) { errors.append("document_placeholder"); return [type, "S/N"] }
        if rng.chance(0.02) {
            var chars = Array(number)
            let digits = chars.indices.filter { chars[$0].isNumber }
            if let at = digits.randomElement(using: &rng) {
                chars[at] = Character(String(rng.int(0...9)))
                number = String(chars)
                errors.append("document_typo")
            }
        }
        if rng.chance(0.015) {
            var chars = Array(number)
            let candidates = chars.indices.filter { i in Self.documentConfusions.contains { $0.0 == chars[i] } }
            if let at = candidates.randomElement(using: &rng) {
                chars[at] = Self.documentConfusions.first { $0.0 == chars[at] }!.1
                number = String(chars)
                errors.append("document_ocr")
            }
        }
        return [type, number]
    }

    private func municipality(_ life: LinkageCorpus.Life, index: Int, rng: inout RandomSource, errors: inout [String])
        -> String
    {
        guard var unit = life.person.division else { return "" }
        if index >= life.movedAt, let moved = life.movedTo {
            unit = moved
            errors.append("moved")
        }
        if rng.chance(0.05) { errors.append("municipality_missing"); return "" }
        // El Salvador's records since the 2024 reform often carry the new municipality, not the district.
        if unit.hasPrefix("SV-"), rng.chance(0.2), let new = municipality2024[unit] {
            errors.append("municipality_2024")
            return new
        }
        return unit
    }
}
