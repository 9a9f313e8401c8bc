import PuenteCore
import PuenteReference

/// Computes statistics from the store's committed cell counts, through an in-memory cube that follows
/// every commit and rollback: always fresh, no rebuild.
public struct StatisticsEngine: Sendable {
    public let store: any EventStore
    public let reference: ReferenceData
    private let cube: CubeCache
    private let persons: PersonCubeCache?
    private let population: PopulationIndex
    /// Tables already computed, each for the committed state (batches and revisions) it was counted on:
    /// the same query under the same protection over that state gives the same table.
    private let answers = StateBoundCache<[CommittedImport], AnswerKey, StatisticsTable>(capacity: 2_000)

    struct AnswerKey: Hashable, Sendable {
        var query: StatisticsQuery
        var policy: DisclosurePolicy
    }

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

    /// What every figure is counted from: the committed imports (with their revisions) and the latest link
    /// run. Two moments with equal states give equal figures for every query.
    public struct DataState: Hashable, Sendable {
        public var committed: [CommittedImport]
        public var linkRun: Int64?
    }

    public func dataState() async throws -> DataState {
        let linkRun = try await (store as? any PersonStore)?.latestLinkRun()?.id
        return DataState(committed: try await store.committedImports(), linkRun: linkRun)
    }

    public func run(_ query: StatisticsQuery, policy: DisclosurePolicy = .standard) async throws -> StatisticsTable {
        let snapshot = try await cube.current()
        // Event measures depend on the committed state alone; person measures also on the last link run.
        guard ![.returnedPersons, .repeatReturnShare].contains(query.measure) else {
            return try await compute(query, policy: policy, snapshot: snapshot)
        }
        let key = AnswerKey(query: query, policy: policy)
        if let table = answers.value(key, state: snapshot.committed) { return table }
        let table = try await compute(query, policy: policy, snapshot: snapshot)
        answers.keep(table, for: key, state: snapshot.committed)
        return table
    }

    private func compute(_ query: StatisticsQuery, policy: DisclosurePolicy, snapshot: CubeSnapshot) async throws
        -> StatisticsTable
    {
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
                (cells, total) = protector.counts(
                    keys: keys, tallies: keys.map { terms[0].counts[$0]! }, total: terms[0].total)
            } else {
                (cells, total) = protector.differences(keys: keys, terms: terms)
            }
        case .returnsPer1000:
            guard let geo = query.by.firstIndex(where: { PopulationIndex.dimensions.contains($0) }) else {
                throw PuenteError(
                    .invalidArgument,
                    "returns_per_1000 needs a breakdown by one of: "
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
                } else if query.population == .census, let figure, figure.basis != .census {
                    // asked for census rates only
                    cell = StatisticsCell(key: key, value: nil, obsStatus: "O", confStatus: "F")
                } else {
                    cell = protector.rate(counts[key]!, denominator: figure?.population, key: key)
                }
                cell.populationBasis = figure?.basis.rawValue
                cell.populationReference = figure?.reference
                return cell
            }
            total = StatisticsCell(key: [], value: nil, obsStatus: "O", confStatus: "F")  // no single population
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
                let (counts, t) = try counter(PersonFirst.allCases.filter { $0 >= level }).count(
                    CountSpec(eventTypes: [.return]))
                let keys = counts.keys.sorted { $0.lexicographicallyPrecedes($1) }
                (cells, total) = protector.counts(keys: keys, tallies: keys.map { counts[$0]! }, total: t)
            } else {
                let (repeats, repeatTotal) = try counter(PersonFirst.allCases.filter { $0 < .ever }).count(
                    CountSpec(eventTypes: [.return]))
                let (all, allTotal) = try counter(PersonFirst.allCases).count(CountSpec(eventTypes: [.return]))
                let keys = Set(repeats.keys).union(all.keys).sorted { $0.lexicographicallyPrecedes($1) }
                cells = protector.ratios(keys: keys, numerators: repeats, denominators: all, factor: 100)
                total = protector.ratio(repeatTotal, allTotal, factor: 100, key: [])
            }
        case .mirrorCoverage:
            let allowed: Set<Dimension> = [.reportingCountry, .returningFrom, .year, .quarter, .month]
            guard Set(query.by).union(query.filters.keys).isSubset(of: allowed) else {
                throw PuenteError(
                    .invalidArgument,
                    "mirror_coverage can be broken down and filtered only by: "
                        + allowed.map(\.rawValue).sorted().joined(separator: ", ") + ".")
            }
            let (here, hereTotal) = try counter.count(CountSpec(eventTypes: [.return]))
            // The partner's side: exits it reports (reporting country = partner) of our nationals.
            let mirrored = Counter(
                snapshot: snapshot, query: query, reference: reference,
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
            cells = protector.ratios(
                keys: keys, numerators: numerators, denominators: denominators, factor: ratio.factor)
            total = protector.ratio(numeratorTotal, denominatorTotal, factor: ratio.factor, key: [])
        }
        if let period = query.by.firstIndex(where: { [.year, .quarter, .month].contains($0) }) {
            TimeSeries.addChanges(to: &cells, periodAt: period, dimension: query.by[period])
        }
        return StatisticsTable(
            measure: query.measure, dimensions: query.by,
            filters: Dictionary(uniqueKeysWithValues: query.filters.map { ($0.key.rawValue, $0.value.sorted()) }),
            cells: cells, total: total, protection: protector.note)
    }
}
