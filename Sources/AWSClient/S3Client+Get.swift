import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension S3Client {
    /// GetObject into one buffer sized by Content-Length (no second copy).
    /// With `transfer.maxConcurrentParts > 1` the object is fetched as
    /// ranged GETs of `transfer.partSize`, several in flight, each written
    /// at its offset of the same buffer; the first part tells the size, and
    /// later parts carry `If-Match` so an object replaced mid-download fails
    /// instead of mixing versions. Every request is retried on its own.
    public func getObject(bucket: String, key: String) async throws -> S3ObjectBody {
        try S3Client.validate(bucket: bucket, key: key)
        let transfer = configuration.transfer
        guard transfer.maxConcurrentParts > 1 else { return try await getWhole(bucket: bucket, key: key) }
        let first: FirstPart
        do {
            first = try await withRetries { try await self.getFirstPart(bucket: bucket, key: key, partSize: transfer.partSize) }
        } catch let error as S3Error where error.status == 416 {
            return try await getWhole(bucket: bucket, key: key)  // an empty object has no byte 0
        }
        let starts = Array(stride(from: first.received, to: first.buffer.count, by: transfer.partSize))
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = starts.makeIterator()
            func addNext() -> Bool {
                guard let start = next.next() else { return false }
                let end = min(start + transfer.partSize, first.buffer.count)
                group.addTask {
                    try await self.withRetries {
                        try await self.getPart(bucket: bucket, key: key, range: start..<end, of: first)
                    }
                }
                return true
            }
            for _ in 0..<transfer.maxConcurrentParts where !addNext() { break }
            while try await group.next() != nil { _ = addNext() }
        }
        return S3ObjectBody(data: first.buffer.takeData(), etag: first.etag, contentType: first.contentType)
    }

    /// The destination and metadata learnt from the first ranged GET.
    struct FirstPart: Sendable {
        var buffer: S3DownloadBuffer
        var received: Int
        var etag: String?
        var contentType: String?
    }

    /// One plain GET streamed into a buffer of Content-Length bytes.
    func getWhole(bucket: String, key: String) async throws -> S3ObjectBody {
        try await withRetries {
            let response = try await self.send(method: .GET, bucket: bucket, key: key)
            let length = try S3Client.contentLength(response, bucket: bucket, key: key)
            let buffer = try self.allocate(length, bucket: bucket, key: key)
            try await S3Client.stream(response.body, into: buffer, range: 0..<length, bucket: bucket, key: key)
            return S3ObjectBody(
                data: buffer.takeData(),
                etag: response.headers.first(name: "etag").map(S3Client.unquote),
                contentType: response.headers.first(name: "content-type")
            )
        }
    }

    private func getFirstPart(bucket: String, key: String, partSize: Int) async throws -> FirstPart {
        let response = try await send(
            method: .GET, bucket: bucket, key: key, headers: [(name: "range", value: "bytes=0-\(partSize - 1)")]
        )
        let length = try S3Client.contentLength(response, bucket: bucket, key: key)
        let etag = response.headers.first(name: "etag").map(S3Client.unquote)
        let contentType = response.headers.first(name: "content-type")
        let total: Int
        if response.status == .partialContent {
            let range = try S3Client.contentRange(response, bucket: bucket, key: key)
            guard range.start == 0, range.end - range.start + 1 == length, length == min(partSize, range.total) else {
                throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "Content-Range \(range) does not answer bytes=0-\(partSize - 1)")
            }
            total = range.total
        } else {
            total = length  // the server sent the whole object
        }
        let buffer = try allocate(total, bucket: bucket, key: key)
        try await S3Client.stream(response.body, into: buffer, range: 0..<length, bucket: bucket, key: key)
        return FirstPart(buffer: buffer, received: length, etag: etag, contentType: contentType)
    }

    private func getPart(bucket: String, key: String, range: Range<Int>, of first: FirstPart) async throws {
        var headers = [(name: "range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)")]
        if let etag = first.etag { headers.append((name: "if-match", value: "\"\(etag)\"")) }
        let response = try await send(method: .GET, bucket: bucket, key: key, headers: headers)
        let answered = try S3Client.contentRange(response, bucket: bucket, key: key)
        guard response.status == .partialContent, answered.start == range.lowerBound,
              answered.end == range.upperBound - 1, answered.total == first.buffer.count
        else {
            throw S3Error.invalidResponse(
                bucket: bucket, key: key,
                reason: "Content-Range \(answered) does not answer bytes \(range.lowerBound)-\(range.upperBound - 1) of \(first.buffer.count)"
            )
        }
        try await S3Client.stream(response.body, into: first.buffer, range: range, bucket: bucket, key: key)
    }

    func allocate(_ count: Int, bucket: String, key: String) throws -> S3DownloadBuffer {
        guard count <= configuration.maxObjectBytes else {
            throw S3Error.invalidResponse(
                bucket: bucket, key: key, reason: "object of \(count) bytes exceeds maxObjectBytes \(configuration.maxObjectBytes)"
            )
        }
        guard let buffer = S3DownloadBuffer(count: count) else {
            throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "cannot allocate \(count) bytes")
        }
        return buffer
    }

    static func contentLength(_ response: HTTPClientResponse, bucket: String, key: String) throws -> Int {
        guard let text = response.headers.first(name: "content-length"), let length = Int(text), length >= 0 else {
            throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "missing or invalid Content-Length")
        }
        return length
    }

    /// `Content-Range: bytes START-END/TOTAL`.
    static func contentRange(_ response: HTTPClientResponse, bucket: String, key: String) throws -> (start: Int, end: Int, total: Int) {
        let text = response.headers.first(name: "content-range") ?? ""
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "/" })
        guard parts.count == 4, parts[0] == "bytes", let start = Int(parts[1]), let end = Int(parts[2]),
              let total = Int(parts[3]), start >= 0, start <= end, end < total
        else {
            throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "invalid Content-Range '\(text)'")
        }
        return (start, end, total)
    }

    /// Streams a body into `range` of `buffer`, refusing any byte past the
    /// range and reporting a body that ends early.
    static func stream(
        _ body: HTTPClientResponse.Body, into buffer: S3DownloadBuffer, range: Range<Int>, bucket: String, key: String
    ) async throws {
        var written = 0
        do {
            for try await chunk in body {
                let fits = chunk.withUnsafeReadableBytes {
                    buffer.write($0, at: range.lowerBound + written, limit: range.upperBound)
                }
                guard fits else {
                    throw S3Error.invalidResponse(bucket: bucket, key: key, reason: "body longer than its Content-Length \(range.count)")
                }
                written += chunk.readableBytes
            }
        } catch let error as S3Error {
            throw error
        } catch {
            guard written >= range.count else {
                throw S3Error.incompleteBody(bucket: bucket, key: key, expected: range.count, received: written)
            }
            throw transportError(error, bucket: bucket, key: key)
        }
        guard written == range.count else {
            throw S3Error.incompleteBody(bucket: bucket, key: key, expected: range.count, received: written)
        }
    }
}
