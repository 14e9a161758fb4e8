import CAIWorkload
import Foundation

/// One measured rank run: one row of `ranks.csv`. Every figure in it is
/// measured, on this machine (`source` = local) or on AWS Lambda (`source` =
/// lambda, with `lambda` holding what AWS reported); nothing here is modelled.
///
/// Times are wall seconds: `inference` covers the batches only, `modelLoad`
/// building the model, `dataLoad` opening the partition files, `process`
/// the whole child process as the parent saw it (spawn to exit). Peak RSS is
/// the rank process's VmHWM in MiB (1 MB = 1,048,576 bytes). Throughput is
/// samples / inference seconds and CAI's bits = samples × 164,160.
public struct RankRecord: Codable, Equatable, Sendable {
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
    /// Where the rank ran.
    public var source: MeasurementSource = .local
    /// AWS's figures for a rank run on Lambda; nil for a local one.
    public var lambda: LambdaFigures?
    /// The run these figures come from, "CONFIG rank N", when this row reuses
    /// a measurement of the same work made for another configuration or rank
    /// (same files, batch size and threads); nil when it was measured for this row.
    public var measuredFor: String?
    /// Rank processes running at once on this machine while it was measured.
    public var concurrentRanks = 1

    /// "CONFIG rank N": the measurement this row's figures come from.
    public var measurementID: String { measuredFor ?? Self.measurementID(configuration, rank: rank) }

    static func measurementID(_ c: SweepConfiguration, rank: Int) -> String { "\(c.id) rank \(rank)" }

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
    public static var columns: [String] { CodingKeys.allCases.map(\.rawValue) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case configID = "config_id", partition, batchSize = "batch_size", dataSize = "data_size"
        case fileLimit = "file_limit", worldSize = "world_size", threads, totalSamples = "total_samples"
        case repetition, rank, file, fileSamples = "file_samples", remainderFile = "remainder_file", status, source
        case measuredFor = "measured_for", concurrentRanks = "concurrent_ranks"
        case samples = "measured_samples", numBatches = "measured_num_batches"
        case inferenceSeconds = "measured_inference_s", modelLoadSeconds = "measured_model_load_s"
        case dataLoadSeconds = "measured_data_load_s", processSeconds = "measured_process_s"
        case cpuSeconds = "measured_cpu_s", peakRSSMB = "measured_peak_rss_mb"
        case samplesPerSecond = "measured_samples_per_s", bitsPerSecond = "measured_bits_per_s"
        case blasCore = "blas_core", blasThreads = "blas_threads", weights, dataSource = "data_source"
        case verification, error
        case lambdaMemoryMB = "lambda_memory_mb", lambdaDurationMs = "lambda_duration_ms"
        case lambdaBilledMs = "lambda_billed_ms", lambdaMaxMemoryUsedMB = "lambda_max_memory_used_mb"
        case lambdaInitMs = "lambda_init_ms", lambdaColdStart = "lambda_cold_start", lambdaFigures = "lambda_figures"
        case lambdaRequestID = "lambda_request_id", execution, executionSeconds = "execution_s"
    }

    public func encode(to encoder: Encoder) throws {
        let c = configuration
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(c.id, forKey: .configID)
        try row.encode(c.partition.rawValue, forKey: .partition)
        try row.encode(c.batchSize, forKey: .batchSize)
        try row.encode(c.dataSizeText, forKey: .dataSize)
        try row.encode(c.fileLimit, forKey: .fileLimit)
        try row.encode(c.worldSize, forKey: .worldSize)
        try row.encode(c.threads, forKey: .threads)
        try row.encode(c.totalSamples, forKey: .totalSamples)
        try row.encode(repetition, forKey: .repetition)
        try row.encode(rank, forKey: .rank)
        try row.encode(file, forKey: .file)
        try row.encode(fileSamples, forKey: .fileSamples)
        try row.encode(remainderFile, forKey: .remainderFile)
        try row.encode(status.rawValue, forKey: .status)
        try row.encode(source.rawValue, forKey: .source)
        try row.encode(measurementID, forKey: .measuredFor)
        try row.encode(concurrentRanks, forKey: .concurrentRanks)
        try row.encode(samples, forKey: .samples)
        try row.encode(numBatches, forKey: .numBatches)
        try row.encode(inferenceSeconds, forKey: .inferenceSeconds)
        try row.encode(modelLoadSeconds, forKey: .modelLoadSeconds)
        try row.encode(dataLoadSeconds, forKey: .dataLoadSeconds)
        try row.encode(processSeconds, forKey: .processSeconds)
        try row.encode(cpuSeconds, forKey: .cpuSeconds)
        try row.encode(peakRSSMB, forKey: .peakRSSMB)
        try row.encode(Self.rounded(samplesPerSecond, 3), forKey: .samplesPerSecond)
        try row.encode(Self.rounded(samplesPerSecond * Double(RankWorker.bitsPerSample), 1), forKey: .bitsPerSecond)
        try row.encode(blasCore, forKey: .blasCore)
        try row.encode(blasThreads, forKey: .blasThreads)
        try row.encode(weights, forKey: .weights)
        try row.encode(dataSource, forKey: .dataSource)
        try row.encode(verification, forKey: .verification)
        try row.encode(error, forKey: .error)
        try row.encodeIfPresent(lambda?.memoryMB, forKey: .lambdaMemoryMB)
        try row.encodeIfPresent(lambda.map { Self.rounded($0.durationMs, 2) }, forKey: .lambdaDurationMs)
        try row.encodeIfPresent(lambda?.billedMs, forKey: .lambdaBilledMs)
        try row.encodeIfPresent(lambda?.maxMemoryUsedMB, forKey: .lambdaMaxMemoryUsedMB)
        try row.encodeIfPresent(lambda?.initMs.map { Self.rounded($0, 2) }, forKey: .lambdaInitMs)
        try row.encodeIfPresent(lambda?.coldStart, forKey: .lambdaColdStart)
        try row.encodeIfPresent(lambda?.figures.rawValue, forKey: .lambdaFigures)
        try row.encodeIfPresent(lambda?.requestID, forKey: .lambdaRequestID)
        try row.encodeIfPresent(lambda?.execution, forKey: .execution)
        try row.encodeIfPresent(lambda.map { Self.rounded($0.executionSeconds, 3) }, forKey: .executionSeconds)
    }

    public init(from decoder: Decoder) throws {
        let row = try decoder.container(keyedBy: CodingKeys.self)
        let partitionText = try row.decode(String.self, forKey: .partition)
        guard let partition = PartitionSize(rawValue: partitionText) else {
            throw DecodingError.dataCorruptedError(forKey: .partition, in: row,
                                                   debugDescription: "unknown partition \"\(partitionText)\"")
        }
        let dataText = try row.decode(String.self, forKey: .dataSize)
        let amount: DataAmount
        if dataText.isEmpty {
            amount = .fileLimit(try row.decode(Int.self, forKey: .fileLimit))
        } else {
            do { amount = .dataSize(try DataSize(parsing: dataText)) } catch {
                throw DecodingError.dataCorruptedError(forKey: .dataSize, in: row, debugDescription: "\(error)")
            }
        }
        let configuration = SweepConfiguration(partition: partition, batchSize: try row.decode(Int.self, forKey: .batchSize),
                                               amount: amount, threads: try row.decode(Int.self, forKey: .threads))
        let id = try row.decode(String.self, forKey: .configID)
        guard id == configuration.id else {
            throw DecodingError.dataCorruptedError(
                forKey: .configID, in: row, debugDescription: "config_id \"\(id)\" does not match its columns (\(configuration.id))")
        }
        let statusText = try row.decode(String.self, forKey: .status)
        guard let status = RankResult.Status(rawValue: statusText) else {
            throw DecodingError.dataCorruptedError(forKey: .status, in: row, debugDescription: "unknown status \"\(statusText)\"")
        }
        self.init(configuration: configuration, repetition: try row.decode(Int.self, forKey: .repetition),
                  rank: try row.decode(Int.self, forKey: .rank), file: try row.decode(String.self, forKey: .file),
                  fileSamples: try row.decode(Int.self, forKey: .fileSamples),
                  remainderFile: try row.decode(Bool.self, forKey: .remainderFile), status: status,
                  samples: try row.decode(Int.self, forKey: .samples),
                  numBatches: try row.decode(Int.self, forKey: .numBatches),
                  inferenceSeconds: try row.decode(Double.self, forKey: .inferenceSeconds),
                  modelLoadSeconds: try row.decode(Double.self, forKey: .modelLoadSeconds),
                  dataLoadSeconds: try row.decode(Double.self, forKey: .dataLoadSeconds),
                  processSeconds: try row.decode(Double.self, forKey: .processSeconds),
                  cpuSeconds: try row.decode(Double.self, forKey: .cpuSeconds),
                  peakRSSMB: try row.decode(Double.self, forKey: .peakRSSMB),
                  blasCore: try row.decode(String.self, forKey: .blasCore),
                  blasThreads: try row.decode(Int.self, forKey: .blasThreads),
                  weights: try row.decode(String.self, forKey: .weights),
                  dataSource: try row.decode(String.self, forKey: .dataSource),
                  verification: try row.decode(String.self, forKey: .verification),
                  error: try row.decode(String.self, forKey: .error))
        let sourceText = try row.decodeIfPresent(String.self, forKey: .source) ?? "local"
        guard let source = MeasurementSource(cell: sourceText) else {
            throw DecodingError.dataCorruptedError(forKey: .source, in: row, debugDescription: "unknown source \"\(sourceText)\"")
        }
        self.source = source
        if let measured = try row.decodeIfPresent(String.self, forKey: .measuredFor), !measured.isEmpty,
           measured != Self.measurementID(configuration, rank: rank) {
            measuredFor = measured
        }
        concurrentRanks = try row.decodeIfPresent(Int.self, forKey: .concurrentRanks) ?? 1
        if let memory = try row.decodeIfPresent(Int.self, forKey: .lambdaMemoryMB) {
            let originText = try row.decodeIfPresent(String.self, forKey: .lambdaFigures) ?? ""
            guard let origin = LambdaFigures.Origin(rawValue: originText) else {
                throw DecodingError.dataCorruptedError(forKey: .lambdaFigures, in: row,
                                                       debugDescription: "unknown lambda_figures \"\(originText)\"")
            }
            lambda = LambdaFigures(
                memoryMB: memory, durationMs: try row.decode(Double.self, forKey: .lambdaDurationMs),
                billedMs: try row.decode(Int.self, forKey: .lambdaBilledMs),
                maxMemoryUsedMB: try row.decode(Int.self, forKey: .lambdaMaxMemoryUsedMB),
                initMs: try row.decodeIfPresent(Double.self, forKey: .lambdaInitMs),
                coldStart: try row.decodeIfPresent(Bool.self, forKey: .lambdaColdStart) ?? false, figures: origin,
                requestID: try row.decodeIfPresent(String.self, forKey: .lambdaRequestID) ?? "",
                execution: try row.decodeIfPresent(String.self, forKey: .execution) ?? "",
                executionSeconds: try row.decodeIfPresent(Double.self, forKey: .executionSeconds) ?? 0)
        }
        if source == .lambda, lambda == nil {
            throw DecodingError.dataCorruptedError(forKey: .lambdaMemoryMB, in: row,
                                                   debugDescription: "a lambda row needs lambda_memory_mb")
        }
    }

    /// Every record of a `ranks.csv` table; `path` names the file in errors.
    public static func records(in table: CSVTable, path: String) throws -> [RankRecord] {
        do {
            return try CSVRecordCoder.records(RankRecord.self, from: table, path: path)
        } catch let error as DecodingError {
            if case let .dataCorrupted(context) = error {
                throw SweepError.badResults(path: path, reason: context.debugDescription)
            }
            throw SweepError.badResults(path: path, reason: "\(error)")
        }
    }

    /// The `ranks.csv` table of `records`.
    public static func table(_ records: [RankRecord]) throws -> CSVTable {
        try CSVRecordCoder.table(records, emptyColumns: columns)
    }
}
