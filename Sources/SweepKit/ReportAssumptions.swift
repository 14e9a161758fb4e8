import Foundation
import LambdaCost

extension Report {
    /// What the Lambda model assumed, in plain words, from the summary rows:
    /// the vCPU share, the parallel efficiency and where it was measured,
    /// which memory sizes rest on measured thread counts and which are
    /// extrapolated, and the cold start.
    static func assumptionsSection(_ rows: [SummaryRow]) -> String {
        guard let first = rows.first else { return "" }
        let threshold = NumberFormat.grouped(Int(LambdaLimits.megabytesPerVCPU.rounded()))
        var md = "## What the Lambda model assumes\n\n"
        md += "- **CPU share.** Lambda gives a function about one vCPU per \(threshold) MB of memory, up to "
        md += "\(NumberFormat.trimmed(LambdaLimits.maxVCPU, 0)) vCPUs at \(NumberFormat.grouped(LambdaLimits.maxMemoryMB)) MB. Below \(threshold) MB a rank is "
        md += "modelled at that fraction of the single-thread speed measured here.\n"
        let sources = Set(rows.compactMap(\.modelledEfficiencySource))
        let efficiencies = rows.compactMap(\.modelledParallelEfficiency)
        if sources.subtracting(["assumed"]).isEmpty {
            let e = efficiencies.first.map { NumberFormat.trimmed($0, 3) } ?? "?"
            md += "- **More vCPUs.** No rank was measured at 2 threads, so each vCPU beyond the first is assumed to add "
            md += "\(e) of a core (`lambda.parallel_efficiency`); every figure above \(threshold) MB rests on that "
            md += "assumption (`modelled_vcpu_basis` = assumed).\n"
        } else {
            let low = efficiencies.min().map { NumberFormat.trimmed($0, 3) } ?? "?"
            let high = efficiencies.max().map { NumberFormat.trimmed($0, 3) } ?? "?"
            var configurations: [String: String] = [:]
            for row in rows { configurations[row.configID] = row.modelledEfficiencySource ?? "assumed" }
            func count(_ matches: (String) -> Bool) -> Int { configurations.values.filter(matches).count }
            let own = count { $0 == "measured 1 vs 2 threads" }
            let carried = count { $0.hasSuffix("at another data size") }
            let median = count { $0.contains("median of") }
            let assumed = count { $0 == "assumed" }
            md += "- **More vCPUs.** Each vCPU beyond the first adds e of a core, e = t₁ / (2·t₂) from full-file ranks "
            md += "measured at 1 and 2 threads on this machine (e = \(low == high ? low : "\(low)–\(high)") over the "
            md += "configurations): measured on the configuration itself for \(own), carried over from the same "
            md += "partition and batch size at another amount of data (the same work) for \(carried)"
            md += median > 0 ? ", the median of the measured ones for \(median)" : ""
            md += assumed > 0 ? ", assumed for \(assumed)" : ""
            md += "."
            if rows.contains(where: { ($0.measuredConcurrentRanks ?? 1) > 1 }) {
                md += " Single-thread ranks ran side by side (`concurrent_ranks` in ranks.csv) while 2-thread ranks ran "
                md += "alone, so t₁ includes any slowdown from sharing the machine, and e with it."
            }
            md += " This machine has 2 cores, so speeds up to 2 vCPUs "
            md += "(\(NumberFormat.grouped(Int((2 * LambdaLimits.megabytesPerVCPU).rounded()))) MB) rest on measured "
            md += "thread counts; above that they are **extrapolated** with the same e (`modelled_vcpu_basis` in "
            md += "summary.csv says which).\n"
        }
        let extrapolated = Set(rows.filter { $0.modelledVCPUBasis == "extrapolated" }.compactMap(\.modelledMemoryMB))
        if !extrapolated.isEmpty {
            md += "  Extrapolated memory sizes in this sweep: "
            md += extrapolated.sorted().map { "\(NumberFormat.grouped($0)) MB" }.joined(separator: ", ") + ".\n"
        }
        if let cold = first.modelledRankColdStartS {
            md += "- **Start-up.** Every rank pays a cold start of \(NumberFormat.trimmed(cold, 3)) s and reads its "
            md += "partition (and, with `model_from_s3`, the weights) from S3 at the stated bandwidth; these are "
            md += "assumptions of `[lambda]` until `cosmicbench calibrate` fits them to ranks run on Lambda.\n"
        }
        return md + "\n"
    }
}
