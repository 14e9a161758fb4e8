import Foundation

/// What differs between the JSON-protocol services this module speaks:
/// the ids that name the endpoint variable, the host and the signing scope,
/// and how an operation is put on the wire.
public struct AWSServiceDescriptor: Sendable, Equatable {
    public enum WireProtocol: Sendable, Equatable {
        /// awsJson1.0 / awsJson1.1: `POST /` with `X-Amz-Target: Prefix.Operation`.
        case json(version: String, targetPrefix: String)
        /// restJson1: the operation is the method and path (Lambda).
        case restJSON
    }

    /// The SDK service id (`SFN`), which names `AWS_ENDPOINT_URL_<ID>`.
    public var serviceID: String
    /// The first label of the regional host (`states`.us-east-1.amazonaws.com).
    public var endpointPrefix: String
    /// The service in the SigV4 scope.
    public var signingName: String
    public var wireProtocol: WireProtocol

    public init(serviceID: String, endpointPrefix: String, signingName: String, wireProtocol: WireProtocol) {
        self.serviceID = serviceID
        self.endpointPrefix = endpointPrefix
        self.signingName = signingName
        self.wireProtocol = wireProtocol
    }

    public static let stepFunctions = AWSServiceDescriptor(
        serviceID: "SFN", endpointPrefix: "states", signingName: "states",
        wireProtocol: .json(version: "1.0", targetPrefix: "AWSStepFunctions")
    )
    public static let lambda = AWSServiceDescriptor(
        serviceID: "Lambda", endpointPrefix: "lambda", signingName: "lambda", wireProtocol: .restJSON
    )
    public static let cloudWatchLogs = AWSServiceDescriptor(
        serviceID: "CloudWatch Logs", endpointPrefix: "logs", signingName: "logs",
        wireProtocol: .json(version: "1.1", targetPrefix: "Logs_20140328")
    )
}

/// Everything a control-plane client (Step Functions, Lambda, Logs) needs.
public struct AWSServiceConfiguration: Sendable {
    public var endpoint: AWSEndpoint
    public var credentials: AWSCredentials
    public var retry: RetryPolicy
    /// Deadline of one HTTP request.
    public var requestTimeout: Duration
    /// Longest silence on a connection before it is treated as broken (and retried).
    public var readTimeout: Duration
    /// Largest response body read; answers are untrusted, and the largest
    /// legitimate ones (a 1 MB FilterLogEvents page, 256 KiB of execution
    /// output) are far below the default.
    public var maxResponseBytes: Int

    public init(
        endpoint: AWSEndpoint,
        credentials: AWSCredentials,
        retry: RetryPolicy = .standard,
        requestTimeout: Duration = .seconds(60),
        readTimeout: Duration = .seconds(30),
        maxResponseBytes: Int = 16 * 1024 * 1024
    ) {
        self.endpoint = endpoint
        self.credentials = credentials
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.readTimeout = readTimeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// Credentials (session token included), region and the service's
    /// endpoint from the standard variables: `AWS_ENDPOINT_URL_SFN`,
    /// `AWS_ENDPOINT_URL_LAMBDA`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, else
    /// `AWS_ENDPOINT_URL`, else the public regional endpoint.
    public static func fromEnvironment(
        service: AWSServiceDescriptor,
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AWSServiceConfiguration {
        AWSServiceConfiguration(
            endpoint: try AWSEndpoint.resolve(
                serviceID: service.serviceID, endpointPrefix: service.endpointPrefix, environment: environment
            ),
            credentials: try AWSCredentials.fromEnvironment(environment)
        )
    }
}
