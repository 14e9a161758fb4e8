import Foundation

/// The body Lambda expects on `/error` and `/init/error`:
/// `{"errorMessage": ..., "errorType": ..., "stackTrace": [...]}`.
/// Swift has no portable stack traces, so `stackTrace` is always empty.
struct ErrorReport: Codable, Equatable, Sendable {
    var errorMessage: String
    var errorType: String
    var stackTrace: [String] = []

    init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }

    /// Maps any thrown error: a `LambdaError` keeps its chosen type, anything
    /// else is named after its Swift type.
    init(_ error: any Error) {
        if let lambdaError = error as? LambdaError {
            self.init(errorType: lambdaError.errorType, errorMessage: lambdaError.errorMessage)
        } else {
            self.init(errorType: String(describing: type(of: error)), errorMessage: String(describing: error))
        }
    }

    func encoded() -> Data {
        // Encoding three strings cannot fail.
        (try? JSONEncoder().encode(self)) ?? Data()
    }
}
