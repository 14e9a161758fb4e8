import CAIWorkload
import Foundation
import LambdaCost

/// Fits the Lambda model's assumptions to ranks measured on Lambda, each
/// paired with the local measurement of the same rank (`cosmicbench calibrate`).
///
/// With the model's formulas (`lambdaRankDuration`), for a rank with local
/// 1-thread inference t, local data load d, data bytes b, and on Lambda
/// inference t', data load d' at v vCPUs:
/// - cpu speed factor s = t / (t' × cores), cores = v below one vCPU, else
///   1 + (v − 1) e; fitted from ranks at ≤ 1 vCPU when there are any (where
///   e does not enter), else from all with the current e;
/// - parallel efficiency e = (t / (s t') − 1) / (v − 1), from ranks above one
///   vCPU, only when s came from ranks at ≤ 1 vCPU;
/// - S3 bandwidth = b / (d' − d / (s min(1, v))), where that is positive;
/// - cold start = Init Duration of cold invocations.
/// Each figure is the median over ranks; one that cannot be fitted keeps
/// its current value and says why.
public struct Calibration: Equatable, Sendable {
    /// A fitted (or kept) value and how it was obtained.
    public struct Figure: Equatable, Sendable {
        public var key: String
        public var value: Double?
        public var note: String
    }

    public var figures: [Figure]
    public var ranks: Int
    public var configurations: Int
    public var memorySizes: [Int]

    /// Fits from `records` (ranks.csv rows of both sources) with the spec's current `lambda` settings.
    public static func fit(records: [RankRecord], lambda settings: LambdaSettings, path: String) throws -> Calibration {
        let local = Dictionary(grouping: records.filter { $0.source == .local }, by: \.configuration.workloadID)
        var pairs: [(measured: LocalRankMeasurement, lambda: RankRecord, vcpu: Double, efficiency: Double)] = []
        var models: [String: FleetModel?] = [:]
        let scaling = ThreadScaling(records: records)
        for record in records where record.source == .lambda && record.status == .ok {
            let c = record.configuration
            let model: FleetModel?
            if let known = models[c.id] {
                model = known
            } else {
                model = try FleetModel(configuration: c, workload: local[c.workloadID] ?? [], scaling: scaling,
                                       lambda: settings)
                models[c.id] = model
            }
            guard let model, record.rank < model.rankMeasurements.count, let memory = record.lambda?.memoryMB else { continue }
            let measured = model.rankMeasurements[record.rank]
            pairs.append((measured, record, vcpuShare(memoryMB: Double(memory)),
                          measured.parallelEfficiency ?? settings.assumptions.parallelEfficiencyWhenUnmeasured))
        }
        guard !pairs.isEmpty else {
            throw SweepError.badResults(path: path, reason: "no finished Lambda rank has a local run of its workload "
                + "to pair with; run the spec locally and with --executor aws into the same results")
        }
        let a = settings.assumptions
        var figures: [Figure] = []

        let single = pairs.filter { $0.vcpu <= 1 }
        let speedBasis = single.isEmpty ? pairs : single
        let speeds = speedBasis.compactMap { p -> Double? in
            let cores = effectiveCores(vcpu: p.vcpu, parallelEfficiency: p.efficiency)
            return p.lambda.inferenceSeconds > 0 ? p.measured.inferenceSeconds1Thread / (p.lambda.inferenceSeconds * cores) : nil
        }
        let speed = SampleStatistics.median(speeds)
        figures.append(Figure(key: "cpu_speed_factor", value: speed.map { rounded($0, 4) },
                              note: speed == nil ? "not fitted: no rank with inference time"
                                  : "median of \(speeds.count) rank(s)" + (single.isEmpty ? " (above 1 vCPU, current efficiency)" : " at ≤ 1 vCPU")))
        let s = speed ?? a.cpuSpeedFactor

        let above = pairs.filter { $0.vcpu > 1 }
        if single.isEmpty || above.isEmpty {
            figures.append(Figure(key: "parallel_efficiency", value: nil,
                                  note: "not fitted: needs ranks at ≤ 1,769 MB and above it"))
        } else {
            let values = above.compactMap { p -> Double? in
                p.lambda.inferenceSeconds > 0
                    ? min(max((p.measured.inferenceSeconds1Thread / (s * p.lambda.inferenceSeconds) - 1) / (p.vcpu - 1), 0), 1)
                    : nil
            }
            figures.append(Figure(key: "parallel_efficiency", value: SampleStatistics.median(values).map { rounded($0, 4) },
                                  note: "median of \(values.count) rank(s) above 1 vCPU"))
        }

        let bandwidths = pairs.compactMap { p -> Double? in
            let transfer = p.lambda.dataLoadSeconds - p.measured.dataLoadSeconds / (s * min(1, p.vcpu))
            return transfer > 0 ? Double(p.measured.dataBytes) / transfer / 1e6 : nil
        }
        let bandwidth = SampleStatistics.median(bandwidths)
        figures.append(Figure(key: "s3_mb_per_second", value: bandwidth.map { rounded($0, 2) },
                              note: bandwidth == nil ? "not fitted: Lambda data loads were no slower than local ones"
                                  : "median of \(bandwidths.count) rank(s), decimal MB/s"))

        let inits = pairs.compactMap { $0.lambda.lambda?.initMs }.map { $0 / 1_000 }
        let cold = SampleStatistics.median(inits)
        figures.append(Figure(key: "cold_start_seconds", value: cold.map { rounded($0, 4) },
                              note: cold == nil ? "not fitted: no cold start with an Init Duration"
                                  : "median Init Duration of \(inits.count) cold start(s)"))

        return Calibration(figures: figures, ranks: pairs.count,
                           configurations: Set(pairs.map(\.lambda.configuration.id)).count,
                           memorySizes: Array(Set(pairs.compactMap(\.lambda.lambda?.memoryMB))).sorted())
    }

    /// The `[lambda]` block: fitted keys set, the others as comments.
    public func toml(source: String) -> String {
        var text = "# Fitted by `cosmicbench calibrate` from \(source): \(ranks) Lambda rank(s) of "
        text += "\(configurations) configuration(s) at \(memorySizes.map(String.init).joined(separator: ", ")) MB, "
        text += "each paired with the local run of the same rank.\n[lambda]\n"
        for figure in figures {
            if let value = figure.value {
                text += "\(figure.key) = \(NumberFormat.trimmed(value, 4))  # \(figure.note)\n"
            } else {
                text += "# \(figure.key): \(figure.note)\n"
            }
        }
        return text
    }
}
