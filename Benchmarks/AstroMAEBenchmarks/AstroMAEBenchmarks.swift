import AstroMAE
import Benchmark
import CosmicSupport

/// Forward-pass benchmarks at the batch sizes CAI users sweep. Threads come
/// from OpenBLAS's own setting: run with `OPENBLAS_NUM_THREADS=1` or `=2`.
let samplesPerSecond = BenchmarkMetric.custom("samples_per_second", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal, samplesPerSecond],
        warmupIterations: 1,
        maxDuration: .seconds(8),
        maxIterations: 30
    )
    let model = AstroMAEModel(weights: .seeded())

    for batch in [32, 128, 512] {
        let (images, magnitudes) = ThroughputBenchmark.syntheticInputs(count: batch)
        let workspace = Workspace(capacity: batch)
        var output = [Float](repeating: 0, count: batch)
        Benchmark("forward_b\(batch)") { benchmark in
            images.withUnsafeBufferPointer { im in
                magnitudes.withUnsafeBufferPointer { mg in
                    output.withUnsafeMutableBufferPointer { out in
                        for _ in benchmark.scaledIterations {
                            let start = MonotonicClock.now()
                            model.predict(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: batch,
                                          output: out.baseAddress!, workspace: workspace)
                            let seconds = MonotonicClock.now() - start
                            benchmark.measurement(samplesPerSecond, Int((Double(batch) / seconds).rounded()))
                        }
                    }
                }
            }
            blackHole(output)
        }
    }
}
