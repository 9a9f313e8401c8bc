import PuenteCore

extension EventStore {
    /// Appends already harmonised events and counts the stored ones by cell, in one call: how tests
    /// load whole batches without the importer (which counts cells across batches itself).
    @discardableResult
    public func appendCounted(_ events: [MovementEvent], to importID: Int64) async throws -> AppendResult {
        // Counted as sealed: sealing gives each event its cell key, as the importer's events get theirs.
        let sealed = seal(events)
        let result = try await append(sealed, to: importID)
        let skipped = Set(result.duplicatePositions)
        var cells = CellAccumulator()
        for (position, event) in sealed.events.enumerated() where !skipped.contains(position) {
            cells.add(event, cellKey: sealed.cellKeys[position])
        }
        try await appendCells(cells.take(), to: importID)
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
    public func countCells(groupBy: [CellColumn], filters: [CellColumn: [CellValue]] = [:]) async throws -> [CountCell] {
        var sums: [[CellValue?]: CellTally] = [:]
        for id in try await committedImportIDs() {
            try await forEachCell(importID: id) { key, tally in
                guard filters.allSatisfy({ column, values in key[column].map(values.contains) ?? false }) else { return }
                let group = groupBy.map { key[$0] }
                sums[group, default: CellTally()].count += tally.count
                sums[group, default: CellTally()].keySum += tally.keySum
            }
        }
        // A batch's cells may hold negative counts for records it no longer counts: only sums are counts.
        return sums.filter { $0.value.count != 0 }.map { CountCell(key: $0.key, count: $0.value.count, keySum: $0.value.keySum) }
    }
}
