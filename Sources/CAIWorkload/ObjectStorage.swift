import Foundation

/// Where CAI's data and results live, addressed as CAI addresses them: a
/// bucket and a key. The pipeline reads partitions and writes rank JSONs,
/// `payload.json` and `combined_data.json` through this protocol only, so
/// the same code runs on local folders (`LocalStorage`) and on S3
/// (`S3Storage` in CAIWorkloadAWS).
///
/// Keys reaching a backend are built from validated `StorageLocation`s and
/// partition or rank names; backends check them again, since a rank job or an
/// event may come from elsewhere.
public protocol ObjectStorage: Sendable {
    /// Names of the objects directly below `prefix` (one level, as S3 lists
    /// with a delimiter), in no particular order.
    func listNames(bucket: String, prefix: String) throws -> [String]
    /// Opens the partition object `key`, without copying it once read.
    func openPartition(bucket: String, key: String) throws -> StoredPartition
    /// The whole object.
    func read(bucket: String, key: String) throws -> Data
    /// Writes the object whole: a reader sees the old object or the new one,
    /// never part of either.
    func write(_ data: Data, bucket: String, key: String) throws
    /// Removes the object if it exists.
    func remove(bucket: String, key: String) throws
    /// Checks, without reading it whole, that the partition object exists
    /// and looks usable (locally: its header; on S3: its size).
    func checkPartition(bucket: String, key: String) throws
    /// Checks that a run may write its results to `results` (apart from
    /// `data`; empty unless `replace`) and returns the step that readies it,
    /// run right before the first write.
    func prepareResults(_ results: StorageLocation, data: StorageLocation, replace: Bool) throws -> ResultsPreparation
    /// Where this storage is, for messages: `local folder /data` or `S3 at https://...`.
    var description: String { get }
    /// How `bucket/key` is written in messages (`/root/bucket/key`, `s3://bucket/key`).
    func displayName(bucket: String, key: String) -> String
}

/// What readies a result location for writing (removing an earlier run's
/// files with `replace`), run after every check has passed.
public struct ResultsPreparation: Sendable {
    private let body: @Sendable () throws -> Void

    public init(_ body: @escaping @Sendable () throws -> Void) {
        self.body = body
    }

    /// Nothing to do (object stores overwrite each key whole).
    public static let none = ResultsPreparation {}

    public func run() throws {
        try body()
    }
}

/// A partition read from storage, with what reading it cost.
public struct StoredPartition: @unchecked Sendable {
    public let partition: Partition
    /// Bytes transferred (S3) or mapped (local) for the object.
    public let bytes: Int
    /// Wall seconds spent fetching the object (S3: the whole download; local:
    /// opening and mapping, the pages are read on first use).
    public let seconds: Double

    public init(partition: Partition, bytes: Int, seconds: Double) {
        self.partition = partition
        self.bytes = bytes
        self.seconds = seconds
    }
}

/// Key arithmetic shared by every backend.
public enum ObjectKey {
    /// `prefix/name`, or `name` at the bucket's top level.
    public static func join(_ prefix: String, _ name: String) -> String {
        prefix.isEmpty ? name : prefix + "/" + name
    }

    /// Checks that `key` is a safe object key (the `StorageLocation` rules:
    /// relative, no `.` or `..` segment, no empty segment, no backslash or
    /// control character); the error names `source` and the key.
    public static func validate(_ key: String, source: String) throws(PayloadError) {
        guard !key.isEmpty else {
            throw PayloadError.invalidLocation(path: source, key: "key", value: key, reason: "an object key must not be empty")
        }
        let normalized = try StorageLocation.normalizedPrefix(key, key: "key", source: source)
        guard normalized == key else {
            throw PayloadError.invalidLocation(path: source, key: "key", value: key,
                                               reason: "an object key must not end with /")
        }
    }
}
