import AstroMAE
import Benchmark

/// The engine's suites: the sgemm core on the model's own shapes, each
/// stage of the network, and the whole forward pass. Every benchmark builds
/// its state in `setup`, so each runs in its own process (package-benchmark
/// runs one process per benchmark) holding only what it measures, and its
/// peak RSS means something. Single-threaded: the gate runs with
/// `OPENBLAS_NUM_THREADS=1` and the setups pin `BLAS.threads = 1` as well.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = GateConfiguration.make(maxDuration: .seconds(2), maxIterations: 40, mallocAllowance: 0)
    registerGEMMBenchmarks()
    registerStageBenchmarks()
    registerForwardBenchmarks()
}
