/// A country's administrative divisions over time: which list applies when, and how to re-aggregate.
///
/// Events are stored at the most stable level a country has (for El Salvador the 262 districts, which
/// are the former municipalities). Any later grouping is a mapping from that base code, so any period can
/// be shown in either the old or the new geography.
public struct Geography: Sendable {
    /// ISO 3166-1 alpha-3.
    public var country: String
    /// Departments, coded by ISO 3166-2 (`SV-SS`).
    public var departments: CodeList
    /// The base units events are stored at, coded `SV-0614` (alpha-2, then the national 4-digit code,
    /// whose first two digits are the department). `Code.parent` is the department.
    public var baseUnits: CodeList
    /// Other views over the base units, each with a mapping base code → unit code.
    public var views: [GeographyView]
    /// Other names clerks use for a base unit (old names, short forms), by base code.
    public var aliases: [String: [String]]

    public init(
        country: String, departments: CodeList, baseUnits: CodeList, views: [GeographyView] = [],
        aliases: [String: [String]] = [:]
    ) {
        self.country = country
        self.departments = departments
        self.baseUnits = baseUnits
        self.views = views
        self.aliases = aliases
    }

    public func view(_ id: String) -> GeographyView? { views.first { $0.id == id } }
}

/// A grouping of a country's base units into other units, such as El Salvador's 44 municipalities of 2024.
public struct GeographyView: Sendable {
    public var id: String
    public var units: CodeList
    /// Base unit code → unit code of this view.
    public var mapping: [String: String]

    public init(id: String, units: CodeList, mapping: [String: String]) {
        self.id = id
        self.units = units
        self.mapping = mapping
    }
}
