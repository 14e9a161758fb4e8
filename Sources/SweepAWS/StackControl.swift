import Foundation

/// The state of one Step Functions execution, as DescribeExecution gives it.
public struct ExecutionState: Equatable, Sendable {
    public enum Status: String, Sendable {
        case running = "RUNNING", succeeded = "SUCCEEDED", failed = "FAILED", timedOut = "TIMED_OUT"
        case aborted = "ABORTED", pendingRedrive = "PENDING_REDRIVE"
    }

    public var arn: String
    public var status: Status
    /// Seconds since 1970.
    public var startDate: Double
    public var stopDate: Double?
    public var error: String?
    public var cause: String?

    public init(arn: String, status: Status, startDate: Double, stopDate: Double? = nil, error: String? = nil,
                cause: String? = nil) {
        self.arn = arn
        self.status = status
        self.startDate = startDate
        self.stopDate = stopDate
        self.error = error
        self.cause = cause
    }

    public var isFinished: Bool { status != .running }

    /// "FAILED: States.TaskFailed (the cause)" for an execution that did not succeed.
    public var failureText: String {
        var text = status.rawValue
        if let error, !error.isEmpty { text += ": \(error)" }
        if let cause, !cause.isEmpty { text += " (\(cause.prefix(300)))" }
        return text
    }
}

/// The control-plane calls a sweep on a deployed stack makes: a protocol so
/// the sweep logic is tested without AWS, and implemented over the project's
/// own signed clients (`AWSStackControl`).
public protocol StackControl: AnyObject {
    /// The ARN of the state machine called `name`.
    func stateMachineARN(named name: String) throws -> String
    /// The function's configured memory (MB).
    func functionMemory(_ function: String) throws -> Int
    /// Sets the function's memory and returns once the update is Successful.
    func setFunctionMemory(_ function: String, megabytes: Int) throws
    /// The execution `name` of the machine if it exists, nil otherwise.
    func execution(stateMachineARN: String, name: String) throws -> ExecutionState?
    /// Starts execution `name` with `input`; returns its ARN.
    func startExecution(stateMachineARN: String, name: String, input: Data) throws -> String
    func describeExecution(arn: String) throws -> ExecutionState
    /// Messages of the log group's `REPORT` lines between the two times (ms since 1970).
    func reportLines(logGroup: String, startMs: Int64, endMs: Int64) throws -> [String]
}
