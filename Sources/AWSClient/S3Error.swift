import Foundation

/// A failed S3 operation, always naming the bucket and key (key empty for
/// bucket-level calls such as a listing) so a log line says what was asked.
public enum S3Error: Error, Sendable, CustomStringConvertible {
    /// S3 answered with an error document (or a bare status code).
    case service(bucket: String, key: String, status: Int, code: String, message: String, requestID: String?)
    /// The connection ended before `Content-Length` bytes arrived.
    case incompleteBody(bucket: String, key: String, expected: Int, received: Int)
    /// The response could not be used (no Content-Length, more bytes than
    /// announced, a bad listing document...).
    case invalidResponse(bucket: String, key: String, reason: String)
    /// The transport failed (connection refused, reset, timeout).
    case transport(bucket: String, key: String, underlying: String, retryable: Bool)
    /// A request parameter that S3 would reject or that cannot be addressed.
    case invalidRequest(bucket: String, key: String, reason: String)

    /// The S3 error code (`NoSuchKey`, `AccessDenied`, `SlowDown`...), if S3 sent one.
    public var code: String? {
        if case .service(_, _, _, let code, _, _) = self { return code }
        return nil
    }

    /// The HTTP status of a service error.
    public var status: Int? {
        if case .service(_, _, let status, _, _, _) = self { return status }
        return nil
    }

    /// Whether a retry may succeed: server errors, throttling, broken
    /// connections and short bodies; never authentication or missing objects.
    public var isRetryable: Bool {
        switch self {
        case .service(_, _, let status, let code, _, _):
            if S3Error.retryableCodes.contains(code) { return true }
            return [429, 500, 502, 503, 504].contains(status) && !S3Error.permanentCodes.contains(code)
        case .incompleteBody:
            return true
        case .transport(_, _, _, let retryable):
            return retryable
        case .invalidResponse, .invalidRequest:
            return false
        }
    }

    /// Error codes that mean "try again later".
    static let retryableCodes: Set<String> = [
        "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
        "RequestLimitExceeded", "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "InternalError", "ServiceUnavailable", "RequestTimeout", "BandwidthLimitExceeded",
    ]

    /// Codes that stay failures whatever the status.
    static let permanentCodes: Set<String> = [
        "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken", "InvalidToken",
        "NoSuchKey", "NoSuchBucket",
    ]

    public var description: String {
        switch self {
        case .service(let bucket, let key, let status, let code, let message, let requestID):
            let what = S3Error.explanation(code)
            let id = requestID.map { ", request id \($0)" } ?? ""
            return "S3 \(code) (HTTP \(status)) for \(S3Error.location(bucket, key)): \(message)\(what)\(id)"
        case .incompleteBody(let bucket, let key, let expected, let received):
            return "S3 body of \(S3Error.location(bucket, key)) ended after \(received) of \(expected) bytes (Content-Length)"
        case .invalidResponse(let bucket, let key, let reason):
            return "S3 response for \(S3Error.location(bucket, key)) is unusable: \(reason)"
        case .transport(let bucket, let key, let underlying, _):
            return "S3 request for \(S3Error.location(bucket, key)) failed: \(underlying)"
        case .invalidRequest(let bucket, let key, let reason):
            return "S3 request for \(S3Error.location(bucket, key)) is invalid: \(reason)"
        }
    }

    static func location(_ bucket: String, _ key: String) -> String {
        key.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(key)"
    }

    private static func explanation(_ code: String) -> String {
        switch code {
        case "ExpiredToken": return " (the session token has expired; refresh AWS_SESSION_TOKEN)"
        case "SignatureDoesNotMatch": return " (check AWS_SECRET_ACCESS_KEY)"
        case "InvalidAccessKeyId": return " (AWS_ACCESS_KEY_ID is not known to this endpoint)"
        case "AccessDenied": return " (the credentials' policy does not allow this)"
        default: return ""
        }
    }
}
