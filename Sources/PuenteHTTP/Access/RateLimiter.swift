import Foundation

/// Token buckets per key (an address on the login form, a credential on the API): a burst up to the
/// limit, refilled evenly over the limit's window. In memory: one node is one process.
actor RateLimiter {
    struct Limit: Sendable {
        /// Requests allowed in a burst, and refilled evenly over `window`.
        var count: Double
        var window: Duration

        /// Requests per minute for one session or API token (`puente serve --rate-limit`).
        static func perMinute(_ count: Int) -> Limit { Limit(count: Double(count), window: .seconds(60)) }

        /// Tokens that come back per second.
        var refillPerSecond: Double {
            count / (window / .seconds(1))
        }
    }

    private var buckets: [String: (tokens: Double, at: ContinuousClock.Instant)] = [:]
    private let clock = ContinuousClock()

    func allow(_ key: String, cost: Double = 1, limit: Limit) -> Bool {
        let now = clock.now
        var bucket = buckets[key] ?? (limit.count, now)
        let elapsed = (now - bucket.at) / .seconds(1)
        bucket.tokens = min(limit.count, bucket.tokens + elapsed * limit.refillPerSecond)
        bucket.at = now
        let allowed = bucket.tokens >= cost
        if allowed { bucket.tokens -= cost }
        buckets[key] = bucket
        // Forget idle keys now and then, so the table stays small.
        if buckets.count > 10_000 { buckets = buckets.filter { $0.value.tokens < limit.count } }
        return allowed
    }
}
