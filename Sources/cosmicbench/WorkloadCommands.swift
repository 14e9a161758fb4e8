import ArgumentParser
import CAIWorkload
import CAIWorkloadAWS
import CosmicSupport
import Foundation

struct Data_: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Create partition files.", subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write deterministic synthetic partitions (1.safetensors, 2.safetensors, ...).",
            discussion: "Each file holds exactly the CAI partition's samples per file (25MB: 1278, 50MB: 2556, 75MB: 3834, 100MB: 5113); with --data-size the last file holds the remainder (12.6GB = 659,817 samples).")

        @Option(name: .long, help: "Partition size: 25MB, 50MB, 75MB or 100MB.")
        var partition: String

        @Option(name: .long, help: "Number of files (with --data-size: the first N files of that split).")
        var files: Int?

        @Option(name: .long, help: "Data size to split, e.g. 1GB or 12.6GB.")
        var dataSize: String?

        @Option(name: .long, help: "Output directory (e.g. data/100MB).")
        var out: String

        @Option(name: .long, help: "Generator seed.")
        var seed: UInt64 = 20_250_108

        @Flag(name: .long, help: "Remove partition files of another dataset (size, seed, count) from --out first instead of refusing.")
        var replace = false

        /// Bad flag values are command-line mistakes (usage, exit 64); what
        /// goes wrong while generating is a runtime failure (exit 1).
        func validate() throws {
            if files == nil, dataSize == nil { throw ValidationError("give --files N or --data-size SIZE") }
            if let files, files < 1 { throw ValidationError("--files must be at least 1, got \(files)") }
            do { _ = try PartitionSize(parsing: partition) } catch { throw ValidationError("--partition: \(error)") }
            if let dataSize {
                do { _ = try DataSize(parsing: dataSize) } catch { throw ValidationError("--data-size: \(error)") }
            }
        }

        func run() throws {
            let size = try PartitionSize(parsing: partition)
            let data = try dataSize.map { try DataSize(parsing: $0) }
            let progress = TerminalProgress(label: "files")
            let report: DatasetGenerationReport
            do {
                report = try generateDataset(partition: size, files: files, dataSize: data, into: URL(fileURLWithPath: out),
                                             seed: seed, replace: replace) { done, total in
                    progress.update(done: done, total: total)
                }
            } catch let error as GeneratorError {
                if case .conflictingFiles = error { throw CommandFailure("\(error)\n(pass --replace to remove them)") }
                throw error
            }
            progress.finish()
            for name in report.staleTemporaryFiles { print("removed \(name), left by an interrupted run") }
            if !report.removed.isEmpty { print("removed \(report.removed.count) old partition files: \(Self.list(report.removed))") }
            print("\(report.urls.count) partition files of \(size.rawValue) in \(out): \(report.generated.count) generated, "
                + "\(report.kept.count) already complete")
            if !report.extra.isEmpty {
                print("also there: \(report.extra.count) further files of the same dataset (\(Self.list(report.extra)))")
            }
        }

        static func list(_ names: [String]) -> String {
            names.count <= 6 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + ", ..., " + names.last!
        }
    }
}

/// Where `run` finds its buckets.
enum StorageKind: String, ExpressibleByArgument, CaseIterable {
    case local, s3

    func configuration(root: URL) -> StorageConfiguration {
        switch self {
        case .local: return .local(root: root.standardizedFileURL.path, mounts: [:])
        case .s3: return .s3
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a CAI payload: initializer, one process per rank, summarizer.",
        discussion: """
            Reads data from ROOT/<data_bucket>/<data_prefix>/ and writes payload.json, {rank}.json and \
            combined_data.json to ROOT/<bucket>/<result_path>/. With --storage s3 the same keys are read from and \
            written to S3 (credentials, region and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
            AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL). Every check (names, \
            partitions, weights, result folder) runs before the first write; a local result folder that already \
            holds files is refused unless --replace, which empties it right before the first write (S3 objects \
            are replaced key by key). In {rank}.json, CAI's "total_cpu_time (seconds)" \
            holds the measured inference wall time and "total_cpu_memory (MB)" the rank's peak RSS (VmHWM, MiB); \
            every figure is also written under an explicit key (inference_seconds, peak_rss_mb, ...).
            """)

    @Argument(help: "CAI input payload (JSON).")
    var payload: String

    @Option(name: .long, help: "Where the buckets are: local (folders under --root) or s3.")
    var storage: StorageKind = .local

    @Option(name: .long, help: "Directory that holds the local buckets (--storage local).")
    var root: String = "."

    @Option(name: .long, help: "OpenBLAS threads per rank.")
    var threads: Int = 1

    @Option(name: .long, help: "Ranks run at once.")
    var jobs: Int = 1

    @Option(name: .long, help: "Seconds before a rank is killed and recorded as timed out.")
    var timeout: Double = 3600

    @Flag(name: .long, help: "Write {rank}.predictions.csv (file,index,redshift,prediction).")
    var savePredictions = false

    @Option(name: .long, help: "Kill a rank whose resident memory exceeds this many MB and record it as out of memory, as Lambda does at its memory size.")
    var memoryLimit: Int?

    @Flag(name: .long, help: "Remove what an earlier run left in the result folder (after every check passed) instead of refusing.")
    var replace = false

    @OptionGroup var model: ModelOptions

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
        if let memoryLimit, memoryLimit < 1 {
            throw ValidationError("--memory-limit must be at least 1 MB, got \(memoryLimit)")
        }
    }

    func run() throws {
        let parsed = try Payload(contentsOf: URL(fileURLWithPath: payload))
        let options = Pipeline.Options(
            root: URL(fileURLWithPath: root), threads: threads, concurrency: jobs, timeoutSeconds: timeout,
            savePredictions: savePredictions,
            weightsPath: model.weights.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, seed: model.seed,
            replace: replace, memoryLimitMB: memoryLimit)
        let opened = try storage.configuration(root: options.root).open()
        defer { opened.shutdown() }
        let pipeline: Pipeline
        switch storage {
        case .local:
            pipeline = Pipeline(local: options)
        case .s3:
            let scratch = FileManager.default.temporaryDirectory
                .appendingPathComponent("cosmicbench-run-\(getpid())", isDirectory: true)
            var launcher = RankLauncher(storage: opened.storage, storageConfiguration: .s3, scratchDirectory: scratch,
                                        concurrency: jobs, timeoutSeconds: timeout)
            launcher.memoryLimitMB = memoryLimit
            pipeline = Pipeline(storage: opened.storage, executor: launcher, settings: options.settings)
        }
        let progress = TerminalProgress(label: "ranks")
        let results: [RankResult], summary: PipelineSummary
        do {
            (results, summary) = try pipeline.run(parsed) { done, total in
                progress.update(done: done, total: total)
            }
        } catch let error as PipelineError {
            if case .resultDirectoryNotEmpty = error { throw CommandFailure("\(error) (pass --replace to remove it)") }
            throw error
        }
        progress.finish()
        for result in results where result.status == .failed || result.status == .timeout {
            let reason = (result.stderrTail ?? "").split(separator: "\n").first.map(String.init) ?? ""
            print("rank \(result.rank) \(result.status.rawValue) (exit \(result.exitStatus.map(String.init) ?? "-")): \(reason)")
        }
        print(summary.line)
        if summary.ranksFailed > 0 { throw ExitCode(1) }
    }
}
