import Foundation

/// An access key pair, plus the session token that temporary credentials
/// (STS, a Lambda execution role) carry and that must be signed as
/// `x-amz-security-token`.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The standard variables `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// and (optional) `AWS_SESSION_TOKEN` — what Lambda sets for its role.
    /// An empty session token counts as none.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AWSCredentials {
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw AWSConfigurationError.missingVariable(name)
            }
            return value
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(
            accessKeyID: try required("AWS_ACCESS_KEY_ID"),
            secretAccessKey: try required("AWS_SECRET_ACCESS_KEY"),
            sessionToken: token
        )
    }
}

/// Configuration that cannot be used, named by the variable or value at fault.
public enum AWSConfigurationError: Error, Equatable, CustomStringConvertible {
    case missingVariable(String)
    case invalidEndpoint(variable: String, value: String)

    public var description: String {
        switch self {
        case .missingVariable(let name):
            return "AWS configuration: environment variable \(name) is not set"
        case .invalidEndpoint(let variable, let value):
            return "AWS configuration: \(variable)='\(value)' is not an http(s) URL with a host"
        }
    }
}
