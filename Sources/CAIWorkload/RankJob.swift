import AstroMAE
import CosmicSupport
import Foundation

/// Everything one rank needs, wherever it runs (a local child process, a
/// Lambda, a test): which partition objects to read, how to run the model,
/// and where `{rank}.json` goes. Location-independent: data and results are
/// a bucket and keys of an `ObjectStorage`, never local paths, so the same
/// job runs on any backend. Jobs arrive from files and events, so `validate`
/// checks every name before anything is read or written.
public struct RankJob: Codable, Equatable, Sendable {
    public var rank: Int
    public var worldSize: Int
    /// Bucket holding the partitions (the payload's `data_bucket`).
    public var dataBucket: String
    /// Keys of the partition objects, in the order CAI's data_map gives.
    public var dataKeys: [String]
    /// Bucket receiving the result (the payload's `bucket`).
    public var resultBucket: String
    /// Key prefix receiving `{rank}.json` (the payload's `result_path`).
    public var resultPath: String
    public var batchSize: Int
    /// Samples the engine runs per pass inside a batch (its workspace size);
    /// 64 measured fastest here and bounds activation memory at any batch size.
    public var microBatch: Int
    /// Threads inside the rank; 0 = every CPU the rank sees.
    public var threads: Int
    /// How those threads are used (batch split or BLAS-internal).
    public var parallelism: Parallelism
    /// Safetensors or `.pt` checkpoint on the worker's own file system (part
    /// of its image, not of the data), or nil for seeded weights.
    public var weightsPath: String?
    public var seed: UInt64
    /// Also write `{rank}.predictions.csv`.
    public var savePredictions: Bool
    /// Release each batch's input pages after use so the resident set holds
    /// about one batch of data (file-mapped partitions only).
    public var releaseConsumedInput: Bool

    public init(rank: Int, worldSize: Int, dataBucket: String, dataKeys: [String], resultBucket: String,
                resultPath: String, batchSize: Int, threads: Int = 1, weightsPath: String? = nil,
                seed: UInt64 = 20_250_108, savePredictions: Bool = false, releaseConsumedInput: Bool = true,
                microBatch: Int = RankJob.defaultMicroBatch, parallelism: Parallelism = RankJob.defaultParallelism) {
        self.rank = rank
        self.worldSize = worldSize
        self.dataBucket = dataBucket
        self.dataKeys = dataKeys
        self.resultBucket = resultBucket
        self.resultPath = resultPath
        self.batchSize = batchSize
        self.threads = threads
        self.weightsPath = weightsPath
        self.seed = seed
        self.savePredictions = savePredictions
        self.releaseConsumedInput = releaseConsumedInput
        self.microBatch = microBatch
        self.parallelism = parallelism
    }

    /// The engine's default pass size.
    public static let defaultMicroBatch = 64
    /// How a rank uses several threads: split the batch over single-threaded
    /// BLAS workers, so the element-wise stages run in parallel too.
    public static let defaultParallelism = Parallelism.splitBatch

    /// The partition names (last key segment), as CAI's data_map lists them.
    public var files: [String] { dataKeys.map { String($0.split(separator: "/").last ?? Substring($0)) } }
    /// Key of this rank's JSON.
    public var resultKey: String { ObjectKey.join(resultPath, "\(rank).json") }
    /// Key of this rank's predictions CSV.
    public var predictionsKey: String { ObjectKey.join(resultPath, "\(rank).predictions.csv") }

    /// Throws, naming `source` and the field, unless every bucket and key is
    /// valid and the numbers make sense.
    public func validate(source: String) throws {
        var problems: [PayloadError] = []
        func check(_ body: () throws -> Void) {
            do { try body() } catch let error as PayloadError { problems.append(error) } catch {
                problems.append(.invalidJSON(path: source, reason: "\(error)"))
            }
        }
        check { _ = try StorageLocation(bucket: dataBucket, prefix: "", key: "data_keys", bucketKey: "data_bucket", source: source) }
        check { _ = try StorageLocation(bucket: resultBucket, prefix: resultPath, key: "result_path", bucketKey: "result_bucket", source: source) }
        for key in dataKeys { check { try ObjectKey.validate(key, source: source) } }
        for (name, value, minimum) in [("rank", rank, 0), ("world_size", worldSize, 1), ("batch_size", batchSize, 1),
                                       ("micro_batch", microBatch, 1), ("threads", threads, 0)] where value < minimum {
            problems.append(.outOfRange(path: source, key: name, value: "\(value)", requirement: "at least \(minimum)"))
        }
        if rank >= worldSize {
            problems.append(.outOfRange(path: source, key: "rank", value: "\(rank)", requirement: "below world_size \(worldSize)"))
        }
        if problems.count == 1 { throw problems[0] }
        if !problems.isEmpty { throw PayloadError.several(path: source, problems: problems) }
    }
}
