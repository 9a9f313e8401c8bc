import PuenteCore
import PuenteReference

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
        guard let c = columns[d] ?? d.cubeColumn else {
            preconditionFailure("event_type is the cube's partition, not a column")
        }
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
        let groups = dims.map { d in
            (column: column(d), code: { (v: CellValue?) in d.code(v, reference: self.reference) })
        }
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
