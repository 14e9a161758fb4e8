import CosmicSupport
import Foundation
import LambdaCost

/// One row of `lambda.csv`: a configuration's ranks as measured on Lambda at
/// one memory size, beside what the LambdaCost model predicts for the same
/// configuration and memory from the local measurements (when the results
/// hold local rows of the same workload).
///
/// Measured: rank duration = REPORT Duration + Init Duration (what the
/// model's rank duration covers), billed = REPORT Billed Duration, memory =
/// REPORT Max Memory Used, makespan = the execution's start to stop
/// (Initialize, ranks, Summarize). Cost = the ranks' measured billed GB-s at
/// the account's price tier plus the same modelled extras the model adds
/// (Initialize and Summarize of `lambda.auxiliary_seconds`, Step Functions
/// transitions, S3 requests), so the two costs differ only where AWS did.
/// Errors are (modelled − measured) / measured in percent.
public struct LambdaRow: Codable, Equatable, Sendable {
    public var configID: String
    public var source = MeasurementSource.lambda.rawValue
    public var status: ConfigurationStatus
    public var failure: String
    public var partition: String
    public var batchSize: Int
    public var dataSize: String
    public var fileLimit: Int
    public var worldSize: Int
    public var memoryMB: Int
    public var executions: Int
    public var runs: Int
    public var failedRuns: Int
    /// How the rows' Lambda figures were obtained, e.g. "REPORT log" or "REPORT log 7, worker timings 1".
    public var figures: String
    public var coldStarts: Int
    public var rankDurationMeanS: Double?
    public var rankDurationMinS: Double?
    public var rankDurationMaxS: Double?
    public var rankBilledMeanS: Double?
    public var maxMemoryUsedMB: Int?
    public var initMedianS: Double?
    public var makespanMedianS: Double?
    public var makespanMinS: Double?
    public var makespanMaxS: Double?
    public var gbSecondsPerExecution: Double?
    public var costPerExecutionUSD: Double?
    /// What the model was built from, empty when the results hold no local run of this workload.
    public var modelledBasis: String
    public var modelledRankDurationMeanS: Double?
    public var modelledMakespanS: Double?
    public var modelledCostUSD: Double?
    public var durationErrorPct: Double?
    public var makespanErrorPct: Double?
    public var costErrorPct: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case configID = "config_id", source, status, failure, partition, batchSize = "batch_size"
        case dataSize = "data_size", fileLimit = "file_limit", worldSize = "world_size", memoryMB = "memory_mb"
        case executions, runs, failedRuns = "failed_runs", figures, coldStarts = "cold_starts"
        case rankDurationMeanS = "measured_rank_duration_mean_s", rankDurationMinS = "measured_rank_duration_min_s"
        case rankDurationMaxS = "measured_rank_duration_max_s", rankBilledMeanS = "measured_rank_billed_mean_s"
        case maxMemoryUsedMB = "measured_max_memory_used_mb", initMedianS = "measured_init_median_s"
        case makespanMedianS = "measured_makespan_median_s", makespanMinS = "measured_makespan_min_s"
        case makespanMaxS = "measured_makespan_max_s", gbSecondsPerExecution = "measured_gb_seconds_per_execution"
        case costPerExecutionUSD = "measured_cost_per_execution_usd", modelledBasis = "modelled_basis"
        case modelledRankDurationMeanS = "modelled_rank_duration_mean_s"
        case modelledMakespanS = "modelled_makespan_s", modelledCostUSD = "modelled_cost_usd"
        case durationErrorPct = "duration_error_pct", makespanErrorPct = "makespan_error_pct"
        case costErrorPct = "cost_error_pct"
    }

    /// `lambda.csv` columns, in order.
    public static var columns: [String] { CodingKeys.allCases.map(\.rawValue) }

    public static func table(_ rows: [LambdaRow]) throws -> CSVTable {
        try CSVRecordCoder.table(rows, emptyColumns: columns)
    }

    public static func read(_ url: URL) throws -> [LambdaRow] {
        try CSVRecordCoder.records(LambdaRow.self, from: try CSVTable.read(url), path: url.path)
    }

    public static func json(_ rows: [LambdaRow]) throws -> Data {
        try JSONFormat.encode(rows)
    }
}

/// Builds `lambda.csv` from ranks.csv's rows.
public enum LambdaComparison {
    /// One row per (configuration, memory) measured on Lambda, in order of first appearance.
    public static func rows(records: [RankRecord], lambda settings: LambdaSettings) throws -> [LambdaRow] {
        var order: [String] = []
        var groups: [String: [RankRecord]] = [:]
        var localByWorkload: [String: [RankRecord]] = [:]
        for record in records {
            guard record.source == .lambda, let figures = record.lambda else {
                if record.source == .local { localByWorkload[record.configuration.workloadID, default: []].append(record) }
                continue
            }
            let key = "\(record.configuration.id)@\(figures.memoryMB)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(record)
        }
        let scaling = ThreadScaling(records: records)
        return try order.map { key in
            let group = groups[key]!
            return try row(group, local: localByWorkload[group[0].configuration.workloadID] ?? [], scaling: scaling,
                           settings: settings)
        }
    }

    static func row(_ group: [RankRecord], local: [RankRecord], scaling: ThreadScaling,
                    settings: LambdaSettings) throws -> LambdaRow {
        let c = group[0].configuration
        let memory = group[0].lambda!.memoryMB
        let ok = group.filter { $0.status == .ok }
        let failed = group.filter { $0.status != .ok }
        let figures = ok.compactMap(\.lambda)
        let durations = figures.map(\.totalSeconds)
        var byExecution: [String: [RankRecord]] = [:]
        for record in group { byExecution[record.lambda!.execution, default: []].append(record) }
        let executionSeconds = byExecution.values.compactMap { $0.first?.lambda?.executionSeconds }.filter { $0 > 0 }
        let origins = Dictionary(grouping: group.map { $0.lambda!.figures.rawValue }, by: { $0 })
            .map { (name: $0.key, count: $0.value.count) }.sorted { $0.name < $1.name }

        var row = LambdaRow(
            configID: c.id, status: failed.isEmpty ? .ok : (ok.isEmpty ? .failed : .partial),
            failure: Summarizer.failureSummary(failed, of: group.count), partition: c.partition.rawValue,
            batchSize: c.batchSize, dataSize: c.dataSizeText, fileLimit: c.fileLimit, worldSize: c.worldSize,
            memoryMB: memory, executions: byExecution.count, runs: group.count, failedRuns: failed.count,
            figures: origins.count == 1 ? origins[0].name : origins.map { "\($0.name) \($0.count)" }.joined(separator: ", "),
            coldStarts: figures.filter(\.coldStart).count, modelledBasis: "")
        if !durations.isEmpty {
            row.rankDurationMeanS = rounded(durations.reduce(0, +) / Double(durations.count), 6)
            row.rankDurationMinS = rounded(durations.min()!, 6)
            row.rankDurationMaxS = rounded(durations.max()!, 6)
            row.rankBilledMeanS = rounded(Double(figures.map(\.billedMs).reduce(0, +)) / Double(figures.count) / 1_000, 6)
            row.maxMemoryUsedMB = figures.map(\.maxMemoryUsedMB).max()
            row.initMedianS = SampleStatistics.median(figures.compactMap(\.initMs)).map { rounded($0 / 1_000, 6) }
        }
        if let stats = SampleStatistics(executionSeconds) {
            row.makespanMedianS = rounded(stats.median, 6)
            row.makespanMinS = rounded(stats.min, 6)
            row.makespanMaxS = rounded(stats.max, 6)
        }
        do {
            // Only executions whose every rank finished are costed: a failed
            // rank's billed time is unknown or cut short.
            let complete = byExecution.values.filter { $0.allSatisfy { $0.status == .ok } }
            let costs = try complete.map { ranks in
                try FleetModel.cost(configuration: c, lambda: settings,
                                    rankBilledMilliseconds: ranks.map { $0.lambda!.billedMs }, memoryMB: memory)
            }
            if !costs.isEmpty {
                row.gbSecondsPerExecution = SampleStatistics.median(costs.map(\.lambdaGBSeconds)).map { rounded($0, 6) }
                row.costPerExecutionUSD = SampleStatistics.median(costs.map(\.totalDollars)).map { rounded($0, 8) }
            }
            if let fleet = try FleetModel(configuration: c, workload: local, scaling: scaling, lambda: settings) {
                var modelled = SummaryRow(configuration: c)
                try fleet.model(setting: .fixed(megabytes: memory), into: &modelled)
                row.modelledBasis = "local runs at \(fleet.basisThreads) thread(s), parallel efficiency "
                    + fleet.efficiencySource
                row.modelledRankDurationMeanS = modelled.modelledRankDurationMeanS
                row.modelledMakespanS = modelled.modelledMakespanS.map { rounded($0 + 2 * settings.auxiliarySeconds, 6) }
                row.modelledCostUSD = modelled.modelledCostTotalUSD
                row.durationErrorPct = errorPercent(row.modelledRankDurationMeanS, row.rankDurationMeanS)
                row.makespanErrorPct = errorPercent(row.modelledMakespanS, row.makespanMedianS)
                row.costErrorPct = errorPercent(row.modelledCostUSD, row.costPerExecutionUSD)
            }
        } catch let error as LambdaCostError {
            throw SweepError.costModel(configuration: c.id, reason: error.description)
        }
        return row
    }

    /// (modelled − measured) / measured in percent, nil without both.
    static func errorPercent(_ modelled: Double?, _ measured: Double?) -> Double? {
        guard let modelled, let measured, measured > 0 else { return nil }
        return rounded((modelled - measured) / measured * 100, 2)
    }
}
