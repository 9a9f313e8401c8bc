import Foundation
import PuenteAccess
import PuenteCore
import PuenteReference
import PuenteStatistics

/// The programme's figures as the SDMX dataflow `PUENTE:DF_REINTEGRATION(1.0)`: one series per figure
/// (`REINT_MEASURE`), annual, by sex and age where the figure has them, each observation protected as
/// the JSON API's and carrying its unit, and the cut-off for the share at or above it.
extension ProgrammeStatistics {
    public static let sdmxFlowID = "DF_REINTEGRATION"
    public static let sdmxDSDID = "DSD_REINTEGRATION"
    public static let sdmxDimensionIDs = ["FREQ", "REF_AREA", "REINT_MEASURE", "SEX", "AGE"]

    /// A series of the flow: which measure it reads, and whether its values or its denominators.
    struct Series {
        var code: String
        var measure: Measure
        var denominators: Bool
        var name: (es: String, en: String)
        var unit: String { measure.isShare && !denominators ? "PC" : "NUM" }
    }

    static let series: [Series] = [
        Series(code: "CASES", measure: .cases, denominators: false, name: ("Casos", "Cases")),
        Series(
            code: "PLANS_APPROVED", measure: .plansWithin30Days, denominators: true,
            name: ("Casos con plan aprobado", "Cases with an approved plan")),
        Series(
            code: "PLANS_30D", measure: .plansWithin30Days, denominators: false,
            name: (
                "Planes aprobados dentro de 30 días desde la llegada (%)",
                "Plans approved within 30 days of arrival (%)"
            )),
        Series(code: "REFERRALS", measure: .referrals, denominators: false, name: ("Remisiones", "Referrals")),
        Series(
            code: "REFERRALS_CLOSED_30D", measure: .referralsClosedWithin30Days, denominators: false,
            name: ("Remisiones cerradas dentro de 30 días (%)", "Referrals closed within 30 days (%)")),
        Series(
            code: "GRANTS", measure: .grants, denominators: false,
            name: ("Solicitudes de capital semilla", "Seed grant applications")),
        Series(
            code: "FOLLOWUPS_DUE", measure: .followUpsResponded, denominators: true,
            name: ("Seguimientos que correspondían", "Follow-ups due")),
        Series(
            code: "FOLLOWUPS_RESPONDED", measure: .followUpsResponded, denominators: false,
            name: ("Seguimientos realizados (%)", "Follow-ups carried out (%)")),
        Series(
            code: "SURVEYED", measure: .sustainable, denominators: true,
            name: ("Personas encuestadas en un seguimiento", "People surveyed at a follow-up")),
        Series(
            code: "SUSTAINABLE", measure: .sustainable, denominators: false,
            name: (
                "Personas en o sobre el umbral de sostenibilidad (%)",
                "People at or above the sustainability cut-off (%)"
            )),
    ]

    /// The flow's structure: its own series and unit code lists, and the shared ones of the migration flow.
    public static func sdmxStructure(reference: ReferenceData = .shared) -> SDMXStructure {
        let shared = SDMXFlow(reference: reference).codeLists.filter {
            ["CL_FREQ", "CL_AREA", "CL_SEX", "CL_AGE", "CL_OBS_STATUS", "CL_CONF_STATUS"].contains($0.id)
        }
        let a = SDMXStructure.agency, v = SDMXStructure.version
        return SDMXStructure(
            flowID: sdmxFlowID, dsdID: sdmxDSDID, conceptSchemeID: "CS_REINTEGRATION",
            flowName: (
                "Programa de reintegración: casos, remisiones y seguimiento",
                "Reintegration programme: cases, referrals and follow-up"
            ),
            dsdName: ("Programa de reintegración", "Reintegration programme"),
            conceptSchemeName: ("Conceptos del programa de reintegración", "Reintegration programme concepts"),
            dimensions: [
                .init(id: "FREQ", name: ("Frecuencia", "Frequency"), codelist: "CL_FREQ"),
                .init(id: "REF_AREA", name: ("País del programa", "Programme country"), codelist: "CL_AREA"),
                .init(
                    id: "REINT_MEASURE", name: ("Cifra del programa", "Programme figure"), codelist: "CL_REINT_MEASURE"),
                .init(id: "SEX", name: ("Sexo", "Sex"), codelist: "CL_SEX"),
                .init(id: "AGE", name: ("Edad", "Age"), codelist: "CL_AGE"),
            ],
            attributes: SDMXFlow.protectionAttributes + [
                .init(
                    id: "UNIT_MEASURE", name: ("Unidad", "Unit of measure"), codelist: "CL_UNIT_MEASURE",
                    mandatory: true),
                .init(
                    id: "CUTOFF",
                    name: ("Umbral de sostenibilidad y tabla de pesos", "Sustainability cut-off and weight table"),
                    codelist: nil),
            ],
            codelists: shared + [
                CodeList(
                    id: "CL_REINT_MEASURE", agency: a, version: v, name: "Reintegration programme figures",
                    source: "Puente",
                    codes: series.map { Code(id: $0.code, name: $0.name.es, nameEN: $0.name.en) }),
                CodeList(
                    id: "CL_UNIT_MEASURE", agency: a, version: v, name: "Unit of measure", source: "Puente",
                    codes: [
                        Code(id: "NUM", name: "Número", nameEN: "Number"),
                        Code(id: "PC", name: "Porcentaje", nameEN: "Percent"),
                    ]),
            ])
    }

    /// The observations answering an SDMX REST data query on the flow (`key` as the REST path writes it:
    /// FREQ.REF_AREA.REINT_MEASURE.SEX.AGE). An open SEX or AGE is shown by its codes and its total; a
    /// figure without sex and age (referrals, grants) has its totals only. `country` is the programme's.
    public func sdmxData(
        key text: String?, start: String?, end: String?, country: String, asOf: CivilDate = .today, by actor: Actor
    ) async throws -> [SDMXRest.Observation] {
        try require(.protectedStatistics, for: actor)
        let key = try SDMXRest.parseKey(text, dimensionIDs: Self.sdmxDimensionIDs)
        if let unknown = key[2]?.subtracting(Self.series.map(\.code)), !unknown.isEmpty {
            throw PuenteError(
                .unknownCode,
                "REINT_MEASURE: expected codes of CL_REINT_MEASURE: " + Self.series.map(\.code).joined(separator: ", ")
                    + ".")
        }
        guard key[0]?.contains("A") ?? true, key[1]?.contains(country) ?? true else { return [] }
        /// Per dimension: nil for the total, the dimension's name to break down by.
        func choices(_ codes: Set<String>?, _ dimension: String) -> [String?] {
            switch codes {
            case nil: [nil, dimension]
            case let c? where c == ["_T"]: [nil]
            case let c?: c.contains("_T") ? [nil, dimension] : [dimension]
            }
        }
        let units = try await Units(store: store, schedule: schedule, asOf: asOf)
        var out: [SDMXRest.Observation] = []
        for series in Self.series where key[2]?.contains(series.code) ?? true {
            let hasPerson = series.measure.dimensions.contains("sex")
            for sex in choices(key[3], "sex") {
                for age in choices(key[4], "age_group") where hasPerson || (sex == nil && age == nil) {
                    let by = ["year"] + [sex, age].compactMap { $0 }
                    let result = compute(series.measure, by: by, policy: disclosure, units: units)
                    let cells = series.denominators ? result.table.denominators ?? [] : result.table.cells
                    for cell in cells {
                        var position = 1
                        func code(_ chosen: String?) -> String {
                            guard chosen != nil else { return "_T" }
                            defer { position += 1 }
                            return cell.key[position]
                        }
                        let codes = [code(sex), code(age)]
                        guard key[3].map({ $0.contains(codes[0]) }) ?? true,
                            key[4].map({ $0.contains(codes[1]) }) ?? true,
                            SDMXRest.within(cell.key[0], start: start, end: end)
                        else { continue }
                        var attributes = [(id: "UNIT_MEASURE", value: series.unit)]
                        if series.measure == .sustainable, !series.denominators, let cutoffs = result.cutoffs,
                            !cutoffs.isEmpty
                        {
                            attributes.append((id: "CUTOFF", value: cutoffs.joined(separator: "; ")))
                        }
                        out.append(
                            SDMXRest.Observation(
                                key: ["A", country, series.code] + codes, period: cell.key[0], value: cell.value,
                                obsStatus: cell.obsStatus, confStatus: cell.confStatus, attributes: attributes))
                    }
                }
            }
        }
        return out
    }
}

extension ProgrammeStatistics.Measure {
    /// A share of a denominator (published with it), rather than a count.
    public var isShare: Bool {
        switch self {
        case .plansWithin30Days, .referralsClosedWithin30Days, .followUpsResponded, .sustainable: true
        case .cases, .referrals, .grants: false
        }
    }
}
