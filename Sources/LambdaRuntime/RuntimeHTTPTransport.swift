import AsyncHTTPClient
import Foundation
import NIOCore

/// A minimal HTTP/1.1 client for talking to the Runtime API on the local
/// host: one pooled keep-alive connection, no read timeout (the `next`
/// long-poll may wait for minutes while Lambda freezes the process).
///
/// TCP_NODELAY: NIO's `ClientBootstrap`, which AsyncHTTPClient uses, sets it
/// on every client socket by default; AsyncHTTPClient exposes no channel
/// options to set it again.
struct RuntimeHTTPTransport: Sendable {
    enum Method: Sendable {
        case get, post
    }

    struct Response: Sendable {
        var status: UInt
        var headers: [(name: String, value: String)]
        var body: Data

        /// The first value of header `name` (case-insensitive), trimmed.
        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?
                .value.trimmingCharacters(in: .whitespaces)
        }
    }

    private let client: HTTPClient

    init(connectTimeout: TimeAmount = .seconds(5)) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: connectTimeout, read: nil)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends one request and collects at most `maxBodyBytes` of the answer.
    func send(
        _ method: Method,
        _ url: String,
        headers: [(String, String)] = [],
        body: Data? = nil,
        maxBodyBytes: Int,
        timeout: Duration? = nil
    ) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method == .get ? .GET : .POST
        for (name, value) in headers {
            request.headers.add(name: name, value: value)
        }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let deadline = timeout.map { NIODeadline.now() + .nanoseconds(Self.nanoseconds($0)) } ?? .distantFuture
        let response = try await client.execute(request, deadline: deadline)
        let buffer = try await response.body.collect(upTo: maxBodyBytes)
        return Response(
            status: response.status.code,
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: Data(buffer.readableBytesView))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
