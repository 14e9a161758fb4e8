import ArgumentParser
import AstroMAE
import CosmicSupport
import Foundation
import SweepKit

extension Parallelism: ExpressibleByArgument {}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the model against golden PyTorch fixtures, stage by stage.",
        discussion: "With no FIXTURE, uses ../shared/fixtures or the copy in Fixtures/golden. The seed and batch come from each fixture's __metadata__. Exits 1 if any stage is outside tolerance.")

    @Argument(help: "Fixture safetensors files.")
    var fixtures: [String] = []

    @Option(name: .long, help: "Checkpoint (safetensors or .pt) to use instead of seeding from the fixture's metadata.")
    var weights: String?

    @Option(name: .long, help: "Relative tolerance.")
    var rtol: Double = 1e-4

    @Option(name: .long, help: "Absolute tolerance (for values near zero).")
    var atol: Double = 1e-5

    @OptionGroup var threading: ThreadOptions

    @Flag(name: .long, help: "Print the reports as JSON.")
    var json = false

    func run() throws {
        threading.apply()
        let urls = fixtures.isEmpty ? Verifier.defaultFixtures() : fixtures.map { URL(fileURLWithPath: $0) }
        guard !urls.isEmpty else { throw VerificationError.noFixtures }
        let checkpoint = try weights.map { try ModelWeights.load(contentsOf: URL(fileURLWithPath: $0)) }
        var reports: [VerificationReport] = []
        for url in urls {
            let report = try Verifier.verify(fixture: url, weights: checkpoint,
                                             session: .init(threads: threading.threads ?? 1),
                                             tolerance: .init(relative: rtol, absolute: atol))
            reports.append(report)
            if !json { print(report.rendered()) }
        }
        if json { print(try prettyJSON(reports)) }
        if !reports.allSatisfy(\.passed) { throw ExitCode(1) }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure forward-pass throughput on synthetic inputs (after verifying accuracy).")

    @Option(name: .long, help: "Samples per forward pass.")
    var batch: Int = 128

    @Option(name: .long, help: "Seconds to time (after warm-up).")
    var seconds: Double = 5

    @Option(name: .long, help: "Untimed warm-up batches.")
    var warmup: Int = 2

    @Option(name: .long, help: "Samples per engine pass (workspace size); default: the batch.")
    var microBatch: Int?

    @Option(name: .long, help: "Threads (default 1).")
    var threads: Int = 1

    @Option(name: .long, help: "How threads are used: split (batch split, single-threaded BLAS) or blas (OpenBLAS threads).")
    var parallelism: Parallelism = .splitBatch

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: ArgumentHelp(
        "OpenBLAS kernel: env (keep OPENBLAS_CORETYPE as set), auto (let OpenBLAS detect the CPU), or a core name such as Haswell or SkylakeX.",
        discussion: "Anything but env restarts the process with the new setting; the accuracy check then runs with that kernel before anything is timed."))
    var blasCore: String = "env"

    @Flag(name: .long, help: "Also time each stage alone (per-sample ms and share of the forward pass).")
    var stages = false

    @Flag(name: .long, help: "Skip the sgemm roofline measurement.")
    var noRoofline = false

    @Flag(name: .long, help: "Skip the accuracy check (not recommended).")
    var skipVerify = false

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be non-negative, got \(warmup)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let microBatch, microBatch < 1 { throw ValidationError("--micro-batch must be at least 1, got \(microBatch)") }
    }

    func run() throws {
        try applyBLASCore(blasCore)
        let session = InferenceSession(model: AstroMAEModel(weights: try model.load()),
                                       microBatch: min(batch, microBatch ?? batch), threads: threads,
                                       parallelism: parallelism)
        if !skipVerify {
            for fixture in Verifier.defaultFixtures() {
                let report = try Verifier.verify(
                    fixture: fixture, session: .init(threads: threads, parallelism: session.parallelism))
                guard report.passed else {
                    print(report.rendered())
                    throw CommandFailure("accuracy check failed with OpenBLAS \(BLAS.coreName); refusing to time a wrong model")
                }
            }
        }
        let result = ThroughputBenchmark.run(session: session, batch: batch, seconds: seconds, warmup: warmup,
                                             measureRoofline: !noRoofline)
        if json {
            let timings = stages ? StageTiming.measure(model: session.model, count: session.microBatch) : nil
            print(try prettyJSON(BenchRecord(result: result, stages: timings, environment: .collect(weightsSHA256: session.model.weightsSHA256))))
        } else {
            print(String(format: "%.1f samples/s  %.1f GFLOP/s  batch %d (passes of %d)  %d thread(s) %@  OpenBLAS %@ × %d  peak RSS %.0f MB  (median of %d batches, %.3f s each)",
                         result.samplesPerSecond, result.gflops, result.batch, result.microBatch, result.threads,
                         result.parallelism, result.blasCore, result.blasThreads, result.peakRSSMB, result.batches,
                         result.medianBatchSeconds))
            if stages {
                for timing in StageTiming.measure(model: session.model, count: session.microBatch) {
                    print(String(format: "  %-14@ ×%-2d %7.3f ms/sample  %5.1f%%", timing.stage as NSString, timing.repeats,
                                 timing.secondsPerSample * 1000, timing.share * 100))
                }
            }
            if let sgemm = result.sgemmGFLOPS, let fraction = result.rooflineFraction {
                print(String(format: "sgemm roofline %.1f GFLOP/s (1536³, same threads) → model at %.0f%% of it", sgemm, fraction * 100))
            }
        }
    }
}

/// `bench --json`: the measurement's fields at the top level, plus the
/// per-stage timings (with `--stages`) and the machine it ran on.
struct BenchRecord: Encodable {
    let result: ThroughputResult
    let stages: [StageTiming]?
    let environment: EnvironmentInfo

    enum CodingKeys: String, CodingKey { case stages, environment }

    func encode(to encoder: Encoder) throws {
        try result.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(stages, forKey: .stages)
        try container.encode(environment, forKey: .environment)
    }
}

struct ExportWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-weights",
        abstract: "Write the seeded weights as a safetensors checkpoint with PyTorch state_dict names.")

    @Option(name: .long, help: "Seed of the generated weights.")
    var seed: UInt64 = SeededWeights.defaultSeed

    @Option(name: .long, help: "Output file.")
    var out: String

    func run() throws {
        let weights = ModelWeights.seeded(seed)
        try weights.write(to: URL(fileURLWithPath: out))
        print("wrote \(WeightManifest.all.count) tensors (\(WeightManifest.parameterCount) parameters, seed \(seed)) to \(out)")
    }
}

/// Restarts the process with the requested OpenBLAS kernel choice, once.
func applyBLASCore(_ choice: String) throws {
    let current = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
    let wanted: String?
    switch choice.lowercased() {
    case "env": return
    case "auto": wanted = nil
    default: wanted = choice
    }
    if Reexec.isReexecuted || current == wanted { return }
    try Reexec.restart(changing: ["OPENBLAS_CORETYPE": wanted])
}
