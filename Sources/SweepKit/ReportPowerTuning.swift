import Foundation
import LambdaCost

/// REPORT.md's memory trade-off: the chart AWS Lambda Power Tuning shows
/// (cost and duration against memory) per partition size, and cost against
/// makespan over every configuration × memory setting with its Pareto front.
extension Report {
    /// Marker shapes and colours of the three picks, the same in every chart.
    static let pickStyles: [(name: String, shape: SVGChart.Shape, color: String)] = [
        ("cheapest", .circle, "#2ca02c"), ("fastest", .square, "#d62728"), ("balanced", .triangle, "#ff7f0e"),
    ]
    static let frontColor = "#000000"
    /// Octaves between `auto` and the nearest fixed size below which `auto` gets no tick label of its own.
    static let autoTickClearance = 0.25
    /// The memory charts show one partition each, in one colour that no pick uses.
    static let memoryLineColor = SVGPlot.palette[0]

    /// The section and its plots, from the modelled rows with figures.
    static func memoryTradeOff(_ rows: [SummaryRow]) -> (markdown: String, plots: [Plot]) {
        var md = "## Memory trade-off\n\n"
        let settings = rows.compactMap(\.modelledMemorySetting).reduce(into: [String]()) { list, setting in
            if !list.contains(setting) { list.append(setting) }
        }
        let w = NumberFormat.trimmed(PowerTuning.balanceWeight, 2)
        let wTime = NumberFormat.trimmed(1 - PowerTuning.balanceWeight, 2)
        md += "What AWS Lambda Power Tuning charts, from the modelled fleet: cost and makespan of one execution at "
        md += "each memory setting of `[lambda] memory` (here \(settings.map { "`\($0)`" }.joined(separator: ", "))). "
        md += "Cost is `modelled_cost_total_usd`, the full breakdown (Lambda duration and requests, Step Functions, S3); "
        md += "the paper's formula `modelled_simple_cost_usd` is beside it in the tables. Marked choices: **cheapest** "
        md += "(lowest cost; ties: shorter makespan), **fastest** (shortest makespan; ties: lower cost) and **balanced** "
        md += "(lowest \(w) · cost / cheapest cost + \(wTime) · makespan / fastest makespan, w = \(w)), each among "
        md += "the same workload's rows. Only rows where every run finished and Lambda could run the rank are "
        md += "candidates: memory at least the measured peak RSS, every rank within \(timeoutText).\n\n"
        if settings.count < 2 {
            md += "This sweep models one memory setting, so there is no curve over memory: add settings to "
            md += "`[lambda] memory` (e.g. `memory = [\"auto\", \"power-tuning\"]`) and run the sweep again, which "
            md += "re-models from `ranks.csv` without measuring.\n\n"
        }
        let candidates = rows.compactMap { row in PowerTuning.Choice(row: row).map { (choice: $0, row: row) } }
        guard !candidates.isEmpty else {
            return (md + "(no configuration where every run finished at a memory size Lambda could run)\n", [])
        }
        let perPartition = memoryCurves(candidates, all: rows)
        let pareto = paretoFronts(candidates, settings: settings.count)
        return (md + perPartition.markdown + pareto.markdown, perPartition.plots + pareto.plots)
    }

    static var timeoutText: String { "Lambda's \(NumberFormat.trimmed(LambdaLimits.timeoutSeconds, 0)) s timeout" }

    // MARK: - Per partition: cost and makespan against memory

    static func memoryCurves(_ candidates: [(choice: PowerTuning.Choice, row: SummaryRow)],
                             all rows: [SummaryRow]) -> (markdown: String, plots: [Plot]) {
        var md = "### Per partition size: cost and makespan against memory\n\n"
        var table: [[String]] = []
        var plots: [Plot] = []
        let partitions = partitionOrder(candidates.map(\.row))
        for partition in partitions {
            guard let id = PowerTuning.representative(of: candidates.map(\.row).filter { $0.partition == partition })
            else { continue }
            let mine = candidates.filter { $0.choice.configID == id }
            guard let picks = PowerTuning.picks(mine.map(\.choice)), let workload = mine.first?.row else { continue }
            for (name, choice) in [("cheapest", picks.cheapest), ("fastest", picks.fastest), ("balanced", picks.balanced)] {
                let row = mine.first { $0.choice == choice }!.row
                table.append([partition, id, name, choice.memoryLabel, NumberFormat.fixed(choice.makespanS, 2),
                              NumberFormat.fixed(choice.costUSD, 5), Tables.fixed(row.modelledSimpleCostUSD, 5)])
            }
            let fixedSizes = Set(mine.filter { !$0.choice.isAuto }.map(\.choice.memoryMB))
            guard fixedSizes.count >= 2 else { continue }
            let excluded = rows.filter { $0.configID == id && $0.isOK }.compactMap { row in
                row.lambdaCannotRunReason.map { row.modelledMemorySetting == "auto" ? "auto: \($0)" : $0 }
            }
            let chart = memoryChart(partition: partition, workload: workload, choices: mine.map(\.choice),
                                    picks: picks, excluded: excluded, color: memoryLineColor)
            let caption = "*\(partition): workload `\(id)` — batch size \(workload.batchSize) (the partition's most "
                + "common), \(workload.threads) thread(s) (the fewest), \(amountKey(workload)) (the largest amount of "
                + "data at those), \(workload.worldSize) ranks. The line joins the fixed memory sizes; a hollow diamond "
                + "is `auto` at its resolved size. Rings mark the cheapest (circle), fastest (square) and balanced "
                + "(triangle) choices; dotted lines their memory." + (excluded.isEmpty ? "" : " Not drawn, as Lambda "
                + "could not run them: " + excluded.joined(separator: "; ") + ".") + "*"
            plots.append(Plot(name: "memory_tradeoff_\(fileName(partition)).svg", title: chart.title, svg: chart.render(),
                              caption: caption))
        }
        md += Tables.markdownTable(["Partition", "Workload", "Choice", "Memory", "Makespan (s)", "Cost ($)",
                                    "Paper formula ($)"], table, rightAligned: [4, 5, 6])
        md += "\nPer partition size, one workload: the most common batch size, the fewest threads, the largest "
        md += "amount of data. Cost = `modelled_cost_total_usd`; paper formula = `modelled_simple_cost_usd`.\n\n"
        let beyond = Set(rows.filter { $0.modelledVCPUBasis == "extrapolated" }.compactMap(\.modelledMemoryMB))
        if let smallest = beyond.min() {
            md += "Points from \(NumberFormat.grouped(smallest)) MB up have more vCPUs than the 2 threads measured here: "
            md += "their speed is extrapolated from the measured 1 vs 2 thread efficiency (`modelled_vcpu_basis`).\n\n"
        }
        if plots.isEmpty {
            md += "No chart: no workload has two or more fixed memory sizes Lambda could run.\n\n"
        }
        for plot in plots { md += image(plot) }
        return (md, plots)
    }

    static func memoryChart(partition: String, workload: SummaryRow, choices: [PowerTuning.Choice],
                            picks: PowerTuning.Picks, excluded: [String], color: String) -> SVGChart {
        let fixed = choices.filter { !$0.isAuto }.sorted { $0.memoryMB < $1.memoryMB }
        let auto = choices.filter(\.isAuto)
        // Ticks at the fixed sizes; `auto` gets one of its own where no fixed size is near.
        var ticks = Array(Set(fixed.map(\.memoryMB))).sorted().map { (Double($0), String($0)) }
        for a in auto where !ticks.contains(where: { abs(log2($0.0 / Double(a.memoryMB))) < autoTickClearance }) {
            ticks.append((Double(a.memoryMB), "auto \(a.memoryMB)"))
        }
        ticks.sort { $0.0 < $1.0 }
        var chart = SVGChart(
            title: "\(partition): cost and makespan against Lambda memory",
            subtitle: "\(workload.configID), \(workload.worldSize) ranks; modelled fleet, cost = modelled_cost_total_usd",
            xAxis: .init(label: "Lambda memory (MB, log scale)", scale: .log, ticks: ticks.map(\.0),
                         tickLabels: ticks.map(\.1), rotatedTickLabels: true),
            panels: [.init(yAxis: .init(label: "Cost, full breakdown ($)")),
                     .init(yAxis: .init(label: "Fleet makespan (s)"))])
        let values: [(KeyPath<PowerTuning.Choice, Double>)] = [\.costUSD, \.makespanS]
        let guides = Array(Set([picks.cheapest, picks.fastest, picks.balanced].map { Double($0.memoryMB) })).sorted()
        for (i, value) in values.enumerated() {
            var panel = chart.panels[i]
            panel.guides = guides
            panel.lines = [.init(points: fixed.map { (Double($0.memoryMB), $0[keyPath: value]) }, color: color)]
            panel.marks = fixed.map { .init(x: Double($0.memoryMB), y: $0[keyPath: value], color: color) }
                + auto.map { .init(x: Double($0.memoryMB), y: $0[keyPath: value], shape: .diamond, color: color,
                                   filled: false, radius: 4.5) }
            for (style, choice) in zip(pickStyles, [picks.cheapest, picks.fastest, picks.balanced]) {
                panel.marks.append(.init(x: Double(choice.memoryMB), y: choice[keyPath: value], shape: style.shape,
                                         color: style.color, filled: false, radius: 8))
            }
            chart.panels[i] = panel
        }
        chart.legend = [.init("fixed memory sizes", color: color, shape: .circle, line: true)]
        if let a = auto.first {
            chart.legend.append(.init("auto: \(a.memoryMB) MB (peak RSS + headroom)", color: color, shape: .diamond,
                                      filled: false))
        }
        for (style, choice) in zip(pickStyles, [picks.cheapest, picks.fastest, picks.balanced]) {
            chart.legend.append(.init(
                "\(style.name): \(choice.memoryLabel)\n$\(NumberFormat.significant(choice.costUSD, 4)), "
                    + "\(NumberFormat.significant(choice.makespanS, 4)) s",
                color: style.color, shape: style.shape, filled: false))
        }
        let w = NumberFormat.trimmed(PowerTuning.balanceWeight, 2)
        let wTime = NumberFormat.trimmed(1 - PowerTuning.balanceWeight, 2)
        chart.notes = ["balanced = lowest \(w)·cost/cheapest + \(wTime)·makespan/fastest"]
        if !excluded.isEmpty { chart.notes.append("Not drawn (Lambda could not run): " + excluded.joined(separator: "; ")) }
        return chart
    }

    // MARK: - Cost against makespan, Pareto front

    static func paretoFronts(_ candidates: [(choice: PowerTuning.Choice, row: SummaryRow)],
                             settings: Int) -> (markdown: String, plots: [Plot]) {
        var md = "### Cost against makespan: the Pareto front\n\n"
        md += "Per amount of data (one job), every configuration × memory setting. A choice is on the front when no "
        md += "other is at most as expensive and at most as slow while better in one of the two; the table lists "
        md += "the front fastest first, and the chart (when there are several configurations and memory settings) "
        md += "joins it with a step line. Cost = `modelled_cost_total_usd`.\n\n"
        var amounts: [String] = []
        var grouped: [String: [(choice: PowerTuning.Choice, row: SummaryRow)]] = [:]
        for candidate in candidates {
            let key = amountKey(candidate.row)
            if grouped[key] == nil { amounts.append(key) }
            grouped[key, default: []].append(candidate)
        }
        amounts.sort { a, b in
            let ga = grouped[a]!.first.flatMap { dataGB($0.row) } ?? 0, gb = grouped[b]!.first.flatMap { dataGB($0.row) } ?? 0
            return ga != gb ? ga < gb : a < b
        }
        let colors = Dictionary(uniqueKeysWithValues: partitionOrder(candidates.map(\.row)).enumerated().map {
            ($1, SVGPlot.palette[$0 % SVGPlot.palette.count])
        })
        var plots: [Plot] = []
        for amount in amounts {
            let mine = grouped[amount]!
            let front = PowerTuning.paretoFront(mine.map(\.choice))
            let configurations = Set(mine.map(\.choice.configID)).count
            md += "#### \(amount)\n\n"
            if settings >= 2 && configurations >= 2 {
                let chart = paretoChart(amount: amount, candidates: mine, front: front, colors: colors)
                plots.append(Plot(name: "pareto_\(fileName(amount)).svg", title: chart.title, svg: chart.render()))
                md += image(plots.last!)
            }
            let table = front.map { choice -> [String] in
                let row = mine.first { $0.choice == choice }!.row
                return [choice.configID, choice.memoryLabel, NumberFormat.fixed(choice.makespanS, 2),
                        NumberFormat.fixed(choice.costUSD, 5), Tables.fixed(row.modelledSimpleCostUSD, 5)]
            }
            md += Tables.markdownTable(["Configuration", "Memory", "Makespan (s)", "Cost ($)", "Paper formula ($)"],
                                       table, rightAligned: [2, 3, 4])
            md += "\n\(front.count) of \(mine.count) choices (\(configurations) configuration(s)) are on the front.\n\n"
        }
        return (md, plots)
    }

    static func paretoChart(amount: String, candidates: [(choice: PowerTuning.Choice, row: SummaryRow)],
                            front: [PowerTuning.Choice], colors: [String: String]) -> SVGChart {
        var panel = SVGChart.Panel(yAxis: .init(label: "Cost, full breakdown ($, log scale)", scale: .log))
        // Auto outlines over the fixed points: `auto` often lands next to a fixed size.
        for (choice, row) in candidates.filter({ !$0.choice.isAuto }) + candidates.filter(\.choice.isAuto) {
            let color = colors[row.partition] ?? SVGPlot.palette[0]
            panel.marks.append(choice.isAuto
                ? .init(x: choice.makespanS, y: choice.costUSD, shape: .diamond, color: color, filled: false, radius: 5)
                : .init(x: choice.makespanS, y: choice.costUSD, color: color, radius: 2.8))
        }
        panel.lines = [.init(points: front.map { ($0.makespanS, $0.costUSD) }, color: frontColor, steps: true)]
        panel.marks += front.map { .init(x: $0.makespanS, y: $0.costUSD, color: frontColor, filled: false, radius: 6) }
        var chart = SVGChart(
            title: "\(amount): cost against makespan, every configuration × memory",
            subtitle: "modelled fleet; cost = modelled_cost_total_usd; \(candidates.count) choices",
            xAxis: .init(label: "Fleet makespan (s, log scale)", scale: .log), panels: [panel])
        let partitions = partitionOrder(candidates.map(\.row))
        chart.legend = partitions.map { .init("\($0) partitions", color: colors[$0] ?? SVGPlot.palette[0], shape: .circle) }
        chart.legend.append(.init("auto memory (hollow)", color: "#555555", shape: .diamond, filled: false))
        chart.legend.append(.init("Pareto front (\(front.count) choices)", color: frontColor, shape: .circle,
                                  filled: false, line: true))
        chart.notes = ["Lower left is better. Each point is one configuration at one memory setting; the front's "
            + "choices are listed in REPORT.md."]
        return chart
    }

    /// `text` with only letters, digits and dots, for a plot's file name ("10 files" → "10files").
    static func fileName(_ text: String) -> String {
        String(text.filter { $0.isLetter || $0.isNumber || $0 == "." })
    }
}
