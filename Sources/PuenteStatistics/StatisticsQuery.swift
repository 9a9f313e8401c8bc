import PuenteCore
import PuenteReference

/// The populations rates per 1,000 are divided by.
public enum PopulationBasis: String, CaseIterable, Sendable {
    /// Census figures where there are some, else estimates; a rate over an estimate is flagged.
    case any
    /// Census figures alone: a rate whose population is estimated (or a census figure not verified) is
    /// left out, flagged, instead of published.
    case census
}

/// A statistics question: a measure, broken down by some dimensions, filtered on others.
public struct StatisticsQuery: Hashable, Sendable {
    public var measure: Measure
    public var by: [Dimension]
    /// Dimension → accepted codes (OR within a dimension, AND across).
    public var filters: [Dimension: [String]]
    /// Rates only: the populations they may be divided by.
    public var population: PopulationBasis

    public init(
        measure: Measure, by: [Dimension] = [], filters: [Dimension: [String]] = [:], population: PopulationBasis = .any
    ) {
        self.measure = measure
        self.by = by
        self.filters = filters
        self.population = population
    }

    /// Parses the textual form shared by the CLI and the API: `by` as `sex,age_group`, filters as
    /// `year:2016,department:SV-CH` (or `=`); repeating a dimension means OR.
    public static func parse(measure: String, by: String?, filter: String?, reference: ReferenceData = .shared) throws
        -> StatisticsQuery
    {
        guard let m = Measure(rawValue: measure) else {
            throw PuenteError(
                .unknownMeasure,
                "Unknown measure. Allowed measures: \(Measure.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        func dimension(_ name: Substring) throws -> Dimension {
            guard let d = Dimension(rawValue: String(name).trimmingSpaces()) else {
                throw PuenteError(
                    .unknownDimension,
                    "Unknown dimension. Allowed dimensions: "
                        + Dimension.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            return d
        }
        let dims = try (by ?? "").split(separator: ",").filter { !$0.isEmpty }.map(dimension)
        guard Set(dims).count == dims.count else {
            throw PuenteError(.invalidArgument, "A dimension is listed twice in `by`.")
        }
        var filters: [Dimension: [String]] = [:]
        for part in (filter ?? "").split(separator: ",") where !part.isEmpty {
            guard let sep = part.firstIndex(where: { $0 == ":" || $0 == "=" }) else {
                throw PuenteError(.invalidArgument, "Write each filter as DIMENSION:CODE, e.g. year:2016 or sex:F.")
            }
            let d = try dimension(part[..<sep])
            let code = String(part[part.index(after: sep)...]).trimmingSpaces()
            if let allowed = d.allowedCodes(reference: reference), !allowed.contains(code) {
                let shown =
                    allowed.count <= 60
                    ? allowed.joined(separator: ", ")
                    : allowed.prefix(20).joined(separator: ", ")
                        + " and \(allowed.count - 20) more (GET /api/v1/codelists has them all)"
                throw PuenteError(.unknownCode, "Unknown code for \(d.rawValue). Allowed codes: \(shown).")
            }
            if [.year, .quarter, .month].contains(d), !Self.validPeriod(code, d) {
                throw PuenteError(
                    .unknownCode,
                    "Write \(d.rawValue) as " + ["year": "2016", "quarter": "2016-Q1", "month": "2016-03"][d.rawValue]!
                        + ".")
            }
            filters[d, default: []].append(code)
        }
        return StatisticsQuery(measure: m, by: dims, filters: filters)
    }

    private static func validPeriod(_ code: String, _ d: Dimension) -> Bool {
        switch d {
        case .year: return code.count == 4 && Int(code) != nil
        case .quarter:
            return code.count == 7 && Int(code.prefix(4)) != nil && code.dropFirst(4).hasPrefix("-Q")
                && ("1"..."4").contains(String(code.last!))
        default:
            return code.count == 7 && Int(code.prefix(4)) != nil
                && Int(code.suffix(2)).map { (1...12).contains($0) } == true && code.dropFirst(4).first == "-"
        }
    }
}
