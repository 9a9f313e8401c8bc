import Foundation
import PuenteCore

/// The code lists, geographies, places and populations Puente ships, loaded once from its resources.
///
/// Sources and versions are recorded on every list (`CodeList.source`); `docs/data-model.md` lists them.
public struct ReferenceData: Sendable {
    /// Every list by id: `CL_AREA`, `CL_SEX`, `CL_AGE`, `CL_SLV_DISTRICT`, …
    public let codeLists: [String: CodeList]
    /// Geography of each country Puente has divisions for, by ISO alpha-3.
    public let geographies: [String: Geography]
    /// Border crossing points, airports, seaports and reception centres.
    public let places: [Place]
    /// Population per base unit code (`SV-0614`), with how it was obtained.
    public let population: [String: PopulationFigure]
    /// Census population per department (`SV-SS`).
    public let departmentPopulation: [String: PopulationFigure]
    /// 2024 census population of El Salvador's municipalities of 2024 (`SV-M0101`), where shipped.
    public let municipality2024Population: [String: PopulationFigure]
    /// ISO 3166-2 department of every base unit (`SV-0614` → `SV-SS`).
    public let departmentOfUnit: [String: String]
    /// Codes of the base units (municipalities, or El Salvador's districts) of every geography.
    public let baseUnitIDs: Set<String>

    /// The shipped data, loaded on first use.
    public static let shared = ReferenceData()

    /// The bundle holding the shipped reference files.
    package static var bundle: Bundle { .module }

    public func codeList(_ id: String) -> CodeList? { codeLists[id] }

    /// The geography of an ISO alpha-2 or alpha-3 country code.
    public func geography(_ country: String) -> Geography? {
        geographies[country] ?? geographies.values.first { Self.alpha2(of: $0.country) == country }
    }

    public func place(_ code: String) -> Place? { places.first { $0.code == code } }

    public static func alpha2(of alpha3: String) -> String {
        ["SLV": "SV", "GTM": "GT", "HND": "HN"][alpha3] ?? String(alpha3.prefix(2))
    }

    private init() {
        var lists: [String: CodeList] = [:]
        func add(_ list: CodeList) { lists[list.id] = list }
        let isoSource =
            (try? String(
                contentsOf: Bundle.module.resourceURL!.appendingPathComponent("Data/iso/SOURCE"),
                encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "iso-codes"

        // Countries: ISO 3166-1 alpha-3, parented to their UN M49 region where known.
        let m49Parent = Dictionary(
            uniqueKeysWithValues: ResourceCSV.rows("Data/un_m49_countries.csv").map {
                ($0["alpha_3"]!, $0["region"]!)
            })
        add(
            CodeList(
                id: "CL_AREA", version: "1.0", name: "Countries (ISO 3166-1 alpha-3)", source: isoSource,
                codes: ResourceCSV.rows("Data/iso/iso_3166-1.csv").map {
                    Code(
                        id: $0["alpha_3"]!, name: $0["name_es"]!, nameEN: $0["name"]!, parent: m49Parent[$0["alpha_3"]!]
                    )
                }))
        add(
            CodeList(
                id: "CL_SUBDIVISION", version: "1.0", name: "Subdivisions (ISO 3166-2)", source: isoSource,
                codes: ResourceCSV.rows("Data/iso/iso_3166-2.csv").map {
                    Code(id: $0["code"]!, name: $0["name"]!, parent: String($0["code"]!.prefix(2)))
                }))
        add(
            CodeList(
                id: "CL_M49_REGION", version: "1.0", name: "UN M49 regions", source: "UN M49 (project table)",
                codes: ResourceCSV.rows("Data/un_m49_regions.csv").map {
                    Code(
                        id: $0["code"]!, name: $0["name_es"]!, nameEN: $0["name_en"]!,
                        parent: $0["parent"]!.isEmpty ? nil : $0["parent"])
                }))
        add(
            CodeList(
                id: "CL_SEX", agency: "SDMX", version: "2.1", name: "Sex", source: "SDMX cross-domain CL_SEX",
                codes: [
                    Code(id: "F", name: "Mujeres", nameEN: "Female"), Code(id: "M", name: "Hombres", nameEN: "Male"),
                    Code(id: "_T", name: "Total", nameEN: "Total"),
                    Code(id: "_U", name: "Sin dato", nameEN: "Unknown"),
                ]))
        var ageCodes: [Code] = []
        for grouping in AgeGrouping.allCases {
            for code in grouping.codes where !ageCodes.contains(where: { $0.id == code }) {
                ageCodes.append(
                    Code(id: code, name: Self.ageName(code, spanish: true), nameEN: Self.ageName(code, spanish: false)))
            }
        }
        ageCodes.append(Code(id: "_T", name: "Total", nameEN: "Total"))
        add(
            CodeList(
                id: "CL_AGE", agency: "SDMX", version: "1.0", name: "Age", source: "SDMX cross-domain CL_AGE grammar",
                codes: ageCodes))
        add(
            Self.enumList(
                "CL_MIG_FLOW", "Movement event type", EventType.allCases.map(\.rawValue),
                [
                    "ENTRY": ("Entrada", "Entry"), "EXIT": ("Salida", "Exit"), "RETURN": ("Retorno", "Return"),
                    "PERMIT_ISSUED": ("Residencia otorgada", "Residence permit issued"),
                    "PERMIT_RENEWED": ("Residencia renovada", "Residence permit renewed"),
                ]))
        add(
            Self.enumList(
                "CL_RETURN_TYPE", "Return type", ReturnType.allCases.map(\.rawValue),
                [
                    "DEPORTATION": ("Deportación", "Deportation or removal"),
                    "ASSISTED": ("Retorno asistido", "Assisted return"),
                    "SPONTANEOUS": ("Retorno espontáneo", "Spontaneous return"),
                ]))
        add(
            Self.enumList(
                "CL_TRANSPORT_MODE", "Transport mode", TransportMode.allCases.map(\.rawValue),
                [
                    "LAND": ("Terrestre", "Land"), "AIR": ("Aérea", "Air"), "SEA": ("Marítima", "Sea"),
                ]))
        add(
            Self.enumList(
                "CL_CHILD_STATUS", "Child status", ChildStatus.allCases.map(\.rawValue),
                [
                    "UNACCOMPANIED": ("Niño, niña o adolescente no acompañado", "Unaccompanied child"),
                    "ACCOMPANIED": ("Niño, niña o adolescente acompañado", "Accompanied child"),
                    "ADULT": ("Adulto", "Adult"),
                ]))
        add(
            Self.enumList(
                "CL_MIGRATION_STATUS", "Migration status", MigrationStatus.allCases.map(\.rawValue),
                [
                    "NATIONAL": ("Nacional", "National"), "RESIDENT": ("Residente", "Resident"),
                    "VISITOR": ("Visitante", "Visitor"),
                    "TRANSIT": ("Tránsito", "Transit"), "IRREGULAR": ("Irregular", "Irregular"),
                ]))
        add(
            Self.enumList(
                "CL_DOCUMENT_TYPE", "Document type", DocumentType.allCases.map(\.rawValue),
                [
                    "NATIONAL_ID": ("Documento nacional de identidad", "National identity card"),
                    "PASSPORT": ("Pasaporte", "Passport"), "TRAVEL_DOCUMENT": ("Salvoconducto", "Travel document"),
                    "BIRTH_CERTIFICATE": ("Partida de nacimiento", "Birth certificate"), "NONE": ("Ninguno", "None"),
                ]))

        let geos = GeographyLoader.loadAll()
        for geo in geos.values {
            add(geo.departments)
            add(geo.baseUnits)
            for view in geo.views { add(view.units) }
        }
        let places = Place.loadAll()
        add(
            CodeList(
                id: "CL_PLACE", version: "1.0", name: "Border crossing points, airports and reception centres",
                source: "Puente places table from shared/data/ports (see docs/data-model.md)",
                codes: places.map { Code(id: $0.code, name: $0.name, parent: $0.country) }))
        codeLists = lists
        geographies = geos
        self.places = places
        population = PopulationFigure.estimate(geographies: geos)
        departmentPopulation = PopulationFigure.departments()
        municipality2024Population = PopulationFigure.municipalities2024()
        baseUnitIDs = Set(geos.values.flatMap { $0.baseUnits.codes.map(\.id) })
        // Units of later geography versions (stored for events since a reform) have departments too.
        departmentOfUnit = Dictionary(
            geos.values.flatMap { geo in
                (geo.baseUnits.codes + geo.views.flatMap(\.units.codes)).compactMap { unit in
                    unit.parent.map { (unit.id, $0) }
                }
            }, uniquingKeysWith: { a, _ in a })
    }

    private static func enumList(
        _ id: String, _ name: String, _ codes: [String],
        _ names: [String: (String, String)]
    ) -> CodeList {
        CodeList(
            id: id, version: "1.0", name: name, source: "Puente data model v1",
            codes: codes.map { Code(id: $0, name: names[$0]?.0 ?? $0, nameEN: names[$0]?.1) })
    }

    private static func ageName(_ code: String, spanish: Bool) -> String {
        let years = spanish ? "años" : "years"
        if code == "_U" { return spanish ? "Edad desconocida" : "Unknown age" }
        if code.hasPrefix("Y_GE") { return "\(code.dropFirst(4))+ \(years)" }
        let body = code.dropFirst()
        if let t = body.firstIndex(of: "T") { return "\(body[..<t])–\(body[body.index(after: t)...]) \(years)" }
        return "\(body) \(years)"
    }
}
