import Foundation

/// The Step Functions calls a sweep makes: start a run of the pipeline's
/// state machine, follow it to its end, and explain a failure from the
/// execution's history. Owns its HTTP client: call `shutdown()` when done.
public final class StepFunctionsClient: Sendable {
    public let configuration: AWSServiceConfiguration
    let service: AWSJSONService

    public init(configuration: AWSServiceConfiguration) {
        self.configuration = configuration
        self.service = AWSJSONService(descriptor: .stepFunctions, configuration: configuration)
    }

    /// A client from the standard variables (`AWS_ENDPOINT_URL_SFN`...).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> StepFunctionsClient {
        StepFunctionsClient(configuration: try .fromEnvironment(service: .stepFunctions, environment))
    }

    /// Closes the connection pool; the client cannot be used afterwards.
    public func shutdown() async throws {
        try await service.shutdown()
    }

    public struct StartedExecution: Sendable, Equatable, Decodable {
        public var executionARN: String
        public var startDate: Date

        enum CodingKeys: String, CodingKey {
            case executionARN = "executionArn", startDate
        }
    }

    /// StartExecution, safe to retry: the name (a UUID when none is given,
    /// as AWS would pick) is fixed before the first attempt, so a retry
    /// cannot start a second execution. AWS answers a repeated name with the
    /// same execution only while it runs, and with `ExecutionAlreadyExists`
    /// once it has stopped; after a lost answer that error is checked
    /// against the named execution's input and, if it matches, the earlier
    /// attempt's execution is returned.
    public func startExecution(stateMachineARN: String, name: String? = nil, input: String = "{}") async throws -> StartedExecution {
        struct Request: Encodable {
            var stateMachineArn: String
            var name: String
            var input: String
        }
        let name = name ?? UUID().uuidString
        try Self.validateName(name, operation: "StartExecution", resource: stateMachineARN)
        return try await service.call(
            "StartExecution", Request(stateMachineArn: stateMachineARN, name: name, input: input), resource: stateMachineARN,
            afterRetry: { error in
                guard error.code == "ExecutionAlreadyExists",
                      let arn = try? Self.executionARN(stateMachineARN: stateMachineARN, name: name) else { return nil }
                let existing = try await self.describeExecution(executionARN: arn)
                guard existing.input == input else { return nil }
                return StartedExecution(executionARN: arn, startDate: existing.startDate)
            }
        )
    }

    /// An execution's status; `unknown` keeps a value newer than this code.
    public enum ExecutionStatus: Sendable, Hashable, Decodable, CustomStringConvertible {
        case running, succeeded, failed, timedOut, aborted, pendingRedrive
        case unknown(String)

        public init(rawValue: String) {
            switch rawValue {
            case "RUNNING": self = .running
            case "SUCCEEDED": self = .succeeded
            case "FAILED": self = .failed
            case "TIMED_OUT": self = .timedOut
            case "ABORTED": self = .aborted
            case "PENDING_REDRIVE": self = .pendingRedrive
            default: self = .unknown(rawValue)
            }
        }

        public init(from decoder: Decoder) throws {
            self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
        }

        public var rawValue: String {
            switch self {
            case .running: return "RUNNING"
            case .succeeded: return "SUCCEEDED"
            case .failed: return "FAILED"
            case .timedOut: return "TIMED_OUT"
            case .aborted: return "ABORTED"
            case .pendingRedrive: return "PENDING_REDRIVE"
            case .unknown(let value): return value
            }
        }

        /// Whether the execution has stopped (PENDING_REDRIVE is a failed
        /// run that may be redriven: stopped unless someone redrives it). An
        /// unknown status counts as stopped so a wait hands it to the caller
        /// instead of polling until its timeout.
        public var isTerminal: Bool {
            self != .running
        }

        public var description: String { rawValue }
    }

    /// DescribeExecution's answer; dates are when Step Functions started and
    /// stopped the run, `error`/`cause` are set for a failed one.
    public struct ExecutionDescription: Sendable, Equatable, Decodable {
        public var executionARN: String
        public var stateMachineARN: String?
        public var name: String?
        public var status: ExecutionStatus
        public var startDate: Date
        public var stopDate: Date?
        public var input: String?
        public var output: String?
        public var error: String?
        public var cause: String?

        enum CodingKeys: String, CodingKey {
            case executionARN = "executionArn", stateMachineARN = "stateMachineArn"
            case name, status, startDate, stopDate, input, output, error, cause
        }
    }

    /// DescribeExecution. A missing execution throws an error whose
    /// `isNotFound` is true (`ExecutionDoesNotExist`).
    public func describeExecution(executionARN: String) async throws -> ExecutionDescription {
        struct Request: Encodable { var executionArn: String }
        return try await service.call("DescribeExecution", Request(executionArn: executionARN), resource: executionARN)
    }

    /// Polls DescribeExecution until the execution stops or `timeout` passes
    /// (then throws `.unsuccessful` with code `WaitTimeout`).
    public func waitForExecution(
        executionARN: String, timeout: Duration = .seconds(900), pollInterval: Duration = .seconds(2)
    ) async throws -> ExecutionDescription {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let description = try await describeExecution(executionARN: executionARN)
            if description.status.isTerminal { return description }
            guard clock.now + pollInterval <= deadline else {
                throw service.failure(.unsuccessful, "DescribeExecution", executionARN, code: "WaitTimeout",
                                      message: "still \(description.status) after \(timeout)")
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    public struct StateMachineSummary: Sendable, Equatable, Decodable {
        public var name: String
        public var arn: String

        enum CodingKeys: String, CodingKey {
            case name, arn = "stateMachineArn"
        }
    }

    /// Every state machine of the account and region (ListStateMachines, all pages).
    public func listStateMachines(maxPages: Int = 1000) async throws -> [StateMachineSummary] {
        struct Request: Encodable { var nextToken: String? }
        struct Page: Decodable {
            var stateMachines: [StateMachineSummary]
            var nextToken: String?
        }
        var machines: [StateMachineSummary] = []
        var pager = AWSPager(service: service, operation: "ListStateMachines", resource: "", maxPages: maxPages)
        repeat {
            let page: Page = try await service.call("ListStateMachines", Request(nextToken: pager.token), resource: "")
            machines += page.stateMachines
            try pager.advance(to: page.nextToken)
        } while pager.token != nil
        return machines
    }

    /// The ARN an execution named `name` of `stateMachineARN` gets:
    /// `arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME`.
    /// Lets a sweep that died after StartExecution find its run again.
    public static func executionARN(stateMachineARN: String, name: String) throws -> String {
        let parts = stateMachineARN.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "arn", !parts[1].isEmpty, parts[2] == "states", !parts[3].isEmpty,
              !parts[4].isEmpty, parts[5] == "stateMachine", !parts[6].isEmpty
        else {
            throw AWSServiceError(
                kind: .invalidRequest, service: "SFN", operation: "StartExecution", resource: stateMachineARN,
                code: "InvalidArn", message: "not a state machine ARN (arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME)"
            )
        }
        try validateName(name, operation: "StartExecution", resource: stateMachineARN)
        return (parts[0...4] + ["execution", parts[6], Substring(name)]).joined(separator: ":")
    }

    /// Execution names: 1–80 characters, none of whitespace, `< > { } [ ]`,
    /// `? * " # % \ ^ | ~ ` $ & , ; : /` or control characters (AWS's rule).
    static func validateName(_ name: String, operation: String, resource: String) throws {
        let forbidden = Set("<>{}[]?*\"#%\\^|~`$&,;:/")
        let bad = name.unicodeScalars.first { scalar in
            scalar.properties.isWhitespace || scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || forbidden.contains(Character(scalar))
        }
        guard (1...80).contains(name.count), bad == nil else {
            throw AWSServiceError(
                kind: .invalidRequest, service: "SFN", operation: operation, resource: resource, code: "InvalidName",
                message: "execution name '\(name)' must be 1-80 characters without whitespace or <>{}[]?*\"#%\\^|~`$&,;:/"
            )
        }
    }
}
