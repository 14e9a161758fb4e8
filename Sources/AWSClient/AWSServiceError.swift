import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A failed call to a JSON-protocol AWS service (Step Functions, Lambda,
/// CloudWatch Logs). One type for all of them so a sweep can log, retry and
/// classify failures the same way; it always names the service, the
/// operation and the resource asked for (an ARN, a function, a log group).
public struct AWSServiceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The service answered with an error status (and usually a code).
        case service
        /// The request never got an answer: refused, reset, timed out.
        case transport
        /// A 2xx answer that cannot be used (too big, not the JSON expected).
        case invalidResponse
        /// Refused before sending (a parameter the service would reject).
        case invalidRequest
        /// The service worked but the outcome is a failure: a Lambda update
        /// that ended `Failed`, a wait that ran out of time, a bound hit.
        case unsuccessful
    }

    public var kind: Kind
    /// The SDK service id: `SFN`, `Lambda`, `CloudWatch Logs`.
    public var service: String
    /// The API operation, e.g. `DescribeExecution`.
    public var operation: String
    /// What the call was about (ARN, function name, log group); may be empty.
    public var resource: String
    /// HTTP status of a `.service` error.
    public var status: Int?
    /// The AWS error code (`ExecutionDoesNotExist`, `ThrottlingException`...),
    /// or for other kinds a fixed word (`Transport`, `InvalidResponse`...).
    public var code: String
    public var message: String
    public var requestID: String?
    /// For `.transport`: whether the failure looks transient.
    var transportRetryable: Bool = false

    public init(
        kind: Kind, service: String, operation: String, resource: String, status: Int? = nil,
        code: String, message: String, requestID: String? = nil
    ) {
        self.kind = kind
        self.service = service
        self.operation = operation
        self.resource = resource
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    /// Codes that mean "slow down and try again".
    static let throttlingCodes: Set<String> = [
        "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
        "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException",
        "SlowDown",
    ]

    /// Codes that stay failures whatever the status (moto answers some with 5xx).
    static let permanentCodes: Set<String> = [
        "AccessDenied", "AccessDeniedException", "SignatureDoesNotMatch", "InvalidSignatureException",
        "InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken",
        "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken",
    ]

    /// Codes that say the named thing does not exist.
    static let notFoundCodes: Set<String> = [
        "ExecutionDoesNotExist", "StateMachineDoesNotExist", "ResourceNotFoundException", "ResourceNotFound",
        "ActivityDoesNotExist", "NotFound",
    ]

    public var isThrottling: Bool {
        kind == .service && (Self.throttlingCodes.contains(code) || status == 429)
    }

    /// Whether the resource asked for does not exist (a missing execution,
    /// function or log group), as opposed to any other failure.
    public var isNotFound: Bool {
        kind == .service && (Self.notFoundCodes.contains(code) || (status == 404 && !Self.permanentCodes.contains(code)))
    }

    /// Throttling, 5xx and transient transport failures; never another 4xx.
    public var isRetryable: Bool {
        switch kind {
        case .service:
            if isThrottling { return true }
            guard let status, (500..<600).contains(status) else { return false }
            return !Self.permanentCodes.contains(code)
        case .transport:
            return transportRetryable
        case .invalidResponse, .invalidRequest, .unsuccessful:
            return false
        }
    }

    public var description: String {
        let target = resource.isEmpty ? "" : " for \(resource)"
        switch kind {
        case .service:
            let http = status.map { " (HTTP \($0))" } ?? ""
            let id = requestID.map { ", request id \($0)" } ?? ""
            return "\(service) \(operation)\(target) failed: \(code)\(http): \(message)\(Self.explanation(code))\(id)"
        case .transport:
            return "\(service) \(operation)\(target) could not be sent: \(message)"
        case .invalidResponse:
            return "\(service) \(operation)\(target) returned an unusable response: \(message)"
        case .invalidRequest:
            return "\(service) \(operation)\(target) is invalid: \(message)"
        case .unsuccessful:
            return "\(service) \(operation)\(target) did not succeed (\(code)): \(message)"
        }
    }

    private static func explanation(_ code: String) -> String {
        switch code {
        case "ExpiredToken", "ExpiredTokenException": return " (the session token has expired; refresh AWS_SESSION_TOKEN)"
        case "SignatureDoesNotMatch", "InvalidSignatureException": return " (check AWS_SECRET_ACCESS_KEY)"
        case "InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException":
            return " (AWS_ACCESS_KEY_ID is not known to this endpoint)"
        case "AccessDenied", "AccessDeniedException": return " (the credentials' policy does not allow this operation)"
        default: return ""
        }
    }
}

/// The code and message of an error answer. JSON services send
/// `{"__type": "...", "message": "..."}` (the type sometimes prefixed by a
/// namespace `a.b#Code` or suffixed `Code:http://...`) and/or an
/// `x-amzn-ErrorType` header; the auth layer in front of them (and moto's)
/// answers with an XML `<ErrorResponse><Error><Code>` document. Never
/// throws: an unreadable body still yields a code from the status.
struct AWSErrorBody: Equatable {
    var code: String
    var message: String
    var requestID: String?

    /// Error bodies longer than this are not parsed.
    static let maxParsedBytes = 64 * 1024

    static func parse(_ body: Data, status: Int, headers: [(String, String)]) -> AWSErrorBody {
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name }?.1
        }
        var code: String?
        var message: String?
        var requestID = header("x-amzn-requestid") ?? header("x-amz-request-id")
        let first = body.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        if body.count <= maxParsedBytes, first == UInt8(ascii: "{"),
           let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            code = ["__type", "code", "Code"].lazy.compactMap { object[$0] as? String }.first
            message = ["message", "Message", "errorMessage"].lazy.compactMap { object[$0] as? String }.first
        } else if body.count <= maxParsedBytes, first == UInt8(ascii: "<"),
                  (try? S3ListingParser.checkProcessingInstructions(body)) != nil {
            let collector = ElementTextCollector(wanted: ["Code", "Message", "RequestId"])
            let parser = XMLParser(data: body)
            parser.shouldResolveExternalEntities = false
            parser.delegate = collector
            if parser.parse() {
                code = collector.values["Code"]
                message = collector.values["Message"]
                requestID = collector.values["RequestId"] ?? requestID
            }
        }
        // Smithy's rule: the header first, then the body's `code`/`__type`.
        let resolved = [header("x-amzn-errortype"), code].lazy.compactMap { $0.map(normalize) }.first { !$0.isEmpty }
        return AWSErrorBody(
            code: resolved ?? fallbackCode(status),
            message: message ?? (body.isEmpty ? "no error body" : "unparsed error body of \(body.count) bytes"),
            requestID: requestID
        )
    }

    /// `com.amazonaws.lambda#ResourceNotFoundException` and
    /// `ResourceNotFoundException:http://internal.amazon.com/...` → the bare code.
    static func normalize(_ raw: String) -> String {
        var code = Substring(raw)
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        return code.trimmingCharacters(in: .whitespaces)
    }

    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 403: return "AccessDenied"
        case 404: return "NotFound"
        case 429: return "TooManyRequestsException"
        case 500: return "InternalFailure"
        case 503: return "ServiceUnavailable"
        default: return "HTTP\(status)"
        }
    }
}
