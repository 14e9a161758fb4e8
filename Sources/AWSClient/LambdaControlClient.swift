import Foundation

/// Lambda's configuration API, for a sweep that runs each memory size of a
/// function in turn: read the configuration, change the memory, and wait
/// until the change is live (an update is asynchronous; invoking before
/// `LastUpdateStatus` is `Successful` runs the old configuration or fails).
/// Owns its HTTP client: call `shutdown()` when done.
public final class LambdaControlClient: Sendable {
    public let configuration: AWSServiceConfiguration
    let service: AWSJSONService
    static let apiVersion = "2015-03-31"

    public init(configuration: AWSServiceConfiguration) {
        self.configuration = configuration
        self.service = AWSJSONService(descriptor: .lambda, configuration: configuration)
    }

    /// A client from the standard variables (`AWS_ENDPOINT_URL_LAMBDA`...).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> LambdaControlClient {
        LambdaControlClient(configuration: try .fromEnvironment(service: .lambda, environment))
    }

    /// Closes the connection pool; the client cannot be used afterwards.
    public func shutdown() async throws {
        try await service.shutdown()
    }

    /// The part of GetFunctionConfiguration a sweep uses.
    public struct FunctionConfiguration: Sendable, Equatable, Decodable {
        public var functionName: String
        public var functionARN: String?
        /// MB.
        public var memorySize: Int
        /// Seconds.
        public var timeout: Int
        /// MB of /tmp, when the service reports it.
        public var ephemeralStorageSize: Int?
        /// `Pending`, `Active`, `Inactive`, `Failed`.
        public var state: String?
        public var stateReason: String?
        /// `InProgress`, `Successful`, `Failed`.
        public var lastUpdateStatus: String?
        public var lastUpdateStatusReason: String?

        enum CodingKeys: String, CodingKey {
            case functionName = "FunctionName", functionARN = "FunctionArn", memorySize = "MemorySize"
            case timeout = "Timeout", ephemeralStorage = "EphemeralStorage", state = "State"
            case stateReason = "StateReason", lastUpdateStatus = "LastUpdateStatus"
            case lastUpdateStatusReason = "LastUpdateStatusReason"
        }

        struct EphemeralStorage: Decodable {
            var Size: Int
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            functionName = try container.decode(String.self, forKey: .functionName)
            functionARN = try container.decodeIfPresent(String.self, forKey: .functionARN)
            memorySize = try container.decode(Int.self, forKey: .memorySize)
            timeout = try container.decode(Int.self, forKey: .timeout)
            ephemeralStorageSize = try container.decodeIfPresent(EphemeralStorage.self, forKey: .ephemeralStorage)?.Size
            state = try container.decodeIfPresent(String.self, forKey: .state)
            stateReason = try container.decodeIfPresent(String.self, forKey: .stateReason)
            lastUpdateStatus = try container.decodeIfPresent(String.self, forKey: .lastUpdateStatus)
            lastUpdateStatusReason = try container.decodeIfPresent(String.self, forKey: .lastUpdateStatusReason)
        }
    }

    /// GetFunctionConfiguration of `$LATEST`. `name` is a name, a partial or
    /// a full ARN (percent-encoded into the path: an ARN holds `:`).
    public func getFunctionConfiguration(name: String) async throws -> FunctionConfiguration {
        try Self.validate(name: name, operation: "GetFunctionConfiguration")
        return try await service.rest(.GET, path: Self.configurationPath(name), operation: "GetFunctionConfiguration", resource: name)
    }

    /// UpdateFunctionConfiguration of the memory size (128–10240 MB). The
    /// answer usually says `LastUpdateStatus: InProgress`: follow with
    /// `waitUntilUpdated`.
    @discardableResult
    public func updateFunctionConfiguration(name: String, memorySize: Int) async throws -> FunctionConfiguration {
        struct Request: Encodable {
            var MemorySize: Int
        }
        let operation = "UpdateFunctionConfiguration"
        try Self.validate(name: name, operation: operation)
        guard (128...10240).contains(memorySize) else {
            throw service.failure(.invalidRequest, operation, name, code: "InvalidParameterValue",
                                  message: "memory size \(memorySize) MB is outside Lambda's 128...10240")
        }
        let body = try service.encode(Request(MemorySize: memorySize), operation: operation, resource: name)
        return try await service.rest(.PUT, path: Self.configurationPath(name), operation: operation, body: body, resource: name)
    }

    /// Polls GetFunctionConfiguration until `LastUpdateStatus` is
    /// `Successful` and returns that configuration; throws (naming the
    /// function and Lambda's reason) when it turns `Failed`, or when
    /// `timeout` passes first.
    public func waitUntilUpdated(
        name: String, timeout: Duration = .seconds(300), pollInterval: Duration = .seconds(1)
    ) async throws -> FunctionConfiguration {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let current = try await getFunctionConfiguration(name: name)
            switch current.lastUpdateStatus {
            case "Successful":
                return current
            case "Failed":
                throw service.failure(.unsuccessful, "UpdateFunctionConfiguration", name, code: "UpdateFailed",
                                      message: "LastUpdateStatus Failed: \(current.lastUpdateStatusReason ?? "no reason given")")
            default:
                guard clock.now + pollInterval <= deadline else {
                    let status = current.lastUpdateStatus ?? "none"
                    throw service.failure(.unsuccessful, "UpdateFunctionConfiguration", name, code: "WaitTimeout",
                                          message: "LastUpdateStatus still \(status) after \(timeout)")
                }
                try await Task.sleep(for: pollInterval)
            }
        }
    }

    static func configurationPath(_ name: String) -> String {
        "/\(apiVersion)/functions/\(AWSPercentEncoding.encode(name))/configuration"
    }

    /// Names are 1–64 characters, ARNs up to 140; `/` would change the path.
    static func validate(name: String, operation: String) throws {
        guard !name.isEmpty, name.utf8.count <= 170, !name.contains("/") else {
            throw AWSServiceError(kind: .invalidRequest, service: "Lambda", operation: operation, resource: name,
                                  code: "InvalidParameterValue", message: "function name must be 1-170 bytes without '/'")
        }
    }
}
