import BuildInfo
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
    /// The local plan: `measurements` rank runs to make, `reused` rows copied
    /// from measurements of the same work, over `configurations` configurations.
    case planned(measurements: Int, reused: Int, configurations: Int)
    /// A local rank run finished (`label` = "CONFIG rank N rep R", `seconds` =
    /// its process time); `done`/`total` count this run's measurements.
    case measurementFinished(done: Int, total: Int, label: String, seconds: Double, etaSeconds: Double?)
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
    /// One row per sweep run on this folder, with its wall time (SweepRunRecord).
    public var runs: URL { directory.appendingPathComponent("runs.csv") }
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

/// Runs a sweep. Locally (see `runLocal`): plan every rank run still
/// missing, each distinct piece of work once per repetition (MeasurementPlan),
/// verify accuracy with the threads about to be timed, generate the measured
/// files, run the ranks `concurrency` cores at a time and copy each
/// measurement into every configuration it serves. On AWS (`remote`): whole
/// configurations, one after another.
///
/// Resumable: after each group of rank runs (each configuration on AWS)
/// `ranks.csv` is rewritten whole through a temporary file and a rename
/// (CosmicSupport.AtomicFile), so an interrupt loses at most the ranks in
/// flight and leaves either the old or the new file, never a partial row; the
/// summary files are then rebuilt from `ranks.csv`. On a re-run only the
/// (configuration, rank, repetition) rows that are missing or failed are
/// measured again, their old rows replaced, so no row is duplicated.
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
    /// Polled after each group of local rank runs: true discards the group
    /// (its ranks were stopped) and ends the run with `SweepError.interrupted`.
    public var isInterrupted: () -> Bool = { InterruptFlag.isSet }

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
        // Heal a summary left behind by an interrupt between the two writes;
        // nothing is written (no folder of empty files) before a result exists.
        if !records.isEmpty { try writeOutputs(records: records) }
        environmentWritten = false
        let startedAt = SweepRunRecord.utcNow(), clock = MonotonicClock.now()
        tally = RunTally()
        func log(_ outcome: String) throws {
            guard FileManager.default.fileExists(atPath: files.ranks.path) else { return }
            try SweepRunRecord.append(SweepRunRecord(
                started: startedAt, wallSeconds: rounded(MonotonicClock.now() - clock, 3), outcome: outcome,
                source: source.rawValue, measuredRankRuns: tally.measured, reusedRows: tally.reused,
                configurationsMeasured: tally.configurations, configurationsSkipped: tally.skipped,
                concurrency: spec.concurrency, binary: BuildInfo.versionLine), to: files)
        }
        do {
            let outcome = try remote.map { try runRemote($0, records: records) } ?? runLocal(records: records)
            try log(outcome.failures.isEmpty ? "complete" : "complete with failed ranks")
            return outcome
        } catch {
            var reason = "\(error)".split(separator: "\n").first.map(String.init) ?? ""
            if case .interrupted? = error as? SweepError { reason = "interrupted" } else { reason = "failed: " + reason }
            try? log(reason)
            throw error
        }
    }

    /// What this run did, for runs.csv.
    struct RunTally {
        var measured = 0, reused = 0, configurations = 0, skipped = 0
    }

    var environmentWritten = false
    var tally = RunTally()

    /// Writes environment.json (once per run), then ranks.csv and, with
    /// `summaries`, every file built from it (re-modelling the whole sweep, so
    /// a local run does it once at the end rather than after every rank run;
    /// a run that dies in between leaves them stale and the next run heals them).
    func save(_ records: [RankRecord], summaries: Bool = true) throws {
        if !environmentWritten {
            try AtomicFile.write(try environment().encoded(), to: files.environment)
            environmentWritten = true
        }
        if summaries {
            try writeOutputs(records: records)
        } else {
            try RankRecord.table(records).write(to: files.ranks)
        }
    }

    /// Whole configurations measured by `remote`, one after another.
    private func runRemote(_ remote: RemoteMeasuring, records existing: [RankRecord]) throws -> SweepOutcome {
        var records = existing
        let configurations = spec.configurations
        let source = remote.source
        let complete = Self.completeConfigurations(records.filter { $0.source == source })
        let pending = configurations.filter { !complete.contains($0.id) }
        totalWork = pending.reduce(0) { $0 + Double(spec.repetitions) * repetitionWork($1) }
        doneWork = 0
        started = MonotonicClock.now()
        var outcome = SweepOutcome(ran: [], skipped: [], files: files)
        for (offset, configuration) in configurations.enumerated() {
            let index = offset + 1
            if complete.contains(configuration.id) {
                outcome.skipped.append(configuration.id)
                tally.skipped += 1
                onEvent?(.configurationSkipped(index: index, total: configurations.count, id: configuration.id))
                continue
            }
            onEvent?(.configurationStarted(index: index, total: configurations.count, id: configuration.id,
                                           etaSeconds: eta))
            let earlier = records.filter { $0.source == source && $0.configuration.id == configuration.id }
            let measured = try remote.measure(configuration, spec: spec, partitions: partitions, earlier: earlier,
                                              onEvent: onEvent)
            doneWork += Double(spec.repetitions) * repetitionWork(configuration)
            records.removeAll { $0.configuration.id == configuration.id && $0.source == source }
            records += measured
            try save(records)
            tally.measured += measured.count
            tally.configurations += 1
            outcome.ran.append(configuration.id)
            let failed = measured.filter { $0.status != .ok }
            let failure = Summarizer.failureSummary(failed, of: measured.count)
            if !failed.isEmpty { outcome.failures.append((configuration.id, failure)) }
            onEvent?(.configurationFinished(index: index, total: configurations.count, id: configuration.id,
                                            failure: failure))
        }
        return outcome
    }

    var totalWork = 0.0, doneWork = 0.0, started = 0.0

    /// Samples one timed repetition of `c` processes (the unit of the ETA).
    private func repetitionWork(_ c: SweepConfiguration) -> Double {
        Double(c.measuredRanks(measure: spec.measure, includeRemainder: spec.measureRemainder)
            .reduce(0) { $0 + c.samplesInFile($1 + 1) })
    }

    /// Seconds left at the rate of the work done so far, nil before any.
    var eta: Double? {
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
