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

    /// The tables under headings of the given level. Rows with figures
    /// (ok or partial) are tabled, partial ones marked with their failed-run
    /// count; failed configurations get a table of their own with the reason,
    /// and so do memory sizes Lambda could not run (`lambdaCannotRunReason`),
    /// whose modelled figures no table shows.
    public static func body(_ rows: [SummaryRow], headingLevel: Int) -> String {
        let h = String(repeating: "#", count: headingLevel)
        let measured = rows.filter(\.hasFigures)
        let usable = measured.filter { $0.lambdaCannotRunReason == nil }
        var out = ""
        out += statusNote(rows)
        out += "\(h) Fleet cost (paper layout)\n\n"
        out += paperTable(usable)
        out += "\nWorld Size = ranks = Lambda invocations of the map (one partition file each). "
        out += "Duration = modelled billed seconds per rank (mean over the fleet). Memory = modelled Lambda memory, "
        out += "GB = MB / 1,024. Cost = Requests × Duration × Memory × $\(NumberFormat.trimmed(paperPricePerGBSecond, 12)) "
        out += "per GB-s, the formula of the "
        out += "CAI paper (modelled; the full modelled cost with request, Step Functions and S3 charges is in the "
        out += "breakdown below).\n\n"

        out += "\(h) Runs (user table layout)\n\n"
        out += usersTable(usable)
        out += "\nAvg Runtime = modelled Lambda duration per rank (mean over the fleet, cold start included). "
        out += "Memory (MB) = modelled Lambda memory. Data Size = the CAI dataset's nominal GB (12.6 GB = 659,817 "
        out += "samples). Cost as in the table above. Throughput = samples of the whole run × 20,520 bytes of model "
        out += "input / modelled fleet makespan, in decimal GB (1e9 bytes) per second. A seed table labelled this "
        out += "column \"Throughput (MB/s)\", but its values were GB/s.\n\n"

        out += "\(h) Measured ranks (this machine)\n\n"
        out += measuredTable(measured)
        out += "\nMeasured on this machine, one child process per rank: inference wall seconds over a full partition "
        out += "file (Stat Runs = the finished runs of full-file ranks the statistics come from; the short last file "
        out += "of a data size is never among them; median, mean, CAI's IQR-filtered mean, and with at least two "
        out += "runs min, max and coefficient of variation), peak resident memory (VmHWM, MB = 1,048,576 bytes), "
        out += "and one rank's throughput (samples / median inference seconds; GB/s in decimal GB of model input). "
        out += "Failed = runs that did not finish, of all timed runs.\n\n"

        out += "\(h) Modelled cost breakdown\n\n"
        out += breakdownTable(usable)
        out += "\nModelled with LambdaCost from the measured ranks: makespan of the distributed map under Lambda's "
        out += "concurrency and scaling limits; Lambda duration on the monthly price tiers; requests include CAI's "
        out += "Initializer and Summarizer; Step Functions state transitions; S3 GET/PUT/LIST requests.\n"
        let impossible = measured.filter { $0.lambdaCannotRunReason != nil }
        if !impossible.isEmpty {
            out += "\n\(h) Memory sizes Lambda could not run\n\n"
            out += markdownTable(["Configuration", "Memory (MB)", "Reason"], impossible.map {
                [label($0), $0.modelledMemoryMB.map(String.init) ?? "", $0.lambdaCannotRunReason ?? ""]
            }, rightAligned: [1])
            out += "\nThe model computes figures for these rows (`summary.csv` holds them), but Lambda would kill "
            out += "the function (memory below the measured peak RSS) or time it out, so no table above shows them.\n"
        }
        let failed = firstPerConfiguration(rows.filter { !$0.hasFigures })
        if !failed.isEmpty {
            out += "\n\(h) Failed configurations\n\n"
            out += markdownTable(["Configuration", "Status", "Reason"],
                                 failed.map { [$0.configID, $0.statusLabel, $0.failure] })
            out += "\nNo figure of these configurations appears in any table above.\n"
        }
        return out
    }

    /// One line saying how many configurations failed or are partial; empty when all are ok.
    static func statusNote(_ rows: [SummaryRow]) -> String {
        let configurations = firstPerConfiguration(rows)
        let failed = configurations.filter { $0.status == .failed }.count
        let partial = configurations.filter { $0.status == .partial }.count
        guard failed + partial > 0 else { return "" }
        var parts: [String] = []
        if failed > 0 { parts.append("\(failed) failed (no figures)") }
        if partial > 0 { parts.append("\(partial) partial (figures from the runs that finished, marked below)") }
        return "**Of \(configurations.count) configurations, \(parts.joined(separator: " and ")).**\n\n"
    }

    /// The configuration column: the id, with the status when it is not ok.
    static func label(_ row: SummaryRow) -> String {
        row.isOK ? row.configID : "\(row.configID) — \(row.statusLabel)"
    }

    static func firstPerConfiguration(_ rows: [SummaryRow]) -> [SummaryRow] {
        var seen = Set<String>()
        return rows.filter { seen.insert($0.configID).inserted }
    }

    /// World Size | Partition | Requests | Duration (s) | Memory (GB) | Cost ($).
    public static func paperTable(_ rows: [SummaryRow]) -> String {
        var groups: [String] = []
        var grouped: [String: [SummaryRow]] = [:]
        for row in rows where row.modelledMemorySetting != nil {
            let key = "batch size \(row.batchSize), \(row.threads) thread(s), memory \(row.modelledMemorySetting ?? "")"
            if grouped[key] == nil { groups.append(key) }
            grouped[key, default: []].append(row)
        }
        let tables = groups.map { group -> String in
            let table = grouped[group]!.map { row in
                [String(row.worldSize), row.partition + (row.isOK ? "" : " (\(row.status.rawValue))"),
                 String(row.worldSize), fixed(row.modelledRankBilledMeanS, 2), fixed(row.modelledMemoryGB, 2),
                 fixed(row.modelledSimpleCostUSD, 4)]
            }
            return (groups.count > 1 ? "*\(group)*\n\n" : "")
                + markdownTable(["World Size", "Partition", "Requests", "Duration (s)", "Memory (GB)", "Cost ($)"],
                                table, rightAligned: [0, 2, 3, 4, 5])
        }
        return tables.isEmpty ? "(no configuration with figures)\n" : tables.joined(separator: "\n")
    }

    /// Partition (MB) | Lambda/File Limit | Avg Runtime (s) | Memory (MB) | Data Size (GB) | Cost ($) | Throughput (GB/s) | Batch Size | Status.
    public static func usersTable(_ rows: [SummaryRow]) -> String {
        let modelled = rows.filter { $0.modelledMemorySetting != nil }
        guard !modelled.isEmpty else { return "(no configuration with figures)\n" }
        let table = modelled.map { row in
            [String(row.partitionMB), String(row.worldSize), fixed(row.modelledRankDurationMeanS, 2),
             row.modelledMemoryMB.map(String.init) ?? "", dataSizeGB(row), fixed(row.modelledSimpleCostUSD, 4),
             fixed(row.modelledFleetGBPerS, 4), String(row.batchSize), row.statusLabel]
        }
        return markdownTable(["Partition (MB)", "Lambda/File Limit", "Avg Runtime (s)", "Memory (MB)", "Data Size (GB)",
                              "Cost ($)", "Throughput (GB/s)", "Batch Size", "Status"], table,
                             rightAligned: [0, 1, 2, 3, 4, 5, 6, 7])
    }

    /// Local measurements, one line per configuration.
    public static func measuredTable(_ rows: [SummaryRow]) -> String {
        let table: [[String]] = firstPerConfiguration(rows).map { row in
            [label(row), String(row.threads), String(row.measuredStatRuns),
             "\(row.measuredFailedRuns) of \(row.measuredRuns)", fixed(row.measuredInferenceMedianS, 3),
             fixed(row.measuredInferenceMeanS, 3), fixed(row.measuredInferenceIQRMeanS, 3),
             fixed(row.measuredInferenceMinS, 3), fixed(row.measuredInferenceMaxS, 3),
             fixed(row.measuredInferenceCV, 3), fixed(row.measuredPeakRSSMB, 1),
             fixed(row.measuredRankSamplesPerS, 1), fixed(row.measuredRankGBPerS, 5)]
        }
        guard !table.isEmpty else { return "(no configuration with figures)\n" }
        return markdownTable(["Configuration", "Threads", "Stat Runs", "Failed", "Median (s)", "Mean (s)",
                              "IQR Mean (s)", "Min (s)", "Max (s)", "CV", "Peak RSS (MB)", "Rank Samples/s",
                              "Rank GB/s"], table, rightAligned: Array(1...12))
    }

    /// Modelled cost components per configuration and memory.
    public static func breakdownTable(_ rows: [SummaryRow]) -> String {
        let modelled = rows.filter { $0.modelledMemorySetting != nil }
        guard !modelled.isEmpty else { return "(no configuration with figures)\n" }
        let table = modelled.map { row in
            [label(row), row.modelledMemoryMB.map(String.init) ?? "", fixed(row.modelledMakespanS, 2),
             fixed(row.modelledGBSeconds, 1), fixed(row.modelledCostLambdaDurationUSD, 5),
             fixed(row.modelledCostLambdaRequestsUSD, 5), fixed(row.modelledCostStepFunctionsUSD, 5),
             fixed(row.modelledCostS3USD, 5), fixed(row.modelledCostTotalUSD, 5)]
        }
        return markdownTable(["Configuration", "Memory (MB)", "Makespan (s)", "GB-s", "Lambda Duration ($)",
                              "Lambda Requests ($)", "Step Functions ($)", "S3 ($)", "Total ($)"], table,
                             rightAligned: Array(1...8))
    }

    /// The row's data size in the dataset's nominal GB; for a file limit,
    /// its samples in the same unit (12.6 GB per 659,817 samples).
    static func dataSizeGB(_ row: SummaryRow) -> String {
        if let gb = row.dataSizeGB { return NumberFormat.trimmed(gb, 3) }
        return NumberFormat.fixed(Double(row.totalSamples) * 12.6 / 659_817, 3)
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
