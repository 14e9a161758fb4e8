import Foundation
import LambdaCost

/// The Markdown tables of a sweep (`tables.md`, and the tables of
/// REPORT.md), built from summary rows alone so they can be regenerated
/// from `summary.csv` at any time.
public enum Tables {
    /// Every table with its notes.
    public static func markdown(_ rows: [SummaryRow]) -> String {
        var out = "# Sweep tables\n\n"
        out += body(rows, headingLevel: 2)
        return out
    }

    /// The tables under headings of the given level.
    public static func body(_ rows: [SummaryRow], headingLevel: Int) -> String {
        let h = String(repeating: "#", count: headingLevel)
        let ok = rows.filter(\.isOK)
        var out = ""
        out += "\(h) Fleet cost (paper layout)\n\n"
        out += paperTable(ok)
        out += "\nWorld Size = ranks = Lambda invocations of the map (one partition file each). "
        out += "Duration = modelled billed seconds per rank (mean over the fleet). Memory = modelled Lambda memory, "
        out += "GB = MB / 1,024. Cost = Requests × Duration × Memory × $\(NumberFormat.trimmed(paperPricePerGBSecond, 12)) "
        out += "per GB-s, the formula of the "
        out += "CAI paper (modelled; the full modelled cost with request, Step Functions and S3 charges is in the "
        out += "breakdown below).\n\n"

        out += "\(h) Runs (user table layout)\n\n"
        out += usersTable(ok)
        out += "\nAvg Runtime = modelled Lambda duration per rank (mean over the fleet, cold start included). "
        out += "Memory (MB) = modelled Lambda memory. Data Size = the CAI dataset's nominal GB (12.6 GB = 659,817 "
        out += "samples). Cost as in the table above. Throughput = samples of the whole run × 20,520 bytes of model "
        out += "input / modelled fleet makespan, in decimal GB (1e9 bytes) per second. A seed table labelled this "
        out += "column \"Throughput (MB/s)\", but its values were GB/s.\n\n"

        out += "\(h) Measured ranks (this machine)\n\n"
        out += measuredTable(ok)
        out += "\nMeasured on this machine, one child process per rank: inference wall seconds over the rank's "
        out += "file (median, mean, CAI's IQR-filtered mean, min, max and coefficient of variation over the runs of "
        out += "full-file ranks), peak resident memory (VmHWM, MB = 1,048,576 bytes), and one rank's throughput "
        out += "(samples / median inference seconds; GB/s in decimal GB of model input).\n\n"

        out += "\(h) Modelled cost breakdown\n\n"
        out += breakdownTable(ok)
        out += "\nModelled with LambdaCost from the measured ranks: makespan of the distributed map under Lambda's "
        out += "concurrency and scaling limits; Lambda duration on the monthly price tiers; requests include CAI's "
        out += "Initializer and Summarizer; Step Functions state transitions; S3 GET/PUT/LIST requests.\n"
        let failed = rows.filter { !$0.isOK }
        if !failed.isEmpty {
            out += "\nConfigurations without a successful run: "
            out += failed.map { "`\($0.configID)`" }.joined(separator: ", ") + ".\n"
        }
        return out
    }

    /// World Size | Partition | Requests | Duration (s) | Memory (GB) | Cost ($).
    public static func paperTable(_ rows: [SummaryRow]) -> String {
        var groups: [String] = []
        var grouped: [String: [SummaryRow]] = [:]
        for row in rows {
            let key = "batch size \(row["batch_size"]), \(row["threads"]) thread(s), memory \(row["modelled_memory_setting"])"
            if grouped[key] == nil { groups.append(key) }
            grouped[key, default: []].append(row)
        }
        let tables = groups.map { group -> String in
            let table = grouped[group]!.map { row in
                [row["world_size"], row["partition"], row["world_size"],
                 fixed(row.number("modelled_rank_billed_mean_s"), 2), fixed(row.number("modelled_memory_gb"), 2),
                 fixed(row.number("modelled_simple_cost_usd"), 4)]
            }
            return (groups.count > 1 ? "*\(group)*\n\n" : "")
                + markdownTable(["World Size", "Partition", "Requests", "Duration (s)", "Memory (GB)", "Cost ($)"],
                                table, rightAligned: [0, 2, 3, 4, 5])
        }
        return tables.isEmpty ? "(no successful configuration)\n" : tables.joined(separator: "\n")
    }

    /// Partition (MB) | Lambda/File Limit | Avg Runtime (s) | Memory (MB) | Data Size (GB) | Cost ($) | Throughput (GB/s) | Batch Size.
    public static func usersTable(_ rows: [SummaryRow]) -> String {
        guard !rows.isEmpty else { return "(no successful configuration)\n" }
        let table = rows.map { row in
            [row["partition_mb"], row["world_size"], fixed(row.number("modelled_rank_duration_mean_s"), 2),
             row["modelled_memory_mb"], dataSizeGB(row), fixed(row.number("modelled_simple_cost_usd"), 4),
             fixed(row.number("modelled_fleet_gb_per_s"), 4), row["batch_size"]]
        }
        return markdownTable(["Partition (MB)", "Lambda/File Limit", "Avg Runtime (s)", "Memory (MB)", "Data Size (GB)",
                              "Cost ($)", "Throughput (GB/s)", "Batch Size"], table,
                             rightAligned: [0, 1, 2, 3, 4, 5, 6, 7])
    }

    /// Local measurements, one line per configuration.
    public static func measuredTable(_ rows: [SummaryRow]) -> String {
        var seen = Set<String>()
        let table: [[String]] = rows.compactMap { row in
            guard seen.insert(row.configID).inserted else { return nil }
            return [row.configID, row["threads"], row["measured_runs"], fixed(row.number("measured_inference_median_s"), 3),
                    fixed(row.number("measured_inference_mean_s"), 3), fixed(row.number("measured_inference_iqr_mean_s"), 3),
                    fixed(row.number("measured_inference_min_s"), 3), fixed(row.number("measured_inference_max_s"), 3),
                    fixed(row.number("measured_inference_cv"), 3), fixed(row.number("measured_peak_rss_mb"), 1),
                    fixed(row.number("measured_rank_samples_per_s"), 1), fixed(row.number("measured_rank_gb_per_s"), 5)]
        }
        guard !table.isEmpty else { return "(no successful configuration)\n" }
        return markdownTable(["Configuration", "Threads", "Runs", "Median (s)", "Mean (s)", "IQR Mean (s)", "Min (s)",
                              "Max (s)", "CV", "Peak RSS (MB)", "Rank Samples/s", "Rank GB/s"], table,
                             rightAligned: Array(1...11))
    }

    /// Modelled cost components per configuration and memory.
    public static func breakdownTable(_ rows: [SummaryRow]) -> String {
        guard !rows.isEmpty else { return "(no successful configuration)\n" }
        let table = rows.map { row in
            [row.configID, row["modelled_memory_mb"], fixed(row.number("modelled_makespan_s"), 2),
             fixed(row.number("modelled_gb_seconds"), 1), fixed(row.number("modelled_cost_lambda_duration_usd"), 5),
             fixed(row.number("modelled_cost_lambda_requests_usd"), 5), fixed(row.number("modelled_cost_step_functions_usd"), 5),
             fixed(row.number("modelled_cost_s3_usd"), 5), fixed(row.number("modelled_cost_total_usd"), 5)]
        }
        return markdownTable(["Configuration", "Memory (MB)", "Makespan (s)", "GB-s", "Lambda Duration ($)",
                              "Lambda Requests ($)", "Step Functions ($)", "S3 ($)", "Total ($)"], table,
                             rightAligned: Array(1...8))
    }

    /// The row's data size in the dataset's nominal GB; for a file limit,
    /// its samples in the same unit (12.6 GB per 659,817 samples).
    static func dataSizeGB(_ row: SummaryRow) -> String {
        if let gb = row.number("data_size_gb") { return NumberFormat.trimmed(gb, 3) }
        if let samples = row.number("total_samples") { return NumberFormat.fixed(samples * 12.6 / 659_817, 3) }
        return ""
    }

    static func fixed(_ value: Double?, _ digits: Int) -> String {
        value.map { NumberFormat.fixed($0, digits) } ?? ""
    }

    /// A GitHub-flavoured Markdown table.
    public static func markdownTable(_ header: [String], _ rows: [[String]], rightAligned: [Int] = []) -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        var out = line(header)
        out += "|" + header.indices.map { rightAligned.contains($0) ? "---:|" : "---|" }.joined() + "\n"
        for row in rows { out += line(row) }
        return out
    }
}
