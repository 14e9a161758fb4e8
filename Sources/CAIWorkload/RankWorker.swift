import AstroMAE
import CosmicSupport
import Foundation

/// The body of one rank, wherever it runs: load the model, read the
/// partitions from storage, run every batch, and write `{rank}.json` once.
///
/// The process that runs the rank measures it (wall seconds from `started`,
/// CPU from getrusage, peak RSS from VmHWM) and is the only writer of its
/// result; a launcher writes a result only for a rank that died without one.
public enum RankWorker {
    /// CAI's throughput unit: bits of model input per sample.
    public static let bitsPerSample = SampleFormat.bitsPerSample

    /// Where the rank runs, recorded in its JSON.
    public struct Host: Sendable {
        /// `local`, `s3`, `lambda`: how the rank ran and read its data.
        public var runtime: String
        /// Monotonic time the rank's clock starts from (process or invocation start).
        public var started: Double
        /// CPU seconds already used when the rank started (0 for a fresh process).
        public var cpuAtStart: Double
        public var lambdaMemoryMB: Int?
        public var coldStart: Bool?
        public var lambdaRequestID: String?

        public init(runtime: String, started: Double, cpuAtStart: Double = 0, lambdaMemoryMB: Int? = nil,
                    coldStart: Bool? = nil, lambdaRequestID: String? = nil) {
            self.runtime = runtime
            self.started = started
            self.cpuAtStart = cpuAtStart
            self.lambdaMemoryMB = lambdaMemoryMB
            self.coldStart = coldStart
            self.lambdaRequestID = lambdaRequestID
        }

        /// A rank that is a whole process: its clock starts when the kernel started it.
        public static func process(runtime: String) -> Host {
            Host(runtime: runtime, started: MonotonicClock.now() - (ProcessStats.secondsSinceProcessStart() ?? 0))
        }
    }

    /// CPUs this process may run on (Foundation reads the affinity mask).
    public static var cpusSeen: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Runs `job` with the weights loaded here, writes its result and returns it.
    public static func run(_ job: RankJob, storage: ObjectStorage, host: Host) throws -> RankResult {
        let loadStarted = MonotonicClock.now()
        let weights = try job.weightsPath.map { try ModelWeights.load(contentsOf: URL(fileURLWithPath: $0)) }
            ?? ModelWeights.seeded(job.seed)
        let model = AstroMAEModel(weights: weights)
        return try run(job, storage: storage, host: host, model: model, weightsDigest: weights.sha256,
                       loadStarted: loadStarted)
    }

    /// Runs `job` on an already built model (a warm Lambda keeps it);
    /// model load time counts from `loadStarted` (default: now).
    public static func run(_ job: RankJob, storage: ObjectStorage, host: Host, model: AstroMAEModel,
                           weightsDigest: String?, loadStarted: Double? = nil) throws -> RankResult {
        let loadStarted = loadStarted ?? MonotonicClock.now()
        let threads = job.threads > 0 ? job.threads : cpusSeen
        let session = InferenceSession(model: model, microBatch: min(job.batchSize, job.microBatch),
                                       threads: threads, parallelism: job.parallelism)
        let modelLoaded = MonotonicClock.now()

        var partitions: [Partition] = []
        var storageBytes = 0
        for key in job.dataKeys {
            let stored = try storage.openPartition(bucket: job.dataBucket, key: key)
            partitions.append(stored.partition)
            storageBytes += stored.bytes
        }
        let dataLoaded = MonotonicClock.now()
        let run = infer(partitions, job: job, session: session)
        let inference = MonotonicClock.now() - dataLoaded

        if job.savePredictions {
            try storage.write(Data(predictionsCSV(partitions: partitions, predictions: run.predictions).utf8),
                              bucket: job.resultBucket, key: job.predictionsKey)
        }
        let accuracy = run.labels.isEmpty ? nil
            : try AccuracyMetrics.compute(predictions: run.predicted, redshifts: run.labels)
        let peak = Double(ProcessStats.peakResidentBytes()) / 1_048_576
        let perSecond = inference > 0 ? Double(run.samples) / inference : 0
        let result = RankResult(
            caiTotalCPUTime: inference, caiTotalCPUMemory: peak,
            caiExecutionTime: run.batches > 0 ? inference / Double(run.batches) : 0,
            numBatches: run.batches, batchSize: job.batchSize, device: "cpu",
            throughputBPS: perSecond * Double(SampleFormat.bitsPerSample), samplePerSec: perSecond,
            resultPath: job.resultPath, dataPath: job.dataKeys,
            rank: job.rank, worldSize: job.worldSize, status: partitions.isEmpty ? .idle : .ok,
            exitStatus: 0, stderrTail: nil, files: job.files,
            samples: run.samples, modelLoadSeconds: modelLoaded - loadStarted, dataLoadSeconds: dataLoaded - modelLoaded,
            inferenceSeconds: inference, processSeconds: MonotonicClock.now() - host.started,
            cpuSeconds: ProcessStats.cpuSeconds() - host.cpuAtStart, peakRSSMB: peak, bytesRead: run.bytes,
            blasCore: BLAS.coreName, threads: threads, blasThreads: BLAS.threads, weights: model.weightsSource,
            weightsSHA256: weightsDigest, accuracy: accuracy, storageReadBytes: storageBytes, runtime: host.runtime,
            cpusSeen: cpusSeen, lambdaMemoryMB: host.lambdaMemoryMB, coldStart: host.coldStart,
            lambdaRequestID: host.lambdaRequestID)
        try write(result, of: job, to: storage)
        return result
    }

    /// Writes `{rank}.json` (the one write of a rank's result).
    public static func write(_ result: RankResult, of job: RankJob, to storage: ObjectStorage) throws {
        try storage.write(try RankResult.encoder.encode(result), bucket: job.resultBucket, key: job.resultKey)
    }

    private struct Inference {
        var batches = 0, samples = 0, bytes = 0
        var predictions: [[Float]] = []
        var labels: [Float] = [], predicted: [Float] = []
    }

    private static func infer(_ partitions: [Partition], job: RankJob, session: InferenceSession) -> Inference {
        var run = Inference()
        let hasLabels = !partitions.isEmpty && partitions.allSatisfy { $0.redshift != nil }
        var output = [Float](repeating: 0, count: job.batchSize)
        // The partitions own the memory the pointers below read.
        withExtendedLifetime(partitions) {
            for partition in partitions {
                var filePredictions = [Float](repeating: 0, count: partition.count)
                var first = 0
                while first < partition.count {
                    let n = min(job.batchSize, partition.count - first)
                    let images = partition.images.baseAddress! + first * Geometry.imageFloats
                    let magnitudes = partition.magnitudes.baseAddress! + first * Geometry.magnitudes
                    output.withUnsafeMutableBufferPointer { out in
                        session.predict(images: images, magnitudes: magnitudes, count: n, output: out.baseAddress!)
                    }
                    if job.releaseConsumedInput, partition.imagesAreFileMapped {
                        MappedPages.release(UnsafeRawPointer(images), bytes: n * Geometry.imageFloats * 4)
                    }
                    for i in 0..<n { filePredictions[first + i] = output[i] }
                    run.batches += 1
                    run.samples += n
                    run.bytes += n * (SampleFormat.imageBytesPerSample + SampleFormat.magnitudeBytesPerSample)
                    first += n
                }
                if hasLabels, let z = partition.redshift {
                    run.labels.append(contentsOf: z)
                    run.predicted.append(contentsOf: filePredictions)
                }
                run.predictions.append(filePredictions)
            }
        }
        return run
    }

    private static func predictionsCSV(partitions: [Partition], predictions: [[Float]]) -> String {
        var text = "file,index,redshift,prediction\n"
        for (partition, values) in zip(partitions, predictions) {
            for (i, p) in values.enumerated() {
                let z = partition.redshift.map { "\($0[i])" } ?? ""
                text += "\(partition.name),\(i),\(z),\(p)\n"
            }
        }
        return text
    }
}

extension RankResult {
    /// Stable JSON: pretty, sorted keys.
    public static var encoder: JSONEncoder { JSONFormat.encoder }
}

/// Gives memory-mapped input pages back to the kernel once a batch is done.
enum MappedPages {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Drops the whole pages inside [pointer, pointer + bytes) from the
    /// resident set. Only for read-only *file* mappings, where a page touched
    /// again is re-read from the file; on anonymous memory it would zero data.
    static func release(_ pointer: UnsafeRawPointer, bytes: Int) {
        let start = (Int(bitPattern: pointer) + pageSize - 1) / pageSize * pageSize
        let end = (Int(bitPattern: pointer) + bytes) / pageSize * pageSize
        guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        madvise(address, end - start, MADV_DONTNEED)
    }
}
