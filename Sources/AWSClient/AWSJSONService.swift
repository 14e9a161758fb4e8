import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The signed transport shared by the JSON-protocol clients: builds a
/// request for awsJson (`POST /`, `X-Amz-Target`) or restJson (method and
/// path), signs it (SigV4, path encoded twice), sends it under the retry
/// policy, caps and decodes the answer, and turns every failure into an
/// `AWSServiceError` naming the operation and resource.
final class AWSJSONService: Sendable {
    let descriptor: AWSServiceDescriptor
    let configuration: AWSServiceConfiguration
    let signer: SigV4Signer
    let http: HTTPClient

    init(descriptor: AWSServiceDescriptor, configuration: AWSServiceConfiguration) {
        self.descriptor = descriptor
        self.configuration = configuration
        self.signer = SigV4Signer(
            credentials: configuration.credentials, region: configuration.endpoint.region,
            service: descriptor.signingName, pathRule: .encodedTwice
        )
        self.http = HTTPClient.forAWS(readTimeout: configuration.readTimeout)
    }

    func shutdown() async throws {
        try await http.shutdown()
    }

    /// A request ready to send; `makeRequest` is pure so tests can check it.
    struct PreparedRequest {
        var method: HTTPMethod
        var url: String
        var headers: [(name: String, value: String)]
        var body: Data
        var signature: SigV4Signer.Signature
    }

    /// One awsJson operation: `request` encoded as the body, the answer
    /// decoded as `Response` (an empty 2xx body counts as `{}`).
    /// `afterRetry` is asked about a service error that follows a failed
    /// attempt, when an earlier attempt may have taken effect unseen (a
    /// reset after the request got through); it returns the result that
    /// attempt had, or nil to throw the error.
    func call<Request: Encodable, Response: Decodable>(
        _ operation: String, _ request: Request, resource: String, as type: Response.Type = Response.self,
        afterRetry: ((AWSServiceError) async throws -> Response?)? = nil
    ) async throws -> Response {
        let body = try encode(request, operation: operation, resource: resource)
        return try await perform(method: .POST, path: "/", operation: operation, body: body, resource: resource, afterRetry: afterRetry)
    }

    /// One restJson operation at `path` (already percent-encoded, without
    /// the endpoint's base path).
    func rest<Response: Decodable>(
        _ method: HTTPMethod, path: String, operation: String, body: Data = Data(), resource: String,
        as type: Response.Type = Response.self
    ) async throws -> Response {
        try await perform(method: method, path: path, operation: operation, body: body, resource: resource)
    }

    func encode<Request: Encodable>(_ request: Request, operation: String, resource: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(request)
        } catch {
            throw AWSServiceError(
                kind: .invalidRequest, service: descriptor.serviceID, operation: operation, resource: resource,
                code: "InvalidRequest", message: "cannot encode the request: \(error)"
            )
        }
    }

    private func perform<Response: Decodable>(
        method: HTTPMethod, path: String, operation: String, body: Data, resource: String,
        afterRetry: ((AWSServiceError) async throws -> Response?)? = nil
    ) async throws -> Response {
        try await configuration.retry.run(isRetryable: { ($0 as? AWSServiceError)?.isRetryable ?? false }) { attempt in
            let prepared = makeRequest(method: method, path: path, operation: operation, body: body, date: Date())
            let data: Data
            do {
                data = try await send(prepared, operation: operation, resource: resource)
            } catch let error as AWSServiceError where attempt > 1 && error.kind == .service {
                if let afterRetry, let earlier = try await afterRetry(error) { return earlier }
                throw error
            }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .secondsSince1970  // AWS JSON timestamps are epoch seconds
            do {
                return try decoder.decode(Response.self, from: data.isEmpty ? Data("{}".utf8) : data)
            } catch {
                throw failure(.invalidResponse, operation, resource, code: "InvalidResponse", message: Self.describe(error))
            }
        }
    }

    /// Builds and signs one request for `date`.
    func makeRequest(method: HTTPMethod, path: String, operation: String, body: Data, date: Date) -> PreparedRequest {
        let endpoint = configuration.endpoint
        let wirePath = endpoint.basePath + path
        var headers: [(name: String, value: String)] = [(name: "host", value: endpoint.hostHeader)]
        switch descriptor.wireProtocol {
        case .json(let version, let prefix):
            headers.append((name: "content-type", value: "application/x-amz-json-\(version)"))
            headers.append((name: "x-amz-target", value: "\(prefix).\(operation)"))
        case .restJSON:
            if !body.isEmpty { headers.append((name: "content-type", value: "application/json")) }
        }
        let signature = signer.sign(
            method: method.rawValue, path: wirePath, headers: headers, payloadHash: SigV4Signer.sha256Hex(body), date: date
        )
        return PreparedRequest(
            method: method, url: endpoint.origin + wirePath, headers: headers + signature.addedHeaders,
            body: body, signature: signature
        )
    }

    /// Sends once; a non-2xx answer becomes a `.service` error.
    private func send(_ prepared: PreparedRequest, operation: String, resource: String) async throws -> Data {
        var request = HTTPClientRequest(url: prepared.url)
        request.method = prepared.method
        for header in prepared.headers { request.headers.add(name: header.name, value: header.value) }
        if !prepared.body.isEmpty || prepared.method == .POST || prepared.method == .PUT {
            request.body = .bytes(ByteBuffer(bytes: prepared.body))
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: TimeAmount(configuration.requestTimeout))
        } catch {
            throw transportFailure(error, operation, resource)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body = (try? await collect(response, limit: AWSErrorBody.maxParsedBytes, operation, resource)) ?? Data()
            let parsed = AWSErrorBody.parse(body, status: status, headers: response.headers.map { ($0.name, $0.value) })
            var error = failure(.service, operation, resource, code: parsed.code, message: parsed.message)
            error.status = status
            error.requestID = parsed.requestID
            throw error
        }
        return try await collect(response, limit: configuration.maxResponseBytes, operation, resource)
    }

    /// Reads a whole body, refusing more than `limit` bytes and a body
    /// shorter or longer than its Content-Length.
    private func collect(_ response: HTTPClientResponse, limit: Int, _ operation: String, _ resource: String) async throws -> Data {
        let expected = response.headers.first(name: "content-length").flatMap(Int.init)
        func tooBig(_ what: String) -> AWSServiceError {
            failure(.invalidResponse, operation, resource, code: "ResponseTooLarge", message: "\(what) exceeds the \(limit)-byte limit")
        }
        if let expected, expected > limit { throw tooBig("a body of \(expected) bytes") }
        var data = Data()
        do {
            for try await chunk in response.body {
                guard data.count + chunk.readableBytes <= limit else { throw tooBig("the body") }
                chunk.withUnsafeReadableBytes { data.append(contentsOf: $0) }
            }
        } catch let error as AWSServiceError {
            throw error
        } catch {
            throw transportFailure(error, operation, resource)
        }
        if let expected, data.count != expected {
            var error = failure(.transport, operation, resource, code: "IncompleteBody",
                                message: "body ended after \(data.count) of \(expected) bytes (Content-Length)")
            error.transportRetryable = true
            throw error
        }
        return data
    }

    func failure(_ kind: AWSServiceError.Kind, _ operation: String, _ resource: String, code: String, message: String) -> AWSServiceError {
        AWSServiceError(kind: kind, service: descriptor.serviceID, operation: operation, resource: resource, code: code, message: message)
    }

    /// Broken or refused connections and timeouts may be retried;
    /// cancellation and the HTTP client's own usage errors may not.
    private func transportFailure(_ error: Error, _ operation: String, _ resource: String) -> AWSServiceError {
        if let error = error as? AWSServiceError { return error }
        var mapped = failure(.transport, operation, resource, code: "Transport", message: String(describing: error))
        switch error {
        case let error as HTTPClientError:
            let transient: [HTTPClientError] = [
                .remoteConnectionClosed, .readTimeout, .connectTimeout, .deadlineExceeded, .writeTimeout, .bodyLengthMismatch,
            ]
            mapped.transportRetryable = transient.contains(error)
        case is CancellationError:
            mapped.transportRetryable = false
        default:
            mapped.transportRetryable = true  // IOError (reset, refused), ChannelError, a cut response
        }
        return mapped
    }

    /// A decoding failure as one line: where in the document, and what.
    static func describe(_ error: Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the document" : keys.joined(separator: ".")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "field '\(key.stringValue)' missing at \(path(context))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context)): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return "not the JSON expected at \(path(context)): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }
}

/// An operation's reply whose content does not matter.
struct AWSEmptyResponse: Decodable {}
