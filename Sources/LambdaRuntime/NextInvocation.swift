import Foundation

/// A `next` response: the event and the invocation headers, validated.
///
/// Without a request id nothing can be answered, so that is thrown (as is
/// an id of `.` or `..`, which would post the answer to another path once
/// the URL is resolved); any other missing or malformed header is kept as
/// `problem`, and the loop reports it to Lambda as this invocation's error.
struct NextInvocation: Sendable {
    static let requestIDHeader = "Lambda-Runtime-Aws-Request-Id"
    static let deadlineHeader = "Lambda-Runtime-Deadline-Ms"
    static let functionARNHeader = "Lambda-Runtime-Invoked-Function-Arn"
    static let traceIDHeader = "Lambda-Runtime-Trace-Id"
    static let clientContextHeader = "Lambda-Runtime-Client-Context"
    static let cognitoIdentityHeader = "Lambda-Runtime-Cognito-Identity"
    /// The `errorType` reported for an invocation with unusable headers.
    static let malformedErrorType = "Runtime.MalformedInvocation"

    var requestID: String
    var deadlineMs: Int64
    var invokedFunctionARN: String
    var traceID: String?
    var clientContext: String?
    var cognitoIdentity: String?
    var event: Data
    /// Why this invocation cannot be handed to the handler, if it cannot.
    var problem: String?

    init(response: RuntimeHTTPTransport.Response) throws {
        func value(_ name: String) -> String? {
            let value = response.header(name)
            return value?.isEmpty == false ? value : nil
        }
        let event = response.body
        guard let requestID = value(Self.requestIDHeader) else {
            throw LambdaRuntimeError.missingRequestID(header: Self.requestIDHeader)
        }
        guard requestID != ".", requestID != ".." else {
            throw LambdaRuntimeError.invalidRequestID(header: Self.requestIDHeader, value: requestID)
        }
        self.requestID = requestID
        self.event = event
        self.traceID = value(Self.traceIDHeader)
        self.clientContext = value(Self.clientContextHeader)
        self.cognitoIdentity = value(Self.cognitoIdentityHeader)
        self.invokedFunctionARN = value(Self.functionARNHeader) ?? ""
        self.deadlineMs = 0
        var problems: [String] = []
        if let text = value(Self.deadlineHeader) {
            if let deadline = Int64(text), deadline > 0 {
                self.deadlineMs = deadline
            } else {
                problems.append("\(Self.deadlineHeader) \"\(text)\" is not a positive integer of milliseconds")
            }
        } else {
            problems.append("\(Self.deadlineHeader) header is missing")
        }
        if value(Self.functionARNHeader) == nil {
            problems.append("\(Self.functionARNHeader) header is missing")
        }
        self.problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}
