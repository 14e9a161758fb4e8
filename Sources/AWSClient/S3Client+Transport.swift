import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension S3Client {
    /// Builds, signs and sends one request. Returns the response for a 2xx
    /// status; any other status is read (error document) and thrown as
    /// `S3Error.service`, transport failures as `S3Error.transport`.
    func send(
        method: HTTPMethod,
        bucket: String,
        key: String,
        query: [(name: String, value: String)] = [],
        headers extra: [(name: String, value: String)] = [],
        body: HTTPClientRequest.Body? = nil,
        payloadHash: String = SigV4Signer.emptyPayloadHash
    ) async throws -> HTTPClientResponse {
        let endpoint = configuration.endpoint
        let pathStyle = endpoint.usesPathStyle(bucket: bucket)
        let host = pathStyle ? endpoint.hostHeader : "\(bucket).\(endpoint.hostHeader)"
        var path = endpoint.basePath
        if pathStyle { path += "/" + AWSPercentEncoding.encode(bucket) }
        if !key.isEmpty || !pathStyle { path += "/" + AWSPercentEncoding.encodePath(key) }

        var headers: [(name: String, value: String)] = [
            (name: "host", value: host), (name: "x-amz-content-sha256", value: payloadHash),
        ]
        headers += extra
        let signature = signer.sign(
            method: method.rawValue, path: path, query: query, headers: headers, payloadHash: payloadHash, date: Date()
        )
        let url = "\(endpoint.scheme)://\(host)\(path)" + (signature.canonicalQuery.isEmpty ? "" : "?" + signature.canonicalQuery)
        var request = HTTPClientRequest(url: url)
        request.method = method
        for header in headers + signature.addedHeaders { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = body }

        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: TimeAmount(configuration.requestTimeout))
        } catch {
            throw S3Client.transportError(error, bucket: bucket, key: key)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let status = Int(response.status.code)
            let body = (try? await S3Client.collect(response, limit: S3ErrorDocument.maxParsedBytes, bucket: bucket, key: key)) ?? Data()
            let document = S3ErrorDocument.parse(body, status: status, headers: response.headers.map { ($0.name, $0.value) })
            throw S3Error.service(
                bucket: bucket, key: key, status: status, code: document.code,
                message: document.message, requestID: document.requestID
            )
        }
        return response
    }

    /// Reads a whole (small) body, refusing more than `limit` bytes and
    /// checking it against Content-Length.
    static func collect(_ response: HTTPClientResponse, limit: Int, bucket: String, key: String) async throws -> Data {
        let expected = response.headers.first(name: "content-length").flatMap(Int.init)
        if let expected, expected > limit {
            throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "body of \(expected) bytes exceeds the \(limit)-byte limit")
        }
        var data = Data()
        if let expected { data.reserveCapacity(expected) }
        do {
            for try await chunk in response.body {
                guard data.count + chunk.readableBytes <= limit else {
                    throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "body exceeds the \(limit)-byte limit")
                }
                chunk.withUnsafeReadableBytes { data.append(contentsOf: $0) }
            }
        } catch let error as S3Error {
            throw error
        } catch {
            if let expected, data.count < expected {
                throw S3Error.incompleteBody(bucket: bucket, key: key, expected: expected, received: data.count)
            }
            throw transportError(error, bucket: bucket, key: key)
        }
        if let expected, data.count != expected {
            throw S3Error.incompleteBody(bucket: bucket, key: key, expected: expected, received: data.count)
        }
        return data
    }

    /// Consumes a body whose content does not matter (PutObject's reply).
    static func drain(_ response: HTTPClientResponse, bucket: String, key: String) async throws {
        _ = try await collect(response, limit: S3ErrorDocument.maxParsedBytes, bucket: bucket, key: key)
    }

    /// Maps a transport failure, deciding whether a retry may help: broken
    /// or refused connections, timeouts and truncated responses may;
    /// cancellation and the client's own usage errors do not.
    static func transportError(_ error: Error, bucket: String, key: String) -> S3Error {
        if let error = error as? S3Error { return error }
        let retryable: Bool
        switch error {
        case let error as HTTPClientError:
            let transient: [HTTPClientError] = [
                .remoteConnectionClosed, .readTimeout, .connectTimeout, .deadlineExceeded, .writeTimeout,
                .bodyLengthMismatch,
            ]
            retryable = transient.contains(error)
        case is CancellationError:
            retryable = false
        default:
            // IOError (reset, refused), ChannelError, HTTPParserError (a cut
            // response), NIOPosix's connection errors: all transient.
            retryable = true
        }
        return .transport(bucket: bucket, key: key, underlying: String(describing: error), retryable: retryable)
    }
}
