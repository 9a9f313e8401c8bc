import PuenteCore
import Synchronization

/// Tables already computed, each for the committed state it was counted on. The same query under the same
/// protection over the same committed batches (and revisions) gives the same table, so it is answered from
/// memory; a commit or a rollback changes the state, and the answers of another state are never served.
/// Bounded: when full, it starts over.
final class AnswerCache: Sendable {
    struct Key: Hashable, Sendable {
        var query: StatisticsQuery
        var policy: DisclosurePolicy
    }

    private struct State {
        var committed: [CommittedImport] = []
        var tables: [Key: StatisticsTable] = [:]
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 2_000) {
        self.capacity = capacity
    }

    /// The table kept for `key`, if it was counted on exactly the `committed` state.
    func table(_ key: Key, committed: [CommittedImport]) -> StatisticsTable? {
        state.withLock { state in state.committed == committed ? state.tables[key] : nil }
    }

    /// Keeps a table counted on `committed`; the answers of any other state are dropped.
    func keep(_ table: StatisticsTable, for key: Key, committed: [CommittedImport]) {
        state.withLock { state in
            if state.committed != committed || state.tables.count >= capacity {
                state = State(committed: committed)
            }
            state.tables[key] = table
        }
    }
}
