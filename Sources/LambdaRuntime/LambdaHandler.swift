import Foundation

/// One function's code: gets the raw event, returns the raw response.
///
/// A handler is made once per process by the loop's factory (so a loaded
/// model survives warm invocations) and then called for every invocation.
/// Blocking CPU work belongs in `context.withDeadlineBlocking`, off the
/// Swift concurrency pool, so the runtime can still report a timeout.
public protocol LambdaHandler: Sendable {
    func handle(_ event: Data, context: InvocationContext) async throws -> Data
}

/// A handler made from a closure.
public struct ClosureHandler: LambdaHandler {
    private let body: @Sendable (Data, InvocationContext) async throws -> Data

    public init(_ body: @escaping @Sendable (Data, InvocationContext) async throws -> Data) {
        self.body = body
    }

    public func handle(_ event: Data, context: InvocationContext) async throws -> Data {
        try await body(event, context)
    }
}
