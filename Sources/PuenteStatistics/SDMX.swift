import Foundation
import PuenteCore
import PuenteReference

/// Puente's SDMX dataflow `PUENTE:DF_MIG_FLOW(1.0)`: the structure (code lists, concepts, data
/// structure definition) and the mapping of statistics tables onto it.
///
/// Every query dimension maps to one DSD dimension; a DSD dimension the query does not break down by
/// is `_T` (total), or the single code it is filtered on.
public struct SDMXFlow: Sendable {
    public static let agency = "PUENTE"
    public static let version = "1.0"
    public static let flowID = "DF_MIG_FLOW"
    public static let dsdID = "DSD_MIG_FLOW"
    public static var flowReference: String { "\(agency):\(flowID)(\(version))" }
    public static var flowURN: String { "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=\(flowReference)" }

    /// A DSD dimension: its id, its names, its code list and the query dimensions it shows.
    struct Component {
        var id: String
        var name: (es: String, en: String)
        var codelist: String
        var from: [Dimension]
    }

    static let dimensions: [Component] = [
        Component(id: "FREQ", name: ("Frecuencia", "Frequency"), codelist: "CL_FREQ", from: []),
        Component(
            id: "REF_AREA", name: ("País que registra", "Reporting country"), codelist: "CL_AREA",
            from: [.reportingCountry]),
        Component(
            id: "MIG_FLOW", name: ("Tipo de movimiento", "Movement type"), codelist: "CL_MIG_FLOW", from: [.eventType]),
        Component(id: "SEX", name: ("Sexo", "Sex"), codelist: "CL_SEX", from: [.sex]),
        Component(id: "AGE", name: ("Edad", "Age"), codelist: "CL_AGE", from: [.age, .ageGroup, .ageBroad, .ageChild]),
        Component(id: "CITIZENSHIP", name: ("Nacionalidad", "Citizenship"), codelist: "CL_AREA", from: [.nationality]),
        Component(
            id: "COUNTRY_BIRTH", name: ("País de nacimiento", "Country of birth"), codelist: "CL_AREA",
            from: [.birthCountry]),
        Component(
            id: "COUNTERPART_AREA", name: ("País desde el que se retorna", "Returning from"), codelist: "CL_AREA",
            from: [.returningFrom]),
        Component(
            id: "RETURN_TYPE", name: ("Tipo de retorno", "Return type"), codelist: "CL_RETURN_TYPE", from: [.returnType]
        ),
        Component(
            id: "CHILD_STATUS", name: ("Condición de niñez", "Child status"), codelist: "CL_CHILD_STATUS",
            from: [.childStatus]),
        Component(
            id: "TERRITORY", name: ("Territorio de residencia", "Territory of residence"), codelist: "CL_TERRITORY",
            from: [.department, .municipality, .municipality2024]),
        Component(
            id: "PLACE", name: ("Punto fronterizo o centro de recepción", "Crossing point or reception centre"),
            codelist: "CL_PLACE", from: [.place]),
        Component(
            id: "TRANSPORT_MODE", name: ("Medio de transporte", "Transport mode"), codelist: "CL_TRANSPORT_MODE",
            from: [.transportMode]),
        Component(
            id: "MIGRATION_STATUS", name: ("Condición migratoria", "Migration status"), codelist: "CL_MIGRATION_STATUS",
            from: [.migrationStatus]),
    ]

    let reference: ReferenceData

    public init(reference: ReferenceData = .shared) {
        self.reference = reference
    }

    /// The code lists of the flow, each with `_T` and `_U` where a table can carry them.
    func codelists() -> [CodeList] {
        func extended(_ id: String, _ base: [Code]) -> CodeList {
            var codes = base
            for (special, es, en) in [("_T", "Total", "Total"), ("_U", "Sin dato", "Unknown")]
            where !codes.contains(where: { $0.id == special }) {
                codes.append(Code(id: special, name: es, nameEN: en))
            }
            return CodeList(
                id: id, agency: Self.agency, version: Self.version, name: id, source: "Puente", codes: codes)
        }
        func list(_ id: String) -> [Code] { reference.codeList(id)?.codes ?? [] }
        var territory: [Code] = []
        for (_, geo) in reference.geographies.sorted(by: { $0.key < $1.key }) {
            territory += geo.departments.codes + geo.baseUnits.codes + geo.views.flatMap(\.units.codes)
        }
        var seen = Set<String>()
        territory = territory.filter { seen.insert($0.id).inserted }
        let flows =
            list("CL_MIG_FLOW") + [
                Code(
                    id: "NET", name: "Movimientos netos (entradas − salidas)", nameEN: "Net movements (entries − exits)"
                )
            ]
        return [
            CodeList(
                id: "CL_FREQ", agency: Self.agency, version: Self.version, name: "Frequency", source: "SDMX CL_FREQ",
                codes: [
                    Code(id: "A", name: "Anual", nameEN: "Annual"),
                    Code(id: "Q", name: "Trimestral", nameEN: "Quarterly"),
                    Code(id: "M", name: "Mensual", nameEN: "Monthly"),
                ]),
            extended("CL_AREA", list("CL_AREA").map { Code(id: $0.id, name: $0.name, nameEN: $0.nameEN) }),
            extended("CL_MIG_FLOW", flows),
            extended("CL_SEX", list("CL_SEX")),
            extended("CL_AGE", list("CL_AGE")),
            extended("CL_RETURN_TYPE", list("CL_RETURN_TYPE")),
            extended("CL_CHILD_STATUS", list("CL_CHILD_STATUS")),
            extended("CL_TERRITORY", territory.map { Code(id: $0.id, name: $0.name, nameEN: $0.nameEN) }),
            extended("CL_PLACE", list("CL_PLACE").map { Code(id: $0.id, name: $0.name, nameEN: $0.nameEN) }),
            extended("CL_TRANSPORT_MODE", list("CL_TRANSPORT_MODE")),
            extended("CL_MIGRATION_STATUS", list("CL_MIGRATION_STATUS")),
            CodeList(
                id: "CL_OBS_STATUS", agency: Self.agency, version: Self.version, name: "Observation status",
                source: "SDMX CL_OBS_STATUS",
                codes: [
                    Code(id: "A", name: "Normal", nameEN: "Normal value"),
                    Code(
                        id: "E", name: "Estimado (perturbado por el método de claves de celda)",
                        nameEN: "Estimated (perturbed by the cell key method)"),
                    Code(id: "Q", name: "Suprimido por confidencialidad", nameEN: "Missing value; suppressed"),
                ]),
            CodeList(
                id: "CL_CONF_STATUS", agency: Self.agency, version: Self.version, name: "Confidentiality status",
                source: "SDMX CL_CONF_STATUS",
                codes: [
                    Code(id: "F", name: "Libre", nameEN: "Free"),
                    Code(
                        id: "A", name: "Confidencial primaria (conteo pequeño)",
                        nameEN: "Primary confidential due to small counts"),
                    Code(
                        id: "D", name: "Confidencial secundaria", nameEN: "Secondary confidentiality set by the sender"),
                ]),
        ]
    }

    // MARK: Mapping tables onto the flow

    /// One observation: a code per DSD dimension, the period, the value and its flags.
    struct Observation {
        var key: [String]
        var period: String
        var cell: StatisticsCell
    }

    /// Checks that a table can be published in the flow and maps its cells onto series keys.
    func observations(of table: StatisticsTable) throws -> (frequency: String, observations: [Observation]) {
        guard table.measure.isCount else {
            throw PuenteError(
                .invalidArgument,
                "SDMX publishes the counts (returns, entries, exits, net_movements, events); "
                    + "\(table.measure.rawValue) is available as json or csv.")
        }
        if table.dimensions.contains(.source) {
            throw PuenteError(
                .invalidArgument, "The SDMX flow has no source dimension; use json or csv for a breakdown by source.")
        }
        guard let periodIndex = table.dimensions.firstIndex(where: { [.year, .quarter, .month].contains($0) }) else {
            throw PuenteError(
                .invalidArgument, "SDMX data needs a period: add year, quarter or month to the breakdown.")
        }
        let frequency = ["year": "A", "quarter": "Q", "month": "M"][table.dimensions[periodIndex].rawValue]!
        // For each DSD dimension: the position in the table's key, or a fixed code.
        var sources: [Either] = []
        for component in Self.dimensions {
            if component.id == "FREQ" { sources.append(.fixed(frequency)); continue }
            let shown = table.dimensions.enumerated().filter { component.from.contains($0.element) }
            if shown.count > 1 {
                throw PuenteError(
                    .invalidArgument,
                    "SDMX has one \(component.id) dimension: break down by only one of "
                        + component.from.map(\.rawValue).joined(separator: ", ") + ".")
            }
            if let (i, _) = shown.first { sources.append(.position(i)); continue }
            let filtered = component.from.compactMap { table.filters[$0.rawValue] }
            if filtered.count > 1 || (filtered.first?.count ?? 1) > 1 {
                throw PuenteError(
                    .invalidArgument,
                    "A filter with several \(component.id) codes has no SDMX code: break down by it instead.")
            }
            if component.id == "MIG_FLOW" {
                sources.append(.fixed(filtered.first?.first ?? Self.movementCodes[table.measure]!))
            } else {
                sources.append(.fixed(filtered.first?.first ?? "_T"))
            }
        }
        let observations = table.cells.map { cell in
            Observation(
                key: sources.map { source in
                    switch source {
                    case .fixed(let code): code
                    case .position(let i): cell.key[i]
                    }
                }, period: cell.key[periodIndex], cell: cell)
        }
        return (frequency, observations)
    }

    private enum Either { case fixed(String), position(Int) }
}

extension SDMXFlow {
    /// The DSD's dimension ids in key order (without TIME_PERIOD).
    public static var dimensionIDs: [String] { dimensions.map(\.id) }

    /// The statistics dimensions a DSD dimension shows (empty for FREQ).
    public static func shownDimensions(of id: String) -> [Dimension] {
        dimensions.first { $0.id == id }?.from ?? []
    }

    /// The MIG_FLOW code a count measure is published under.
    public static let movementCodes: [Measure: String] = [
        .returns: "RETURN", .entries: "ENTRY", .exits: "EXIT", .netMovements: "NET", .events: "_T",
    ]

    /// The columns of SDMX-CSV 2.0 for this flow.
    public static var csvHeader: [String] {
        ["STRUCTURE", "STRUCTURE_ID", "ACTION"] + dimensionIDs + [
            "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS",
        ]
    }

    /// The flow's code lists, as published in its structure message.
    public var codeLists: [CodeList] { codelists() }
}

extension StatisticsTable {
    /// SDMX-CSV 2.0 against `PUENTE:DF_MIG_FLOW(1.0)`; suppressed values are `NaN`.
    public func sdmxCSV(flow: SDMXFlow = SDMXFlow()) throws -> String {
        var out = CSVWriter.line(SDMXFlow.csvHeader)
        for row in try sdmxCSVRows(flow: flow) { out += CSVWriter.line(row) }
        return out
    }

    /// The table's observations as SDMX-CSV 2.0 records (`SDMXFlow.csvHeader`'s columns).
    public func sdmxCSVRows(flow: SDMXFlow = SDMXFlow()) throws -> [[String]] {
        try flow.observations(of: self).observations.map { o in
            ["dataflow", SDMXFlow.flowReference, "I"] + o.key
                + [o.period, o.cell.value.map { Self.format($0) } ?? "NaN", o.cell.obsStatus, o.cell.confStatus]
        }
    }

    /// SDMX-JSON 2.0 data message, every dimension at observation level.
    public func sdmxJSON(flow: SDMXFlow = SDMXFlow(), prepared: Date = Date()) throws -> String {
        let (_, observations) = try flow.observations(of: self)
        let lists = Dictionary(uniqueKeysWithValues: flow.codelists().map { ($0.id, $0) })
        let ids = SDMXFlow.dimensions.map(\.id) + ["TIME_PERIOD"]
        // Per dimension, the codes that occur, in order of first appearance.
        var values: [[String]] = Array(repeating: [], count: ids.count)
        var index: [[String: Int]] = Array(repeating: [:], count: ids.count)
        var observationsJSON: [String: Any] = [:]
        let obsStatuses = ["A", "E", "Q"], confStatuses = ["F", "A", "D"]
        for o in observations {
            let codes = o.key + [o.period]
            var positions: [String] = []
            for (d, code) in codes.enumerated() {
                if index[d][code] == nil { index[d][code] = values[d].count; values[d].append(code) }
                positions.append(String(index[d][code]!))
            }
            observationsJSON[positions.joined(separator: ":")] = [
                o.cell.value.map { $0 as Any } ?? NSNull(),
                obsStatuses.firstIndex(of: o.cell.obsStatus) ?? 0,
                confStatuses.firstIndex(of: o.cell.confStatus) ?? 0,
            ]
        }
        func name(_ listID: String?, _ code: String) -> String {
            guard let listID, let c = lists[listID]?.code(code) else { return code }
            return c.nameEN ?? c.name
        }
        let dimensionsJSON: [[String: Any]] = ids.enumerated().map { d, id in
            let listID = d < SDMXFlow.dimensions.count ? SDMXFlow.dimensions[d].codelist : nil
            return [
                "id": id, "name": d < SDMXFlow.dimensions.count ? SDMXFlow.dimensions[d].name.en : "Time period",
                "keyPosition": d, "roles": id == "TIME_PERIOD" ? ["TIME_PERIOD"] : [id],
                "values": values[d].map { ["id": $0, "name": name(listID, $0)] },
            ]
        }
        func attribute(_ id: String, _ listID: String, _ codes: [String]) -> [String: Any] {
            [
                "id": id, "name": id, "relationship": ["observation": [String: Any]()],
                "values": codes.map { ["id": $0, "name": name(listID, $0)] },
            ]
        }
        let formatter = ISO8601DateFormatter()
        let message: [String: Any] = [
            "meta": [
                "schema":
                    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/v2.0.0/data-message/tools/schemas/2.0.0/sdmx-json-data-schema.json",
                "id": "PUENTE-\(measure.rawValue)-\(Int(prepared.timeIntervalSince1970))",
                "prepared": formatter.string(from: prepared), "test": false,
                "contentLanguages": ["en"], "sender": ["id": SDMXFlow.agency],
            ],
            "data": [
                "structures": [
                    [
                        "links": [["urn": SDMXFlow.flowURN, "rel": "dataflow"]],
                        "name": "Puente migration flows",
                        "dimensions": ["dataSet": [Any](), "series": [Any](), "observation": dimensionsJSON],
                        "measures": ["observation": [["id": "OBS_VALUE", "name": "Observation value"]]],
                        "attributes": [
                            "dataSet": [Any](), "series": [Any](),
                            "observation": [
                                attribute("OBS_STATUS", "CL_OBS_STATUS", obsStatuses),
                                attribute("CONF_STATUS", "CL_CONF_STATUS", confStatuses),
                            ],
                        ],
                    ]
                ],
                "dataSets": [
                    [
                        "structure": 0, "action": "Information",
                        "links": [["urn": SDMXFlow.flowURN, "rel": "dataflow"]],
                        "observations": observationsJSON,
                    ]
                ],
            ],
        ]
        let data = try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

extension SDMXFlow {
    /// The observation attributes every Puente dataflow carries: how each figure was protected.
    public static let protectionAttributes: [SDMXStructure.Component] = [
        .init(
            id: "OBS_STATUS", name: ("Estado de la observación", "Observation status"), codelist: "CL_OBS_STATUS",
            mandatory: true),
        .init(
            id: "CONF_STATUS", name: ("Estado de confidencialidad", "Confidentiality status"),
            codelist: "CL_CONF_STATUS"),
    ]

    /// The flow as the structure message describes it.
    public var structure: SDMXStructure {
        SDMXStructure(
            flowID: Self.flowID, dsdID: Self.dsdID, conceptSchemeID: "CS_MIG_FLOW",
            flowName: ("Flujos migratorios: eventos registrados", "Migration flows: recorded events"),
            dsdName: ("Flujos migratorios", "Migration flows"),
            conceptSchemeName: ("Conceptos de flujos migratorios", "Migration flow concepts"),
            dimensions: Self.dimensions.map { .init(id: $0.id, name: $0.name, codelist: $0.codelist) },
            attributes: Self.protectionAttributes, codelists: codelists())
    }

    /// The SDMX-ML 2.1 structure message of this flow alone: dataflow, code lists, concept scheme and DSD.
    public func structureMessage(prepared: Date = Date()) -> String {
        SDMXStructure.message([structure], prepared: prepared)
    }
}
