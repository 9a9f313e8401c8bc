import PuenteStatistics
import Synchronization

/// The bodies of statistics pages already drawn, each for the data it was drawn from. A page's body
/// depends only on its address (language and filters) and on the data: the
/// committed imports and the latest link run. While those stay, the same address gets the same body
/// without asking the engine again or drawing its map; an import, a rollback or a link run by any process
/// changes the data, and no body of other data is served. Bounded by its size: when full, it starts over.
final class PageCache: Sendable {
    struct Key: Hashable, Sendable {
        var page: DashboardPages.Page
        var state: DashboardState
    }

    private struct State {
        var data: StatisticsEngine.DataState?
        var bodies: [Key: String] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    let capacityBytes: Int

    /// `capacityBytes`: about 8 MB holds a few dozen of the heaviest pages (the returns page with its map
    /// is about 150 kB) and every light one.
    init(capacityBytes: Int = 8 << 20) {
        self.capacityBytes = capacityBytes
    }

    /// The body kept for `key`, if it was drawn from exactly `data`.
    func body(_ key: Key, data: StatisticsEngine.DataState) -> String? {
        state.withLock { (state: inout State) in state.data == data ? state.bodies[key] : nil }
    }

    /// Keeps a body drawn from `data`; the bodies of any other data are dropped.
    func keep(_ body: String, for key: Key, data: StatisticsEngine.DataState) {
        state.withLock { (state: inout State) in
            if state.data != data || state.bytes + body.utf8.count > capacityBytes {
                state = State(data: data)
            }
            if state.bodies.updateValue(body, forKey: key) == nil { state.bytes += body.utf8.count }
        }
    }
}
