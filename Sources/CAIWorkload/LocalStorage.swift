import CosmicSupport
import Foundation

/// Buckets as folders: bucket `b` is `root/b` (as `--root` has always
/// worked), unless `mounts` places it elsewhere (a sweep mounts its cache
/// folders as buckets). Partitions are memory-mapped; writes go through a
/// temporary file and a rename.
public struct LocalStorage: ObjectStorage {
    public let root: URL
    /// Buckets whose folder is not `root/<bucket>`.
    public var mounts: [String: URL]

    public init(root: URL, mounts: [String: URL] = [:]) {
        self.root = root.standardizedFileURL
        self.mounts = mounts.mapValues(\.standardizedFileURL)
    }

    public var description: String { "local folder \(root.path)" }

    /// The folder of `bucket`.
    public func directory(bucket: String) -> URL {
        mounts[bucket] ?? root.appendingPathComponent(bucket, isDirectory: true)
    }

    /// The file of `bucket/key` (or the folder of a prefix), after checking
    /// the key cannot leave its bucket.
    public func url(bucket: String, key: String) throws -> URL {
        file(bucket: bucket, normalizedKey: try StorageLocation.normalizedPrefix(key, key: "key", source: Self.keySource))
    }

    /// The file of object `key`, which must be a valid object key (`ObjectKey.validate`).
    private func objectURL(bucket: String, key: String) throws -> URL {
        try ObjectKey.validate(key, source: Self.keySource)
        return file(bucket: bucket, normalizedKey: key)
    }

    private func file(bucket: String, normalizedKey: String) -> URL {
        normalizedKey.split(separator: "/").reduce(directory(bucket: bucket)) { $0.appendingPathComponent(String($1)) }
    }

    private static let keySource = "storage key"

    public func displayName(bucket: String, key: String) -> String {
        ((try? url(bucket: bucket, key: key)) ?? directory(bucket: bucket)).path
    }

    public func listNames(bucket: String, prefix: String) throws -> [String] {
        try checkRoot()
        let folder = try url(bucket: bucket, key: prefix)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PartitionStoreError.notADirectory(path: folder.path)
        }
        do {
            return try FileSystem.entries(of: folder)
        } catch let error as FileOperationError {
            throw PartitionStoreError.unreadable(path: folder.path, reason: error.reason)
        }
    }

    public func openPartition(bucket: String, key: String) throws -> StoredPartition {
        let file = try objectURL(bucket: bucket, key: key)
        let start = MonotonicClock.now()
        let partition = try Partition.open(file)
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        return StoredPartition(partition: partition, bytes: size, seconds: MonotonicClock.now() - start)
    }

    public func checkPartition(bucket: String, key: String) throws {
        _ = try Partition.open(try objectURL(bucket: bucket, key: key))
    }

    /// The result folder must stay below the root once symbolic links are
    /// resolved (the data prefix may be a link to data elsewhere: it is only
    /// read), apart from the data, writable, and empty unless `replace`.
    public func prepareResults(_ results: StorageLocation, data: StorageLocation, replace: Bool) throws
        -> ResultsPreparation
    {
        try checkRoot()
        let folder = try ResultDirectory(url: try url(bucket: results.bucket, key: results.prefix),
                                     root: root, dataDirectory: try url(bucket: data.bucket, key: data.prefix),
                                     replace: replace)
        return ResultsPreparation { try folder.prepareForWriting() }
    }

    private func checkRoot() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PipelineError.rootMissing(path: root.path)
        }
    }

    public func read(bucket: String, key: String) throws -> Data {
        let file = try objectURL(bucket: bucket, key: key)
        do {
            return try Data(contentsOf: file)
        } catch {
            throw FileOperationError(operation: "read", path: file.path, error: error)
        }
    }

    public func write(_ data: Data, bucket: String, key: String) throws {
        let file = try objectURL(bucket: bucket, key: key)
        try FileSystem.createDirectories(file.deletingLastPathComponent())
        try AtomicFile.write(data, to: file)
    }

    public func remove(bucket: String, key: String) throws {
        let file = try objectURL(bucket: bucket, key: key)
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        try FileSystem.remove(file)
    }
}
