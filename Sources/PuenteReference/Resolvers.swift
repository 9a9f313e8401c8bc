import PuenteCore

/// Turns country names and codes as agencies write them (`Estados Unidos`, `EEUU`, `USA`, `US`, `840`)
/// into ISO 3166-1 alpha-3.
public struct CountryResolver: Sendable {
    private let index: [String: String]

    public init(reference: ReferenceData = .shared) {
        var index: [String: String] = [:]
        for row in ResourceCSV.rows("Data/iso/iso_3166-1.csv") {
            let a3 = row["alpha_3"]!
            for key in [a3, row["alpha_2"]!, row["numeric"]!, row["name"]!, row["name_es"]!] {
                index[TextFolding.fold(key)] = a3
            }
        }
        for row in ResourceCSV.rows("Data/country_aliases_es.csv") {
            index[TextFolding.fold(row["alias"]!)] = row["alpha_3"]!
        }
        self.index = index
    }

    public func resolve(_ text: String) -> String? { index[TextFolding.fold(text)] }
}

/// Finds the base unit (`SV-0614`) of a municipality or district named as clerks write it: with or
/// without accents, by official code, by an old or short name, optionally narrowed by department.
public struct DivisionResolver: Sendable {
    private struct Key: Hashable { var dept: String; var name: String }
    private let byName: [String: [String: Set<String>]]  // country → folded name → base codes
    private let byDeptName: [String: [Key: String]]
    private let deptByName: [String: [String: String]]  // country → folded dept name/code → ISO 3166-2
    private let baseCodes: Set<String>
    private let geographies: [String: Geography]
    /// Units of later geography versions (El Salvador's 44 municipalities of 2024), by country and
    /// folded name, with the first day they exist.
    private let laterUnits: [String: [String: (code: String, from: CivilDate)]]
    /// Days a country's geography changed, in order.
    private let versionDays: [String: [CivilDate]]

    /// Which version of `country`'s geography is in force on `date` (0 before the first reform):
    /// names resolve the same for all dates of one version.
    public func version(on date: CivilDate?, country: String) -> Int {
        guard let date, let days = versionDays[country] else { return 0 }
        return days.filter { $0 <= date }.count
    }

    public init(reference: ReferenceData = .shared) {
        var byName: [String: [String: Set<String>]] = [:]
        var byDeptName: [String: [Key: String]] = [:]
        var deptByName: [String: [String: String]] = [:]
        var baseCodes: Set<String> = []
        for (country, geo) in reference.geographies {
            for dept in geo.departments.codes {
                deptByName[country, default: [:]][TextFolding.fold(dept.name)] = dept.id
                deptByName[country, default: [:]][TextFolding.fold(dept.id)] = dept.id
            }
            for unit in geo.baseUnits.codes {
                baseCodes.insert(unit.id)
                let national = String(unit.id.dropFirst(3))
                for name in [unit.name, national] + (geo.aliases[unit.id] ?? []) {
                    let folded = TextFolding.fold(name)
                    byName[country, default: [:]][folded, default: []].insert(unit.id)
                    byDeptName[country, default: [:]][Key(dept: unit.parent ?? "", name: folded)] = unit.id
                }
            }
            // Departments of 4-digit national codes: "06" → SV-SS.
            for unit in geo.baseUnits.codes {
                let deptDigits = String(unit.id.dropFirst(3).prefix(2))
                if let parent = unit.parent { deptByName[country, default: [:]][deptDigits] = parent }
            }
        }
        var laterUnits: [String: [String: (code: String, from: CivilDate)]] = [:]
        for (country, geo) in reference.geographies {
            for view in geo.views {
                guard let from = view.units.validFrom else { continue }
                for unit in view.units.codes {
                    laterUnits[country, default: [:]][TextFolding.fold(unit.name)] = (unit.id, from)
                    laterUnits[country, default: [:]][TextFolding.fold(unit.id)] = (unit.id, from)
                }
            }
        }
        self.laterUnits = laterUnits
        versionDays = laterUnits.mapValues { Array(Set($0.values.map(\.from))).sorted() }
        self.byName = byName
        self.byDeptName = byDeptName
        self.deptByName = deptByName
        self.baseCodes = baseCodes
        self.geographies = reference.geographies
    }

    /// The ISO 3166-2 code of a department given by name or code, if known.
    public func department(_ text: String, country: String) -> String? { deptByName[country]?[TextFolding.fold(text)] }

    /// The base unit of `municipality` in `country`, using `department` to tell apart equal names
    /// (there are several San Miguel, San Antonio and Concepción). `nil` when unknown or ambiguous.
    ///
    /// Names resolve against the geography in force `on` the event date: a municipality created by a
    /// reform (El Salvador's 44 of May 2024) is known from that day on, and its code is stored;
    /// former municipalities, which live on as districts, resolve to their base unit at any date.
    public func resolve(municipality: String, department: String?, country: String, on date: CivilDate? = nil)
        -> String?
    {
        let folded = TextFolding.fold(municipality)
        if baseCodes.contains(municipality) { return municipality }
        if let department, let dept = self.department(department, country: country),
            let code = byDeptName[country]?[Key(dept: dept, name: folded)]
        {
            return code
        }
        if let candidates = byName[country]?[folded], candidates.count == 1 { return candidates.first }
        if let later = laterUnits[country]?[folded], let date, date >= later.from { return later.code }
        return nil
    }
}
