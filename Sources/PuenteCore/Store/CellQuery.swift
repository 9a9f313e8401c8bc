/// The statistical columns of stored events: what statistics may group or filter by. Only these reach
/// SQL, so no query can name a personal field or inject text.
///
/// Stores keep these columns aggregated per import batch (`event_cell`): a count and the sum of the
/// events' cell keys for each combination that occurs. Statistics never read `movement_event`.
public enum CellColumn: String, CaseIterable, Codable, Sendable {
    case eventType = "event_type"
    case agency
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
    /// 1 when the record carries an identity document number, else 0 (for registration coverage).
    case documentRecorded = "document_recorded"

    /// Whether the column holds integers.
    public var isInteger: Bool { self == .year || self == .month || self == .age || self == .documentRecorded }
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

/// Sum cell counts of committed imports, grouped by some columns and filtered on others.
public struct CellQuery: Hashable, Sendable {
    public var groupBy: [CellColumn]
    /// Column → allowed values (OR within a column, AND across columns).
    public var filters: [CellColumn: [CellValue]]

    public init(groupBy: [CellColumn], filters: [CellColumn: [CellValue]] = [:]) {
        self.groupBy = groupBy
        self.filters = filters
    }
}

/// One group of a cell query's answer: the values of the grouped columns, in order, the number of
/// events, and the sum of their cell keys (for the cell key method; never published).
public struct CountCell: Hashable, Sendable {
    public var key: [CellValue?]
    public var count: Int
    public var keySum: Int

    public init(key: [CellValue?], count: Int, keySum: Int = 0) {
        self.key = key
        self.count = count
        self.keySum = keySum
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
        let columns = query.groupBy.map { "c.\($0.rawValue)" }
        var conditions = ["b.status = 'committed'"]
        for column in CellColumn.allCases {   // fixed order keeps the SQL text stable for statement caches
            guard let values = query.filters[column] else { continue }
            if values.isEmpty { conditions.append("1 = 0"); continue }
            conditions.append("c.\(column.rawValue) IN (\(values.map(bind).joined(separator: ", ")))")
        }
        var sql = "SELECT \((columns + ["CAST(SUM(c.n) AS BIGINT)", "CAST(SUM(c.key_sum) AS BIGINT)"]).joined(separator: ", ")) FROM event_cell c "
            + "JOIN import_batch b ON b.id = c.import_id WHERE \(conditions.joined(separator: " AND "))"
        if !columns.isEmpty { sql += " GROUP BY \(columns.joined(separator: ", "))" }
        self.sql = sql
        self.bindings = bindings
    }
}
