import CosmicSupport
import Foundation

/// Whether a configuration's figures can be trusted.
public enum ConfigurationStatus: String, Codable, Sendable {
    /// Every measured run finished.
    case ok
    /// Some runs failed; the figures come from the runs that finished, counted in the row.
    case partial
    /// No usable run: no figure is reported.
    case failed
}

/// One row of `summary.csv` / `summary.json`: one configuration at one
/// modelled Lambda memory size.
///
/// Column prefixes say where a figure comes from: `measured_` = the local
/// rank processes of the sweep (ranks.csv); `modelled_` = the LambdaCost
/// model of the whole fleet built on those measurements. Units are in the
/// names: `_s` seconds, `_mb` MiB (1,048,576 bytes; Lambda's "MB"), `_gb`
/// memory in GiB (MB / 1,024, as Lambda bills), `_usd` US dollars,
/// `_gb_per_s` decimal GB (1e9 bytes) of model input (20,520 bytes per
/// sample: image and magnitudes, not the label) per second,
/// `data_size_gb` the CAI dataset's nominal GB (12.6 GB = 659,817 samples).
///
/// Statistics say what they were computed from: the full-file figures come
/// from `measured_stat_runs` runs of ranks whose file is a full partition
/// (never from the short remainder file, whose figures have their own
/// columns); spread (min, max, CV) is empty with fewer than two runs.
public struct SummaryRow: Codable, Equatable, Sendable {
    public var configID: String
    public var status: ConfigurationStatus
    /// Why runs failed (counts and the first reason); empty when none did.
    public var failure: String
    public var source: String
    public var partition: String
    public var partitionMB: Int
    public var batchSize: Int
    /// "1GB", or empty for a file limit.
    public var dataSize: String
    public var dataSizeGB: Double?
    public var fileLimit: Int
    public var worldSize: Int
    public var threads: Int
    public var totalSamples: Int
    public var samplesPerFullFile: Int
    public var remainderSamples: Int
    public var repetitions: Int
    public var measuredRanks: Int
    /// Timed runs of measured ranks, failed ones included.
    public var measuredRuns: Int
    /// Of `measuredRuns`, rows copied from a measurement of the same work made
    /// for another configuration or rank (ranks.csv `measured_for`); nil in old files.
    public var measuredReusedRuns: Int?
    /// Most rank processes that ran at once while this configuration's runs were measured; nil in old files.
    public var measuredConcurrentRanks: Int?
    public var measuredFailedRuns: Int
    /// What the inference statistics describe: "full file" or, when the
    /// configuration has no full file, "whole data (one short file)".
    public var measuredStatBasis: String
    /// Finished runs the inference statistics are computed from.
    public var measuredStatRuns: Int
    public var measuredInferenceMedianS: Double?
    public var measuredInferenceMeanS: Double?
    public var measuredInferenceIQRMeanS: Double?
    public var measuredInferenceMinS: Double?
    public var measuredInferenceMaxS: Double?
    public var measuredInferenceCV: Double?
    public var measuredProcessMedianS: Double?
    public var measuredModelLoadMedianS: Double?
    public var measuredDataLoadMedianS: Double?
    /// Finished runs of the short remainder file.
    public var measuredRemainderRuns: Int
    public var measuredRemainderInferenceMedianS: Double?
    public var measuredPeakRSSMB: Double?
    public var measuredRankSamplesPerS: Double?
    public var measuredRankBitsPerS: Double?
    public var measuredRankGBPerS: Double?
    public var measuredBLASCore: String
    public var verification: String
    public var modelledMemorySetting: String?
    public var modelledMemoryMB: Int?
    public var modelledMemoryGB: Double?
    public var modelledVCPU: Double?
    /// "yes", or "no: REASON" when Lambda could not run the rank at this memory
    /// (below the measured peak RSS, or past the 900 s timeout); then the
    /// fleet's duration, makespan and cost columns are left empty. Nil in old files.
    public var modelledLambdaFits: String?
    /// How the speed at `modelledVCPU` is known: "measured" (within the thread
    /// counts measured), "extrapolated" (beyond them, from the measured parallel
    /// efficiency) or "assumed" (more than one vCPU, no 1 vs 2 thread measurement).
    public var modelledVCPUBasis: String?
    public var modelledParallelEfficiency: Double?
    public var modelledEfficiencySource: String?
    public var modelledBasisThreads: Int?
    public var modelledRankColdStartS: Double?
    public var modelledRankModelLoadS: Double?
    public var modelledRankDataReadS: Double?
    public var modelledRankInferenceS: Double?
    public var modelledRankDurationS: Double?
    public var modelledRankDurationMeanS: Double?
    public var modelledRankBilledMeanS: Double?
    public var modelledExceedsTimeout: Bool?
    public var modelledMakespanS: Double?
    public var modelledPeakConcurrency: Int?
    public var modelledLambdaRequests: Int?
    public var modelledGBSeconds: Double?
    public var modelledCostLambdaDurationUSD: Double?
    public var modelledCostLambdaRequestsUSD: Double?
    public var modelledCostEphemeralUSD: Double?
    public var modelledCostStepFunctionsUSD: Double?
    public var modelledCostS3USD: Double?
    public var modelledCostTotalUSD: Double?
    public var modelledSimpleCostUSD: Double?
    public var modelledFleetSamplesPerS: Double?
    public var modelledFleetBitsPerS: Double?
    public var modelledFleetGBPerS: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case configID = "config_id", status, failure, source, partition, partitionMB = "partition_mb"
        case batchSize = "batch_size", dataSize = "data_size", dataSizeGB = "data_size_gb", fileLimit = "file_limit"
        case worldSize = "world_size", threads, totalSamples = "total_samples"
        case samplesPerFullFile = "samples_per_full_file", remainderSamples = "remainder_samples", repetitions
        case measuredRanks = "measured_ranks", measuredRuns = "measured_runs"
        case measuredReusedRuns = "measured_reused_runs", measuredConcurrentRanks = "measured_concurrent_ranks"
        case measuredFailedRuns = "measured_failed_runs", measuredStatBasis = "measured_stat_basis"
        case measuredStatRuns = "measured_stat_runs"
        case measuredInferenceMedianS = "measured_inference_median_s"
        case measuredInferenceMeanS = "measured_inference_mean_s"
        case measuredInferenceIQRMeanS = "measured_inference_iqr_mean_s"
        case measuredInferenceMinS = "measured_inference_min_s", measuredInferenceMaxS = "measured_inference_max_s"
        case measuredInferenceCV = "measured_inference_cv", measuredProcessMedianS = "measured_process_median_s"
        case measuredModelLoadMedianS = "measured_model_load_median_s"
        case measuredDataLoadMedianS = "measured_data_load_median_s"
        case measuredRemainderRuns = "measured_remainder_runs"
        case measuredRemainderInferenceMedianS = "measured_remainder_inference_median_s"
        case measuredPeakRSSMB = "measured_peak_rss_mb", measuredRankSamplesPerS = "measured_rank_samples_per_s"
        case measuredRankBitsPerS = "measured_rank_bits_per_s", measuredRankGBPerS = "measured_rank_gb_per_s"
        case measuredBLASCore = "measured_blas_core", verification
        case modelledMemorySetting = "modelled_memory_setting", modelledMemoryMB = "modelled_memory_mb"
        case modelledMemoryGB = "modelled_memory_gb", modelledVCPU = "modelled_vcpu"
        case modelledVCPUBasis = "modelled_vcpu_basis", modelledLambdaFits = "modelled_lambda_fits"
        case modelledParallelEfficiency = "modelled_parallel_efficiency"
        case modelledEfficiencySource = "modelled_efficiency_source", modelledBasisThreads = "modelled_basis_threads"
        case modelledRankColdStartS = "modelled_rank_cold_start_s", modelledRankModelLoadS = "modelled_rank_model_load_s"
        case modelledRankDataReadS = "modelled_rank_data_read_s", modelledRankInferenceS = "modelled_rank_inference_s"
        case modelledRankDurationS = "modelled_rank_duration_s"
        case modelledRankDurationMeanS = "modelled_rank_duration_mean_s"
        case modelledRankBilledMeanS = "modelled_rank_billed_mean_s"
        case modelledExceedsTimeout = "modelled_exceeds_timeout", modelledMakespanS = "modelled_makespan_s"
        case modelledPeakConcurrency = "modelled_peak_concurrency", modelledLambdaRequests = "modelled_lambda_requests"
        case modelledGBSeconds = "modelled_gb_seconds"
        case modelledCostLambdaDurationUSD = "modelled_cost_lambda_duration_usd"
        case modelledCostLambdaRequestsUSD = "modelled_cost_lambda_requests_usd"
        case modelledCostEphemeralUSD = "modelled_cost_ephemeral_usd"
        case modelledCostStepFunctionsUSD = "modelled_cost_step_functions_usd"
        case modelledCostS3USD = "modelled_cost_s3_usd", modelledCostTotalUSD = "modelled_cost_total_usd"
        case modelledSimpleCostUSD = "modelled_simple_cost_usd"
        case modelledFleetSamplesPerS = "modelled_fleet_samples_per_s"
        case modelledFleetBitsPerS = "modelled_fleet_bits_per_s", modelledFleetGBPerS = "modelled_fleet_gb_per_s"
    }

    /// `summary.csv` columns, in order.
    public static var columns: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// A row with the configuration's identity and no figures yet.
    init(configuration c: SweepConfiguration) {
        configID = c.id
        status = .failed
        failure = ""
        source = "measured ranks + modelled fleet"
        partition = c.partition.rawValue
        partitionMB = Int(c.partition.rawValue.dropLast(2)) ?? 0
        batchSize = c.batchSize
        dataSize = c.dataSizeText
        dataSizeGB = c.dataSizeGB
        fileLimit = c.fileLimit
        worldSize = c.worldSize
        threads = c.threads
        totalSamples = c.totalSamples
        samplesPerFullFile = c.partition.samplesPerFile
        remainderSamples = c.hasRemainderFile ? c.samplesInFile(c.fileLimit) : 0
        repetitions = 0
        measuredRanks = 0
        measuredRuns = 0
        measuredFailedRuns = 0
        measuredStatBasis = ""
        measuredStatRuns = 0
        measuredRemainderRuns = 0
        measuredBLASCore = ""
        verification = ""
    }

    /// True when the row's figures may be used (all runs finished, or some did and the row says how many failed).
    public var hasFigures: Bool { status != .failed }
    public var isOK: Bool { status == .ok }

    /// "ok", or "partial (1 of 4 runs failed)", or "failed (4 of 4 runs failed)": how tables show the status.
    public var statusLabel: String {
        switch status {
        case .ok: return "ok"
        case .partial, .failed: return "\(status.rawValue) (\(measuredFailedRuns) of \(measuredRuns) runs failed)"
        }
    }

    // MARK: - Files

    /// Rows as a CSV table.
    public static func table(_ rows: [SummaryRow]) throws -> CSVTable {
        try CSVRecordCoder.table(rows, emptyColumns: columns)
    }

    /// Reads `summary.csv`.
    public static func read(_ url: URL) throws -> [SummaryRow] {
        let table = try CSVTable.read(url)
        guard table.index(of: CodingKeys.configID.rawValue) != nil else {
            throw SweepError.badResults(path: url.path, reason: "missing column \"config_id\"")
        }
        return try CSVRecordCoder.records(SummaryRow.self, from: table, path: url.path)
    }

    /// `summary.json`: an array of the rows (empty figures left out).
    public static func json(_ rows: [SummaryRow]) throws -> Data {
        try JSONFormat.encode(rows)
    }
}
