import AWSClient
import CAIWorkload
import CAIWorkloadAWS
import Foundation

/// `StackControl` over the project's signed Step Functions, Lambda and
/// CloudWatch Logs clients (throttling is retried inside them).
public final class AWSStackControl: StackControl {
    let stepFunctions: StepFunctionsClient
    let lambda: LambdaControlClient
    let logs: CloudWatchLogsClient

    public init(stepFunctions: StepFunctionsClient, lambda: LambdaControlClient, logs: CloudWatchLogsClient) {
        self.stepFunctions = stepFunctions
        self.lambda = lambda
        self.logs = logs
    }

    /// Clients configured from the standard AWS environment.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> AWSStackControl
    {
        AWSStackControl(stepFunctions: try .fromEnvironment(environment), lambda: try .fromEnvironment(environment),
                        logs: try .fromEnvironment(environment))
    }

    public func shutdown() {
        let (s, l, g) = (stepFunctions, lambda, logs)
        try? blocking {
            try await s.shutdown()
            try await l.shutdown()
            try await g.shutdown()
        }
    }

    public func stateMachineARN(named name: String) throws -> String {
        let client = stepFunctions
        let machines = try blocking { try await client.listStateMachines() }
        guard let machine = machines.first(where: { $0.name == name }) else {
            throw AWSSweepError.invalidTarget("no state machine named \(name) (deploy the stack first; "
                + "found: \(machines.map(\.name).prefix(10).joined(separator: ", ")))")
        }
        return machine.arn
    }

    public func functionMemory(_ function: String) throws -> Int {
        let client = lambda
        return try blocking { try await client.getFunctionConfiguration(name: function) }.memorySize
    }

    public func setFunctionMemory(_ function: String, megabytes: Int) throws {
        let client = lambda
        try blocking {
            _ = try await client.updateFunctionConfiguration(name: function, memorySize: megabytes)
            _ = try await client.waitUntilUpdated(name: function)
        }
    }

    public func execution(stateMachineARN: String, name: String) throws -> ExecutionState? {
        let arn = try StepFunctionsClient.executionARN(stateMachineARN: stateMachineARN, name: name)
        do {
            return try describeExecution(arn: arn)
        } catch let error as AWSServiceError where error.isNotFound {
            return nil
        }
    }

    public func startExecution(stateMachineARN: String, name: String, input: Data) throws -> String {
        let client = stepFunctions
        let text = String(decoding: input, as: UTF8.self)
        return try blocking {
            try await client.startExecution(stateMachineARN: stateMachineARN, name: name, input: text)
        }.executionARN
    }

    public func describeExecution(arn: String) throws -> ExecutionState {
        let client = stepFunctions
        let d = try blocking { try await client.describeExecution(executionARN: arn) }
        return ExecutionState(arn: d.executionARN, status: ExecutionState.Status(rawValue: d.status.rawValue) ?? .failed,
                              startDate: d.startDate.timeIntervalSince1970, stopDate: d.stopDate?.timeIntervalSince1970,
                              error: d.error, cause: d.cause)
    }

    public func reportLines(logGroup: String, startMs: Int64, endMs: Int64) throws -> [String] {
        let client = logs
        return try blocking {
            try await client.filterLogEvents(logGroupName: logGroup, filterPattern: "REPORT", startTimeMs: startMs,
                                             endTimeMs: endMs)
        }.map(\.message)
    }
}

/// Everything `sweep --executor aws` opens, and closes when done.
public final class AWSSweepSession {
    public let measurer: LambdaSweepMeasurer
    private let control: AWSStackControl
    private let storage: S3Storage

    init(measurer: LambdaSweepMeasurer, control: AWSStackControl, storage: S3Storage) {
        self.measurer = measurer
        self.control = control
        self.storage = storage
    }

    /// Clients from the standard AWS environment for `target`.
    public static func open(target: StackTarget,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSSweepSession {
        let control = try AWSStackControl.fromEnvironment(environment)
        let storage = try S3Storage.fromEnvironment(environment)
        let measurer = LambdaSweepMeasurer(target: target, control: control, storage: storage,
                                           uploader: S3PartitionUploader(client: storage.client))
        return AWSSweepSession(measurer: measurer, control: control, storage: storage)
    }

    public func shutdown() {
        control.shutdown()
        storage.shutdown()
    }
}
