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
    public static func run(session: InferenceSession, batch: Int, seconds: Double, warmup: Int = 2,
                           measureRoofline: Bool = true) -> ThroughputResult {
        let (images, magnitudes) = syntheticInputs(count: batch)
        var output = [Float](repeating: 0, count: batch)
        var times: [Double] = []
        images.withUnsafeBufferPointer { im in
            magnitudes.withUnsafeBufferPointer { mg in
                output.withUnsafeMutableBufferPointer { out in
                    let destination = out.baseAddress!
                    let run = {
                        session.predict(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: batch,
                                        output: destination)
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
        let gflops = samplesPerSecond * AstroMAEModel.gflopPerSample
        let roofline = measureRoofline ? Roofline.sgemmGFLOPS(threads: session.threads) : nil
        return ThroughputResult(
            samplesPerSecond: samplesPerSecond, gflops: gflops,
            sgemmGFLOPS: roofline, rooflineFraction: roofline.map { gflops / $0 },
            batch: batch, microBatch: session.microBatch, threads: session.threads,
            parallelism: session.parallelism.rawValue, blasThreads: BLAS.threads, blasCore: BLAS.coreName,
            peakRSSMB: Double(ProcessStats.peakResidentBytes()) / 1_048_576,
            batches: times.count, medianBatchSeconds: median, minBatchSeconds: sorted.first!,
            maxBatchSeconds: sorted.last!, totalSeconds: times.reduce(0, +),
            gflopPerSample: AstroMAEModel.gflopPerSample, weights: session.model.weightsSource)
    }
}

/// One throughput measurement; rates come from the median batch time.
public struct ThroughputResult: Codable, Sendable {
    public let samplesPerSecond: Double
    public let gflops: Double
    /// cblas_sgemm GFLOP/s on a large square product, same threads, same run.
    public let sgemmGFLOPS: Double?
    /// Model GFLOP/s over sgemm GFLOP/s: how close to the BLAS roofline.
    public let rooflineFraction: Double?
    public let batch: Int
    public let microBatch: Int
    public let threads: Int
    public let parallelism: String
    public let blasThreads: Int
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
        case samplesPerSecond = "samples_per_second", gflops, sgemmGFLOPS = "sgemm_gflops"
        case rooflineFraction = "roofline_fraction", batch, microBatch = "micro_batch", threads, parallelism
        case blasThreads = "blas_threads", blasCore = "blas_core"
        case peakRSSMB = "peak_rss_mb", batches, medianBatchSeconds = "median_batch_seconds"
        case minBatchSeconds = "min_batch_seconds", maxBatchSeconds = "max_batch_seconds"
        case totalSeconds = "total_seconds", gflopPerSample = "gflop_per_sample", weights
    }
}

/// The matrix core's own speed: the ceiling the model's GFLOP/s is judged by.
public enum Roofline {
    /// Median GFLOP/s of `cblas_sgemm` on an n×n×n product with `threads`
    /// OpenBLAS threads (restored afterwards).
    public static func sgemmGFLOPS(threads: Int, n: Int = 1536, repetitions: Int = 7) -> Double {
        let saved = BLAS.threads
        defer { BLAS.threads = saved }
        BLAS.threads = threads
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var times: [Double] = []
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for _ in 0..<repetitions {
                        let t0 = MonotonicClock.now()
                        BLAS.gemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n,
                                  transB: true, c: c.baseAddress!, ldc: n)
                        times.append(MonotonicClock.now() - t0)
                    }
                }
            }
        }
        let median = times.sorted()[times.count / 2]
        return 2 * Double(n) * Double(n) * Double(n) / median / 1e9
    }
}
