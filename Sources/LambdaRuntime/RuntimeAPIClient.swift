import Foundation
import NIOCore

/// The four Runtime API calls (version 2018-06-01) and what their status
/// codes mean: 202 accepted; 400/403/413 reject one answer (logged, the loop
/// goes on); 500 is a container error after which the runtime must exit.
struct RuntimeAPIClient: Sendable {
    /// Lambda's synchronous payload limit (6 MiB + 100 bytes, as Lambda enforces it).
    static let maxPayloadBytes = 6 * 1024 * 1024 + 100
    /// Runtime API replies other than events are short status documents.
    static let maxStatusBodyBytes = 64 * 1024
    static let errorTypeHeader = "Lambda-Runtime-Function-Error-Type"

    /// The outcome of posting an answer that the loop can survive.
    enum Delivery: Equatable, Sendable {
        case accepted
        case rejected(status: UInt, body: String)
    }

    let transport: RuntimeHTTPTransport
    private let base: String

    /// - Parameter runtimeAPI: `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    init(runtimeAPI: String, transport: RuntimeHTTPTransport = RuntimeHTTPTransport()) {
        self.base = "http://\(runtimeAPI)/2018-06-01/runtime"
        self.transport = transport
    }

    /// Long-polls for the next event; no deadline, as the API requires.
    func next() async throws -> NextInvocation {
        let url = "\(base)/invocation/next"
        let response: RuntimeHTTPTransport.Response
        do {
            response = try await transport.send(.get, url, maxBodyBytes: Self.maxPayloadBytes)
        } catch is NIOTooManyBytesError {
            throw LambdaRuntimeError.eventTooLarge(limit: Self.maxPayloadBytes)
        }
        guard response.status == 200 else {
            throw LambdaRuntimeError.unexpectedStatus(
                endpoint: "GET \(url)", status: response.status, body: Self.text(response.body))
        }
        return try NextInvocation(response: response)
    }

    func postResponse(requestID: String, body: Data) async throws -> Delivery {
        try await post("\(base)/invocation/\(Self.pathSegment(requestID))/response", body: body, errorType: nil)
    }

    func postError(requestID: String, report: ErrorReport) async throws -> Delivery {
        try await post(
            "\(base)/invocation/\(Self.pathSegment(requestID))/error",
            body: report.encoded(), errorType: report.errorType)
    }

    func postInitError(report: ErrorReport) async throws -> Delivery {
        try await post("\(base)/init/error", body: report.encoded(), errorType: report.errorType)
    }

    private func post(_ url: String, body: Data, errorType: String?) async throws -> Delivery {
        var headers: [(String, String)] = []
        if let errorType {
            headers.append((Self.errorTypeHeader, errorType))
        }
        let response = try await transport.send(
            .post, url, headers: headers, body: body, maxBodyBytes: Self.maxStatusBodyBytes)
        switch response.status {
        case 200..<300:
            return .accepted
        case 500...:
            throw LambdaRuntimeError.unexpectedStatus(
                endpoint: "POST \(url)", status: response.status, body: Self.text(response.body))
        default:
            return .rejected(status: response.status, body: Self.text(response.body))
        }
    }

    /// Request ids come from the network: percent-encode everything but
    /// unreserved characters so an id cannot steer the post to another path.
    static func pathSegment(_ requestID: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return requestID.addingPercentEncoding(withAllowedCharacters: allowed) ?? requestID
    }

    static func text(_ body: Data) -> String {
        String(decoding: body.prefix(2048), as: UTF8.self)
    }
}
