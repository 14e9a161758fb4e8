import AstroMAE
import CosmicSupport
import Foundation

/// Everything one rank process needs: its files, the batch size and where
/// to write `{rank}.json`. Passed to the child as a JSON file.
public struct RankJob: Codable, Equatable, Sendable {
    public var rank: Int
    public var worldSize: Int
    /// Absolute paths of the partition files, in the order CAI's data_map gives.
    public var files: [String]
    public var batchSize: Int
    /// Samples the engine runs per pass inside a batch (its workspace size);
    /// 64 measured fastest here and bounds activation memory at any batch size.
    public var microBatch: Int
    /// Directory that receives `{rank}.json` (and predictions, stderr log).
    public var resultDirectory: String
    /// The payload's `result_path`, echoed into the rank JSON as CAI does.
    public var resultPath: String
    /// Threads inside the rank.
    public var threads: Int
    /// How those threads are used (batch split or BLAS-internal).
    public var parallelism: Parallelism
    /// Safetensors checkpoint, or nil for seeded weights.
    public var weightsPath: String?
    public var seed: UInt64
    /// Write `{rank}.predictions.csv`.
    public var savePredictions: Bool
    /// Release each batch's input pages after use so the resident set holds
    /// about one batch of data, as a streaming Lambda would.
    public var releaseConsumedInput: Bool

    public init(rank: Int, worldSize: Int, files: [String], batchSize: Int, resultDirectory: String,
                resultPath: String, threads: Int = 1, weightsPath: String? = nil, seed: UInt64 = 20_250_108,
                savePredictions: Bool = false, releaseConsumedInput: Bool = true,
                microBatch: Int = RankJob.defaultMicroBatch, parallelism: Parallelism = RankJob.defaultParallelism) {
        self.rank = rank
        self.worldSize = worldSize
        self.files = files
        self.batchSize = batchSize
        self.resultDirectory = resultDirectory
        self.resultPath = resultPath
        self.threads = threads
        self.weightsPath = weightsPath
        self.seed = seed
        self.savePredictions = savePredictions
        self.releaseConsumedInput = releaseConsumedInput
        self.microBatch = microBatch
        self.parallelism = parallelism
    }

    /// Reads a job file written by `RankLauncher`; errors name the file and
    /// say what is wrong in plain words.
    public static func load(contentsOf url: URL) throws -> RankJob {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FileOperationError(operation: "read rank job", path: url.path, error: error)
        }
        do { return try JSONDecoder().decode(RankJob.self, from: data) } catch {
            throw FileOperationError(operation: "use rank job", path: url.path,
                                     reason: "not a rank job (\(describeDecodingError(error)))")
        }
    }

    /// The engine's default pass size.
    public static let defaultMicroBatch = 64
    /// How a rank uses several threads: split the batch over single-threaded
    /// BLAS workers, so the element-wise stages run in parallel too.
    public static let defaultParallelism = Parallelism.splitBatch

    /// Where this rank's JSON goes.
    public var resultURL: URL { URL(fileURLWithPath: resultDirectory).appendingPathComponent("\(rank).json") }
    public var predictionsURL: URL {
        URL(fileURLWithPath: resultDirectory).appendingPathComponent("\(rank).predictions.csv")
    }
}
