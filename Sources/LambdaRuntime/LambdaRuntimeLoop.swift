import Foundation

/// The Runtime API loop: make the handler once, then `next` → handle →
/// `response`/`error`, until told to stop.
///
/// Every handler call races the deadline minus `deadlineMargin`; handlers
/// can race their own work earlier with `context.withDeadline(margin:)`.
/// When a timeout wins, the error is posted and the loop returns
/// `.abandonedWork`, because the late work may still be running: `main`
/// then exits the process, which is what Lambda would do to it anyway.
public struct LambdaRuntimeLoop: Sendable {
    /// The factory: runs once, before the first `next`; a thrown error goes
    /// to `/runtime/init/error`.
    public typealias HandlerFactory = @Sendable (LambdaRuntimeConfiguration) async throws -> any LambdaHandler

    /// Why `run` returned (errors are thrown instead).
    public enum Stop: Sendable, Equatable {
        /// `maxInvocations` events were received and answered.
        case invocationLimitReached(count: Int)
        /// A timeout was reported while the handler's work kept running.
        case abandonedWork(requestID: String)
    }

    /// Exit status of `main` after `.abandonedWork`.
    public static let abandonedWorkExitCode: Int32 = 3
    /// Exit status of `main` after a runtime error (init error included).
    public static let failureExitCode: Int32 = 1
    static let traceIDVariable = "_X_AMZN_TRACE_ID"

    public let configuration: LambdaRuntimeConfiguration

    public init(configuration: LambdaRuntimeConfiguration) {
        self.configuration = configuration
    }

    /// Runs the loop in this process. Throws `LambdaRuntimeError` (or the
    /// transport's error when the Runtime API goes away).
    public func run(makeHandler: HandlerFactory) async throws -> Stop {
        let client = RuntimeAPIClient(runtimeAPI: configuration.runtimeAPI)
        do {
            let stop = try await loop(client: client, makeHandler: makeHandler)
            await client.transport.shutdown()
            return stop
        } catch {
            await client.transport.shutdown()
            throw error
        }
    }

    /// The process entry point for a Lambda bootstrap: configuration from the
    /// environment, the loop, then `exit` (0, or the codes above).
    public static func main(makeHandler: HandlerFactory) async -> Never {
        do {
            let loop = LambdaRuntimeLoop(configuration: try .fromEnvironment())
            switch try await loop.run(makeHandler: makeHandler) {
            case .invocationLimitReached:
                exit(0)
            case .abandonedWork(let requestID):
                log("exiting: the work of invocation \(requestID) is still running after its timeout")
                exit(abandonedWorkExitCode)
            }
        } catch {
            log("exiting: \(error)")
            exit(failureExitCode)
        }
    }

    private func loop(client: RuntimeAPIClient, makeHandler: HandlerFactory) async throws -> Stop {
        let handler: any LambdaHandler
        do {
            handler = try await makeHandler(configuration)
        } catch {
            let report = ErrorReport(error)
            if case .rejected(let status, let body) = try await client.postInitError(report: report) {
                Self.log("init error was rejected with HTTP \(status): \(body)")
            }
            throw LambdaRuntimeError.initializationFailed(errorType: report.errorType, errorMessage: report.errorMessage)
        }
        var received = 0
        var handled = 0
        while configuration.maxInvocations.map({ received < $0 }) ?? true {
            let invocation = try await client.next()
            received += 1
            if let problem = invocation.problem {
                let report = ErrorReport(errorType: NextInvocation.malformedErrorType, errorMessage: problem)
                try await deliver(client.postError(requestID: invocation.requestID, report: report), invocation)
                continue
            }
            let lifecycle = InvocationLifecycle()
            let context = InvocationContext(
                requestID: invocation.requestID, deadlineMs: invocation.deadlineMs,
                invokedFunctionARN: invocation.invokedFunctionARN, traceID: invocation.traceID,
                clientContext: invocation.clientContext, cognitoIdentity: invocation.cognitoIdentity,
                isColdStart: handled == 0, lifecycle: lifecycle)
            handled += 1
            if let traceID = invocation.traceID {
                setenv(Self.traceIDVariable, traceID, 1)
            }
            let event = invocation.event
            do {
                let body = try await context.withDeadline(margin: configuration.deadlineMargin) {
                    try await handler.handle(event, context: context)
                }
                try await deliver(client.postResponse(requestID: invocation.requestID, body: body), invocation)
            } catch {
                try await deliver(client.postError(requestID: invocation.requestID, report: ErrorReport(error)), invocation)
            }
            if lifecycle.isAbandoned {
                return .abandonedWork(requestID: invocation.requestID)
            }
        }
        return .invocationLimitReached(count: received)
    }

    /// A rejected answer (400/403/413) fails only that invocation: log it.
    private func deliver(_ delivery: RuntimeAPIClient.Delivery, _ invocation: NextInvocation) {
        if case .rejected(let status, let body) = delivery {
            Self.log("answer to invocation \(invocation.requestID) was rejected with HTTP \(status): \(body)")
        }
    }

    /// Runtime messages go to stderr, which Lambda sends to CloudWatch Logs.
    static func log(_ message: String) {
        FileHandle.standardError.write(Data("LambdaRuntime: \(message)\n".utf8))
    }
}
