import PuenteCore
import PuenteReference

/// A statistics question: a measure, broken down by some dimensions, filtered on others.
public struct StatisticsQuery: Hashable, Sendable {
    public var measure: Measure
    public var by: [Dimension]
    /// Dimension → accepted codes (OR within a dimension, AND across).
    public var filters: [Dimension: [String]]
    /// Rates only: divide by census populations alone; a rate whose population is estimated (or a census
    /// figure not verified) is left out, flagged, instead of published.
    public var censusPopulationOnly: Bool

    public init(measure: Measure, by: [Dimension] = [], filters: [Dimension: [String]] = [:], censusPopulationOnly: Bool = false) {
        self.measure = measure
        self.by = by
        self.filters = filters
        self.censusPopulationOnly = censusPopulationOnly
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

/// One cell of a result: codes in `by` order, the value (nil when suppressed) and its SDMX status.
public struct StatisticsCell: Codable, Hashable, Sendable {
    public var key: [String]
    public var value: Double?
    /// SDMX OBS_STATUS: `A` normal, `E` perturbed by the cell key method, `Q` suppressed for confidentiality.
    public var obsStatus: String
    /// SDMX CONF_STATUS: `F` free, `A` primary suppression (small count), `D` secondary suppression.
    public var confStatus: String
    /// Change on the previous period and on the same period a year before, in percent, when the
    /// breakdown has a period and both values are published.
    public var changePrevious: Double?
    public var changeYearAgo: Double?
    /// Rates only: how the population divided by was obtained (`census`, `census_unverified`: a census
    /// figure from a secondary source, or `estimated`: not a census figure), and its census date or year.
    public var populationBasis: String?
    public var populationReference: String?

    public var suppressed: Bool { obsStatus == "Q" }
    /// A rate over a population that is not a verified census figure.
    public var estimatedPopulation: Bool { populationBasis.map { $0 != PopulationFigure.Basis.census.rawValue } ?? false }
    public var perturbed: Bool { obsStatus == "E" }

    public init(key: [String], value: Double?, obsStatus: String = "A", confStatus: String = "F") {
        self.key = key
        self.value = value
        self.obsStatus = obsStatus
        self.confStatus = confStatus
    }
}

/// How a table was protected, published with it.
public struct ProtectionNote: Codable, Hashable, Sendable {
    /// `ckm`, `suppression` or `none`.
    public var method: String
    public var threshold: Int
    /// Cell key method parameters: maximum noise and its variance (published, per the method).
    public var maxNoise: Int?
    public var variance: Double?
}

/// The answer to a `StatisticsQuery`.
public struct StatisticsTable: Codable, Hashable, Sendable {
    public var measure: Measure
    public var dimensions: [Dimension]
    public var filters: [String: [String]]
    public var cells: [StatisticsCell]
    public var total: StatisticsCell
    public var protection: ProtectionNote
}

/// Computes statistics from the store's committed cell counts, through an in-memory cube that follows
/// every commit and rollback: always fresh, no rebuild.
public struct StatisticsEngine: Sendable {
    public let store: any EventStore
    public let reference: ReferenceData
    private let cube: CubeCache
    private let persons: PersonCubeCache?
    private let population: PopulationIndex

    /// - Parameter store: a store that also keeps linked persons (`PersonStore`) gives the person
    ///   measures too.
    public init(store: any EventStore, reference: ReferenceData = .shared) {
        self.store = store
        self.reference = reference
        cube = CubeCache(store: store)
        persons = (store as? any PersonStore).map { PersonCubeCache(events: store, persons: $0) }
        population = PopulationIndex(reference: reference)
    }

    /// Loads the cube now (servers call it at start so the first query is fast); returns its size.
    @discardableResult
    public func warmUp() async throws -> (imports: Int, cells: Int) {
        let snapshot = try await cube.current()
        return (snapshot.importIDs.count, snapshot.cellCount)
    }

    /// Whether person measures can be computed now: persons were linked, and since then no import was
    /// committed or rolled back.
    public func personFiguresAreCurrent() async -> Bool {
        guard let persons else { return false }
        return (try? await persons.current()) != nil
    }

    public func run(_ query: StatisticsQuery, policy: DisclosurePolicy = .standard) async throws -> StatisticsTable {
        let snapshot = try await cube.current()
        let counter = Counter(snapshot: snapshot, query: query, reference: reference)
        let protector = Protector(policy: policy)
        var cells: [StatisticsCell]
        var total: StatisticsCell
        switch query.measure {
        case .returns, .entries, .exits, .events, .netMovements:
            var terms: [(counts: [[String]: CellTally], total: CellTally, sign: Int)] = []
            for (type, sign) in query.measure.terms {
                let spec = CountSpec(eventTypes: type.map { [$0] } ?? EventType.allCases)
                let (counts, t) = try counter.count(spec)
                terms.append((counts, t, sign))
            }
            let keys = Set(terms.flatMap(\.counts.keys)).sorted { $0.lexicographicallyPrecedes($1) }
            if terms.count == 1 {
                (cells, total) = protector.counts(keys: keys, tallies: keys.map { terms[0].counts[$0]! }, total: terms[0].total)
            } else {
                (cells, total) = protector.differences(keys: keys, terms: terms)
            }
        case .returnsPer1000:
            guard let geo = query.by.firstIndex(where: { PopulationIndex.dimensions.contains($0) }) else {
                throw PuenteError(.invalidArgument, "returns_per_1000 needs a breakdown by one of: "
                    + PopulationIndex.dimensions.map(\.rawValue).joined(separator: ", ") + ".")
            }
            let (counts, _) = try counter.count(CountSpec(eventTypes: [.return]))
            let keys = counts.keys.sorted { $0.lexicographicallyPrecedes($1) }
            // A rate times its public population gives the count back: withheld as the counts would be.
            let withheld = protector.withheld(keys: keys, tallies: keys.map { counts[$0]! })
            cells = keys.indices.map { i in
                let key = keys[i]
                let figure = population.figure(of: query.by[geo], code: key[geo])
                var cell: StatisticsCell
                if let status = withheld[i] {
                    cell = StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: status)
                } else if query.censusPopulationOnly, let figure, figure.basis != .census {
                    cell = StatisticsCell(key: key, value: nil, obsStatus: "O", confStatus: "F")   // asked for census rates only
                } else {
                    cell = protector.rate(counts[key]!, denominator: figure?.population, key: key)
                }
                cell.populationBasis = figure?.basis.rawValue
                cell.populationReference = figure?.reference
                return cell
            }
            total = StatisticsCell(key: [], value: nil, obsStatus: "O", confStatus: "F")   // no single population
        case .returnedPersons, .repeatReturnShare:
            guard let persons else {
                throw PuenteError(.invalidArgument, "\(query.measure.rawValue) needs a store with linked persons.")
            }
            let personSnapshot = try await persons.current()
            let level = try PersonCubeCache.level(for: query)
            func counter(_ levels: [PersonFirst]) -> Counter {
                var c = Counter(snapshot: personSnapshot, query: query, reference: reference)
                c.partitions = { type in levels.map { PersonCubeCache.partition(type.rawValue, $0) } }
                return c
            }
            if query.measure == .returnedPersons {
                let (counts, t) = try counter(PersonFirst.allCases.filter { $0 >= level }).count(CountSpec(eventTypes: [.return]))
                let keys = counts.keys.sorted { $0.lexicographicallyPrecedes($1) }
                (cells, total) = protector.counts(keys: keys, tallies: keys.map { counts[$0]! }, total: t)
            } else {
                let (repeats, repeatTotal) = try counter(PersonFirst.allCases.filter { $0 < .ever }).count(CountSpec(eventTypes: [.return]))
                let (all, allTotal) = try counter(PersonFirst.allCases).count(CountSpec(eventTypes: [.return]))
                let keys = Set(repeats.keys).union(all.keys).sorted { $0.lexicographicallyPrecedes($1) }
                cells = protector.ratios(keys: keys, numerators: repeats, denominators: all, factor: 100)
                total = protector.ratio(repeatTotal, allTotal, factor: 100, key: [])
            }
        case .mirrorCoverage:
            let allowed: Set<Dimension> = [.reportingCountry, .returningFrom, .year, .quarter, .month]
            guard Set(query.by).union(query.filters.keys).isSubset(of: allowed) else {
                throw PuenteError(.invalidArgument, "mirror_coverage can be broken down and filtered only by: "
                    + allowed.map(\.rawValue).sorted().joined(separator: ", ") + ".")
            }
            let (here, hereTotal) = try counter.count(CountSpec(eventTypes: [.return]))
            // The partner's side: exits it reports (reporting country = partner) of our nationals.
            let mirrored = Counter(snapshot: snapshot, query: query, reference: reference,
                                   columns: [.reportingCountry: .nationality, .returningFrom: .reportingCountry])
            let (partner, partnerTotal) = try mirrored.count(CountSpec(eventTypes: [.exit]))
            let keys = Set(here.keys).union(partner.keys).sorted { $0.lexicographicallyPrecedes($1) }
            cells = protector.ratios(keys: keys, numerators: here, denominators: partner, factor: 100)
            total = protector.ratio(hereTotal, partnerTotal, factor: 100, key: [])
        default:
            let ratio = query.measure.ratio!
            let (numerators, numeratorTotal) = try counter.count(ratio.numerator)
            let (denominators, denominatorTotal) = try counter.count(ratio.denominator)
            let keys = Set(numerators.keys).union(denominators.keys).sorted { $0.lexicographicallyPrecedes($1) }
            cells = protector.ratios(keys: keys, numerators: numerators, denominators: denominators, factor: ratio.factor)
            total = protector.ratio(numeratorTotal, denominatorTotal, factor: ratio.factor, key: [])
        }
        if let period = query.by.firstIndex(where: { [.year, .quarter, .month].contains($0) }) {
            TimeSeries.addChanges(to: &cells, periodAt: period, dimension: query.by[period])
        }
        return StatisticsTable(measure: query.measure, dimensions: query.by,
                               filters: Dictionary(uniqueKeysWithValues: query.filters.map { ($0.key.rawValue, $0.value.sorted()) }),
                               cells: cells, total: total, protection: protector.note)
    }
}

/// Counts a `CountSpec` for a query: filters and breakdown applied, one tally per group of codes.
struct Counter {
    let snapshot: CubeSnapshot
    let query: StatisticsQuery
    let reference: ReferenceData
    /// Columns read instead of a dimension's own (mirror statistics read the partner's view).
    var columns: [Dimension: CubeColumn] = [:]
    /// The cube partitions holding an event type's cells (person cubes split each type by level).
    var partitions: (EventType) -> [String] = { [$0.rawValue] }

    /// The column a dimension reads; `count` takes event types apart before it asks.
    func column(_ d: Dimension) -> CubeColumn {
        guard let c = columns[d] ?? d.cubeColumn else { preconditionFailure("event_type is the cube's partition, not a column") }
        return c
    }

    func count(_ spec: CountSpec) throws -> (groups: [[String]: CellTally], total: CellTally) {
        var types = spec.eventTypes
        if let wanted = query.filters[.eventType] { types = types.filter { wanted.contains($0.rawValue) } }
        var conditions = spec.conditions
        for (d, codes) in query.filters where d != .eventType {
            let allowed = Set(codes), reference = self.reference
            conditions.append(CubeCondition(column: column(d)) { allowed.contains(d.code($0, reference: reference)) })
        }
        let dims = query.by.filter { $0 != .eventType }
        let groups = dims.map { d in (column: column(d), code: { (v: CellValue?) in d.code(v, reference: self.reference) }) }
        let typePosition = query.by.firstIndex(of: .eventType)
        var out: [[String]: CellTally] = [:]
        var total = CellTally()
        // Event types are partitions: one pass per type when the breakdown shows them.
        for batch in typePosition == nil ? [types] : types.map({ [$0] }) {
            let sums = try snapshot.sums(eventTypes: batch.flatMap(partitions), groups: groups, conditions: conditions)
            for g in sums.counts.indices where sums.counts[g] > 0 {
                var key = dims.isEmpty ? [] : sums.key(at: g)
                if let p = typePosition { key.insert(batch[0].rawValue, at: p) }
                out[key, default: CellTally()].count += sums.counts[g]
                out[key, default: CellTally()].keySum += sums.keySums[g]
                total.count += sums.counts[g]
                total.keySum += sums.keySums[g]
            }
        }
        return (out, total)
    }
}

/// Applies a disclosure policy to counts, differences and ratios.
struct Protector {
    let policy: DisclosurePolicy

    var note: ProtectionNote {
        ProtectionNote(method: policy.method.rawValue, threshold: policy.threshold,
                       maxNoise: policy.method == .cellKey ? policy.perturbation.maxNoise : nil,
                       variance: policy.method == .cellKey ? policy.perturbation.variance : nil)
    }

    /// The value published for a count, and whether it is too small to publish.
    func published(_ t: CellTally) -> (value: Int, small: Bool) {
        let value = policy.method == .cellKey ? t.count + policy.perturbation.noise(count: t.count, cellKey: t.keySum) : t.count
        return (value, policy.method != .none && value > 0 && value < policy.threshold)
    }

    private func cell(_ key: [String], _ t: CellTally) -> StatisticsCell {
        let (value, small) = published(t)
        if small { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
        return StatisticsCell(key: key, value: Double(value), obsStatus: policy.method == .cellKey ? "E" : "A")
    }

    /// The cells of a table whose count may not be published, by CONF_STATUS: `A` too small, and under
    /// suppression `D` for the complements that would let a margin reveal a small one.
    func withheld(keys: [[String]], tallies: [CellTally]) -> [String?] {
        var suppressed = tallies.map { published($0).small }
        var out: [String?] = suppressed.map { $0 ? "A" : nil }
        if policy.method == .suppression {
            for i in ComplementarySuppression.apply(keys: keys, values: tallies.map(\.count), suppressed: &suppressed) {
                out[i] = "D"
            }
        }
        return out
    }

    func counts(keys: [[String]], tallies: [CellTally], total: CellTally) -> ([StatisticsCell], StatisticsCell) {
        let withheld = withheld(keys: keys, tallies: tallies)
        let cells = keys.indices.map { i in
            withheld[i].map { StatisticsCell(key: keys[i], value: nil, obsStatus: "Q", confStatus: $0) } ?? cell(keys[i], tallies[i])
        }
        return (cells, cell([], total))
    }

    /// Net figures: each term published on its own, then combined; withheld when a term is (with its
    /// complements, so no term's table reveals a small count either).
    func differences(keys: [[String]], terms: [(counts: [[String]: CellTally], total: CellTally, sign: Int)]) -> ([StatisticsCell], StatisticsCell) {
        let withheld = terms.map { term in self.withheld(keys: keys, tallies: keys.map { term.counts[$0] ?? CellTally() }) }
        func combine(_ key: [String], _ tallies: [(CellTally, Int)], withheld: String?) -> StatisticsCell {
            if let withheld { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: withheld) }
            var value = 0
            for (t, sign) in tallies {
                let (v, small) = published(t)
                if small { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
                value += sign * v
            }
            return StatisticsCell(key: key, value: Double(value), obsStatus: policy.method == .cellKey ? "E" : "A")
        }
        let cells = keys.indices.map { i in
            combine(keys[i], terms.map { ($0.counts[keys[i]] ?? CellTally(), $0.sign) },
                    withheld: withheld.lazy.compactMap { $0[i] }.min())
        }
        return (cells, combine([], terms.map { ($0.total, $0.sign) }, withheld: nil))
    }

    /// Ratios of a table: numerator and denominator counts each withheld as a count table would be.
    func ratios(keys: [[String]], numerators: [[String]: CellTally], denominators: [[String]: CellTally],
                factor: Double) -> [StatisticsCell] {
        let n = keys.map { numerators[$0] ?? CellTally() }, d = keys.map { denominators[$0] ?? CellTally() }
        let withheldN = withheld(keys: keys, tallies: n), withheldD = withheld(keys: keys, tallies: d)
        return keys.indices.map { i in
            if let status = [withheldN[i], withheldD[i]].compactMap({ $0 }).min() {
                return StatisticsCell(key: keys[i], value: nil, obsStatus: "Q", confStatus: status)
            }
            return ratio(n[i], d[i], factor: factor, key: keys[i])
        }
    }

    /// A ratio of two protected counts; suppressed when either is small, absent when the denominator is 0.
    func ratio(_ numerator: CellTally, _ denominator: CellTally, factor: Double, key: [String]) -> StatisticsCell {
        let (n, nSmall) = published(numerator), (d, dSmall) = published(denominator)
        if nSmall || dSmall { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
        guard d > 0 else { return StatisticsCell(key: key, value: nil, obsStatus: "M", confStatus: "F") }
        return StatisticsCell(key: key, value: Self.round(Double(n) / Double(d) * factor),
                              obsStatus: policy.method == .cellKey ? "E" : "A")
    }

    /// A count per 1,000 of a population that is public.
    func rate(_ numerator: CellTally, denominator: Double?, key: [String]) -> StatisticsCell {
        let (n, small) = published(numerator)
        if small { return StatisticsCell(key: key, value: nil, obsStatus: "Q", confStatus: "A") }
        guard let denominator, denominator > 0 else { return StatisticsCell(key: key, value: nil, obsStatus: "O", confStatus: "F") }
        return StatisticsCell(key: key, value: Self.round(Double(n) / denominator * 1000),
                              obsStatus: policy.method == .cellKey ? "E" : "A")
    }

    static func round(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}

/// Population of the areas rates are computed for, from the shipped reference data: census figures
/// where there are (departments and countries always; municipalities where the shipped tables have
/// them; El Salvador's municipalities of 2024 from the 2024 census), with their basis.
struct PopulationIndex: Sendable {
    static let dimensions: [Dimension] = [.municipality, .department, .municipality2024, .reportingCountry]
    private let byDimension: [Dimension: [String: PopulationFigure]]

    init(reference: ReferenceData) {
        var out: [Dimension: [String: PopulationFigure]] = [.municipality: reference.population,
                                                            .department: reference.departmentPopulation]
        // A 2024 municipality without its own census figure sums its districts: census only if they all are.
        var districts: [String: [PopulationFigure]] = [:]
        for (unit, figure) in reference.population {
            let code = Dimension.municipality2024.code(.text(unit), reference: reference)
            if code != "_U", code != unit { districts[code, default: []].append(figure) }
        }
        var municipalities2024 = reference.municipality2024Population
        for (code, figures) in districts where municipalities2024[code] == nil {
            let census = figures.allSatisfy { $0.basis == .census }
            municipalities2024[code] = PopulationFigure(population: figures.map(\.population).reduce(0, +),
                                                        basis: census ? .census : .estimated,
                                                        reference: Set(figures.map(\.reference)).sorted().joined(separator: ", "))
        }
        out[.municipality2024] = municipalities2024
        for (country, geography) in reference.geographies {
            let departments = Set(geography.baseUnits.codes.compactMap(\.parent)).compactMap { reference.departmentPopulation[$0] }
            guard !departments.isEmpty else { continue }
            out[.reportingCountry, default: [:]][country] = PopulationFigure(
                population: departments.map(\.population).reduce(0, +), basis: .census,
                reference: Set(departments.map(\.reference)).sorted().joined(separator: ", "))
        }
        byDimension = out
    }

    func figure(of d: Dimension, code: String) -> PopulationFigure? { byDimension[d]?[code] }
}

/// Changes on the previous period and on the same period a year before.
enum TimeSeries {
    static func addChanges(to cells: inout [StatisticsCell], periodAt p: Int, dimension: Dimension) {
        var index: [[String]: Int] = [:]
        for (i, c) in cells.enumerated() { index[c.key] = i }
        func shifted(_ code: String, by steps: Int) -> String? {
            guard let year = Int(code.prefix(4)) else { return nil }
            switch dimension {
            case .year: return String(year - steps)
            case .quarter:
                guard let q = Int(code.suffix(1)) else { return nil }
                let n = year * 4 + q - 1 - steps
                return "\(n / 4)-Q\(n % 4 + 1)"
            default:
                guard let m = Int(code.suffix(2)) else { return nil }
                let n = year * 12 + m - 1 - steps
                let month = n % 12 + 1
                return "\(n / 12)-\(month < 10 ? "0" : "")\(month)"
            }
        }
        let perYear = dimension == .year ? 1 : dimension == .quarter ? 4 : 12
        for i in cells.indices {
            guard let value = cells[i].value else { continue }
            func change(_ steps: Int) -> Double? {
                guard let code = shifted(cells[i].key[p], by: steps) else { return nil }
                var key = cells[i].key
                key[p] = code
                guard let j = index[key], let before = cells[j].value, before != 0 else { return nil }
                return Protector.round((value - before) / abs(before) * 100)
            }
            cells[i].changePrevious = change(1)
            if dimension != .year { cells[i].changeYearAgo = change(perYear) }
        }
    }
}
