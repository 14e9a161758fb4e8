import CosmicSupport
import Foundation

/// Forward-pass throughput on synthetic inputs: the `bench` command and the
/// package benchmarks. Inference cost does not depend on pixel values, so
/// seeded uniform noise stands in for images here.
public enum ThroughputBenchmark {
    /// Seeded inputs: images uniform in [0, 1), magnitudes uniform in 14–24.
    public static func syntheticInputs(count: Int, seed: UInt64 = SeededWeights.defaultSeed)
        -> (images: [Float], magnitudes: [Double])
    {
        let s0 = seed ^ SeededWeights.fnv1a64("bench.inputs")
        let images = (0..<(count * Geometry.imageFloats)).map { Float(SeededWeights.uniform(s0, UInt64($0 + 1))) }
        let m0 = seed ^ SeededWeights.fnv1a64("bench.magnitudes")
        let magnitudes = (0..<(count * Geometry.magnitudes)).map { 14 + 10 * SeededWeights.uniform(m0, UInt64($0 + 1)) }
        return (images, magnitudes)
    }

    /// Times whole batches of `batch` samples for at least `seconds` (and at
    /// least 3 batches) after `warmup` untimed batches.
    public static func run(model: AstroMAEModel, batch: Int, seconds: Double, warmup: Int = 2,
                           workspace: Workspace? = nil) -> ThroughputResult {
        let ws = workspace ?? Workspace(capacity: batch)
        let (images, magnitudes) = syntheticInputs(count: batch)
        var output = [Float](repeating: 0, count: batch)
        var times: [Double] = []
        images.withUnsafeBufferPointer { im in
            magnitudes.withUnsafeBufferPointer { mg in
                output.withUnsafeMutableBufferPointer { out in
                    let destination = out.baseAddress!
                    let run = {
                        model.predict(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: batch,
                                      output: destination, workspace: ws)
                    }
                    for _ in 0..<warmup { run() }
                    let start = MonotonicClock.now()
                    while times.count < 3 || MonotonicClock.now() - start < seconds {
                        let t0 = MonotonicClock.now()
                        run()
                        times.append(MonotonicClock.now() - t0)
                    }
                }
            }
        }
        let sorted = times.sorted()
        let median = sorted[sorted.count / 2]
        let samplesPerSecond = Double(batch) / median
        return ThroughputResult(
            samplesPerSecond: samplesPerSecond,
            gflops: samplesPerSecond * AstroMAEModel.gflopPerSample,
            batch: batch, threads: BLAS.threads, blasCore: BLAS.coreName,
            peakRSSMB: Double(ProcessStats.peakResidentBytes()) / 1_048_576,
            batches: times.count, medianBatchSeconds: median, minBatchSeconds: sorted.first!,
            maxBatchSeconds: sorted.last!, totalSeconds: times.reduce(0, +),
            gflopPerSample: AstroMAEModel.gflopPerSample, weights: model.weightsSource)
    }
}

/// One throughput measurement; rates come from the median batch time.
public struct ThroughputResult: Codable, Sendable {
    public let samplesPerSecond: Double
    public let gflops: Double
    public let batch: Int
    public let threads: Int
    public let blasCore: String
    public let peakRSSMB: Double
    public let batches: Int
    public let medianBatchSeconds: Double
    public let minBatchSeconds: Double
    public let maxBatchSeconds: Double
    public let totalSeconds: Double
    public let gflopPerSample: Double
    public let weights: String

    enum CodingKeys: String, CodingKey {
        case samplesPerSecond = "samples_per_second", gflops, batch, threads, blasCore = "blas_core"
        case peakRSSMB = "peak_rss_mb", batches, medianBatchSeconds = "median_batch_seconds"
        case minBatchSeconds = "min_batch_seconds", maxBatchSeconds = "max_batch_seconds"
        case totalSeconds = "total_seconds", gflopPerSample = "gflop_per_sample", weights
    }
}
