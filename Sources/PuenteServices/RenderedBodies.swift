import PuenteStatistics
import Synchronization

/// Tables already rendered as JSON or CSV, each beside the table it was rendered from. The engine answers
/// a repeated query from its own cache; rendering the answer again costs more than the answer, so a table
/// equal to the one kept gets the same bytes. SDMX messages carry the moment they were prepared and are
/// always rendered afresh. Bounded: when full, it starts over.
final class RenderedBodies: Sendable {
    struct Key: Hashable, Sendable {
        var query: StatisticsQuery
        var policy: DisclosurePolicy
        var format: StatisticsFormat
    }

    private let bodies = Mutex<[Key: (table: StatisticsTable, body: String)]>([:])
    let capacity: Int

    init(capacity: Int = 1_000) {
        self.capacity = capacity
    }

    /// `table` rendered as `format`, from the kept body when it was rendered from an equal table.
    func body(
        of table: StatisticsTable, for query: StatisticsQuery, policy: DisclosurePolicy, as format: StatisticsFormat,
        render: (StatisticsTable) throws -> String
    ) rethrows -> String {
        guard format == .json || format == .csv else { return try render(table) }
        let key = Key(query: query, policy: policy, format: format)
        if let kept = bodies.withLock({ $0[key] }), kept.table == table { return kept.body }
        let body = try render(table)
        bodies.withLock { (bodies: inout [Key: (table: StatisticsTable, body: String)]) in
            if bodies.count >= capacity { bodies = [:] }
            bodies[key] = (table, body)
        }
        return body
    }
}
