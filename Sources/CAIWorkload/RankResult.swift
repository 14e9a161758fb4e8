import Foundation

/// What one rank (one Lambda in CAI) did, as written to `{rank}.json`.
///
/// The first group of keys are CAI's own, so existing notebooks read the
/// file unchanged. CAI filled `total_cpu_time (seconds)` from a profiler's
/// CPU-time sum and `total_cpu_memory (MB)` from cumulative allocations;
/// CosmicBench fills them with the rank's measured inference wall time and
/// its true peak resident memory (VmHWM) instead, and also writes every
/// figure under an explicit name of its own.
public struct RankResult: Codable, Equatable, Sendable {
    // CAI's keys.
    /// Inference wall seconds (CAI: profiler CPU-time sum).
    public var caiTotalCPUTime: Double
    /// Peak RSS in MiB (CAI: sum of allocations).
    public var caiTotalCPUMemory: Double
    /// Inference wall seconds per batch.
    public var caiExecutionTime: Double
    public var numBatches: Int
    public var batchSize: Int
    public var device: String
    public var throughputBPS: Double
    public var samplePerSec: Double
    public var resultPath: String
    public var dataPath: [String]

    // CosmicBench's own keys.
    public var rank: Int
    public var worldSize: Int
    public var status: Status
    public var exitStatus: Int32?
    public var stderrTail: String?
    public var files: [String]
    public var samples: Int
    public var modelLoadSeconds: Double
    public var dataLoadSeconds: Double
    public var inferenceSeconds: Double
    /// Wall seconds of the whole rank process as the parent saw it (start to exit).
    public var processSeconds: Double
    /// User + system CPU seconds of the rank process (getrusage).
    public var cpuSeconds: Double
    /// Peak resident set (VmHWM) in MiB.
    public var peakRSSMB: Double
    public var bytesRead: Int
    public var blasCore: String
    /// Threads the rank used, and how many of them OpenBLAS ran per GEMM.
    public var threads: Int
    public var blasThreads: Int
    public var weights: String
    /// SHA-256 of the weights file, nil for seeded weights.
    public var weightsSHA256: String?
    public var accuracy: AccuracyMetrics?
    /// Bytes fetched from storage for the partitions (S3: downloaded; local: file sizes).
    public var storageReadBytes: Int?
    /// Where the rank ran and read from: `local` or `s3`, and `lambda` inside one.
    public var runtime: String?
    /// CPUs the rank saw (sched_getaffinity), whatever threads it used.
    public var cpusSeen: Int?
    /// The function's configured memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, MB), inside a Lambda.
    public var lambdaMemoryMB: Int?
    /// Inside a Lambda: true for the invocation that paid for the init.
    public var coldStart: Bool?
    /// Inside a Lambda: the invocation's request id, which matches its REPORT log line.
    public var lambdaRequestID: String? = nil

    public enum Status: String, Codable, Sendable { case ok, failed, timeout, idle }

    enum CodingKeys: String, CodingKey {
        case caiTotalCPUTime = "total_cpu_time (seconds)"
        case caiTotalCPUMemory = "total_cpu_memory (MB)"
        case caiExecutionTime = "execution_time (seconds/batch)"
        case numBatches = "num_batches", batchSize = "batch_size", device
        case throughputBPS = "throughput_bps", samplePerSec = "sample_persec"
        case resultPath = "result_path", dataPath = "data_path"
        case rank, worldSize = "world_size", status, exitStatus = "exit_status", stderrTail = "stderr_tail"
        case files, samples
        case modelLoadSeconds = "model_load_seconds", dataLoadSeconds = "data_load_seconds"
        case inferenceSeconds = "inference_seconds", processSeconds = "process_seconds"
        case cpuSeconds = "cpu_seconds", peakRSSMB = "peak_rss_mb", bytesRead = "bytes_read"
        case blasCore = "blas_core", threads, blasThreads = "blas_threads", weights
        case weightsSHA256 = "weights_sha256", accuracy
        case storageReadBytes = "storage_read_bytes", runtime, cpusSeen = "cpus_seen"
        case lambdaMemoryMB = "lambda_memory_mb", coldStart = "cold_start", lambdaRequestID = "lambda_request_id"
    }

    /// A rank that did not finish: every measured figure is zero and the
    /// reason is kept.
    public static func failed(_ job: RankJob, status: Status, exitStatus: Int32?, reason: String, processSeconds: Double)
        -> RankResult
    {
        failed(rank: job.rank, worldSize: job.worldSize, files: job.files, batchSize: job.batchSize,
               resultPath: job.resultPath, status: status, exitStatus: exitStatus, stderrTail: reason,
               processSeconds: processSeconds)
    }

    /// A rank that did not finish, from its parts.
    public static func failed(rank: Int, worldSize: Int, files: [String], batchSize: Int, resultPath: String,
                              status: Status, exitStatus: Int32?, stderrTail: String, processSeconds: Double)
        -> RankResult
    {
        RankResult(
            caiTotalCPUTime: 0, caiTotalCPUMemory: 0, caiExecutionTime: 0, numBatches: 0, batchSize: batchSize,
            device: "cpu", throughputBPS: 0, samplePerSec: 0, resultPath: resultPath, dataPath: files,
            rank: rank, worldSize: worldSize, status: status, exitStatus: exitStatus, stderrTail: stderrTail,
            files: files, samples: 0, modelLoadSeconds: 0, dataLoadSeconds: 0, inferenceSeconds: 0,
            processSeconds: processSeconds, cpuSeconds: 0, peakRSSMB: 0, bytesRead: 0, blasCore: "", threads: 0, blasThreads: 0,
            weights: "", weightsSHA256: nil, accuracy: nil, storageReadBytes: nil, runtime: nil, cpusSeen: nil,
            lambdaMemoryMB: nil, coldStart: nil)
    }
}
