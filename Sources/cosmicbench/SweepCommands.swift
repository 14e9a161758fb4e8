import ArgumentParser
import AstroMAE
import CAIWorkload
import CosmicSupport
import Foundation
import SweepAWS
import SweepKit

/// `cosmicbench sweep`: measure a grid of configurations and model the fleet.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a parameter sweep: measure ranks locally (or on the deployed stack with --executor aws), model the Lambda fleet, write results/<name>/.",
        discussion: """
            SPEC is a TOML sweep spec (default sweeps/quick.toml). List options take comma-separated values \
            (--partitions 25MB,100MB) and replace that list in every grid of the spec. Results are appended \
            atomically after each configuration; re-running the same command skips what is done. \
            Synthetic partitions are generated into the cache directory (default .cosmicbench-cache/) and reused.
            """)

    @Argument(help: "Sweep spec (TOML).")
    var spec: String = "sweeps/quick.toml"

    @Option(name: .long, parsing: .singleValue, help: "Partition sizes, e.g. 25MB,100MB.")
    var partitions: [String] = []

    @Option(name: .long, parsing: .singleValue, help: "Batch sizes, e.g. 32,512.")
    var batchSizes: [String] = []

    @Option(name: .long, parsing: .singleValue, help: "Data sizes of the CAI dataset, e.g. 1GB,12.6GB.")
    var dataSizes: [String] = []

    @Option(name: .long, parsing: .singleValue, help: "CAI file limits (full files), e.g. 4,8.")
    var fileLimits: [String] = []

    @Option(name: .long, parsing: .singleValue, help: "Threads per rank, e.g. 1,2: each rank splits its batch over that many workers, each with a single-threaded BLAS (1 vs 2 measures parallel efficiency).")
    var threads: [String] = []

    @Option(name: .long, parsing: .singleValue, help: "Lambda memory to model: auto, power-tuning (128 … 10240 MB) or MB, e.g. auto,power-tuning.")
    var memory: [String] = []

    @Option(name: .long, help: "Timed repetitions of each measured rank.")
    var repetitions: Int?

    @Option(name: .long, help: "Untimed warm-up runs before the timed ones.")
    var warmup: Int?

    @Option(name: .long, help: "Ranks measured per configuration: a number or 'all'.")
    var measure: String?

    @Option(name: .long, help: "Rank processes at once (keep 1 on 2 cores for clean timings).")
    var concurrency: Int?

    @Option(name: .long, help: "Sweep name (default: the spec's).")
    var name: String?

    @Option(name: .long, help: "Output directory (default results/<name>).")
    var out: String?

    @Option(name: .long, help: "Existing partitions: DIR/<partition>/1.pt, 2.pt, ... (or .safetensors).")
    var data: String?

    @Option(name: .long, help: "Cache for generated partitions and rank scratch files.")
    var cache: String?

    @Option(name: .long, help: "Seconds after which a rank is killed.")
    var timeout: Double?

    @Flag(name: .long, help: "Print the configurations, report everything a real run would refuse (missing data, weights, unwritable folders) and exit: 1 on a problem.")
    var dryRun = false

    @OptionGroup(title: "On AWS") var aws: AWSSweepArguments

    @Flag(name: .long, help: "Do not write REPORT.md after the sweep.")
    var noReport = false

    func run() throws {
        var sweep = try SweepSpec(contentsOf: URL(fileURLWithPath: spec))
        var overrides = SweepOverrides()
        overrides.partitions = partitions.isEmpty ? nil : partitions
        overrides.batchSizes = batchSizes.isEmpty ? nil : batchSizes
        overrides.dataSizes = dataSizes.isEmpty ? nil : dataSizes
        overrides.fileLimits = fileLimits.isEmpty ? nil : fileLimits
        overrides.threads = threads.isEmpty ? nil : threads
        overrides.memory = memory.isEmpty ? nil : memory
        overrides.repetitions = repetitions
        overrides.warmup = warmup
        overrides.measure = measure
        overrides.concurrency = concurrency
        overrides.name = name
        overrides.outputDirectory = out
        overrides.dataDirectory = data
        overrides.cacheDirectory = cache
        overrides.timeoutSeconds = timeout
        try sweep.apply(overrides)

        let target = try aws.target()
        if dryRun {
            print("sweep \(sweep.name) → \(sweep.outputDirectory): \(sweep.configurations.count) configuration(s), "
                + "\(sweep.repetitions) repetition(s), measure \(sweep.measure)")
            let memory = SweepPreflight.memoryDescription(sweep.lambda.memory)
            if let target {
                print("  on AWS stack \(target.stack): every rank of each configuration, Lambda memory \(memory)")
            }
            for c in sweep.configurations {
                let ranks = target != nil ? "all"
                    : c.measuredRanks(measure: sweep.measure, includeRemainder: sweep.measureRemainder)
                        .map(String.init).joined(separator: ",")
                print("  \(c.id): world size \(c.worldSize), measured ranks \(ranks), Lambda memory \(memory)")
            }
            let problems = SweepPreflight(spec: sweep, remote: target != nil, fixtures: Verifier.defaultFixtures())
                .problems()
            if target == nil, problems.isEmpty {
                let runner = SweepRunner(spec: sweep, executor: ClosureRankExecutor { _ in [] },
                                         verifier: FixtureVerifier(), partitions: Self.partitions(sweep, onGenerate: nil))
                let work = try runner.plannedWork()
                print("  plan: \(work.measurements) rank run(s) (\(work.samples) samples) for \(work.configurations) "
                    + "configuration(s); \(work.reused) row(s) filled from measurements of the same work")
            }
            guard problems.isEmpty else {
                throw CommandFailure("\(sweep.sourcePath): a real run would refuse \(problems.count) problem(s):\n"
                    + problems.map { "  - \($0)" }.joined(separator: "\n"))
            }
            print("no problems found: a real run would start")
            return
        }

        let progress = SweepProgressBar()
        // Not a terminal (CI logs): one line per generated file and per finished measurement, with elapsed time and ETA.
        let lines = isatty(1) == 0
        let provider = Self.partitions(sweep) { partition, file, samples in
            progress.handle(.generating(partition: partition.rawValue, file: file, samples: samples))
            if lines {
                print("  generating \(partition.rawValue) file \(file) (\(samples) samples)")
                fflush(stdout)
            }
        }
        let work = SweepRunner.defaultWorkDirectory(sweep)
        let storage = SweepRunner.storage(partitions: provider, workDirectory: work)
        InterruptFlag.install()
        var launcher = RankLauncher(
            storage: storage,
            storageConfiguration: .local(root: storage.root.path, mounts: storage.mounts.mapValues(\.path)),
            scratchDirectory: work.appendingPathComponent("logs"), concurrency: sweep.concurrency,
            timeoutSeconds: sweep.timeoutSeconds)
        launcher.isInterrupted = { InterruptFlag.isSet }
        let runner = SweepRunner(spec: sweep, executor: launcher, verifier: FixtureVerifier(), partitions: provider,
                                 workDirectory: work, storage: storage)
        let weightsDigest = try sweep.weights.map { try ModelWeights.load(contentsOf: URL(fileURLWithPath: $0)).sha256 } ?? nil
        runner.environment = { EnvironmentInfo.collect(weightsSHA256: weightsDigest) }
        var session: AWSSweepSession?
        if let target {
            let opened = try AWSSweepSession.open(target: target)
            opened.measurer.log = { line in
                progress.finish()
                print(line)
            }
            runner.remote = opened.measurer
            session = opened
        }
        defer { session?.shutdown() }
        let started = MonotonicClock.now()
        runner.onEvent = { event in
            progress.handle(event)
            guard lines else { return }
            let elapsed = SweepProgressBar.clock(MonotonicClock.now() - started)
            switch event {
            case let .planned(measurements, reused, configurations):
                print("\(measurements) rank run(s) to measure for \(configurations) configuration(s); "
                    + "\(reused) row(s) reused from measurements of the same work")
            case let .measurementFinished(done, total, label, seconds, eta):
                print("  [\(done)/\(total)] \(label): \(NumberFormat.trimmed(seconds, 1)) s, elapsed \(elapsed), ETA "
                    + (eta.map { SweepProgressBar.clock($0) } ?? "--:--"))
            case let .repetitionFinished(id, number, of, eta):
                print("  \(id) repetition \(number)/\(of) done, elapsed \(elapsed), ETA "
                    + (eta.map { SweepProgressBar.clock($0) } ?? "--:--"))
            case let .configurationFinished(index, total, id, failure):
                print("[\(index)/\(total)] \(id): " + (failure.isEmpty ? "ok" : "FAILED RANKS: \(failure)")
                    + ", elapsed \(elapsed)")
            default:
                break
            }
            fflush(stdout)  // a log follows the sweep as it goes, not when the pipe's buffer fills
        }
        let outcome: SweepOutcome
        do {
            outcome = try runner.run()
        } catch {
            progress.finish()
            if Self.isInterruption(error) {
                FileHandle.standardError.write(Data("\(sweep.name): \(error)\n".utf8))
                throw ExitCode(130)
            }
            throw error
        }
        progress.finish()
        print("\(sweep.name): \(outcome.summaryLine)")
        if !noReport, FileManager.default.fileExists(atPath: outcome.files.summary.path) {
            try Report.generate(directory: outcome.files.directory)
            print("wrote \(outcome.files.report.path)")
        }
        if !outcome.failures.isEmpty {
            throw CommandFailure("\(sweep.name): \(outcome.failures.count) configuration(s) had failed ranks: "
                + outcome.failures.map { "\($0.id): \($0.reason)" }.joined(separator: "; "))
        }
    }
}

extension Sweep {
    /// The spec's partitions: its `data` folder, else generated ones in the cache.
    static func partitions(_ sweep: SweepSpec,
                           onGenerate: ((PartitionSize, Int, Int) -> Void)?) -> PartitionProviding {
        if let directory = sweep.dataDirectory { return DirectoryPartitions(directory: URL(fileURLWithPath: directory)) }
        return SyntheticPartitions(cacheDirectory: URL(fileURLWithPath: sweep.cacheDirectory), seed: sweep.dataSeed,
                                   onGenerate: onGenerate)
    }

    /// Ctrl-C, locally or while polling AWS: the sweep said how to resume.
    static func isInterruption(_ error: Error) -> Bool {
        if case .interrupted? = error as? SweepError { return true }
        if case .interrupted? = error as? AWSSweepError { return true }
        return false
    }
}

/// `cosmicbench report`: rebuild REPORT.md and plots from a results directory.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Regenerate REPORT.md and plots/*.svg of a sweep from its CSV files (runs nothing).")

    @Argument(help: "Sweep results directory, e.g. results/quick.")
    var directory: String

    func run() throws {
        let written = try Report.generate(directory: URL(fileURLWithPath: directory))
        for url in written { print("wrote \(url.path)") }
    }
}

/// `cosmicbench cost`: the paper's cost formula.
struct Cost: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cost of a Lambda fleet by the CAI paper's formula: requests × seconds × GB × $/GB-s.")

    @Option(name: .long, help: "Lambda invocations (ranks).")
    var requests: Int

    @Option(name: .long, help: "Seconds per invocation.")
    var duration: Double

    @Option(name: .long, help: "Memory per invocation: 1769 (MB), 1782.9MB or 1.73GB (GB = 1,024 MB).")
    var memory: String

    @Option(name: .long, help: "Dollars per GB-second (default the paper's $0.00001667).")
    var price: Double?

    func run() throws {
        let quote = try price.map { try CostQuote(requests: requests, durationSeconds: duration, memory: memory,
                                                  pricePerGBSecond: $0) }
            ?? CostQuote(requests: requests, durationSeconds: duration, memory: memory)
        print(quote.rendered)
    }
}

/// `cosmicbench compare`: a regression gate between two sweeps.
extension SweepComparison.MetricKind: ExpressibleByArgument {}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two sweep result directories; exit 1 on a regression beyond tolerance.",
        discussion: "Per configuration in both: median rank inference time and peak RSS (up = worse) and rank samples/s (down = worse). Improvements are reported but do not fail.")

    @Argument(help: "Baseline results directory (or its summary.csv).")
    var base: String

    @Argument(help: "New results directory (or its summary.csv).")
    var new: String

    @Option(name: .long, help: "Relative tolerance for every metric (0.15 = 15 %).")
    var tolerance: Double = 0.15

    @Option(name: .long, help: "Tolerance for inference time (default --tolerance).")
    var timeTolerance: Double?

    @Option(name: .long, help: "Tolerance for samples/s (default --tolerance).")
    var throughputTolerance: Double?

    @Option(name: .long, help: "Tolerance for peak RSS (default --tolerance).")
    var memoryTolerance: Double?

    @Option(name: .long, help: ArgumentHelp(
        "Metric to check: time, throughput or memory (repeatable; default all three).",
        discussion: "Timings of runs on different days of a shared machine differ by more than code changes do; gate them with ratios measured in one run instead and check only memory here."))
    var metric: [SweepComparison.MetricKind] = []

    func validate() throws {
        for (flag, value) in [("--tolerance", tolerance), ("--time-tolerance", timeTolerance ?? 0),
                              ("--throughput-tolerance", throughputTolerance ?? 0),
                              ("--memory-tolerance", memoryTolerance ?? 0)] where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(flag) must be a non-negative number, got \(value)")
        }
    }

    func run() throws {
        let metrics = SweepComparison.metrics(tolerance: tolerance, timeTolerance: timeTolerance,
                                              throughputTolerance: throughputTolerance, memoryTolerance: memoryTolerance,
                                              kinds: metric.isEmpty ? Set(SweepComparison.MetricKind.allCases) : Set(metric))
        let result = try SweepComparison.compare(base: URL(fileURLWithPath: base), new: URL(fileURLWithPath: new),
                                                 metrics: metrics)
        print(result.markdown, terminator: "")
        if result.nothingCompared {
            throw CommandFailure("nothing compared: \(base) and \(new) have no configuration with figures in common")
        }
        if result.hasRegression { throw ExitCode(1) }
    }
}
