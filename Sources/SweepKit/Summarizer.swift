import AstroMAE
import CAIWorkload
import Foundation
import LambdaCost

/// Turns measured rank runs into `summary.csv` rows: statistics of what was
/// measured, and the Lambda fleet modelled from it with LambdaCost.
///
/// The fleet model of a configuration (all `world_size` ranks on Lambda):
/// - Basis: the runs of the same workload (partition, batch, data) at 1
///   thread, or at the fewest threads measured. Every thread variant of a
///   workload gets the same modelled figures, since Lambda's CPU share, not
///   the local thread count, sets the speed there.
/// - Parallel efficiency e: measured as t1 / (2·t2) from the 1- and 2-thread
///   medians of full-file ranks when both were swept, else the stated
///   assumption `lambda.parallel_efficiency`.
/// - Each measured rank: the medians over repetitions of its model load,
///   data load and inference. Each unmeasured rank: the medians over all
///   full-file runs, with inference scaled by samples when its file is the
///   short remainder (used only when the remainder rank was not measured).
/// - Memory: each setting of `lambda.memory`; `auto` = the basis's peak RSS
///   plus headroom (LambdaCost.autoMemory).
/// - Duration per rank: LambdaCost.lambdaRankDuration; fleet schedule and
///   makespan: LambdaCost.simulateFleet (account concurrency, scaling rate,
///   MaxConcurrency); cost: LambdaCost.fleetCost with CAI's Initializer and
///   Summarizer as auxiliary invocations, Step Functions and S3 requests.
/// - `modelled_simple_cost_usd`: the paper's formula, world_size × mean
///   billed rank seconds × memory GB × LambdaCost.paperPricePerGBSecond
///   (LambdaCost.simpleCost).
public enum Summarizer {
    /// Bytes of the model's weights as a float32 file, fetched by every rank
    /// when `lambda.model_from_s3`.
    public static var modelBytes: Int { WeightManifest.all.reduce(0) { $0 + $1.elementCount } * 4 }

    /// Model-input bytes per sample (image + magnitudes; the label is not
    /// input), the basis of the GB/s figures: 164,160 bits / 8.
    public static let inputBytesPerSample = RankWorker.bitsPerSample / 8

    /// Summary rows for every configuration in `records`, in order of first
    /// appearance, one row per memory setting.
    public static func summarize(records: [RankRecord], lambda: LambdaSettings) throws -> [SummaryRow] {
        var order: [String] = []
        var byConfig: [String: [RankRecord]] = [:]
        var byWorkload: [String: [RankRecord]] = [:]
        for record in records {
            let id = record.configuration.id
            if byConfig[id] == nil { order.append(id) }
            byConfig[id, default: []].append(record)
            byWorkload[record.configuration.workloadID, default: []].append(record)
        }
        var rows: [SummaryRow] = []
        for id in order {
            let own = byConfig[id]!
            let configuration = own[0].configuration
            rows += try summarize(configuration: configuration, records: own,
                                  workload: byWorkload[configuration.workloadID]!, lambda: lambda)
        }
        return rows
    }

    /// Rows for one configuration; `workload` holds the runs of all its thread variants.
    static func summarize(configuration c: SweepConfiguration, records: [RankRecord], workload: [RankRecord],
                          lambda: LambdaSettings) throws -> [SummaryRow] {
        let ok = records.filter { $0.status == .ok }
        let full = ok.filter { !$0.remainderFile }
        let timed = full.isEmpty ? ok : full
        let remainderSamples = c.hasRemainderFile ? c.samplesInFile(c.fileLimit) : 0
        var cells: [String: String] = [
            "config_id": c.id,
            "source": "measured ranks + modelled fleet",
            "partition": c.partition.rawValue,
            "partition_mb": String(c.partition.rawValue.dropLast(2)),
            "batch_size": String(c.batchSize),
            "data_size": c.dataSizeText,
            "data_size_gb": c.dataSizeGB.map { NumberFormat.trimmed($0, 6) } ?? "",
            "file_limit": String(c.fileLimit),
            "world_size": String(c.worldSize),
            "threads": String(c.threads),
            "total_samples": String(c.totalSamples),
            "samples_per_full_file": String(c.partition.samplesPerFile),
            "remainder_samples": String(remainderSamples),
            "repetitions": String(Set(records.map(\.repetition)).count),
            "measured_ranks": String(Set(records.map(\.rank)).count),
            "measured_runs": String(ok.count),
            "measured_failed_runs": String(records.count - ok.count),
        ]
        guard let stats = SampleStatistics(timed.map(\.inferenceSeconds)) else {
            cells["status"] = "failed"
            cells["verification"] = records.first?.verification ?? ""
            return [SummaryRow(cells)]
        }
        cells["status"] = "ok"
        cells["measured_inference_median_s"] = NumberFormat.fixed(stats.median, 6)
        cells["measured_inference_mean_s"] = NumberFormat.fixed(stats.mean, 6)
        cells["measured_inference_iqr_mean_s"] = NumberFormat.fixed(stats.iqrMean, 6)
        cells["measured_inference_min_s"] = NumberFormat.fixed(stats.min, 6)
        cells["measured_inference_max_s"] = NumberFormat.fixed(stats.max, 6)
        cells["measured_inference_cv"] = NumberFormat.fixed(stats.coefficientOfVariation, 6)
        cells["measured_process_median_s"] = median(timed.map(\.processSeconds), 6)
        cells["measured_model_load_median_s"] = median(timed.map(\.modelLoadSeconds), 6)
        cells["measured_data_load_median_s"] = median(timed.map(\.dataLoadSeconds), 6)
        let remainderRuns = ok.filter(\.remainderFile)
        cells["measured_remainder_inference_median_s"] =
            full.isEmpty ? "" : median(remainderRuns.map(\.inferenceSeconds), 6)
        cells["measured_peak_rss_mb"] = NumberFormat.fixed(ok.map(\.peakRSSMB).max() ?? 0, 3)
        let samplesPerRank = SampleStatistics.median(timed.map { Double($0.samples) }) ?? 0
        let rankRate = stats.median > 0 ? samplesPerRank / stats.median : 0
        cells["measured_rank_samples_per_s"] = NumberFormat.fixed(rankRate, 3)
        cells["measured_rank_bits_per_s"] = NumberFormat.fixed(rankRate * Double(RankWorker.bitsPerSample), 1)
        cells["measured_rank_gb_per_s"] = NumberFormat.fixed(rankRate * Double(inputBytesPerSample) / 1e9, 9)
        cells["measured_blas_core"] = Array(Set(ok.map(\.blasCore))).sorted().joined(separator: "+")
        cells["verification"] = Array(Set(records.map(\.verification))).sorted().joined(separator: "; ")

        let fleet = try FleetModel(configuration: c, workload: workload, lambda: lambda)
        var rows: [SummaryRow] = []
        for setting in lambda.memory {
            var row = cells
            try fleet.model(setting: setting, into: &row)
            rows.append(SummaryRow(row))
        }
        return rows
    }

    private static func median(_ values: [Double], _ digits: Int) -> String {
        SampleStatistics.median(values).map { NumberFormat.fixed($0, digits) } ?? ""
    }
}

/// The modelled Lambda fleet of one configuration.
struct FleetModel {
    let configuration: SweepConfiguration
    let lambda: LambdaSettings
    let basisThreads: Int
    let efficiency: Double?
    /// Per rank 0..<worldSize: the local measurement it is modelled from.
    let rankMeasurements: [LocalRankMeasurement]
    let peakRSSMB: Double

    init(configuration c: SweepConfiguration, workload: [RankRecord], lambda: LambdaSettings) throws {
        configuration = c
        self.lambda = lambda
        let ok = workload.filter { $0.status == .ok }
        let threadCounts = Set(ok.map(\.configuration.threads))
        let basisThreads = threadCounts.contains(1) ? 1 : (threadCounts.min() ?? c.threads)
        self.basisThreads = basisThreads
        let basis = ok.filter { $0.configuration.threads == basisThreads }
        func fullMedian(_ threads: Int) -> Double? {
            let runs = ok.filter { $0.configuration.threads == threads && !$0.remainderFile }
            return SampleStatistics.median(runs.map(\.inferenceSeconds))
        }
        var efficiency: Double?
        if let t1 = fullMedian(1), let t2 = fullMedian(2), t2 > 0 {
            efficiency = min(max(t1 / (2 * t2), 0), 1)
        }
        self.efficiency = efficiency
        peakRSSMB = basis.map(\.peakRSSMB).max() ?? 0

        let fullRuns = basis.filter { !$0.remainderFile }
        let pool = fullRuns.isEmpty ? basis : fullRuns
        let pooled = Phases(runs: pool)
        let modelBytes = lambda.modelFromS3 ? Summarizer.modelBytes : 0
        var perRank: [Int: Phases] = [:]
        for rank in Set(basis.map(\.rank)) {
            perRank[rank] = Phases(runs: basis.filter { $0.rank == rank })
        }
        var measurements: [LocalRankMeasurement] = []
        measurements.reserveCapacity(c.worldSize)
        for rank in 0..<c.worldSize {
            let samples = c.samplesInFile(rank + 1)
            var phases = perRank[rank] ?? pooled
            if perRank[rank] == nil, pooled.samples > 0, Double(samples) != pooled.samples {
                phases.inference *= Double(samples) / pooled.samples
            }
            let t2: Double? = efficiency.flatMap { e in e > 0 ? phases.inference / (2 * e) : nil }
            measurements.append(LocalRankMeasurement(
                modelLoadSeconds: phases.modelLoad, dataLoadSeconds: phases.dataLoad,
                inferenceSeconds1Thread: phases.inference, inferenceSeconds2Threads: t2,
                dataBytes: samples * SampleFormat.bytesPerSample, modelBytes: modelBytes))
        }
        rankMeasurements = measurements
    }

    /// Medians of one rank's (or a pool's) phases.
    struct Phases {
        var modelLoad = 0.0, dataLoad = 0.0, inference = 0.0, samples = 0.0

        init(runs: [RankRecord]) {
            modelLoad = SampleStatistics.median(runs.map(\.modelLoadSeconds)) ?? 0
            dataLoad = SampleStatistics.median(runs.map(\.dataLoadSeconds)) ?? 0
            inference = SampleStatistics.median(runs.map(\.inferenceSeconds)) ?? 0
            samples = SampleStatistics.median(runs.map { Double($0.samples) }) ?? 0
        }
    }

    func model(setting: MemorySetting, into row: inout [String: String]) throws {
        let c = configuration
        do {
            let memoryMB = try setting.resolve(
                peakRSSBytes: Int((peakRSSMB * LambdaLimits.bytesPerMB).rounded(.up)),
                headroomFraction: lambda.headroomFraction, minimumHeadroomMB: lambda.minimumHeadroomMB)
            // Ranks with identical inputs share one computation (fleets reach hundreds of ranks).
            var cache: [MeasurementKey: RankDurationBreakdown] = [:]
            var durations: [RankDurationBreakdown] = []
            durations.reserveCapacity(rankMeasurements.count)
            for measurement in rankMeasurements {
                if let known = cache[MeasurementKey(measurement)] {
                    durations.append(known)
                } else {
                    let d = try lambdaRankDuration(measured: measurement, memoryMB: memoryMB,
                                                   assumptions: lambda.assumptions, prices: lambda.prices)
                    cache[MeasurementKey(measurement)] = d
                    durations.append(d)
                }
            }
            let schedule = try simulateFleet(durations: durations.map(\.totalSeconds), scaling: lambda.scaling)
            let auxMilliseconds = try billedMilliseconds(seconds: lambda.auxiliarySeconds,
                                                         granularityMs: lambda.prices.billingGranularityMs)
            let auxiliary = [LambdaInvocation(memoryMB: lambda.auxiliaryMemoryMB, billedMilliseconds: auxMilliseconds),
                             LambdaInvocation(memoryMB: lambda.auxiliaryMemoryMB, billedMilliseconds: auxMilliseconds)]
            let s3 = try S3Requests.caiPipeline(partitionFiles: c.fileLimit, ranks: c.worldSize,
                                                modelGetsPerRank: lambda.modelFromS3 ? 1 : 0)
            let cost = try fleetCost(
                rankBilledMilliseconds: durations.map(\.billedMilliseconds), memoryMB: memoryMB,
                architecture: lambda.architecture, ephemeralStorageMB: lambda.ephemeralStorageMB,
                auxiliaryInvocations: auxiliary, stepFunctions: lambda.stepFunctions, s3: s3,
                priorMonthlyGBSeconds: lambda.priorMonthlyGBSeconds, prices: lambda.prices)

            let first = durations[0]
            let n = Double(durations.count)
            let meanTotal = durations.reduce(0) { $0 + $1.totalSeconds } / n
            let meanBilled = durations.reduce(0) { $0 + $1.billedSeconds } / n
            let gb = Double(memoryMB) / 1_024
            let fleetRate = schedule.makespanSeconds > 0 ? Double(c.totalSamples) / schedule.makespanSeconds : 0
            row["modelled_memory_setting"] = setting.description
            row["modelled_memory_mb"] = String(memoryMB)
            row["modelled_memory_gb"] = NumberFormat.fixed(gb, 6)
            row["modelled_vcpu"] = NumberFormat.fixed(first.vcpu, 4)
            row["modelled_parallel_efficiency"] = NumberFormat.fixed(first.parallelEfficiency, 4)
            row["modelled_efficiency_source"] = efficiency == nil ? "assumed" : "measured 1 vs 2 threads"
            row["modelled_basis_threads"] = String(basisThreads)
            row["modelled_rank_cold_start_s"] = NumberFormat.fixed(first.initSeconds, 6)
            row["modelled_rank_model_load_s"] = NumberFormat.fixed(first.modelLoadSeconds, 6)
            row["modelled_rank_data_read_s"] = NumberFormat.fixed(first.dataReadSeconds, 6)
            row["modelled_rank_inference_s"] = NumberFormat.fixed(first.inferenceSeconds, 6)
            row["modelled_rank_duration_s"] = NumberFormat.fixed(first.totalSeconds, 6)
            row["modelled_rank_duration_mean_s"] = NumberFormat.fixed(meanTotal, 6)
            row["modelled_rank_billed_mean_s"] = NumberFormat.fixed(meanBilled, 6)
            row["modelled_exceeds_timeout"] = durations.contains(where: \.exceedsTimeout) ? "true" : "false"
            row["modelled_makespan_s"] = NumberFormat.fixed(schedule.makespanSeconds, 6)
            row["modelled_peak_concurrency"] = String(schedule.peakConcurrency)
            row["modelled_lambda_requests"] = String(cost.lambdaRequests)
            row["modelled_gb_seconds"] = NumberFormat.fixed(cost.lambdaGBSeconds, 6)
            row["modelled_cost_lambda_duration_usd"] = NumberFormat.fixed(cost.lambdaDurationDollars, 8)
            row["modelled_cost_lambda_requests_usd"] = NumberFormat.fixed(cost.lambdaRequestDollars, 8)
            row["modelled_cost_ephemeral_usd"] = NumberFormat.fixed(cost.ephemeralStorageDollars, 8)
            row["modelled_cost_step_functions_usd"] = NumberFormat.fixed(
                cost.stepFunctionsTransitionDollars + cost.stepFunctionsExpressRequestDollars
                    + cost.stepFunctionsExpressDurationDollars, 8)
            row["modelled_cost_s3_usd"] = NumberFormat.fixed(cost.s3GetDollars + cost.s3PutDollars + cost.s3ListDollars, 8)
            row["modelled_cost_total_usd"] = NumberFormat.fixed(cost.totalDollars, 8)
            row["modelled_simple_cost_usd"] = NumberFormat.fixed(
                simpleCost(requests: c.worldSize, durationSeconds: meanBilled, memoryGB: gb), 8)
            row["modelled_fleet_samples_per_s"] = NumberFormat.fixed(fleetRate, 3)
            row["modelled_fleet_bits_per_s"] = NumberFormat.fixed(fleetRate * Double(RankWorker.bitsPerSample), 1)
            row["modelled_fleet_gb_per_s"] = NumberFormat.fixed(
                fleetRate * Double(Summarizer.inputBytesPerSample) / 1e9, 9)
        } catch let error as LambdaCostError {
            throw SweepError.costModel(configuration: c.id, reason: error.description)
        }
    }
}

/// The inputs of one rank's duration, as a dictionary key.
private struct MeasurementKey: Hashable {
    let values: [Double]
    let bytes: [Int]

    init(_ m: LocalRankMeasurement) {
        values = [m.modelLoadSeconds, m.dataLoadSeconds, m.inferenceSeconds1Thread, m.inferenceSeconds2Threads ?? -1]
        bytes = [m.dataBytes, m.modelBytes]
    }
}
