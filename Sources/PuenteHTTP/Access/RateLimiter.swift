import Foundation

/// Token buckets per key (an address on the login form, a credential on the API): a burst up to the
/// limit, refilled evenly over a minute. In memory: one node is one process.
actor RateLimiter {
    struct Limit: Sendable {
        var perMinute: Double

        /// Requests per session or API token.
        static let api = Limit(perMinute: 600)
    }

    private var buckets: [String: (tokens: Double, at: ContinuousClock.Instant)] = [:]
    private let clock = ContinuousClock()

    func allow(_ key: String, cost: Double = 1, limit: Limit) -> Bool {
        let now = clock.now
        var bucket = buckets[key] ?? (limit.perMinute, now)
        let elapsed =
            Double((now - bucket.at).components.seconds) + Double((now - bucket.at).components.attoseconds) / 1e18
        bucket.tokens = min(limit.perMinute, bucket.tokens + elapsed * limit.perMinute / 60)
        bucket.at = now
        let allowed = bucket.tokens >= cost
        if allowed { bucket.tokens -= cost }
        buckets[key] = bucket
        // Forget idle keys now and then, so the table stays small.
        if buckets.count > 10_000 { buckets = buckets.filter { $0.value.tokens < limit.perMinute } }
        return allowed
    }
}
