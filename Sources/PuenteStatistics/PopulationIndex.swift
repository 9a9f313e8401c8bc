import PuenteCore
import PuenteReference

/// Population of the areas rates are computed for, from the shipped reference data: census figures
/// where there are (departments and countries always; municipalities where the shipped tables have
/// them; El Salvador's municipalities of 2024 from the 2024 census), with their basis.
struct PopulationIndex: Sendable {
    static let dimensions: [Dimension] = [.municipality, .department, .municipality2024, .reportingCountry]
    private let byDimension: [Dimension: [String: PopulationFigure]]

    init(reference: ReferenceData) {
        var out: [Dimension: [String: PopulationFigure]] = [
            .municipality: reference.population,
            .department: reference.departmentPopulation,
        ]
        // A 2024 municipality without its own census figure sums its districts: census only if they all are.
        var districts: [String: [PopulationFigure]] = [:]
        for (unit, figure) in reference.population {
            let code = Dimension.municipality2024.code(.text(unit), reference: reference)
            if code != "_U", code != unit { districts[code, default: []].append(figure) }
        }
        var municipalities2024 = reference.municipality2024Population
        for (code, figures) in districts where municipalities2024[code] == nil {
            let census = figures.allSatisfy { $0.basis == .census }
            municipalities2024[code] = PopulationFigure(
                population: figures.map(\.population).reduce(0, +),
                basis: census ? .census : .estimated,
                reference: Set(figures.map(\.reference)).sorted().joined(separator: ", "))
        }
        out[.municipality2024] = municipalities2024
        for (country, geography) in reference.geographies {
            let departments = Set(geography.baseUnits.codes.compactMap(\.parent)).compactMap {
                reference.departmentPopulation[$0]
            }
            guard !departments.isEmpty else { continue }
            out[.reportingCountry, default: [:]][country] = PopulationFigure(
                population: departments.map(\.population).reduce(0, +), basis: .census,
                reference: Set(departments.map(\.reference)).sorted().joined(separator: ", "))
        }
        byDimension = out
    }

    func figure(of d: Dimension, code: String) -> PopulationFigure? { byDimension[d]?[code] }
}
