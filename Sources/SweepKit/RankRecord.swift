import CAIWorkload
import Foundation

/// One measured rank run: one row of `ranks.csv`. Every figure in it is
/// measured (`source` = "measured"); nothing here is modelled.
///
/// Times are wall seconds: `inference` covers the batches only, `modelLoad`
/// building the model, `dataLoad` opening the partition files, `process`
/// the whole child process as the parent saw it (spawn to exit). Peak RSS is
/// the rank process's VmHWM in MiB (1 MB = 1,048,576 bytes). Throughput is
/// samples / inference seconds and CAI's bits = samples × 164,160.
public struct RankRecord: Equatable, Sendable {
    public var configuration: SweepConfiguration
    /// 1-based timed repetition.
    public var repetition: Int
    public var rank: Int
    /// The partition file the rank ran (CAI gives each rank one file when world_size = file_limit).
    public var file: String
    /// Samples the plan put in that file.
    public var fileSamples: Int
    /// True for the short last file of a data size's split.
    public var remainderFile: Bool
    public var status: RankResult.Status
    public var samples: Int
    public var numBatches: Int
    public var inferenceSeconds: Double
    public var modelLoadSeconds: Double
    public var dataLoadSeconds: Double
    public var processSeconds: Double
    public var cpuSeconds: Double
    public var peakRSSMB: Double
    public var blasCore: String
    public var blasThreads: Int
    public var weights: String
    /// Where the partitions came from ("synthetic seed N" or a directory).
    public var dataSource: String
    /// The accuracy check run before timing this configuration.
    public var verification: String
    /// First line of the failure reason, "" for a rank that finished.
    public var error: String

    public init(configuration: SweepConfiguration, repetition: Int, rank: Int, file: String, fileSamples: Int,
                remainderFile: Bool, status: RankResult.Status, samples: Int, numBatches: Int,
                inferenceSeconds: Double, modelLoadSeconds: Double, dataLoadSeconds: Double, processSeconds: Double,
                cpuSeconds: Double, peakRSSMB: Double, blasCore: String, blasThreads: Int, weights: String,
                dataSource: String, verification: String, error: String) {
        self.configuration = configuration
        self.repetition = repetition
        self.rank = rank
        self.file = file
        self.fileSamples = fileSamples
        self.remainderFile = remainderFile
        self.status = status
        self.samples = samples
        self.numBatches = numBatches
        // Stored at the precision ranks.csv keeps, so a record read back from
        // the file is equal to the one written and derived cells (samples/s)
        // come out byte-identical when the file is rewritten on resume.
        self.inferenceSeconds = Self.rounded(inferenceSeconds, 6)
        self.modelLoadSeconds = Self.rounded(modelLoadSeconds, 6)
        self.dataLoadSeconds = Self.rounded(dataLoadSeconds, 6)
        self.processSeconds = Self.rounded(processSeconds, 6)
        self.cpuSeconds = Self.rounded(cpuSeconds, 6)
        self.peakRSSMB = Self.rounded(peakRSSMB, 3)
        self.blasCore = blasCore
        self.blasThreads = blasThreads
        self.weights = weights
        self.dataSource = dataSource
        self.verification = verification
        self.error = error
    }

    /// A record from a rank's result and the plan that launched it.
    public init(result: RankResult, configuration: SweepConfiguration, repetition: Int, file: String,
                fileSamples: Int, dataSource: String, verification: String) {
        let firstLine = (result.stderrTail ?? "").split(separator: "\n").last(where: { !$0.isEmpty }).map(String.init) ?? ""
        self.init(configuration: configuration, repetition: repetition, rank: result.rank, file: file,
                  fileSamples: fileSamples,
                  remainderFile: fileSamples < configuration.partition.samplesPerFile,
                  status: result.status, samples: result.samples, numBatches: result.numBatches,
                  inferenceSeconds: result.inferenceSeconds, modelLoadSeconds: result.modelLoadSeconds,
                  dataLoadSeconds: result.dataLoadSeconds, processSeconds: result.processSeconds,
                  cpuSeconds: result.cpuSeconds, peakRSSMB: result.peakRSSMB, blasCore: result.blasCore,
                  blasThreads: result.threads, weights: result.weights, dataSource: dataSource,
                  verification: verification, error: result.status == .ok ? "" : firstLine)
    }

    private static func rounded(_ value: Double, _ digits: Int) -> Double {
        NumberFormat.parse(NumberFormat.fixed(value, digits)) ?? value
    }

    /// Samples per inference second.
    public var samplesPerSecond: Double { inferenceSeconds > 0 ? Double(samples) / inferenceSeconds : 0 }

    /// `ranks.csv` columns, in order.
    public static let columns = [
        "config_id", "partition", "batch_size", "data_size", "file_limit", "world_size", "threads", "total_samples",
        "repetition", "rank", "file", "file_samples", "remainder_file", "status", "source",
        "measured_samples", "measured_num_batches", "measured_inference_s", "measured_model_load_s",
        "measured_data_load_s", "measured_process_s", "measured_cpu_s", "measured_peak_rss_mb",
        "measured_samples_per_s", "measured_bits_per_s", "blas_core", "blas_threads", "weights", "data_source",
        "verification", "error",
    ]

    /// The row's cells, in `columns` order.
    public var cells: [String] {
        let c = configuration
        let fileLimitText: String
        if case let .fileLimit(n) = c.amount { fileLimitText = String(n) } else { fileLimitText = String(c.fileLimit) }
        return [
            c.id, c.partition.rawValue, String(c.batchSize), c.dataSizeText, fileLimitText, String(c.worldSize),
            String(c.threads), String(c.totalSamples),
            String(repetition), String(rank), file, String(fileSamples), remainderFile ? "true" : "false",
            status.rawValue, "measured",
            String(samples), String(numBatches), NumberFormat.fixed(inferenceSeconds, 6),
            NumberFormat.fixed(modelLoadSeconds, 6), NumberFormat.fixed(dataLoadSeconds, 6),
            NumberFormat.fixed(processSeconds, 6), NumberFormat.fixed(cpuSeconds, 6), NumberFormat.fixed(peakRSSMB, 3),
            NumberFormat.fixed(samplesPerSecond, 3),
            NumberFormat.fixed(samplesPerSecond * Double(RankWorker.bitsPerSample), 1),
            blasCore, String(blasThreads), weights, dataSource, verification, error,
        ]
    }

    /// Reads one row of `ranks.csv`; `path` names the file in errors.
    public init(record: [String: String], path: String, row: Int) throws {
        func text(_ key: String) throws -> String {
            guard let value = record[key] else {
                throw SweepError.badResults(path: path, reason: "missing column \"\(key)\"")
            }
            return value
        }
        func int(_ key: String) throws -> Int {
            let value = try text(key)
            guard let n = Int(value) else {
                throw SweepError.badResults(path: path, reason: "row \(row): \(key) = \"\(value)\" is not a whole number")
            }
            return n
        }
        func double(_ key: String) throws -> Double {
            let value = try text(key)
            guard let n = NumberFormat.parse(value) else {
                throw SweepError.badResults(path: path, reason: "row \(row): \(key) = \"\(value)\" is not a number")
            }
            return n
        }
        let partitionText = try text("partition")
        guard let partition = PartitionSize(rawValue: partitionText) else {
            throw SweepError.badResults(path: path, reason: "row \(row): unknown partition \"\(partitionText)\"")
        }
        let amount: DataAmount
        let dataText = try text("data_size")
        if dataText.isEmpty {
            amount = .fileLimit(try int("file_limit"))
        } else {
            do { amount = .dataSize(try DataSize(parsing: dataText)) } catch {
                throw SweepError.badResults(path: path, reason: "row \(row): \(error)")
            }
        }
        let configuration = SweepConfiguration(partition: partition, batchSize: try int("batch_size"), amount: amount,
                                               threads: try int("threads"))
        let id = try text("config_id")
        guard id == configuration.id else {
            throw SweepError.badResults(path: path, reason: "row \(row): config_id \"\(id)\" does not match its columns (\(configuration.id))")
        }
        let statusText = try text("status")
        guard let status = RankResult.Status(rawValue: statusText) else {
            throw SweepError.badResults(path: path, reason: "row \(row): unknown status \"\(statusText)\"")
        }
        self.init(configuration: configuration, repetition: try int("repetition"), rank: try int("rank"),
                  file: try text("file"), fileSamples: try int("file_samples"),
                  remainderFile: try text("remainder_file") == "true", status: status,
                  samples: try int("measured_samples"), numBatches: try int("measured_num_batches"),
                  inferenceSeconds: try double("measured_inference_s"), modelLoadSeconds: try double("measured_model_load_s"),
                  dataLoadSeconds: try double("measured_data_load_s"), processSeconds: try double("measured_process_s"),
                  cpuSeconds: try double("measured_cpu_s"), peakRSSMB: try double("measured_peak_rss_mb"),
                  blasCore: try text("blas_core"), blasThreads: try int("blas_threads"), weights: try text("weights"),
                  dataSource: try text("data_source"), verification: try text("verification"), error: try text("error"))
    }

    /// Every record of a `ranks.csv` table.
    public static func records(in table: CSVTable, path: String) throws -> [RankRecord] {
        try table.records.enumerated().map { try RankRecord(record: $1, path: path, row: $0 + 2) }
    }
}
