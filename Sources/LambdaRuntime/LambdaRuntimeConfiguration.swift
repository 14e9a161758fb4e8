import Foundation

/// Where the Runtime API is and how the loop behaves.
public struct LambdaRuntimeConfiguration: Sendable {
    public static let runtimeAPIVariable = "AWS_LAMBDA_RUNTIME_API"
    /// Lambda sets this from the function's Handler setting; one binary can
    /// use it (or any variable of `environment`) to pick its handler.
    public static let handlerVariable = "_HANDLER"
    /// The backstop margin: how long before the deadline the loop itself
    /// reports a timeout for a handler that has not finished.
    public static let defaultDeadlineMargin: Duration = .milliseconds(250)

    /// `host:port` of the Runtime API.
    public var runtimeAPI: String
    /// Stop after this many `next` events (tests, benchmarks); nil: forever.
    public var maxInvocations: Int?
    /// See `defaultDeadlineMargin`.
    public var deadlineMargin: Duration
    /// The process environment, for the handler factory's choices.
    public var environment: [String: String]

    public init(
        runtimeAPI: String,
        maxInvocations: Int? = nil,
        deadlineMargin: Duration = Self.defaultDeadlineMargin,
        environment: [String: String] = [:]
    ) throws {
        try Self.validate(runtimeAPI: runtimeAPI)
        if let maxInvocations, maxInvocations < 1 {
            throw LambdaRuntimeError.invalidEnvironment(
                name: "maxInvocations", value: String(maxInvocations), reason: "must be at least 1")
        }
        self.runtimeAPI = runtimeAPI
        self.maxInvocations = maxInvocations
        self.deadlineMargin = deadlineMargin
        self.environment = environment
    }

    /// Reads `AWS_LAMBDA_RUNTIME_API` from `environment`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> LambdaRuntimeConfiguration {
        guard let api = environment[runtimeAPIVariable], !api.isEmpty else {
            throw LambdaRuntimeError.missingEnvironment(name: runtimeAPIVariable)
        }
        return try LambdaRuntimeConfiguration(runtimeAPI: api, environment: environment)
    }

    /// The handler name Lambda configured (`_HANDLER`), if any.
    public var handlerName: String? { environment[Self.handlerVariable] }

    private static func validate(runtimeAPI: String) throws {
        func invalid(_ reason: String) -> LambdaRuntimeError {
            .invalidEnvironment(name: runtimeAPIVariable, value: runtimeAPI, reason: reason)
        }
        guard let colon = runtimeAPI.lastIndex(of: ":") else {
            throw invalid("expected host:port")
        }
        let host = runtimeAPI[..<colon]
        let hostCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:")
        guard !host.isEmpty, host.unicodeScalars.allSatisfy(hostCharacters.contains) else {
            throw invalid("host must be a name or an IP address")
        }
        guard let port = Int(runtimeAPI[runtimeAPI.index(after: colon)...]), (1...65535).contains(port) else {
            throw invalid("port must be a number from 1 to 65535")
        }
    }
}
