import PuenteCore

extension EventStore {
    /// Seals, appends and counts already harmonised events in one call, as an import does: how tests
    /// load whole batches without the importer.
    @discardableResult
    public func appendCounted(_ events: [MovementEvent], to importID: Int64) async throws -> AppendResult {
        var counting = CountingAppender(store: self, importID: importID)
        let result = try await counting.append(SealedEvents(events, sealing: cipher))
        try await counting.finish()
        return result
    }
}

/// Committed events summed over some cell columns: the values of those columns, in order, the number
/// of events and the sum of their cell keys.
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

extension EventStore {
    /// Sums the cells of committed batches by `groupBy`, keeping those whose columns take one of the
    /// filtered values. Read through `committedImportIDs` and `forEachCell`, as statistics read them.
    public func countCells(groupBy: [CellColumn], filters: [CellColumn: [CellValue]] = [:]) async throws -> [CountCell]
    {
        var sums: [[CellValue?]: CellTally] = [:]
        for id in try await committedImportIDs() {
            try await forEachCell(importID: id) { key, tally in
                guard filters.allSatisfy({ column, values in key[column].map(values.contains) ?? false }) else {
                    return
                }
                let group = groupBy.map { key[$0] }
                sums[group, default: CellTally()].count += tally.count
                sums[group, default: CellTally()].keySum += tally.keySum
            }
        }
        // A batch's cells may hold negative counts for records it no longer counts: only sums are counts.
        return sums.filter { $0.value.count != 0 }.map {
            CountCell(key: $0.key, count: $0.value.count, keySum: $0.value.keySum)
        }
    }
}
