import ArgumentParser
import CAIWorkload
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

        func validate() throws {
            if files == nil, dataSize == nil { throw ValidationError("give --files N or --data-size SIZE") }
            if let files, files < 1 { throw ValidationError("--files must be at least 1, got \(files)") }
        }

        func run() throws {
            let size = try PartitionSize(parsing: partition)
            let data = try dataSize.map { try DataSize(parsing: $0) }
            let progress = TerminalProgress(label: "files")
            let urls = try generateDataset(partition: size, files: files, dataSize: data,
                                           into: URL(fileURLWithPath: out), seed: seed, skipExisting: true) { done, total in
                progress.update(done: done, total: total)
            }
            progress.finish()
            print("\(urls.count) partition files of \(size.rawValue) in \(out)")
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a CAI payload: initializer, one process per rank, summarizer.",
        discussion: """
            Reads data from ROOT/<data_bucket>/<data_prefix>/ and writes payload.json, {rank}.json and \
            combined_data.json to ROOT/<bucket>/<result_path>/. In {rank}.json, CAI's "total_cpu_time (seconds)" \
            holds the measured inference wall time and "total_cpu_memory (MB)" the rank's peak RSS (VmHWM, MiB); \
            every figure is also written under an explicit key (inference_seconds, peak_rss_mb, ...).
            """)

    @Argument(help: "CAI input payload (JSON).")
    var payload: String

    @Option(name: .long, help: "Directory that holds the local buckets.")
    var root: String = "."

    @Option(name: .long, help: "OpenBLAS threads per rank.")
    var threads: Int = 1

    @Option(name: .long, help: "Ranks run at once.")
    var jobs: Int = 1

    @Option(name: .long, help: "Seconds before a rank is killed and recorded as timed out.")
    var timeout: Double = 3600

    @Flag(name: .long, help: "Write {rank}.predictions.csv (file,index,redshift,prediction).")
    var savePredictions = false

    @OptionGroup var model: ModelOptions

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    }

    func run() throws {
        let parsed = try Payload(contentsOf: URL(fileURLWithPath: payload))
        let options = Pipeline.Options(
            root: URL(fileURLWithPath: root), threads: threads, concurrency: jobs, timeoutSeconds: timeout,
            savePredictions: savePredictions,
            weightsPath: model.weights.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, seed: model.seed)
        let progress = TerminalProgress(label: "ranks")
        let (results, summary) = try Pipeline.run(payload: parsed, options: options) { done, total in
            progress.update(done: done, total: total)
        }
        progress.finish()
        for result in results where result.status == .failed || result.status == .timeout {
            let reason = (result.stderrTail ?? "").split(separator: "\n").last.map(String.init) ?? ""
            print("rank \(result.rank) \(result.status.rawValue) (exit \(result.exitStatus.map(String.init) ?? "-")): \(reason)")
        }
        print(summary.line)
        if summary.ranksFailed > 0 { throw ExitCode(1) }
    }
}
