import Foundation
import PuenteCore
import PuenteReference

/// A person as they really are: the ground truth that registers record with errors.
struct TruePerson: Sendable {
    var id: Int
    var givenNames: String
    var firstSurname: String
    var secondSurname: String
    var sex: Sex
    var birthDate: CivilDate
    var nationality: String
    var division: String?
    var nationalID: String?
    var passport: String?
}

/// Makes people with names and documents of the region.
struct PersonFactory {
    private let given: [Sex: WeightedTable<String>]
    private let surnames: WeightedTable<String>
    private let divisions: [String: WeightedTable<String>]
    /// Where people who emigrated (and are returned) come from: not in proportion to population.
    private let emigrantDivisions: [String: WeightedTable<String>]
    private var nextID: Int

    /// Emigration intensity by department, relative to 1: the east of El Salvador, the western highlands
    /// of Guatemala and the north coast and Olancho in Honduras send far more emigrants per inhabitant
    /// than the capitals (the pattern of published returns by department of residence).
    static let departmentIntensity: [String: Double] = [
        "SV-UN": 3.0, "SV-MO": 2.6, "SV-SM": 2.4, "SV-US": 2.2, "SV-CA": 2.0, "SV-CH": 1.8, "SV-PA": 1.3,
        "SV-SS": 0.55, "SV-LI": 0.7,
        "GT-HU": 3.0, "GT-SM": 2.6, "GT-QZ": 2.0, "GT-QC": 1.9, "GT-TO": 1.8, "GT-GU": 0.45, "GT-SA": 0.6,
        "GT-JU": 1.4,
        "HN-CR": 2.0, "HN-YO": 2.2, "HN-AT": 1.8, "HN-OL": 2.4, "HN-CL": 1.5, "HN-FM": 0.6, "HN-GD": 0.3,
    ]

    /// - Parameter firstID: the id of the first person made (distinct ranges keep persons of several
    ///   factories apart, as in a generated region).
    init(reference: ReferenceData, firstID: Int = 1) {
        nextID = firstID
        var given: [Sex: [(String, Double)]] = [:]
        for row in ResourceCSV.rows("Names/given_names_weighted_es_CO.csv", in: .module) {
            let sex: Sex = row["sex"] == "F" ? .female : .male
            given[sex, default: []].append((row["name"]!, Double(row["share_within_sex"]!) ?? 0))
        }
        // Published counts of the most common names in the northern countries of Central America weigh in
        // on top of the broader Spanish-language list.
        for row in ResourceCSV.rows("Names/ntca_name_counts_published.csv", in: .module)
        where row["name_type"] == "given_name" {
            let sex: Sex = row["sex"] == "F" ? .female : .male
            given[sex, default: []].append((row["name"]!, 0.02))
        }
        self.given = given.mapValues { WeightedTable($0) }
        surnames = WeightedTable(
            ResourceCSV.rows("Names/surnames_weighted_es_CO.csv", in: .module).map {
                ($0["surname"]!, Double($0["share"]!) ?? 0)
            })
        var divisions: [String: WeightedTable<String>] = [:]
        var emigrantDivisions: [String: WeightedTable<String>] = [:]
        for (country, geo) in reference.geographies {
            let population = geo.baseUnits.codes.map { ($0.id, reference.population[$0.id]?.population ?? 1) }
            divisions[country] = WeightedTable(population)
            emigrantDivisions[country] = WeightedTable(
                population.map { unit, people in
                    let department = reference.departmentOfUnit[unit] ?? ""
                    return (unit, people * (Self.departmentIntensity[department] ?? 1) * Self.localIntensity(unit))
                })
        }
        self.divisions = divisions
        self.emigrantDivisions = emigrantDivisions
    }

    /// A municipality's own emigration intensity within its department: log-normal (σ 0.7), fixed by its
    /// code so every seed and every year see the same hot spots, as networks of earlier emigrants make them.
    static func localIntensity(_ unit: String) -> Double {
        var rng = RandomSource(seed: FNV1a.hash(unit))
        let (u1, u2) = (max(rng.unit(), 1e-12), rng.unit())
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return exp(0.7 * normal)
    }

    /// - Parameter on: the date the person is first recorded; adults by then have a national identity card.
    /// - Parameter emigrant: the person lives where emigrants come from (a returnee), not anywhere.
    mutating func make(
        sex: Sex, birthDate: CivilDate, nationality: String, on date: CivilDate, emigrant: Bool = false,
        rng: inout RandomSource
    ) -> TruePerson {
        var names = given[sex]!.draw(&rng)
        if rng.chance(0.55) {
            let second = given[sex]!.draw(&rng)
            if second != names { names += " " + second }
        }
        var first = surnames.draw(&rng), second = surnames.draw(&rng)
        while second == first { second = surnames.draw(&rng) }
        if rng.chance(0.03) { first = "De " + first }  // a particle clerks sometimes drop
        let division = (emigrant ? emigrantDivisions : divisions)[nationality]?.draw(&rng)
        let person = TruePerson(
            id: nextID, givenNames: names, firstSurname: first, secondSurname: second, sex: sex,
            birthDate: birthDate, nationality: nationality, division: division,
            nationalID: birthDate.age(on: date) >= 18
                ? Self.nationalID(nationality, birthDate: birthDate, division: division, rng: &rng) : nil,
            passport: rng.chance(0.6) ? Self.passport(nationality, rng: &rng) : nil)
        nextID += 1
        return person
    }

    /// National identity numbers in each country's format: El Salvador's DUI `01234567-8` (with its check
    /// digit), Guatemala's DPI/CUI (13 digits ending in department and municipality), Honduras' DNI
    /// (municipality, year of birth, sequence).
    static func nationalID(_ country: String, birthDate: CivilDate, division: String?, rng: inout RandomSource)
        -> String?
    {
        let place = division.map { String($0.suffix(4)) } ?? "0101"
        switch country {
        case "SLV":
            let digits = (0..<8).map { _ in rng.int(0...9) }
            let sum = zip(digits, (2...9).reversed()).map(*).reduce(0, +)
            let check = (10 - sum % 10) % 10
            return digits.map(String.init).joined() + "-\(check)"
        case "GTM":
            return pad(rng.int(0...99_999_999), 8) + String(rng.int(0...9)) + place
        case "HND":
            return "\(place)-\(birthDate.year)-\(pad(rng.int(0...99_999), 5))"
        default:
            return nil
        }
    }

    static func passport(_ country: String, rng: inout RandomSource) -> String {
        let letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ")
        switch country {
        case "SLV": return "A" + pad(rng.int(0...99_999_999), 8)
        case "GTM": return String(letters[rng.int(0...letters.count - 1)]) + pad(rng.int(0...99_999_999), 8)
        case "HND": return "F" + pad(rng.int(0...9_999_999), 7)
        case "USA": return pad(rng.int(100_000_000...999_999_999), 9)
        default:
            return String(letters[rng.int(0...letters.count - 1)]) + String(letters[rng.int(0...letters.count - 1)])
                + pad(rng.int(0...9_999_999), 7)
        }
    }
}
