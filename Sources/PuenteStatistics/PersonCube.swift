import PuenteCore

/// The person cells of the latest link run as a cube, for the person measures.
///
/// Each event type's cells are split into partitions by what the events open for their person (first
/// ever, of the year, quarter, month): a person is counted in a period at the one event that opens it,
/// so person counts add up across every breakdown, and counting at a coarser period just takes fewer
/// partitions.
actor PersonCubeCache {
    let events: any EventStore
    let persons: any PersonStore
    private var loaded: (run: Int64, snapshot: CubeSnapshot)?

    init(events: any EventStore, persons: any PersonStore) {
        self.events = events
        self.persons = persons
    }

    static func partition(_ eventType: String, _ first: PersonFirst) -> String {
        eventType + "#" + String(first.rawValue)
    }

    /// The cube of the latest run, if it covers exactly the committed imports: person figures from
    /// before an import or a rollback would be silently wrong, so they are refused until linking again.
    func current() async throws -> CubeSnapshot {
        guard let run = try await persons.latestLinkRun() else {
            throw PuenteError(
                .invalidArgument, "Persons are not linked yet: run `puente link persons` to count persons.")
        }
        let committed = try await events.committedImports()
        guard run.imports == committed else {
            throw PuenteError(
                .invalidArgument,
                "Imports changed since persons were last linked; run `puente link persons` again "
                    + "to count persons.")
        }
        if let loaded, loaded.run == run.id { return loaded.snapshot }
        var snapshot = CubeSnapshot()
        try await persons.forEachPersonCell { cell in
            var key = cell.key
            key.eventType = Self.partition(key.eventType, cell.first)
            try snapshot.add(key, cell.tally, importID: run.id)
        }
        snapshot.importIDs = committed.map(\.id)
        loaded = (run.id, snapshot)
        return snapshot
    }

    /// The period a person measure counts persons in: the finest period the query breaks down or
    /// filters by, or the whole record when it names none.
    static func level(for query: StatisticsQuery) throws -> PersonFirst {
        let periods: [(Dimension, PersonFirst)] = [(.month, .month), (.quarter, .quarter), (.year, .year)]
        for (d, _) in periods where !query.by.contains(d) && (query.filters[d]?.count ?? 0) > 1 {
            // Persons of 2016 or 2017 are not persons of 2016 plus persons of 2017.
            throw PuenteError(
                .invalidArgument,
                "\(query.measure.rawValue) counts each person once per period: break down by "
                    + "\(d.rawValue) instead of filtering several \(d.rawValue) codes.")
        }
        for (d, level) in periods where query.by.contains(d) || query.filters[d] != nil { return level }
        return .ever
    }
}
