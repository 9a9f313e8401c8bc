import PuenteCore

/// Population of a base unit, from a census where the shipped data has it, estimated otherwise.
public struct PopulationFigure: Hashable, Sendable {
    public enum Basis: String, Sendable {
        /// A municipal census figure.
        case census
        /// The department's census population not covered by known municipalities, shared by area.
        case estimatedByArea = "estimated_by_area"
    }

    public var population: Double
    public var basis: Basis
    /// Census date or year the figure refers to.
    public var reference: String

    /// Fills every base unit of every geography. Municipal figures are sparse in the shipped data (El
    /// Salvador 11 of 262, Honduras 17 of 298), so the rest is estimated from department totals by area.
    static func estimate(geographies: [String: Geography]) -> [String: PopulationFigure] {
        let files = ["SLV": ("slv_municipios_censo2007", "SV"), "GTM": ("gtm_municipios_censo2002", "GT"),
                     "HND": ("hnd_municipios_censo2013", "HN")]
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
                    out["\(alpha2)-\(row["muni_code"]!)"] = PopulationFigure(population: p, basis: .census,
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
                    out[unit.id] = PopulationFigure(population: (remainder * share).rounded(), basis: .estimatedByArea,
                                                    reference: date)
                }
            }
        }
        return out
    }
}
