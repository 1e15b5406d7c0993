/// When and how long to wait before trying a failed call again: capped
/// exponential backoff with full jitter.
///
/// The AWS and OpenSearch clients use it for throttling, 5xx and connection
/// errors; the reprocessor uses the same rule for failed applies
/// (`base × 2^attempts`, jittered, capped).
public struct RetryPolicy: Sendable, Hashable {
    /// Total tries, the first included; `1` means never retry.
    public var maxAttempts: Int
    /// The delay before the first retry, before jitter.
    public var baseDelay: Duration
    /// The largest delay ever waited.
    public var maxDelay: Duration

    /// Creates a policy.
    /// - Parameters:
    ///   - maxAttempts: Total tries, at least 1.
    ///   - baseDelay: Delay before the first retry, before jitter.
    ///   - maxDelay: Cap on any single delay.
    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5)) {
        precondition(maxAttempts >= 1, "a policy must allow at least one try")  // a programmer error, not input
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Five tries, 100 ms doubling up to 5 s.
    public static let standard = RetryPolicy()

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The capped exponential delay after `attempt` failures, before jitter:
    /// `min(maxDelay, baseDelay × 2^attempt)`.
    /// - Parameter attempt: Failures so far, from 0.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt, 0), 30)
        let scaled = baseDelay * (1 << exponent)
        return min(scaled, maxDelay)
    }

    /// A jittered delay after `attempt` failures: uniform in
    /// `[ceiling / 2, ceiling]`, so retries spread out but never collapse to zero.
    /// - Parameters:
    ///   - attempt: Failures so far, from 0.
    ///   - generator: The random source (seeded in tests).
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt)
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 1 else { return ceiling }
        let jittered = Int64.random(in: (nanoseconds / 2)...nanoseconds, using: &generator)
        return .nanoseconds(jittered)
    }

    /// ``delay(afterAttempt:using:)`` with the system random source.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }
}
