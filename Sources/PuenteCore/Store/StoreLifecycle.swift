/// Ends a store's `run()` when the store is closed, for callers that close rather than cancel it.
public final class StoreClosing: Sendable {
    private let stream: AsyncStream<Never>
    private let continuation: AsyncStream<Never>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Never.self)
    }

    /// Returns when `close()` is called or the waiting task is cancelled. One waiter: the store's `run()`.
    public func wait() async {
        for await _ in stream {}
    }

    public func close() { continuation.finish() }
}

/// Runs `body` with `store` running beside it in one task group, and stops the store's run when `body`
/// ends, however it ends: what one-shot commands do instead of a service group.
public func withRunningStore<T>(_ store: any EventStore, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await store.run() }
        defer { group.cancelAll() }
        return try await body()
    }
}
