import PuenteCore
import PuenteReference

/// What a statistic can be broken down or filtered by. Every dimension is derived from stored columns,
/// so any grouping (five-year ages, the 2024 municipalities of El Salvador) works for any period.
public enum Dimension: String, CaseIterable, Codable, Sendable {
    case year, quarter, month
    case eventType = "event_type"
    /// The agency whose export recorded the event (e.g. `SV-DGME`).
    case source
    case reportingCountry = "reporting_country"
    case sex
    /// Single years of age (`Y34`).
    case age
    /// Five-year groups (`Y30T34`).
    case ageGroup = "age_group"
    /// `Y0T14`, `Y15T64`, `Y_GE65`.
    case ageBroad = "age_broad"
    /// Children and adults (`Y0T17`, `Y_GE18`).
    case ageChild = "age_child"
    case nationality
    case birthCountry = "birth_country"
    case returningFrom = "returning_from"
    case returnType = "return_type"
    case childStatus = "child_status"
    /// ISO 3166-2 department of residence or destination.
    case department
    /// The base unit of residence: municipality (Guatemala, Honduras, El Salvador before May 2024) or
    /// district (El Salvador since).
    case municipality
    /// El Salvador's 44 municipalities in force since 1 May 2024, for any period.
    case municipality2024 = "municipality_2024"
    case place
    case transportMode = "transport_mode"
    case migrationStatus = "migration_status"

    /// The cube column the dimension is derived from; none for `event_type`, whose values are the
    /// cube's partitions.
    var cubeColumn: CubeColumn? {
        switch self {
        case .year, .quarter, .month: .period
        case .source: .source
        case .eventType: nil
        case .reportingCountry: .reportingCountry
        case .sex: .sex
        case .age, .ageGroup, .ageBroad, .ageChild: .age
        case .nationality: .nationality
        case .birthCountry: .birthCountry
        case .returningFrom: .returningFrom
        case .returnType: .returnType
        case .childStatus: .childStatus
        case .department, .municipality, .municipality2024: .residenceDivision
        case .place: .place
        case .transportMode: .transportMode
        case .migrationStatus: .migrationStatus
        }
    }

    /// The code of the dimension for a stored value of its column; `_U` when not recorded.
    func code(_ value: CellValue?, reference: ReferenceData) -> String {
        var int: Int? { if case .integer(let i)? = value { return i }; return nil }
        var text: String? { if case .text(let s)? = value { return s }; return nil }
        switch self {
        case .year, .quarter, .month:
            guard let period = int else { return "_U" }
            let (year, month) = (period / 12, period % 12 + 1)
            if self == .year { return String(year) }
            if self == .quarter { return "\(year)-Q\((month - 1) / 3 + 1)" }
            return "\(year)-\(month < 10 ? "0" : "")\(month)"
        case .age: return AgeGrouping.single.code(for: int)
        case .ageGroup: return AgeGrouping.fiveYear.code(for: int)
        case .ageBroad: return AgeGrouping.broad.code(for: int)
        case .ageChild: return AgeGrouping.child.code(for: int)
        case .department:
            return text.flatMap { reference.departmentOfUnit[$0] } ?? "_U"
        case .municipality2024:
            guard let unit = text, let view = reference.geography("SV")?.view("municipality_2024") else { return "_U" }
            // Events since the reform may be stored at the 2024 municipality itself.
            return view.mapping[unit] ?? (view.units.code(unit) != nil ? unit : "_U")
        case .municipality:
            // A 2024 municipality spans several former ones: unknown at this level.
            return text.flatMap { reference.baseUnitIDs.contains($0) ? $0 : nil } ?? "_U"
        default: return text ?? "_U"
        }
    }

    /// The codes a filter may use, when the dimension has a closed list.
    public func allowedCodes(reference: ReferenceData) -> [String]? {
        func list(_ id: String) -> [String]? { reference.codeList(id)?.codes.map(\.id) }
        // Sorted, so the same query always gets the same message.
        let countries = reference.geographies.sorted { $0.key < $1.key }.map(\.value)
        switch self {
        case .sex: return ["F", "M", "_U"]
        case .eventType: return list("CL_MIG_FLOW")
        case .age: return AgeGrouping.single.codes
        case .ageGroup: return AgeGrouping.fiveYear.codes
        case .ageBroad: return AgeGrouping.broad.codes
        case .ageChild: return AgeGrouping.child.codes
        case .returnType: return list("CL_RETURN_TYPE").map { $0 + ["_U"] }
        case .childStatus: return list("CL_CHILD_STATUS").map { $0 + ["_U"] }
        case .transportMode: return list("CL_TRANSPORT_MODE").map { $0 + ["_U"] }
        case .migrationStatus: return list("CL_MIGRATION_STATUS").map { $0 + ["_U"] }
        case .nationality, .birthCountry, .returningFrom, .reportingCountry: return list("CL_AREA").map { $0 + ["_U"] }
        case .department: return countries.flatMap { $0.departments.codes.map(\.id) } + ["_U"]
        case .municipality: return countries.flatMap { $0.baseUnits.codes.map(\.id) } + ["_U"]
        case .municipality2024:
            return reference.geography("SV")?.view("municipality_2024").map { $0.units.codes.map(\.id) + ["_U"] }
        case .place: return list("CL_PLACE").map { $0 + ["_U"] }
        case .year, .quarter, .month, .source: return nil
        }
    }
}
