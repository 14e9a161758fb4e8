/// An error whose Lambda `errorType` the handler chooses, so that callers
/// (Step Functions `Retry`/`Catch`, the harness) can match on it.
///
/// Any other error thrown by a handler is reported with its Swift type name
/// as `errorType` and its description as `errorMessage`.
public struct LambdaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `errorType` the runtime reports when work would overrun its deadline.
    public static let timeoutErrorType = "Timeout"

    public var errorType: String
    public var errorMessage: String

    public init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }

    public var description: String { "\(errorType): \(errorMessage)" }
}
