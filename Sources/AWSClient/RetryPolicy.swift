import Foundation

/// Exponential backoff with full jitter (AWS's recommended scheme): before
/// retry n (1-based) wait a uniform random time in
/// `0 ... min(maxDelay, baseDelay * 2^(n-1))`.
public struct RetryPolicy: Sendable, Equatable {
    /// Total tries including the first; 1 disables retries.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The SDK-like default: 5 attempts, 100 ms base, 5 s cap.
    public static let standard = RetryPolicy()
    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The ceiling of the jittered wait before retry `retry` (1-based).
    public func delayCeiling(retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let scaled = baseDelay * (1 << exponent)
        return scaled < maxDelay ? scaled : maxDelay
    }

    /// A random wait in `0 ... delayCeiling(retry:)`.
    public func delay<G: RandomNumberGenerator>(retry: Int, using generator: inout G) -> Duration {
        let ceiling = delayCeiling(retry: retry)
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos, using: &generator))
    }

    /// Runs `operation`, retrying errors for which `isRetryable` says so,
    /// and rethrows the last error once attempts are exhausted.
    public func run<T>(
        isRetryable: (Error) -> Bool,
        _ operation: (_ attempt: Int) async throws -> T
    ) async throws -> T {
        var generator = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            do {
                return try await operation(attempt)
            } catch {
                guard attempt < maxAttempts, isRetryable(error), !Task.isCancelled else { throw error }
                try await Task.sleep(for: delay(retry: attempt, using: &generator))
                attempt += 1
            }
        }
    }
}
