import CAIWorkload
import CosmicSupport
import Foundation

/// What happened during a sweep, for a progress display.
public enum SweepEvent: Sendable {
    /// A configuration starts; `done`/`total` count configurations, the ETA
    /// (seconds, nil until one has finished) comes from work done so far.
    case configurationStarted(index: Int, total: Int, id: String, etaSeconds: Double?)
    /// A configuration was already in the results and is skipped.
    case configurationSkipped(index: Int, total: Int, id: String)
    /// A partition file is being generated.
    case generating(partition: String, file: Int, samples: Int)
    /// A repetition (0 = warm-up) of the current configuration is running;
    /// the ETA counts the samples the remaining timed runs will process.
    case repetition(number: Int, of: Int, etaSeconds: Double?)
    /// A timed repetition of configuration `id` finished; the ETA (seconds)
    /// comes from the work done so far, nil when unknown.
    case repetitionFinished(id: String, number: Int, of: Int, etaSeconds: Double?)
    /// A configuration's runs are done; `failure` is empty when every run finished.
    case configurationFinished(index: Int, total: Int, id: String, failure: String)
}

/// The result files of a sweep directory.
public struct SweepFiles: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public var ranks: URL { directory.appendingPathComponent("ranks.csv") }
    public var summary: URL { directory.appendingPathComponent("summary.csv") }
    public var summaryJSON: URL { directory.appendingPathComponent("summary.json") }
    public var environment: URL { directory.appendingPathComponent("environment.json") }
    public var tables: URL { directory.appendingPathComponent("tables.md") }
    public var report: URL { directory.appendingPathComponent("REPORT.md") }
    /// Ranks measured on Lambda, per configuration and memory, beside the model's prediction.
    public var lambda: URL { directory.appendingPathComponent("lambda.csv") }
    public var lambdaJSON: URL { directory.appendingPathComponent("lambda.json") }
    public var plots: URL { directory.appendingPathComponent("plots") }
}

/// What a sweep run did.
public struct SweepOutcome: Sendable {
    /// Configurations measured in this run.
    public var ran: [String]
    /// Configurations already complete in the results, not re-run.
    public var skipped: [String]
    public var files: SweepFiles
    /// Configurations of this run with failed ranks: id and what failed.
    public var failures: [(id: String, reason: String)] = []

    /// One line for the end of a sweep: what was measured, and what failed and why.
    public var summaryLine: String {
        var line = "measured \(ran.count) configuration(s)"
        if !skipped.isEmpty { line += ", \(skipped.count) already done" }
        if let first = failures.first {
            line += "; \(failures.count) with failed ranks, e.g. \(first.id): \(first.reason)"
        }
        return line + "; results in \(files.directory.path)"
    }
}

/// Measures whole configurations somewhere other than local child processes
/// (ranks on Lambda behind Step Functions); the sweep keeps its files,
/// resume rules and summaries, and rows carry `source`.
public protocol RemoteMeasuring: AnyObject {
    var source: MeasurementSource { get }
    /// Every repetition of `c`: its rows for ranks.csv. `earlier` are the rows
    /// this source recorded for `c` before (it is being measured again because
    /// some failed), so attempts can be told apart.
    func measure(_ c: SweepConfiguration, spec: SweepSpec, partitions: PartitionProviding, earlier: [RankRecord],
                 onEvent: ((SweepEvent) -> Void)?) throws -> [RankRecord]
}

/// Runs a sweep: for each configuration, verify accuracy with the BLAS
/// threads about to be timed, provide the measured ranks' partition files,
/// run the ranks `repetitions` times, then rewrite the result files.
///
/// Resumable: after each configuration `ranks.csv` is rewritten whole through
/// a temporary file and a rename (CosmicSupport.AtomicFile), so an interrupt
/// leaves either the old or the new file, never a partial row; the summary
/// files are then rebuilt from `ranks.csv`. On a re-run, a configuration whose
/// id is in `ranks.csv` with every run `ok` is skipped; one with failed runs
/// is measured again and its old rows replaced, so no row is duplicated.
/// Summaries are rebuilt from all of `ranks.csv` with the current Lambda
/// settings, so changing only `[lambda]` and re-running re-models without
/// re-measuring.
public final class SweepRunner {
    public let spec: SweepSpec
    public var executor: RankExecutor
    public var verifier: AccuracyChecking
    public var partitions: PartitionProviding
    /// Where ranks write `{rank}.json` and `combined_data.json` (kept out of results).
    public var workDirectory: URL
    /// The sweep's buckets: `sweep-data` (the partitions) and `sweep-runs` (`workDirectory`).
    public var storage: ObjectStorage
    /// Collected once per run into environment.json.
    public var environment: () -> EnvironmentInfo = { EnvironmentInfo.collect() }
    public var onEvent: ((SweepEvent) -> Void)?
    /// Set to measure on AWS instead of with `executor`; rows of each source
    /// are resumed and replaced apart, so one folder holds both.
    public var remote: RemoteMeasuring?

    /// Where this run measures.
    public var source: MeasurementSource { remote?.source ?? .local }

    public init(spec: SweepSpec, executor: RankExecutor, verifier: AccuracyChecking, partitions: PartitionProviding,
                workDirectory: URL? = nil, storage: ObjectStorage? = nil) {
        let work = workDirectory ?? Self.defaultWorkDirectory(spec)
        self.spec = spec
        self.executor = executor
        self.verifier = verifier
        self.partitions = partitions
        self.workDirectory = work
        self.storage = storage ?? Self.storage(partitions: partitions, workDirectory: work)
    }

    /// Bucket names of a sweep's local storage.
    public static let dataBucket = "sweep-data", runsBucket = "sweep-runs"

    /// `<cache>/runs/<sweep name>`.
    public static func defaultWorkDirectory(_ spec: SweepSpec) -> URL {
        URL(fileURLWithPath: spec.cacheDirectory).appendingPathComponent("runs").appendingPathComponent(spec.name)
    }

    /// The folders a sweep's ranks read and write, mounted as its two buckets.
    public static func storage(partitions: PartitionProviding, workDirectory: URL) -> LocalStorage {
        LocalStorage(root: workDirectory, mounts: [dataBucket: partitions.dataDirectory, runsBucket: workDirectory])
    }

    public var files: SweepFiles { SweepFiles(directory: URL(fileURLWithPath: spec.outputDirectory)) }

    /// Runs every configuration not yet complete. Throws on the first
    /// configuration that cannot be verified, provided or run; everything
    /// finished before it stays in the results.
    @discardableResult
    public func run() throws -> SweepOutcome {
        let files = self.files
        var records: [RankRecord] = []
        if FileManager.default.fileExists(atPath: files.ranks.path) {
            records = try RankRecord.records(in: try CSVTable.read(files.ranks), path: files.ranks.path)
        }
        let configurations = spec.configurations
        let source = self.source
        let complete = Self.completeConfigurations(records.filter { $0.source == source })
        let pending = configurations.filter { !complete.contains($0.id) }
        // Heal a summary left behind by an interrupt between the two writes;
        // nothing is written (no folder of empty files) before a result exists.
        if !records.isEmpty { try writeOutputs(records: records) }
        var environmentWritten = false

        totalWork = pending.reduce(0) { $0 + Double(spec.repetitions) * repetitionWork($1) }
        doneWork = 0
        started = MonotonicClock.now()
        var outcome = SweepOutcome(ran: [], skipped: [], files: files)
        for (offset, configuration) in configurations.enumerated() {
            let index = offset + 1
            if complete.contains(configuration.id) {
                outcome.skipped.append(configuration.id)
                onEvent?(.configurationSkipped(index: index, total: configurations.count, id: configuration.id))
                continue
            }
            onEvent?(.configurationStarted(index: index, total: configurations.count, id: configuration.id,
                                           etaSeconds: eta))
            let measured: [RankRecord]
            if let remote {
                let earlier = records.filter { $0.source == source && $0.configuration.id == configuration.id }
                measured = try remote.measure(configuration, spec: spec, partitions: partitions, earlier: earlier,
                                              onEvent: onEvent)
                doneWork += Double(spec.repetitions) * repetitionWork(configuration)
            } else {
                measured = try measure(configuration)
            }
            records.removeAll { $0.configuration.id == configuration.id && $0.source == source }
            records += measured
            if !environmentWritten {
                try AtomicFile.write(try environment().encoded(), to: files.environment)
                environmentWritten = true
            }
            try writeOutputs(records: records)
            outcome.ran.append(configuration.id)
            let failed = measured.filter { $0.status != .ok }
            let failure = Summarizer.failureSummary(failed, of: measured.count)
            if !failed.isEmpty { outcome.failures.append((configuration.id, failure)) }
            onEvent?(.configurationFinished(index: index, total: configurations.count, id: configuration.id,
                                            failure: failure))
        }
        return outcome
    }

    private var totalWork = 0.0, doneWork = 0.0, started = 0.0

    /// Samples one timed repetition of `c` processes (the unit of the ETA).
    private func repetitionWork(_ c: SweepConfiguration) -> Double {
        Double(c.measuredRanks(measure: spec.measure, includeRemainder: spec.measureRemainder)
            .reduce(0) { $0 + c.samplesInFile($1 + 1) })
    }

    /// Seconds left at the rate of the work done so far, nil before any.
    private var eta: Double? {
        doneWork > 0 ? (MonotonicClock.now() - started) / doneWork * max(totalWork - doneWork, 0) : nil
    }

    /// Ids whose rows in `records` all finished ok.
    public static func completeConfigurations(_ records: [RankRecord]) -> Set<String> {
        var ok = Set<String>(), failed = Set<String>()
        for record in records {
            if record.status == .ok { ok.insert(record.configuration.id) } else { failed.insert(record.configuration.id) }
        }
        return ok.subtracting(failed)
    }

    /// Verifies, provides data, and runs the measured ranks of one
    /// configuration through the pipeline: CAI's data map over the
    /// configuration's prefix, the pipeline's jobs for the measured ranks,
    /// the executor, and the summarizer (`combined_data.json` per repetition).
    func measure(_ c: SweepConfiguration) throws -> [RankRecord] {
        let verification = try verifier.verify(threads: c.threads, configuration: c.id)
        let ranks = c.measuredRanks(measure: spec.measure, includeRemainder: spec.measureRemainder)
        let (prefix, names) = try partitions.prepare(c, ranks: ranks)
        let source = "sweep \(spec.name)"
        let dataMap: DataMap, data: StorageLocation
        do {
            data = try StorageLocation(bucket: Self.dataBucket, prefix: prefix, key: "data_prefix", source: source)
            dataMap = try DataMap(files: names, fileLimit: c.fileLimit, worldSize: c.worldSize, prefix: prefix)
        } catch {
            throw SweepError.dataUnavailable(configuration: c.id, reason: "\(error)")
        }
        let weightsPath = spec.weights.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let pipeline = Pipeline(storage: storage, executor: executor,
                                settings: .init(threads: c.threads, weightsPath: weightsPath, seed: spec.seed))
        func run(_ ranks: [Int], _ label: String) throws -> (jobs: [RankJob], results: [RankResult]) {
            let location = try StorageLocation(bucket: Self.runsBucket, prefix: "\(c.id)/\(label)", key: "result_path",
                                               source: source)
            let all = Pipeline.jobs(dataMap: dataMap, data: data, results: location, batchSize: c.batchSize,
                                    settings: pipeline.settings)
            let jobs = ranks.map { all[$0] }
            let start = MonotonicClock.now()
            let results = try executor.run(jobs)
            guard results.count == jobs.count else {
                throw SweepError.runnerMismatch(configuration: c.id, expected: jobs.count, got: results.count)
            }
            try pipeline.summarize(results, into: location, wallSeconds: MonotonicClock.now() - start)
            return (jobs, results)
        }
        if spec.warmup > 0, let first = ranks.first {
            for w in 1...spec.warmup {
                onEvent?(.repetition(number: 0, of: spec.repetitions, etaSeconds: eta))
                _ = try run([first], "warmup\(w)")
            }
        }
        var records: [RankRecord] = []
        for repetition in 1...spec.repetitions {
            onEvent?(.repetition(number: repetition, of: spec.repetitions, etaSeconds: eta))
            let (jobs, results) = try run(ranks, "rep\(repetition)")
            doneWork += repetitionWork(c)
            onEvent?(.repetitionFinished(id: c.id, number: repetition, of: spec.repetitions, etaSeconds: eta))
            for (job, result) in zip(jobs, results) {
                let plannedSamples = job.files.reduce(0) { total, name in
                    total + (PartitionStore.parse(name).map { c.samplesInFile($0.0) } ?? 0)
                }
                var record = RankRecord(
                    result: result, configuration: c, repetition: repetition, file: job.files.joined(separator: " "),
                    fileSamples: result.status == .ok ? result.samples : plannedSamples,
                    dataSource: partitions.sourceDescription, verification: verification)
                record.rank = job.rank
                records.append(record)
            }
        }
        return records
    }

    /// Rewrites ranks.csv, then from it summary.csv, summary.json and
    /// tables.md (local rows and the model), and lambda.csv/lambda.json when
    /// ranks ran on Lambda.
    func writeOutputs(records: [RankRecord]) throws {
        let files = self.files
        try RankRecord.table(records).write(to: files.ranks)
        let lambdaRows = try LambdaComparison.rows(records: records, lambda: spec.lambda)
        if !lambdaRows.isEmpty {
            try LambdaRow.table(lambdaRows).write(to: files.lambda)
            try AtomicFile.write(try LambdaRow.json(lambdaRows), to: files.lambdaJSON)
        }
        let summary = try Summarizer.summarize(records: records.filter { $0.source == .local }, lambda: spec.lambda)
        try SummaryRow.table(summary).write(to: files.summary)
        try AtomicFile.write(try SummaryRow.json(summary), to: files.summaryJSON)
        try AtomicFile.write(Tables.markdown(summary), to: files.tables)
    }
}

/// A one-line progress bar on a terminal (standard output is a TTY); silent otherwise.
public final class SweepProgressBar {
    public let enabled: Bool
    private var line = ""
    private var index = 0, total = 0, id = "", eta: Double?

    public init(enabled: Bool = isatty(1) == 1) {
        self.enabled = enabled
    }

    public func handle(_ event: SweepEvent) {
        guard enabled else { return }
        switch event {
        case let .configurationStarted(index, total, id, eta):
            (self.index, self.total, self.id, self.eta) = (index, total, id, eta)
            draw("verifying")
        case let .configurationSkipped(index, total, id):
            (self.index, self.total, self.id) = (index, total, id)
            draw("already done")
        case let .generating(partition, file, samples):
            draw("generating \(partition) file \(file) (\(samples) samples)")
        case let .repetition(number, of, eta):
            self.eta = eta
            draw(number == 0 ? "warm-up" : "repetition \(number)/\(of)")
        case let .repetitionFinished(_, number, of, eta):
            self.eta = eta
            draw("repetition \(number)/\(of) done")
        case let .configurationFinished(_, _, _, failure):
            draw(failure.isEmpty ? "done" : "FAILED RANKS: \(failure)")
        }
    }

    /// Ends the progress line.
    public func finish() {
        guard enabled, !line.isEmpty else { return }
        print("")
        line = ""
    }

    private func draw(_ status: String) {
        let width = 24
        let filled = total > 0 ? width * max(index - 1, 0) / total : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let etaText = eta.map { Self.clock($0) } ?? "--:--"
        let text = "[\(bar)] \(index)/\(total) \(id)  \(status)  ETA \(etaText)"
        let padding = max(0, line.count - text.count)
        print("\r" + text + String(repeating: " ", count: padding), terminator: "")
        fflush(stdout)
        line = text
    }

    /// "04:05" or "1:02:03".
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
