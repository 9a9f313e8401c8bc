import PuenteCore

/// The mistakes real registers contain, at rates close to what data officers report, applied to the
/// true values of a person. Each applied error is named in the ground truth.
struct RegisterErrors {
    /// Share of records with accents dropped from names (keyboards, older systems).
    var accentsDropped = 0.15
    /// Share of records with one wrong, missing or doubled letter in a name.
    var typo = 0.02
    /// Share of records with the two surnames in the wrong order.
    var surnamesSwapped = 0.01
    /// Share of records with day and month of birth swapped (when both are 12 or less).
    var dayMonthSwap = 0.005
    var birthDateMissing = 0.06
    var municipalityMissing = 0.03
    var documentMissing = 0.04
    /// Share of rows that no profile can accept (impossible dates, unknown codes, missing keys).
    var malformed = 0.003
    /// Share of records whose birth date is a system's placeholder, 1 January 1900 (typed where unknown).
    var birthDatePlaceholder = 0.005
    /// Share of records whose birth date was heaped on 1 January of the right year (only the year known).
    var birthDateHeaped = 0.01
    /// Share of records with a placeholder for the document number (`S/N`, `NO TIENE`, `000000`).
    var documentPlaceholder = 0.01
    /// Share of adult women recorded under a married name: the second surname replaced by `de` and the
    /// husband's (`López de García`).
    var marriedName = 0.04

    static let standard = RegisterErrors()

    func names(of person: TruePerson, uppercase: Bool, rng: inout RandomSource, errors: inout [String])
        -> (given: String, first: String, second: String)
    {
        var given = person.givenNames, first = person.firstSurname, second = person.secondSurname
        if rng.chance(surnamesSwapped) { swap(&first, &second); errors.append("surnames_swapped") }
        if rng.chance(typo) {
            switch rng.int(0...2) {
            case 0: given = Self.typo(given, rng: &rng)
            case 1: first = Self.typo(first, rng: &rng)
            default: second = Self.typo(second, rng: &rng)
            }
            errors.append("typo")
        }
        if rng.chance(accentsDropped) {
            given = Self.stripAccents(given); first = Self.stripAccents(first); second = Self.stripAccents(second)
            errors.append("accents_dropped")
        }
        if uppercase { given = given.uppercased(); first = first.uppercased(); second = second.uppercased() }
        return (given, first, second)
    }

    func birthDate(_ date: CivilDate, rng: inout RandomSource, errors: inout [String]) -> CivilDate? {
        if rng.chance(birthDateMissing) { errors.append("birth_date_missing"); return nil }
        if date.day <= 12, date.day != date.month, rng.chance(dayMonthSwap * 2.5),  // ×2.5: only ~40 % of dates qualify
            let swapped = CivilDate(year: date.year, month: date.day, day: date.month)
        {
            errors.append("day_month_swap")
            return swapped
        }
        return date
    }

    // The errors below draw from a stream of their own (`extra`, one per row), so that every other value
    // of a generated file stays what it was before they were added.

    /// The recorded birth date replaced by a placeholder or heaped on 1 January, sometimes.
    func heapedOrPlaceholder(_ birth: CivilDate?, extra: inout RandomSource, errors: inout [String]) -> CivilDate? {
        guard let birth else { return nil }
        if extra.chance(birthDatePlaceholder) {
            errors.append("birth_date_placeholder")
            return CivilDate(year: 1900, month: 1, day: 1)
        }
        if birth.month != 1 || birth.day != 1, extra.chance(birthDateHeaped) {
            errors.append("birth_date_heaped")
            return CivilDate(year: birth.year, month: 1, day: 1)
        }
        return birth
    }

    /// What a clerk typed for a document number not at hand, sometimes instead of the number.
    func documentPlaceholder(extra: inout RandomSource, errors: inout [String]) -> String? {
        guard extra.chance(documentPlaceholder) else { return nil }
        errors.append("document_placeholder")
        return ["S/N", "NO TIENE", "000000", "N/A"][extra.int(0...3)]
    }

    /// An adult woman's second surname as a married name, sometimes.
    func marriedSecondSurname(
        of person: TruePerson, age: Int, uppercase: Bool, extra: inout RandomSource,
        errors: inout [String]
    ) -> String? {
        guard person.sex == .female, age >= 20, extra.chance(marriedName) else { return nil }
        errors.append("married_name")
        let husband = [
            "García", "Hernández", "López", "Martínez", "Pérez", "Rodríguez", "Flores", "Ramírez", "Cruz", "Morales",
        ][extra.int(0...9)]
        let name = "de " + husband
        return uppercase ? name.uppercased() : name
    }

    static func typo(_ s: String, rng: inout RandomSource) -> String {
        var chars = Array(s)
        guard chars.count > 3 else { return s }
        let i = rng.int(1...chars.count - 2)
        switch rng.int(0...2) {
        case 0: chars.remove(at: i)
        case 1: chars.insert(chars[i], at: i)
        default: chars[i] = Array("aeiounrslt")[rng.int(0...9)]
        }
        return String(chars)
    }

    static func stripAccents(_ s: String) -> String {
        String(
            s.map { c -> Character in
                switch c {
                case "á": "a";
                case "é": "e";
                case "í": "i";
                case "ó": "o";
                case "ú": "u";
                case "ü": "u";
                case "ñ": "n"
                case "Á": "A";
                case "É": "E";
                case "Í": "I";
                case "Ó": "O";
                case "Ú": "U";
                case "Ñ": "N"
                default: c
                }
            })
    }
}

/// How a planted malformed row breaks, and so which rule must reject it.
enum Malformation: String, CaseIterable {
    case impossibleDate = "date_format"
    case unknownSex = "code_exists"
    case birthAfterEvent = "birth_before_event"
    case missingKey = "required"
}
