import Dispatch
import Foundation

/// Resolves one continuation with whichever comes first: the work's result
/// or a timer at `fireAtMs` (wall-clock ms since the epoch).
///
/// The timer runs on a Dispatch queue, not on the Swift concurrency pool,
/// so it fires even when handler code blocks pool threads; when it wins the
/// work is abandoned, not awaited.
final class DeadlineRace<Value: Sendable>: Sendable {
    private let continuation = Locked<CheckedContinuation<Value, any Error>?>(nil)
    private let timer = Locked<DispatchWorkItem?>(nil)

    /// Runs `start`, which begins the work and must call `finish` once.
    static func run(
        fireAtMs: Int64,
        timeoutError: LambdaError,
        lifecycle: InvocationLifecycle,
        start: (DeadlineRace<Value>) -> Void
    ) async throws -> Value {
        let race = DeadlineRace<Value>()
        return try await withCheckedThrowingContinuation { continuation in
            race.continuation.withLock { $0 = continuation }
            let item = DispatchWorkItem {
                guard let continuation = race.claim() else { return }
                lifecycle.markAbandoned()
                continuation.resume(throwing: timeoutError)
            }
            race.timer.withLock { $0 = item }
            let delayMs = max(0, fireAtMs - InvocationContext.nowMs())
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(delayMs)), execute: item)
            if race.isPending {
                start(race)
            }
        }
    }

    /// Delivers the work's result unless the timer already fired.
    func finish(_ result: Result<Value, any Error>) {
        guard let continuation = claim() else { return }
        timer.withLock { $0?.cancel() }
        continuation.resume(with: result)
    }

    /// False once the timer has fired (then the work is not started at all).
    private var isPending: Bool { continuation.withLock { $0 != nil } }

    private func claim() -> CheckedContinuation<Value, any Error>? {
        continuation.withLock { current in
            defer { current = nil }
            return current
        }
    }
}
