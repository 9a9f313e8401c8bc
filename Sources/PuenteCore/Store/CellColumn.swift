/// The statistical columns of stored events: what statistics may group or filter by. No personal
/// field is among them.
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

    /// The cell columns as SQL over `movement_event`, in order: what both stores' migrations group
    /// events by when they fill `event_cell` from events stored before cells existed.
    public static let fromEventsSQL = allCases.map {
        $0 == .documentRecorded ? "CASE WHEN COALESCE(document_number, '') <> '' THEN 1 ELSE 0 END" : $0.rawValue
    }.joined(separator: ", ")
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
