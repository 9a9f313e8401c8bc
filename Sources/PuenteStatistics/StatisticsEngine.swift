import PuenteCore
import PuenteReference

/// A statistics question: a measure, broken down by some dimensions, filtered on others.
public struct StatisticsQuery: Hashable, Sendable {
    public var measure: Measure
    public var by: [Dimension]
    /// Dimension → accepted codes (OR within a dimension, AND across).
    public var filters: [Dimension: [String]]

    public init(measure: Measure, by: [Dimension] = [], filters: [Dimension: [String]] = [:]) {
        self.measure = measure
        self.by = by
        self.filters = filters
    }

    /// Parses the textual form shared by the CLI and the API: `by` as `sex,age_group`, filters as
    /// `year:2016,department:SV-CH` (or `=`); repeating a dimension means OR.
    public static func parse(measure: String, by: String?, filter: String?, reference: ReferenceData = .shared) throws -> StatisticsQuery {
        guard let m = Measure(rawValue: measure) else {
            throw PuenteError(.unknownMeasure, "Unknown measure. Allowed measures: \(Measure.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        func dimension(_ name: Substring) throws -> Dimension {
            guard let d = Dimension(rawValue: String(name).trimmingSpaces()) else {
                throw PuenteError(.unknownDimension, "Unknown dimension. Allowed dimensions: "
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
                let shown = allowed.count <= 60 ? allowed.joined(separator: ", ")
                    : allowed.prefix(20).joined(separator: ", ") + " and \(allowed.count - 20) more (GET /api/v1/codelists has them all)"
                throw PuenteError(.unknownCode, "Unknown code for \(d.rawValue). Allowed codes: \(shown).")
            }
            if [.year, .quarter, .month].contains(d), !Self.validPeriod(code, d) {
                throw PuenteError(.unknownCode, "Write \(d.rawValue) as " + ["year": "2016", "quarter": "2016-Q1", "month": "2016-03"][d.rawValue]! + ".")
            }
            filters[d, default: []].append(code)
        }
        return StatisticsQuery(measure: m, by: dims, filters: filters)
    }

    private static func validPeriod(_ code: String, _ d: Dimension) -> Bool {
        switch d {
        case .year: return code.count == 4 && Int(code) != nil
        case .quarter: return code.count == 7 && Int(code.prefix(4)) != nil && code.dropFirst(4).hasPrefix("-Q") && ("1"..."4").contains(String(code.last!))
        default: return code.count == 7 && Int(code.prefix(4)) != nil && Int(code.suffix(2)).map { (1...12).contains($0) } == true && code.dropFirst(4).first == "-"
        }
    }
}

/// How published figures are protected. The statistics issue adds the cell key method; this version
/// applies a threshold to every cell and total.
public struct DisclosurePolicy: Hashable, Sendable {
    /// Counts from 1 to `threshold - 1` are suppressed. 0 disables protection (for entitled roles).
    public var threshold: Int

    public static let standard = DisclosurePolicy(threshold: 5)
    public static let unprotected = DisclosurePolicy(threshold: 0)

    public init(threshold: Int) { self.threshold = threshold }
}

/// One cell of a result: codes in `by` order, the value (nil when suppressed) and its SDMX status.
public struct StatisticsCell: Codable, Hashable, Sendable {
    public var key: [String]
    public var value: Int?
    /// SDMX OBS_STATUS: `A` normal, `Q` suppressed for confidentiality.
    public var obsStatus: String
    /// SDMX CONF_STATUS: `F` free, `A` primary suppression (small count).
    public var confStatus: String

    public var suppressed: Bool { obsStatus == "Q" }
}

/// The answer to a `StatisticsQuery`.
public struct StatisticsTable: Codable, Hashable, Sendable {
    public var measure: Measure
    public var dimensions: [Dimension]
    public var filters: [String: [String]]
    public var cells: [StatisticsCell]
    public var total: StatisticsCell
    public var disclosureThreshold: Int
}

/// Computes statistics from a store's cell counts. Always fresh: every answer is computed from the
/// committed events at the time of the query.
public struct StatisticsEngine: Sendable {
    public let store: any EventStore
    public let reference: ReferenceData

    public init(store: any EventStore, reference: ReferenceData = .shared) {
        self.store = store
        self.reference = reference
    }

    public func run(_ query: StatisticsQuery, policy: DisclosurePolicy = .standard) async throws -> StatisticsTable {
        // Group by every column the breakdown and the non-pushable filters need, then derive codes here.
        var columns: [CellColumn] = [.eventType]
        let derivedFilters = query.filters.filter { $0.key.directColumn == nil }
        for d in query.by + Array(derivedFilters.keys) { for c in d.columns where !columns.contains(c) { columns.append(c) } }
        var pushed: [CellColumn: [CellValue]] = [:]
        for (d, codes) in query.filters {
            guard let column = d.directColumn else { continue }
            pushed[column] = codes.map { column.isInteger ? (Int($0).map(CellValue.integer) ?? .text($0)) : .text($0) }
        }
        let types = query.measure.terms.compactMap(\.0)
        if !types.isEmpty { pushed[.eventType] = (pushed[.eventType] ?? types.map { .text($0.rawValue) }).filter {
            types.map(\.rawValue).contains($0.description) } }
        let cells = try await store.countCells(CellQuery(groupBy: columns, filters: pushed))

        let sign = Dictionary(uniqueKeysWithValues: query.measure.terms.map { ($0.0?.rawValue ?? "*", $0.1) })
        var sums: [[String]: Int] = [:]
        var total = 0
        for cell in cells {
            let values = Dictionary(uniqueKeysWithValues: zip(columns, cell.key))
            func code(_ d: Dimension) -> String { d.code(d.columns.map { values[$0] ?? nil }, reference: reference) }
            if derivedFilters.contains(where: { !$0.value.contains(code($0.key)) }) { continue }
            let type = values[.eventType]??.description ?? ""
            guard let s = sign[type] ?? sign["*"] else { continue }
            let key = query.by.map(code)
            sums[key, default: 0] += s * cell.count
            total += s * cell.count
        }
        let protect = { (key: [String], v: Int) -> StatisticsCell in
            // Net movements can be negative: protect on magnitude.
            if policy.threshold > 0, v != 0, abs(v) < policy.threshold {
                return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A")
            }
            return StatisticsCell(key: key, value: v, obsStatus: "A", confStatus: "F")
        }
        let rows = sums.map { protect($0.key, $0.value) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        return StatisticsTable(measure: query.measure, dimensions: query.by,
                               filters: Dictionary(uniqueKeysWithValues: query.filters.map { ($0.key.rawValue, $0.value) }),
                               cells: rows, total: protect([], total), disclosureThreshold: policy.threshold)
    }
}
