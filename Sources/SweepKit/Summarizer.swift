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
///   medians of full-file ranks of the workload when both were swept; else of
///   the same partition and batch size at another data size (full files are
///   the same work there); else the median over the sweep's workloads that
///   measured both; else the stated assumption `lambda.parallel_efficiency`.
///   Speeds beyond the measured thread counts are labelled "extrapolated".
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
        let scaling = ThreadScaling(records: records)
        var rows: [SummaryRow] = []
        for id in order {
            let own = byConfig[id]!
            let configuration = own[0].configuration
            rows += try summarize(configuration: configuration, records: own,
                                  workload: byWorkload[configuration.workloadID]!, scaling: scaling, lambda: lambda)
        }
        return rows
    }

    /// Rows for one configuration; `workload` holds the runs of all its thread variants.
    static func summarize(configuration c: SweepConfiguration, records: [RankRecord], workload: [RankRecord],
                          scaling: ThreadScaling = ThreadScaling(records: []),
                          lambda: LambdaSettings) throws -> [SummaryRow] {
        let ok = records.filter { $0.status == .ok }
        let failed = records.filter { $0.status != .ok }
        // A full-file figure is only ever built from full-file ranks; a
        // configuration whose whole data is one short file is described as such.
        let hasFullFiles = c.samplesInFile(1) == c.partition.samplesPerFile
        let timed = hasFullFiles ? ok.filter { !$0.remainderFile } : ok
        var row = SummaryRow(configuration: c)
        row.repetitions = Set(records.map(\.repetition)).count
        row.measuredRanks = Set(records.map(\.rank)).count
        row.measuredRuns = records.count
        row.measuredReusedRuns = records.filter { $0.measuredFor != nil }.count
        row.measuredConcurrentRanks = records.map(\.concurrentRanks).max()
        row.measuredFailedRuns = failed.count
        row.measuredStatBasis = hasFullFiles ? "full file" : "whole data (one short file)"
        row.measuredStatRuns = timed.count
        row.measuredRemainderRuns = hasFullFiles ? ok.filter(\.remainderFile).count : 0
        row.verification = Array(Set(records.map(\.verification))).sorted().joined(separator: "; ")
        row.failure = failureSummary(failed, of: records.count)
        guard let stats = SampleStatistics(timed.map(\.inferenceSeconds)) else {
            row.status = .failed
            if row.failure.isEmpty { row.failure = "no full-file rank finished" }
            return [row]
        }
        row.status = failed.isEmpty ? .ok : .partial
        row.measuredInferenceMedianS = rounded(stats.median, 6)
        row.measuredInferenceMeanS = rounded(stats.mean, 6)
        row.measuredInferenceIQRMeanS = rounded(stats.iqrMean, 6)
        if stats.count >= 2 {
            row.measuredInferenceMinS = rounded(stats.min, 6)
            row.measuredInferenceMaxS = rounded(stats.max, 6)
            row.measuredInferenceCV = rounded(stats.coefficientOfVariation, 6)
        }
        row.measuredProcessMedianS = median(timed.map(\.processSeconds), 6)
        row.measuredModelLoadMedianS = median(timed.map(\.modelLoadSeconds), 6)
        row.measuredDataLoadMedianS = median(timed.map(\.dataLoadSeconds), 6)
        if hasFullFiles {
            row.measuredRemainderInferenceMedianS = median(ok.filter(\.remainderFile).map(\.inferenceSeconds), 6)
        }
        row.measuredPeakRSSMB = rounded(ok.map(\.peakRSSMB).max() ?? 0, 3)
        let samplesPerRank = SampleStatistics.median(timed.map { Double($0.samples) }) ?? 0
        let rankRate = stats.median > 0 ? samplesPerRank / stats.median : 0
        row.measuredRankSamplesPerS = rounded(rankRate, 3)
        row.measuredRankBitsPerS = rounded(rankRate * Double(RankWorker.bitsPerSample), 1)
        row.measuredRankGBPerS = rounded(rankRate * Double(inputBytesPerSample) / 1e9, 9)
        row.measuredBLASCore = Array(Set(ok.map(\.blasCore))).sorted().joined(separator: "+")

        guard let fleet = try FleetModel(configuration: c, workload: workload, scaling: scaling, lambda: lambda) else {
            return [row]
        }
        return try lambda.memory.map { setting in
            var modelled = row
            try fleet.model(setting: setting, into: &modelled)
            return modelled
        }
    }

    /// "3 of 4 runs failed: timeout: killed after 2 s timeout" (the most common reason).
    static func failureSummary(_ failed: [RankRecord], of total: Int) -> String {
        guard !failed.isEmpty else { return "" }
        var counts: [String: Int] = [:]
        for record in failed {
            let reason = record.error.isEmpty ? record.status.rawValue : "\(record.status.rawValue): \(record.error)"
            counts[reason, default: 0] += 1
        }
        let top = counts.max { ($0.value, $1.key) < ($1.value, $0.key) }!
        let others = counts.count > 1 ? " (and \(counts.count - 1) other reason(s))" : ""
        return "\(failed.count) of \(total) runs failed: \(top.key)\(others)"
    }

    private static func median(_ values: [Double], _ digits: Int) -> Double? {
        SampleStatistics.median(values).map { rounded($0, digits) }
    }
}

/// `value` rounded to `digits` decimals: the precision a figure is stored at.
func rounded(_ value: Double, _ digits: Int) -> Double {
    guard value.isFinite else { return value }
    return NumberFormat.parse(NumberFormat.fixed(value, digits)) ?? value
}

/// The modelled Lambda fleet of one configuration.
struct FleetModel {
    let configuration: SweepConfiguration
    let lambda: LambdaSettings
    let basisThreads: Int
    let efficiency: Double?
    /// Where `efficiency` comes from ("assumed" when nil).
    let efficiencySource: String
    /// The most threads measured with `efficiency` known: speeds beyond are extrapolated.
    let measuredThreads: Int
    /// Per rank 0..<worldSize: the local measurement it is modelled from.
    let rankMeasurements: [LocalRankMeasurement]
    let peakRSSMB: Double

    /// Nil when no run of the workload finished, or none of a full file when the configuration has full files.
    init?(configuration c: SweepConfiguration, workload: [RankRecord], scaling: ThreadScaling,
          lambda: LambdaSettings) throws {
        configuration = c
        self.lambda = lambda
        let ok = workload.filter { $0.status == .ok }
        let threadCounts = Set(ok.map(\.configuration.threads))
        let basisThreads = threadCounts.contains(1) ? 1 : (threadCounts.min() ?? c.threads)
        self.basisThreads = basisThreads
        let basis = ok.filter { $0.configuration.threads == basisThreads }
        if basis.isEmpty { return nil }
        func fullMedian(_ threads: Int) -> Double? {
            let runs = ok.filter { $0.configuration.threads == threads && !$0.remainderFile }
            return SampleStatistics.median(runs.map(\.inferenceSeconds))
        }
        var efficiency: Double?, source = "assumed"
        if let t1 = fullMedian(1), let t2 = fullMedian(2), t2 > 0 {
            efficiency = min(max(t1 / (2 * t2), 0), 1)
            source = "measured 1 vs 2 threads"
        } else if let known = scaling.efficiency(for: c) {
            (efficiency, source) = (known.value, known.source)
        }
        self.efficiency = efficiency
        efficiencySource = source
        measuredThreads = efficiency == nil ? 1 : 2
        peakRSSMB = basis.map(\.peakRSSMB).max() ?? 0

        let fullRuns = basis.filter { !$0.remainderFile }
        let hasFullFiles = c.samplesInFile(1) == c.partition.samplesPerFile
        if hasFullFiles && fullRuns.isEmpty { return nil }
        let pool = hasFullFiles ? fullRuns : basis
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

    func model(setting: MemorySetting, into row: inout SummaryRow) throws {
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
            let peak = row.measuredPeakRSSMB ?? peakRSSMB
            if Double(memoryMB) < peak {
                return cannotRun(row: &row, setting: setting, memoryMB: memoryMB, first: durations[0],
                                 reason: "is below the measured peak RSS of \(NumberFormat.fixed(peak, 1)) MB")
            }
            if durations.contains(where: \.exceedsTimeout) {
                return cannotRun(row: &row, setting: setting, memoryMB: memoryMB, first: durations[0],
                                 reason: "is too little: a rank runs past Lambda's \(NumberFormat.trimmed(LambdaLimits.timeoutSeconds, 0)) s timeout")
            }
            let schedule = try simulateFleet(durations: durations.map(\.totalSeconds), scaling: lambda.scaling)
            let cost = try Self.cost(configuration: c, lambda: lambda,
                                     rankBilledMilliseconds: durations.map(\.billedMilliseconds), memoryMB: memoryMB)

            let first = durations[0]
            let n = Double(durations.count)
            let meanTotal = durations.reduce(0) { $0 + $1.totalSeconds } / n
            let meanBilled = durations.reduce(0) { $0 + $1.billedSeconds } / n
            let gb = Double(memoryMB) / 1_024
            let fleetRate = schedule.makespanSeconds > 0 ? Double(c.totalSamples) / schedule.makespanSeconds : 0
            describe(row: &row, setting: setting, memoryMB: memoryMB, first: first)
            row.modelledLambdaFits = "yes"
            row.modelledRankColdStartS = rounded(first.initSeconds, 6)
            row.modelledRankModelLoadS = rounded(first.modelLoadSeconds, 6)
            row.modelledRankDataReadS = rounded(first.dataReadSeconds, 6)
            row.modelledRankInferenceS = rounded(first.inferenceSeconds, 6)
            row.modelledRankDurationS = rounded(first.totalSeconds, 6)
            row.modelledRankDurationMeanS = rounded(meanTotal, 6)
            row.modelledRankBilledMeanS = rounded(meanBilled, 6)
            row.modelledExceedsTimeout = durations.contains(where: \.exceedsTimeout)
            row.modelledMakespanS = rounded(schedule.makespanSeconds, 6)
            row.modelledPeakConcurrency = schedule.peakConcurrency
            row.modelledLambdaRequests = cost.lambdaRequests
            row.modelledGBSeconds = rounded(cost.lambdaGBSeconds, 6)
            row.modelledCostLambdaDurationUSD = rounded(cost.lambdaDurationDollars, 8)
            row.modelledCostLambdaRequestsUSD = rounded(cost.lambdaRequestDollars, 8)
            row.modelledCostEphemeralUSD = rounded(cost.ephemeralStorageDollars, 8)
            row.modelledCostStepFunctionsUSD = rounded(
                cost.stepFunctionsTransitionDollars + cost.stepFunctionsExpressRequestDollars
                    + cost.stepFunctionsExpressDurationDollars, 8)
            row.modelledCostS3USD = rounded(cost.s3GetDollars + cost.s3PutDollars + cost.s3ListDollars, 8)
            row.modelledCostTotalUSD = rounded(cost.totalDollars, 8)
            row.modelledSimpleCostUSD = rounded(
                simpleCost(requests: c.worldSize, durationSeconds: meanBilled, memoryGB: gb), 8)
            row.modelledFleetSamplesPerS = rounded(fleetRate, 3)
            row.modelledFleetBitsPerS = rounded(fleetRate * Double(RankWorker.bitsPerSample), 1)
            row.modelledFleetGBPerS = rounded(
                fleetRate * Double(Summarizer.inputBytesPerSample) / 1e9, 9)
        } catch let error as LambdaCostError {
            throw SweepError.costModel(configuration: c.id, reason: error.description)
        }
    }
}

extension FleetModel {
    /// The memory, vCPU and efficiency columns every modelled row has.
    private func describe(row: inout SummaryRow, setting: MemorySetting, memoryMB: Int, first: RankDurationBreakdown) {
        row.modelledMemorySetting = setting.description
        row.modelledMemoryMB = memoryMB
        row.modelledMemoryGB = rounded(Double(memoryMB) / 1_024, 6)
        row.modelledVCPU = rounded(first.vcpu, 4)
        row.modelledParallelEfficiency = rounded(first.parallelEfficiency, 4)
        row.modelledEfficiencySource = efficiencySource
        row.modelledBasisThreads = basisThreads
        row.modelledVCPUBasis = first.vcpu <= Double(measuredThreads) ? "measured"
            : efficiency == nil ? "assumed" : "extrapolated"
    }

    /// A memory size Lambda could not run: said so, with no duration or cost.
    private func cannotRun(row: inout SummaryRow, setting: MemorySetting, memoryMB: Int, first: RankDurationBreakdown,
                           reason: String) {
        describe(row: &row, setting: setting, memoryMB: memoryMB, first: first)
        row.modelledLambdaFits = "no: \(memoryMB) MB \(reason)"
        row.modelledExceedsTimeout = first.exceedsTimeout
    }

    /// One execution's cost from its ranks' billed milliseconds (modelled or
    /// measured), with CAI's Initializer and Summarizer as auxiliary
    /// invocations of `lambda.auxiliary_seconds`, Step Functions and S3 requests.
    static func cost(configuration c: SweepConfiguration, lambda: LambdaSettings, rankBilledMilliseconds: [Int],
                     memoryMB: Int) throws -> FleetCost {
        let auxMilliseconds = try billedMilliseconds(seconds: lambda.auxiliarySeconds,
                                                     granularityMs: lambda.prices.billingGranularityMs)
        let auxiliary = [LambdaInvocation(memoryMB: lambda.auxiliaryMemoryMB, billedMilliseconds: auxMilliseconds),
                         LambdaInvocation(memoryMB: lambda.auxiliaryMemoryMB, billedMilliseconds: auxMilliseconds)]
        let s3 = try S3Requests.caiPipeline(partitionFiles: c.fileLimit, ranks: c.worldSize,
                                            modelGetsPerRank: lambda.modelFromS3 ? 1 : 0)
        return try fleetCost(
            rankBilledMilliseconds: rankBilledMilliseconds, memoryMB: memoryMB,
            architecture: lambda.architecture, ephemeralStorageMB: lambda.ephemeralStorageMB,
            auxiliaryInvocations: auxiliary, stepFunctions: lambda.stepFunctions, s3: s3,
            priorMonthlyGBSeconds: lambda.priorMonthlyGBSeconds, prices: lambda.prices)
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
