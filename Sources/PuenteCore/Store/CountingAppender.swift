/// Appends an import's events and counts the stored ones by cell: the one way events enter a store, so
/// its cells always equal its stored events minus the duplicates `append` skipped.
///
/// Cells are gathered across batches and handed to the store when there are many (or at `finish`):
/// one import writes a few large cell batches rather than one per event batch, and counting one batch
/// overlaps with storing the next, off the store's writer.
public struct CountingAppender: Sendable {
    public let store: any EventStore
    public let importID: Int64
    /// Cells held before they are handed to the store: bounds memory.
    public var flushThreshold: Int
    private var cells = CellAccumulator()

    public init(store: any EventStore, importID: Int64, flushThreshold: Int = 500_000) {
        self.store = store
        self.importID = importID
        self.flushThreshold = flushThreshold
    }

    /// Stores a sealed batch and counts it.
    public mutating func append(_ events: SealedEvents) async throws -> AppendResult {
        let result = try await store.append(events, to: importID)
        try await count(events, storedAs: result)
        return result
    }

    /// Counts a batch `store.append` has stored with `result`, for a caller that overlaps the append with
    /// other work (the importer queues several): each stored batch must be counted exactly once.
    public mutating func count(_ events: SealedEvents, storedAs result: AppendResult) async throws {
        var skipped = result.duplicatePositions.makeIterator()
        var nextSkipped = skipped.next()
        // Through a buffer: an array's subscript would copy each event (retaining all its strings).
        events.events.withUnsafeBufferPointer { stored in
            for position in stored.indices {
                if position == nextSkipped { nextSkipped = skipped.next(); continue }
                cells.add(stored[position], cellKey: events.cellKeys[position])
            }
        }
        if cells.count >= flushThreshold || cells.isSaturated {
            try await store.appendCells(cells.take(), to: importID)
        }
    }

    /// Hands the cells still held to the store; call before the import is finished.
    public mutating func finish() async throws {
        if !cells.isEmpty { try await store.appendCells(cells.take(), to: importID) }
    }
}
