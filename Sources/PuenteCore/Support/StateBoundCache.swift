import Synchronization

/// Values computed from some state of the data, kept for that state only: a value is served while the
/// state it was computed from is the current one, and keeping a value of another state drops every
/// value kept before. Bounded by the summed cost of its values: when full, it starts over. The statistics
/// engine keeps its tables in one (state: the committed imports), the dashboard its pages (state: the
/// committed imports and the latest link run).
public final class StateBoundCache<State: Equatable & Sendable, Key: Hashable & Sendable, Value: Sendable>:
    Sendable
{
    private struct Storage {
        var state: State?
        var values: [Key: Value] = [:]
        var cost = 0
    }

    private let storage = Mutex(Storage())
    public let capacity: Int

    /// `capacity`: the most the kept values may cost together, in the unit `keep` is given.
    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value kept for `key`, if it was computed from exactly `state`.
    public func value(_ key: Key, state: State) -> Value? {
        storage.withLock { (storage: inout Storage) in storage.state == state ? storage.values[key] : nil }
    }

    /// Keeps a value computed from `state`; the values of any other state are dropped.
    public func keep(_ value: Value, for key: Key, state: State, cost: Int = 1) {
        storage.withLock { (storage: inout Storage) in
            if storage.state != state || storage.cost + cost > capacity {
                storage = Storage(state: state)
            }
            if storage.values.updateValue(value, forKey: key) == nil { storage.cost += cost }
        }
    }
}
