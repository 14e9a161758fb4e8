import CosmicSupport
import Foundation

extension Report {
    /// "## Measured on Lambda vs modelled": per configuration and memory, the
    /// Lambda measurement beside the model's prediction from local runs.
    static func lambdaSection(_ rows: [LambdaRow]) -> String {
        var md = "## Measured on Lambda vs modelled\n\n"
        md += "Ranks run on AWS Lambda through the stack's Step Functions state machine (`lambda.csv`). "
        md += "Measured rank duration = REPORT Duration + Init Duration, averaged over finished ranks (min–max in "
        md += "brackets); makespan = execution start to stop (median over executions, Initialize and Summarize "
        md += "included); cost per execution = the ranks' measured billed GB-s at the account's price tier plus the "
        md += "modelled Initialize, Summarize, Step Functions and S3 charges. *Modelled* = the LambdaCost prediction "
        md += "for the same configuration and memory from this machine's runs (makespan plus Initialize and "
        md += "Summarize). Error = (modelled − measured) / measured.\n\n"
        func number(_ value: Double?, _ digits: Int) -> String {
            value.map { NumberFormat.fixed($0, digits) } ?? "–"
        }
        func percent(_ value: Double?) -> String {
            value.map { (($0 >= 0) ? "+" : "") + NumberFormat.fixed($0, 1) + " %" } ?? "–"
        }
        var table: [[String]] = []
        for r in rows {
            let spread = r.rankDurationMinS.map { min in
                " [\(NumberFormat.fixed(min, 2))–\(number(r.rankDurationMaxS, 2))]"
            } ?? ""
            table.append([
                r.configID, String(r.memoryMB), r.status == .ok ? "ok" : "\(r.status.rawValue): \(r.failure)",
                "\(r.runs - r.failedRuns)/\(r.runs)", number(r.rankDurationMeanS, 2) + spread,
                number(r.modelledRankDurationMeanS, 2), percent(r.durationErrorPct),
                number(r.makespanMedianS, 2), number(r.modelledMakespanS, 2), percent(r.makespanErrorPct),
                number(r.costPerExecutionUSD, 6), number(r.modelledCostUSD, 6), percent(r.costErrorPct),
                r.maxMemoryUsedMB.map(String.init) ?? "–", r.figures,
            ])
        }
        md += Tables.markdownTable(
            ["Configuration", "Memory (MB)", "Status", "Ranks ok", "Rank duration (s)", "Modelled (s)", "Error",
             "Makespan (s)", "Modelled (s)", "Error", "Cost ($)", "Modelled ($)", "Error", "Max memory used (MB)",
             "Lambda figures from"],
            table, rightAligned: [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
        if rows.contains(where: { $0.modelledBasis.isEmpty }) {
            md += "\nA configuration without modelled figures has no local run of its workload in these results: "
            md += "run the same spec without `--executor aws` to add one.\n"
        }
        md += "\n`cosmicbench calibrate` fits the model's assumptions to these measurements.\n"
        return md
    }
}
