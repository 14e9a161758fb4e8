/// Failures of the runtime itself (as opposed to a handler's errors, which
/// are reported to Lambda and do not stop the loop). Each one ends the loop;
/// on Lambda the process then exits and the environment is replaced.
public enum LambdaRuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required environment variable is unset or empty.
    case missingEnvironment(name: String)
    /// An environment variable holds a value the runtime cannot use.
    case invalidEnvironment(name: String, value: String, reason: String)
    /// A `next` response without the request id, so it cannot be answered.
    case missingRequestID(header: String)
    /// A `next` request id that cannot name the answer's path: `.` or `..`
    /// stay dot segments after percent-encoding, which URL resolution removes.
    case invalidRequestID(header: String, value: String)
    /// A `next` event larger than Lambda's payload limit.
    case eventTooLarge(limit: Int)
    /// The Runtime API answered with a status the runtime cannot continue
    /// from (500 means "container error, exit promptly").
    case unexpectedStatus(endpoint: String, status: UInt, body: String)
    /// The handler factory failed; the error was posted to `/runtime/init/error`.
    case initializationFailed(errorType: String, errorMessage: String)

    public var description: String {
        switch self {
        case .missingEnvironment(let name):
            "environment variable \(name) is not set"
        case .invalidEnvironment(let name, let value, let reason):
            "environment variable \(name)=\"\(value)\" is invalid: \(reason)"
        case .missingRequestID(let header):
            "Runtime API 'next' response has no \(header) header; the invocation cannot be answered"
        case .invalidRequestID(let header, let value):
            "Runtime API 'next' response has \(header) \"\(value)\", which cannot name the answer's path; "
                + "the invocation cannot be answered"
        case .eventTooLarge(let limit):
            "Runtime API 'next' event is larger than Lambda's \(limit)-byte payload limit"
        case .unexpectedStatus(let endpoint, let status, let body):
            "Runtime API \(endpoint) answered HTTP \(status): \(body)"
        case .initializationFailed(let errorType, let errorMessage):
            "handler initialization failed (\(errorType)): \(errorMessage)"
        }
    }
}
