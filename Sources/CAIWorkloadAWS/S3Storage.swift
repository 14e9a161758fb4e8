import AWSClient
import CAIWorkload
import CosmicSupport
import Foundation

/// CAI's buckets on S3 (or any S3 endpoint, such as moto on loopback).
///
/// A partition is downloaded into one buffer sized by its Content-Length
/// and read in place (`Partition.open(bytes:owner:source:)`): a 100MB
/// partition is held once. Credentials, region and endpoint come from the
/// standard AWS environment (`S3Configuration.fromEnvironment`).
public final class S3Storage: ObjectStorage, @unchecked Sendable {
    public let client: S3Client

    public init(client: S3Client) {
        self.client = client
    }

    /// A storage on a client configured from the environment.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> S3Storage
    {
        S3Storage(client: try S3Client.fromEnvironment(environment))
    }

    /// Closes the client's connections; call once, when done.
    public func shutdown() {
        let client = self.client
        try? blocking { try await client.shutdown() }
    }

    public var description: String { "S3 at \(client.configuration.endpoint.origin)" }

    public func displayName(bucket: String, key: String) -> String { "s3://\(bucket)/\(key)" }

    public func listNames(bucket: String, prefix: String) throws -> [String] {
        let client = self.client
        let listed = prefix.isEmpty ? "" : prefix + "/"
        let objects = try blocking { try await client.listObjects(bucket: bucket, prefix: listed) }
        return objects.compactMap { object in
            guard object.key.hasPrefix(listed) else { return nil }
            let name = String(object.key.dropFirst(listed.count))
            return name.isEmpty || name.contains("/") ? nil : name
        }
    }

    public func openPartition(bucket: String, key: String) throws -> StoredPartition {
        try ObjectKey.validate(key, source: "storage key")
        let client = self.client
        let start = MonotonicClock.now()
        let body = try blocking { try await client.getObject(bucket: bucket, key: key) }
        let seconds = MonotonicClock.now() - start
        let owner = DownloadedObject(body.data)
        let partition = try owner.withBytes {
            try Partition.open(bytes: $0, owner: owner, source: displayName(bucket: bucket, key: key))
        }
        return StoredPartition(partition: partition, bytes: body.data.count, seconds: seconds)
    }

    /// HEAD: the object exists, is readable with these credentials and is
    /// not empty (its header is checked when a rank downloads it).
    public func checkPartition(bucket: String, key: String) throws {
        try ObjectKey.validate(key, source: "storage key")
        let client = self.client
        let info = try blocking { try await client.headObject(bucket: bucket, key: key) }
        guard info.contentLength > 0 else {
            throw PartitionError.unreadable(path: displayName(bucket: bucket, key: key), reason: "the object is empty")
        }
    }

    /// Nothing to check or clear: every result object is written whole and
    /// replaces the object of an earlier run under the same key, and a
    /// least-privilege role may not list or delete there.
    public func prepareResults(_ results: StorageLocation, data: StorageLocation, replace: Bool) throws
        -> ResultsPreparation
    {
        if results.bucket == data.bucket, results.prefix == data.prefix {
            throw PipelineError.resultOverlapsData(result: displayName(bucket: results.bucket, key: results.prefix),
                                                   data: displayName(bucket: data.bucket, key: data.prefix))
        }
        return .none
    }

    public func read(bucket: String, key: String) throws -> Data {
        try ObjectKey.validate(key, source: "storage key")
        let client = self.client
        return try blocking { try await client.getObject(bucket: bucket, key: key) }.data
    }

    /// One PutObject: S3 makes the object visible whole or not at all.
    public func write(_ data: Data, bucket: String, key: String) throws {
        try ObjectKey.validate(key, source: "storage key")
        let client = self.client
        let type = key.hasSuffix(".json") ? "application/json" : key.hasSuffix(".csv") ? "text/csv" : nil
        try blocking { try await client.putObject(bucket: bucket, key: key, body: data, contentType: type) }
    }

    /// A no-op: results are overwritten whole, never appended to, and the
    /// worker's role is not given DeleteObject.
    public func remove(bucket: String, key: String) throws {}
}

/// Keeps a downloaded body alive for the partition that reads it in place.
/// The body is a `Data` over the client's single malloc'd buffer, whose
/// address is fixed while the value is not mutated (it never is).
final class DownloadedObject: @unchecked Sendable {
    let data: Data

    init(_ data: Data) {
        self.data = data
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try data.withUnsafeBytes(body)
    }
}
