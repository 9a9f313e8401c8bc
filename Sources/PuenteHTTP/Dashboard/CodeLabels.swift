import PuenteCore
import PuenteReference
import PuenteStatistics

/// Names of the codes a dashboard shows, in the page's language, from the shipped code lists.
struct CodeLabels: Sendable {
    private let names: [Dimension: [String: Bilingual]]

    init(reference: ReferenceData) {
        func list(_ id: String) -> [String: Bilingual] {
            Dictionary(
                (reference.codeList(id)?.codes ?? []).map { ($0.id, Bilingual($0.name, $0.nameEN ?? $0.name)) },
                uniquingKeysWith: { a, _ in a })
        }
        let countries = reference.geographies.values
        let units = Dictionary(
            countries.flatMap { $0.baseUnits.codes.map { ($0.id, Bilingual($0.name, $0.name)) } },
            uniquingKeysWith: { a, _ in a })
        let departments = Dictionary(
            countries.flatMap { $0.departments.codes.map { ($0.id, Bilingual($0.name, $0.name)) } },
            uniquingKeysWith: { a, _ in a })
        let units2024 = (reference.geography("SV")?.view("municipality_2024")?.units.codes ?? [])
            .map { ($0.id, Bilingual($0.name, $0.name)) }
        let area = list("CL_AREA")
        let age = list("CL_AGE")
        names = [
            .sex: ["F": Bilingual("Mujeres", "Women"), "M": Bilingual("Hombres", "Men")],
            .age: age, .ageGroup: age, .ageBroad: age, .ageChild: age,
            .nationality: area, .birthCountry: area, .returningFrom: area, .reportingCountry: area,
            .returnType: list("CL_RETURN_TYPE"), .childStatus: list("CL_CHILD_STATUS"),
            .transportMode: list("CL_TRANSPORT_MODE"), .migrationStatus: list("CL_MIGRATION_STATUS"),
            .place: list("CL_PLACE"), .eventType: list("CL_MIG_FLOW"),
            .department: departments, .municipality: units,
            .municipality2024: Dictionary(units2024, uniquingKeysWith: { a, _ in a }),
        ]
    }

    private static let months = [
        Bilingual("ene", "Jan"), Bilingual("feb", "Feb"), Bilingual("mar", "Mar"), Bilingual("abr", "Apr"),
        Bilingual("may", "May"), Bilingual("jun", "Jun"), Bilingual("jul", "Jul"), Bilingual("ago", "Aug"),
        Bilingual("sep", "Sep"), Bilingual("oct", "Oct"), Bilingual("nov", "Nov"), Bilingual("dic", "Dec"),
    ]

    /// The name of a code of a dimension; the code itself when no list names it.
    func name(_ dimension: Dimension, _ code: String, _ state: DashboardState) -> String {
        if code == "_U" { return state.t("Sin dato", "Not recorded") }
        if code == "_T" { return state.t("Total", "Total") }
        if dimension == .month, let m = Int(code.suffix(2)), (1...12).contains(m) {
            return state.t(Self.months[m - 1]) + " " + code.prefix(4)
        }
        if dimension == .quarter { return code.prefix(4) + " " + state.t("T", "Q") + code.suffix(1) }
        return names[dimension]?[code].map(state.t) ?? code
    }
}
