import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small S3 client: GetObject (into one buffer, optionally by ranged
/// parallel GETs), PutObject, HeadObject and ListObjectsV2, SigV4-signed,
/// with retries. Owns its `HTTPClient`: call `shutdown()` when done.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let signer: SigV4Signer
    let http: HTTPClient

    public init(configuration: S3Configuration) {
        self.configuration = configuration
        self.signer = SigV4Signer.s3(credentials: configuration.credentials, region: configuration.endpoint.region)
        self.http = HTTPClient.forAWS(readTimeout: configuration.readTimeout)
    }

    /// A client configured from the standard AWS environment variables.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> S3Client {
        S3Client(configuration: try S3Configuration.fromEnvironment(environment))
    }

    /// Closes the connection pool; the client cannot be used afterwards.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// Uploads `body` in one PutObject with a signed payload hash.
    public func putObject(bucket: String, key: String, body: Data, contentType: String? = nil) async throws {
        try S3Client.validate(bucket: bucket, key: key)
        let buffer = ByteBuffer(bytes: body)
        let hash = SigV4Signer.sha256Hex(body)
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append((name: "content-type", value: contentType)) }
        try await withRetries {
            let response = try await self.send(
                method: .PUT, bucket: bucket, key: key, headers: headers,
                body: .bytes(buffer), payloadHash: hash
            )
            try await S3Client.drain(response, bucket: bucket, key: key)
        }
    }

    /// Metadata of one object, from HeadObject.
    public struct ObjectInfo: Sendable, Equatable {
        public var contentLength: Int
        public var etag: String?
        public var contentType: String?
    }

    /// HeadObject: size and ETag without the body (404 arrives as code `NotFound`).
    public func headObject(bucket: String, key: String) async throws -> ObjectInfo {
        try S3Client.validate(bucket: bucket, key: key)
        return try await withRetries {
            let response = try await self.send(method: .HEAD, bucket: bucket, key: key)
            guard let length = response.headers.first(name: "content-length").flatMap(Int.init), length >= 0 else {
                throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "HEAD response without a valid Content-Length")
            }
            return ObjectInfo(
                contentLength: length,
                etag: response.headers.first(name: "etag").map(S3Client.unquote),
                contentType: response.headers.first(name: "content-type")
            )
        }
    }

    /// All objects under `prefix`, following continuation tokens.
    public func listObjects(bucket: String, prefix: String) async throws -> [S3ObjectSummary] {
        var objects: [S3ObjectSummary] = []
        var token: String?
        var seen: Set<String> = []
        repeat {
            let page = try await listObjectsPage(bucket: bucket, prefix: prefix, continuationToken: token)
            objects += page.objects
            token = page.nextContinuationToken
            if let token, !seen.insert(token).inserted {
                throw S3Error.invalidResponse(bucket: bucket, key: prefix, reason: "continuation token '\(token)' repeated")
            }
        } while token != nil
        return objects
    }

    /// One ListObjectsV2 page (`max-keys` from `configuration.listPageSize`).
    public func listObjectsPage(bucket: String, prefix: String, continuationToken: String? = nil) async throws -> S3ListPage {
        try S3Client.validate(bucket: bucket, key: nil)
        var query: [(name: String, value: String)] = [
            (name: "list-type", value: "2"), (name: "encoding-type", value: "url"), (name: "prefix", value: prefix),
        ]
        if let size = configuration.listPageSize { query.append((name: "max-keys", value: String(size))) }
        if let continuationToken { query.append((name: "continuation-token", value: continuationToken)) }
        return try await withRetries {
            let response = try await self.send(method: .GET, bucket: bucket, key: "", query: query)
            let body = try await S3Client.collect(response, limit: S3ListingParser.maxDocumentBytes, bucket: bucket, key: prefix)
            do {
                return try S3ListingParser.parse(body)
            } catch let error as S3ListingParseError {
                throw S3Error.invalidResponse(bucket: bucket, key: prefix, reason: error.description)
            }
        }
    }

    /// Runs `operation` under the configured retry policy.
    func withRetries<T>(_ operation: @escaping () async throws -> T) async throws -> T {
        try await configuration.retry.run(isRetryable: { ($0 as? S3Error)?.isRetryable ?? false }) { _ in
            try await operation()
        }
    }

    static func validate(bucket: String, key: String?) throws {
        guard !bucket.isEmpty, !bucket.contains("/"), bucket.utf8.count <= 255 else {
            throw S3Error.invalidRequest(bucket: bucket, key: key ?? "", reason: "bucket name must be non-empty without '/'")
        }
        if let key {
            guard !key.isEmpty, key.utf8.count <= 1024 else {
                throw S3Error.invalidRequest(bucket: bucket, key: key, reason: "key must be 1...1024 bytes of UTF-8")
            }
        }
    }

    static func unquote(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
