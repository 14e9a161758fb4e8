import Foundation
@testable import LambdaRuntime

/// What the echo handler returns: the context it was given, as JSON.
struct ContextEcho: Codable, Equatable {
    var requestID: String
    var deadlineMs: Int64
    var invokedFunctionARN: String
    var traceID: String?
    var clientContext: String?
    var cognitoIdentity: String?
    var isColdStart: Bool
    var event: String

    init(_ context: InvocationContext, event: Data) {
        requestID = context.requestID
        deadlineMs = context.deadlineMs
        invokedFunctionARN = context.invokedFunctionARN
        traceID = context.traceID
        clientContext = context.clientContext
        cognitoIdentity = context.cognitoIdentity
        isColdStart = context.isColdStart
        self.event = String(decoding: event, as: UTF8.self)
    }

    static func decode(_ text: String?) throws -> ContextEcho {
        try JSONDecoder().decode(ContextEcho.self, from: Data((text ?? "").utf8))
    }
}

/// Counts calls across the handler's threads.
final class Counter: Sendable {
    private let value = Locked(0)

    func increment() { value.withLock { $0 += 1 } }

    var count: Int { value.withLock { $0 } }
}

/// An error that is not a `LambdaError`, to check the type-name mapping.
struct PartitionUnreadable: Error, CustomStringConvertible {
    var key: String
    var description: String { "cannot read partition \(key)" }
}

/// Starts a loop against `fake` in a task.
func startLoop(
    _ fake: FakeRuntimeAPIProcess,
    maxInvocations: Int?,
    deadlineMargin: Duration = LambdaRuntimeConfiguration.defaultDeadlineMargin,
    makeHandler: @escaping LambdaRuntimeLoop.HandlerFactory
) throws -> Task<LambdaRuntimeLoop.Stop, any Error> {
    let configuration = try LambdaRuntimeConfiguration(
        runtimeAPI: fake.address, maxInvocations: maxInvocations, deadlineMargin: deadlineMargin)
    let loop = LambdaRuntimeLoop(configuration: configuration)
    return Task { try await loop.run(makeHandler: makeHandler) }
}

/// The echo handler's factory, counting how often it ran.
func echoFactory(inits: Counter) -> LambdaRuntimeLoop.HandlerFactory {
    { _ in
        inits.increment()
        return ClosureHandler { event, context in
            try JSONEncoder().encode(ContextEcho(context, event: event))
        }
    }
}

/// The loop's outcome, or a failure instead of a hang: after `limit` the
/// loop task is cancelled, which makes its pending `next` throw.
func finish(
    _ loop: Task<LambdaRuntimeLoop.Stop, any Error>, within limit: Duration = .seconds(20)
) async throws -> LambdaRuntimeLoop.Stop {
    let fired = Locked(false)
    let watchdog = Task {
        try await Task.sleep(for: limit)
        fired.withLock { $0 = true }
        loop.cancel()
    }
    defer { watchdog.cancel() }
    do {
        return try await loop.value
    } catch where fired.withLock({ $0 }) {
        throw FakeRuntimeAPIProcess.Failure(description: "the loop did not stop within \(limit); cancelled (\(error))")
    }
}
