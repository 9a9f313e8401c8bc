import PuenteCore

/// Builds the versioned geographies of El Salvador, Guatemala and Honduras from the shipped division lists.
enum GeographyLoader {
    static func loadAll() -> [String: Geography] {
        [
            "SLV": elSalvador(), "GTM": singleLevel(country: "GTM", alpha2: "GT", file: "gtm"),
            "HND": singleLevel(country: "HND", alpha2: "HN", file: "hnd"),
        ]
    }

    private static let divisionsSource =
        "shared/data/divisions (DIGESTYC, INE Guatemala, INE Honduras; see docs/data-model.md)"

    private static func departments(country: String, file: String) -> (CodeList, [String: String]) {
        let rows = ResourceCSV.rows("Data/divisions/\(file)_departamentos.csv")
        let isoByDept = Dictionary(uniqueKeysWithValues: rows.map { ($0["dept_code"]!, $0["iso_3166_2"]!) })
        let list = CodeList(
            id: "CL_\(country)_DEPARTMENT", version: "1.0", name: "Departments of \(country)",
            source: divisionsSource,
            codes: rows.map { Code(id: $0["iso_3166_2"]!, name: $0["dept_name"]!) })
        return (list, isoByDept)
    }

    private static func aliases(_ rows: [[String: String]], codeKey: String, alpha2: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for row in rows {
            // Alternatives are separated by `/`, `;` or `|`; parentheses hold notes, not names:
            // "Tegucigalpa (capital) / Distrito Central".
            let alts = (row["alt_names"] ?? "").split(whereSeparator: { "/;|".contains($0) })
                .map { $0.prefix(while: { $0 != "(" }).trimmingSpaces() }.filter { !$0.isEmpty }
            if !alts.isEmpty { out["\(alpha2)-\(row[codeKey]!)"] = alts }
        }
        return out
    }

    private static func singleLevel(country: String, alpha2: String, file: String) -> Geography {
        let (depts, iso) = departments(country: country, file: file)
        let rows = ResourceCSV.rows("Data/divisions/\(file)_municipios.csv")
        let units = CodeList(
            id: "CL_\(country)_MUNICIPALITY", version: "1.0", name: "Municipalities of \(country)",
            source: divisionsSource,
            codes: rows.map {
                Code(
                    id: "\(alpha2)-\($0["muni_code"]!)", name: $0["muni_name"]!,
                    parent: iso[$0["dept_code"]!])
            })
        return Geography(
            country: country, departments: depts, baseUnits: units,
            aliases: aliases(rows, codeKey: "muni_code", alpha2: alpha2))
    }

    /// El Salvador: 262 municipalities until 30 April 2024, which live on as the 262 districts of the 44
    /// municipalities in force since 1 May 2024 (Decree 762). Events are stored by district code.
    private static func elSalvador() -> Geography {
        let (depts, iso) = departments(country: "SLV", file: "slv")
        let reformDay = CivilDate(year: 2024, month: 5, day: 1)!
        let old = ResourceCSV.rows("Data/divisions/slv_municipios_pre2024.csv")
        let base = CodeList(
            id: "CL_SLV_MUNICIPALITY_PRE2024", version: "2007",
            name: "Municipalities of El Salvador until 30 April 2024 (= districts since)",
            validTo: reformDay.adding(days: -1), source: divisionsSource,
            codes: old.map {
                Code(
                    id: "SV-\($0["muni_code"]!)", name: $0["muni_name"]!,
                    parent: iso[$0["dept_code"]!])
            })
        let new = ResourceCSV.rows("Data/divisions/slv_municipios_2024.csv")
        // The 2024 codes are project-assigned (department + order in the law's annex) until DIGESTYC
        // publishes official ones; the `M` marks them as local.
        let units2024 = CodeList(
            id: "CL_SLV_MUNICIPALITY_2024", version: "2024",
            name: "Municipalities of El Salvador since 1 May 2024 (Decree 762)",
            validFrom: reformDay, source: divisionsSource + "; codes project-assigned",
            codes: new.map {
                Code(
                    id: "SV-M\($0["mun2024_code"]!)", name: $0["mun2024_name"]!,
                    parent: iso[$0["dept_code"]!])
            })
        var mapping: [String: String] = [:]
        for row in ResourceCSV.rows("Data/divisions/slv_distritos_2024.csv") {
            mapping["SV-\(row["distrito_code"]!)"] = "SV-M\(row["mun2024_code"]!)"
        }
        var districts = base
        districts.id = "CL_SLV_DISTRICT_2024"
        districts.version = "2024"
        districts.name = "Districts of El Salvador since 1 May 2024 (the former municipalities)"
        districts.validFrom = reformDay
        districts.validTo = nil
        districts.codes = districts.codes.map {
            var c = $0; c.parent = mapping[c.id]; return c
        }
        return Geography(
            country: "SLV", departments: depts, baseUnits: base,
            views: [
                GeographyView(id: "municipality_2024", units: units2024, mapping: mapping),
                GeographyView(
                    id: "district_2024", units: districts,
                    mapping: Dictionary(uniqueKeysWithValues: base.codes.map { ($0.id, $0.id) })),
            ],
            aliases: aliases(old, codeKey: "muni_code", alpha2: "SV"))
    }
}
