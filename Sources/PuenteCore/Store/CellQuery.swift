/// Stored columns that statistics may group or filter by. Only these reach SQL, so no query can name
/// a personal field or inject text.
public enum CellColumn: String, CaseIterable, Codable, Sendable {
    case eventType = "event_type"
    case year
    case month
    case reportingCountry = "reporting_country"
    case place
    case transportMode = "transport_mode"
    case sex
    case age
    case nationality
    case birthCountry = "birth_country"
    case residenceDivision = "residence_division"
    case migrationStatus = "migration_status"
    case returningFrom = "returning_from"
    case returnType = "return_type"
    case childStatus = "child_status"

    /// Whether the column holds integers.
    public var isInteger: Bool { self == .year || self == .month || self == .age }
}

/// A value a cell query filters on or a cell carries; `nil` in a cell means "not recorded".
public enum CellValue: Hashable, Codable, Sendable, CustomStringConvertible {
    case text(String)
    case integer(Int)

    public var description: String {
        switch self {
        case .text(let s): return s
        case .integer(let i): return String(i)
        }
    }
}

/// Count events of committed imports, grouped by some stored columns and filtered on others.
///
/// This is the only question statistics ask a store; every measure and dimension is derived from its
/// answer. Keeping it this narrow keeps the two stores identical in behaviour.
public struct CellQuery: Hashable, Sendable {
    public var groupBy: [CellColumn]
    /// Column → allowed values (OR within a column, AND across columns).
    public var filters: [CellColumn: [CellValue]]
    /// Inclusive range of event dates, if any.
    public var from: CivilDate?
    public var to: CivilDate?

    public init(groupBy: [CellColumn], filters: [CellColumn: [CellValue]] = [:], from: CivilDate? = nil,
                to: CivilDate? = nil) {
        self.groupBy = groupBy
        self.filters = filters
        self.from = from
        self.to = to
    }
}

/// One group of a cell query's answer: the values of the grouped columns, in order, and the count.
public struct CountCell: Hashable, Sendable {
    public var key: [CellValue?]
    public var count: Int

    public init(key: [CellValue?], count: Int) {
        self.key = key
        self.count = count
    }
}

/// Renders a `CellQuery` as SQL shared by the stores; each store supplies its placeholder style.
public struct CellQuerySQL: Sendable {
    public var sql: String
    public var bindings: [CellValue]

    /// - Parameter placeholder: the placeholder for the n-th binding (1-based), `?` or `$n`.
    public init(_ query: CellQuery, placeholder: (Int) -> String) {
        var bindings: [CellValue] = []
        func bind(_ v: CellValue) -> String {
            bindings.append(v)
            return placeholder(bindings.count)
        }
        let columns = query.groupBy.map { "e.\($0.rawValue)" }
        var conditions = ["b.status = 'committed'"]
        for column in CellColumn.allCases {   // fixed order keeps the SQL text stable for statement caches
            guard let values = query.filters[column] else { continue }
            if values.isEmpty { conditions.append("1 = 0"); continue }
            conditions.append("e.\(column.rawValue) IN (\(values.map(bind).joined(separator: ", ")))")
        }
        if let from = query.from { conditions.append("e.event_day >= \(bind(.integer(from.daysSinceEpoch)))") }
        if let to = query.to { conditions.append("e.event_day <= \(bind(.integer(to.daysSinceEpoch)))") }
        var sql = "SELECT \((columns + ["COUNT(*)"]).joined(separator: ", ")) FROM movement_event e "
            + "JOIN import_batch b ON b.id = e.import_id WHERE \(conditions.joined(separator: " AND "))"
        if !columns.isEmpty { sql += " GROUP BY \(columns.joined(separator: ", "))" }
        self.sql = sql
        self.bindings = bindings
    }
}
