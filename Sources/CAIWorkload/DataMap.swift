import CosmicSupport
import Foundation

/// Why CAI's initializer could not map files onto ranks.
public enum DataMapError: Error, CustomStringConvertible, Equatable {
    case tooFewFiles(prefix: String, found: Int, fileLimit: Int)
    case invalidFileLimit(Int)
    case invalidWorldSize(Int)
    /// More ranks than `DataMap.maxWorldSize`.
    case tooManyRanks(worldSize: Int, limit: Int)

    public var description: String {
        switch self {
        case let .tooFewFiles(prefix, found, fileLimit):
            return "data prefix \(prefix) holds \(found) partition file\(found == 1 ? "" : "s") but file_limit is \(fileLimit)"
        case let .invalidFileLimit(value):
            return "file_limit is \(value) but must be >= 1"
        case let .invalidWorldSize(value):
            return "world_size is \(value) but must be >= 1"
        case let .tooManyRanks(worldSize, limit):
            return "world_size is \(worldSize) but at most \(limit) ranks are supported"
        }
    }
}

/// Which partition files each rank processes: CAI's initializer output.
///
/// Encoded as a bare JSON array (one array of file names per rank), the shape
/// of the `data_map` key CAI writes into `payload.json`.
public struct DataMap: Codable, Equatable, Sendable {
    /// Per rank, its file names relative to the data prefix; empty for an idle rank.
    public let assignments: [[String]]

    public init(assignments: [[String]]) {
        self.assignments = assignments
    }

    /// Most ranks a split may have. A rank is a child process locally and a
    /// Lambda invocation (a Distributed Map child) on AWS, whose concurrency
    /// tops out at 10,000; the split allocates per rank, so an unchecked
    /// `world_size` from a payload (1e12) made it allocate terabytes (input
    /// under Fuzz/Crashes/fuzz-lambda-event).
    public static let maxWorldSize = 10_000

    /// CAI's split: keep the first `fileLimit` of the numerically ordered
    /// `files`, then give rank r (0..<worldSize) ceil(filesLeft / ranksLeft)
    /// consecutive files; ranks after the files run out get none.
    /// `prefix` only names the directory in the error for too few files.
    public init(files: [String], fileLimit: Int, worldSize: Int, prefix: String) throws {
        guard fileLimit >= 1 else { throw DataMapError.invalidFileLimit(fileLimit) }
        guard worldSize >= 1 else { throw DataMapError.invalidWorldSize(worldSize) }
        guard worldSize <= Self.maxWorldSize else {
            throw DataMapError.tooManyRanks(worldSize: worldSize, limit: Self.maxWorldSize)
        }
        guard files.count >= fileLimit else {
            throw DataMapError.tooFewFiles(prefix: prefix, found: files.count, fileLimit: fileLimit)
        }
        let kept = Array(files.prefix(fileLimit))
        var assignments: [[String]] = []
        assignments.reserveCapacity(worldSize)
        var next = 0
        for rank in 0..<worldSize {
            let filesLeft = kept.count - next
            let ranksLeft = worldSize - rank
            let take = (filesLeft + ranksLeft - 1) / ranksLeft
            assignments.append(Array(kept[next..<(next + take)]))
            next += take
        }
        self.assignments = assignments
    }

    /// The split for a payload over the partition files found under its prefix.
    public init(files: [PartitionFile], payload: Payload, prefixDirectory: URL) throws {
        try self.init(files: files.map(\.name), fileLimit: payload.fileLimit,
                      worldSize: payload.worldSize, prefix: prefixDirectory.path)
    }

    /// Number of ranks, idle ones included.
    public var worldSize: Int { assignments.count }

    /// Ranks that received no file.
    public var idleRanks: [Int] { assignments.indices.filter { assignments[$0].isEmpty } }

    public init(from decoder: Decoder) throws {
        assignments = try decoder.singleValueContainer().decode([[String]].self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(assignments)
    }

    /// Atomically writes `payload.json` into `directory`: the payload as
    /// received plus its `data_map`, as CAI leaves it beside the results.
    @discardableResult
    public func writePayload(_ payload: Payload, into directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("payload.json")
        try AtomicFile.write(payload.encoded(with: self), to: url)
        return url
    }
}
