import PuenteCore

/// Population of an area, from a census where the shipped data has it, estimated otherwise.
public struct PopulationFigure: Hashable, Sendable {
    public enum Basis: String, Sendable, Codable, CaseIterable {
        /// A census figure, from the statistics office's table or a source citing it.
        case census
        /// A census figure found only on a secondary site (source grade C): verify before relying on it.
        case censusUnverified = "census_unverified"
        /// Not a census figure: the department's census population not covered by known municipalities,
        /// shared by area; or a sum over areas some of which are estimated.
        case estimated
    }

    public var population: Double
    public var basis: Basis
    /// Census date or year the figure refers to.
    public var reference: String

    public init(population: Double, basis: Basis, reference: String) {
        self.population = population
        self.basis = basis
        self.reference = reference
    }

    /// Department census populations, by ISO 3166-2 code.
    static func departments() -> [String: PopulationFigure] {
        var out: [String: PopulationFigure] = [:]
        for row in ResourceCSV.rows("Data/population/departamentos_poblacion_censo.csv") {
            if let p = Double(row["population"]!), p > 0 {
                out[row["iso_3166_2"]!] = PopulationFigure(
                    population: p, basis: .census, reference: row["census_date"]!)
            }
        }
        return out
    }

    /// The 2024 census populations of El Salvador's 44 municipalities of 2024, where the shipped data has
    /// them (`SV-M0101`).
    static func municipalities2024() -> [String: PopulationFigure] {
        var out: [String: PopulationFigure] = [:]
        for row in ResourceCSV.rows("Data/population/slv_municipios2024_censos_1992_2007_2024.csv") {
            if let p = Double(row["pop_census_2024"] ?? ""), p > 0 {
                out["SV-M\(row["mun2024_code"]!)"] = PopulationFigure(population: p, basis: .census, reference: "2024")
            }
        }
        return out
    }

    /// Fills every base unit of every geography. Municipal census figures are sparse in the shipped data
    /// (El Salvador 16 of 262, Honduras 53 of 298), so the rest is estimated from department totals by area.
    static func estimate(geographies: [String: Geography]) -> [String: PopulationFigure] {
        let files = [
            "SLV": ("slv_municipios_censo2007_full", "SV"), "GTM": ("gtm_municipios_censo2002", "GT"),
            "HND": ("hnd_municipios_censo2013_full", "HN"),
        ]
        var area: [String: Double] = [:]
        for row in ResourceCSV.rows("Data/population/municipios_area_km2.csv") {
            area["\(ReferenceData.alpha2(of: row["country_iso3"]!))-\(row["muni_code"]!)"] =
                Double(row["area_km2_from_boundaries"]!) ?? 0
        }
        var deptPopulation: [String: (Double, String)] = [:]
        for row in ResourceCSV.rows("Data/population/departamentos_poblacion_censo.csv") {
            deptPopulation[row["iso_3166_2"]!] = (Double(row["population"]!) ?? 0, row["census_date"]!)
        }
        var out: [String: PopulationFigure] = [:]
        for (country, geo) in geographies {
            guard let (file, alpha2) = files[country] else { continue }
            for row in ResourceCSV.rows("Data/population/\(file).csv") {
                if let p = Double(row["pop_total"] ?? ""), p > 0 {
                    out["\(alpha2)-\(row["muni_code"]!)"] = PopulationFigure(
                        population: p, basis: row["source_grade"] == "C" ? .censusUnverified : .census,
                        reference: row["census_date"] ?? "")
                }
            }
            let byDept = Dictionary(grouping: geo.baseUnits.codes, by: { $0.parent ?? "" })
            for (dept, units) in byDept {
                guard let (total, date) = deptPopulation[dept] else { continue }
                let known = units.compactMap { out[$0.id]?.population }.reduce(0, +)
                let unknown = units.filter { out[$0.id] == nil }
                let unknownArea = unknown.map { area[$0.id] ?? 0 }.reduce(0, +)
                let deptArea = units.map { area[$0.id] ?? 0 }.reduce(0, +)
                // Census years differ between levels; never let the remainder go below a third of the
                // density-based share, so no unit ends up empty.
                let remainder = max(total - known, total * unknownArea / max(deptArea, 1) / 3)
                for unit in unknown {
                    let share = unknownArea > 0 ? (area[unit.id] ?? 0) / unknownArea : 1 / Double(unknown.count)
                    out[unit.id] = PopulationFigure(
                        population: (remainder * share).rounded(), basis: .estimated,
                        reference: date)
                }
            }
        }
        return out
    }
}
