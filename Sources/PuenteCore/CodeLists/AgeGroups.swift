/// SDMX age codes (`CL_AGE`) derived from an age in completed years.
///
/// Puente stores single years and derives every grouping, so any grouping can be published for any period.
public enum AgeGrouping: String, CaseIterable, Codable, Sendable {
    /// `Y0`…`Y99`, `Y_GE100`.
    case single
    /// `Y0T4`, `Y5T9`, … `Y80T84`, `Y_GE85`.
    case fiveYear
    /// `Y0T14`, `Y15T64`, `Y_GE65`.
    case broad
    /// `Y0T17` (children) and `Y_GE18` (adults).
    case child

    /// The SDMX code for `age`, or `_U` when the age is unknown.
    public func code(for age: Int?) -> String {
        guard let age, age >= 0 else { return "_U" }
        switch self {
        case .single:
            return age >= 100 ? "Y_GE100" : "Y\(age)"
        case .fiveYear:
            if age >= 85 { return "Y_GE85" }
            let low = age / 5 * 5
            return "Y\(low)T\(low + 4)"
        case .broad:
            return age < 15 ? "Y0T14" : age < 65 ? "Y15T64" : "Y_GE65"
        case .child:
            return age < 18 ? "Y0T17" : "Y_GE18"
        }
    }

    /// Every code of the grouping, in order, with `_U` last.
    public var codes: [String] {
        switch self {
        case .single: return (0..<100).map { "Y\($0)" } + ["Y_GE100", "_U"]
        case .fiveYear: return stride(from: 0, to: 85, by: 5).map { "Y\($0)T\($0 + 4)" } + ["Y_GE85", "_U"]
        case .broad: return ["Y0T14", "Y15T64", "Y_GE65", "_U"]
        case .child: return ["Y0T17", "Y_GE18", "_U"]
        }
    }
}
