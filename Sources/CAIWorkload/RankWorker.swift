import AstroMAE
import CosmicSupport
import Foundation

/// The body of one rank, run inside its own process (`cosmicbench rank`):
/// load the model, map the files, run every batch, write `{rank}.json`.
public enum RankWorker {
    /// CAI's throughput unit: bits of model input per sample.
    public static let bitsPerSample = SampleFormat.bitsPerSample

    public static func run(_ job: RankJob) throws -> RankResult {
        let start = MonotonicClock.now()

        // The checkpoint is only needed to build the model; it is released
        // right after, so the rank's peak memory holds one copy of the weights.
        let weights = try job.weightsPath.map { try ModelWeights.load(contentsOf: URL(fileURLWithPath: $0)) }
            ?? ModelWeights.seeded(job.seed)
        let weightsSource = weights.source
        let weightsDigest = weights.sha256
        let model = AstroMAEModel(weights: weights)
        let session = InferenceSession(model: model, microBatch: min(job.batchSize, job.microBatch),
                                       threads: job.threads, parallelism: job.parallelism)
        let modelLoaded = MonotonicClock.now()

        let partitions = try job.files.map { try Partition.open(URL(fileURLWithPath: $0)) }
        let dataLoaded = MonotonicClock.now()

        var batches = 0, samples = 0, bytes = 0
        var predictions: [[Float]] = []
        var labels: [Float] = [], predicted: [Float] = []
        let hasLabels = partitions.allSatisfy { $0.redshift != nil }
        var output = [Float](repeating: 0, count: job.batchSize)
        // The partitions own the mapped memory the pointers below read.
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
                    batches += 1
                    samples += n
                    bytes += n * (SampleFormat.imageBytesPerSample + SampleFormat.magnitudeBytesPerSample)
                    first += n
                }
                if hasLabels, let z = partition.redshift {
                    labels.append(contentsOf: z)
                    predicted.append(contentsOf: filePredictions)
                }
                predictions.append(filePredictions)
            }
        }
        let inferenceDone = MonotonicClock.now()
        let inference = inferenceDone - dataLoaded

        if job.savePredictions {
            try writePredictions(job: job, partitions: partitions, predictions: predictions)
        }
        let accuracy = hasLabels ? try AccuracyMetrics.compute(predictions: predicted, redshifts: labels) : nil
        let peak = Double(ProcessStats.peakResidentBytes()) / 1_048_576
        let perSecond = inference > 0 ? Double(samples) / inference : 0
        let result = RankResult(
            caiTotalCPUTime: inference, caiTotalCPUMemory: peak,
            caiExecutionTime: batches > 0 ? inference / Double(batches) : 0,
            numBatches: batches, batchSize: job.batchSize, device: "cpu",
            throughputBPS: perSecond * Double(SampleFormat.bitsPerSample), samplePerSec: perSecond,
            resultPath: job.resultPath, dataPath: job.files,
            rank: job.rank, worldSize: job.worldSize, status: partitions.isEmpty ? .idle : .ok,
            exitStatus: 0, stderrTail: nil, files: job.files.map { URL(fileURLWithPath: $0).lastPathComponent },
            samples: samples, modelLoadSeconds: modelLoaded - start, dataLoadSeconds: dataLoaded - modelLoaded,
            inferenceSeconds: inference, processSeconds: MonotonicClock.now() - start,
            cpuSeconds: ProcessStats.cpuSeconds(), peakRSSMB: peak, bytesRead: bytes,
            blasCore: BLAS.coreName, threads: job.threads, blasThreads: BLAS.threads, weights: weightsSource, weightsSHA256: weightsDigest, accuracy: accuracy)
        try AtomicFile.write(try RankResult.encoder.encode(result), to: job.resultURL)
        return result
    }

    private static func writePredictions(job: RankJob, partitions: [Partition], predictions: [[Float]]) throws {
        var text = "file,index,redshift,prediction\n"
        for (partition, values) in zip(partitions, predictions) {
            let name = partition.url.lastPathComponent
            for (i, p) in values.enumerated() {
                let z = partition.redshift.map { "\($0[i])" } ?? ""
                text += "\(name),\(i),\(z),\(p)\n"
            }
        }
        try AtomicFile.write(text, to: job.predictionsURL)
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
