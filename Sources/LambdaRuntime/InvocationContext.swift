import Foundation

/// What Lambda says about one invocation, plus the tools a handler needs to
/// finish before its deadline.
public struct InvocationContext: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id`.
    public let requestID: String
    /// `Lambda-Runtime-Deadline-Ms`: wall-clock milliseconds since the epoch
    /// at which Lambda stops the function.
    public let deadlineMs: Int64
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public let invokedFunctionARN: String
    /// `Lambda-Runtime-Trace-Id` (X-Ray), when sent.
    public let traceID: String?
    /// `Lambda-Runtime-Client-Context`, when sent (mobile SDK invocations).
    public let clientContext: String?
    /// `Lambda-Runtime-Cognito-Identity`, when sent.
    public let cognitoIdentity: String?
    /// True for the first invocation this runtime loop hands to its handler:
    /// on Lambda, the one that paid for the init (one loop per process).
    public let isColdStart: Bool

    let lifecycle: InvocationLifecycle

    /// A context for exercising a handler outside the loop.
    public init(
        requestID: String,
        deadlineMs: Int64,
        invokedFunctionARN: String,
        traceID: String? = nil,
        clientContext: String? = nil,
        cognitoIdentity: String? = nil,
        isColdStart: Bool
    ) {
        self.init(
            requestID: requestID, deadlineMs: deadlineMs, invokedFunctionARN: invokedFunctionARN,
            traceID: traceID, clientContext: clientContext, cognitoIdentity: cognitoIdentity,
            isColdStart: isColdStart, lifecycle: InvocationLifecycle())
    }

    init(
        requestID: String, deadlineMs: Int64, invokedFunctionARN: String, traceID: String?,
        clientContext: String?, cognitoIdentity: String?, isColdStart: Bool, lifecycle: InvocationLifecycle
    ) {
        self.requestID = requestID
        self.deadlineMs = deadlineMs
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.isColdStart = isColdStart
        self.lifecycle = lifecycle
    }

    /// The deadline as a `Date`.
    public var deadline: Date { Date(timeIntervalSince1970: Double(deadlineMs) / 1000) }

    /// Time left until the deadline (negative once it has passed).
    public func remainingTime() -> Duration {
        .milliseconds(deadlineMs - Self.nowMs())
    }

    /// Runs async `operation`, throwing `LambdaError` "Timeout" at
    /// `deadline - margin` if it has not finished by then.
    ///
    /// On timeout the operation is cancelled (cooperatively) and abandoned,
    /// and the runtime loop stops after reporting the error, since the work
    /// may still be running.
    public func withDeadline<Value: Sendable>(
        margin: Duration,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let task = Locked<Task<Void, Never>?>(nil)
        defer { task.withLock { $0?.cancel() } }
        return try await DeadlineRace<Value>.run(
            fireAtMs: fireAtMs(margin: margin), timeoutError: timeoutError(margin: margin), lifecycle: lifecycle
        ) { race in
            let started = Task.detached {
                do {
                    race.finish(.success(try await operation()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            task.withLock { $0 = started }
        }
    }

    /// Runs blocking `work` (CPU-bound model code) on a dedicated thread,
    /// throwing `LambdaError` "Timeout" at `deadline - margin` if it has
    /// not finished by then.
    ///
    /// A thread cannot be stopped, so on timeout the work keeps running: the
    /// error is reported at once and the loop then stops (the process exits),
    /// as Lambda would reset the environment anyway.
    public func withDeadlineBlocking<Value: Sendable>(
        margin: Duration,
        _ work: @escaping @Sendable () throws -> Value
    ) async throws -> Value {
        try await DeadlineRace<Value>.run(
            fireAtMs: fireAtMs(margin: margin), timeoutError: timeoutError(margin: margin), lifecycle: lifecycle
        ) { race in
            let thread = Thread {
                do {
                    race.finish(.success(try work()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            thread.name = "lambda-handler-\(requestID)"
            thread.start()
        }
    }

    private func fireAtMs(margin: Duration) -> Int64 {
        deadlineMs - Self.milliseconds(margin)
    }

    private func timeoutError(margin: Duration) -> LambdaError {
        LambdaError(
            errorType: LambdaError.timeoutErrorType,
            errorMessage: "invocation \(requestID) stopped \(Self.milliseconds(margin)) ms before its deadline "
                + "(\(deadlineMs) ms since the epoch) to report the timeout")
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
