import LambdaCost
import SweepKit
import XCTest

/// The memory trade-off: the `power-tuning` preset, the Pareto front and the
/// marked choices, and which plots REPORT.md draws from which sweeps.
final class PowerTuningReportTests: XCTestCase {
    typealias Choice = PowerTuning.Choice

    func choice(_ id: String, _ memory: Int, cost: Double, time: Double, auto: Bool = false) -> Choice {
        Choice(configID: id, memorySetting: auto ? "auto" : String(memory), memoryMB: memory, costUSD: cost,
               makespanS: time)
    }

    // MARK: - Spec

    func spec(memory: String) throws -> SweepSpec {
        try SweepSpec(toml: """
            partitions = ["25MB"]
            batch_sizes = [512]
            data_sizes = ["1GB"]
            [lambda]
            memory = \(memory)
            """, path: "pt.toml")
    }

    func testPresetExpandsInPlaceWithoutDuplicates() throws {
        let preset = [128, 256, 512, 1024, 1536, 1769, 2048, 3008, 4096, 5120, 6144, 7168, 8192, 9216, 10240]
        XCTAssertEqual(MemorySetting.powerTuning, preset.map { .fixed(megabytes: $0) })
        XCTAssertEqual(try spec(memory: "[\"auto\", \"power-tuning\"]").lambda.memory, [.auto] + MemorySetting.powerTuning)
        XCTAssertEqual(try spec(memory: "\"Power-Tuning\"").lambda.memory, MemorySetting.powerTuning)
        // 3008 and "2GB" are in the preset already; the second "auto" repeats the first.
        let mixed = try spec(memory: "[3008, \"power-tuning\", \"auto\", \"2GB\", \"auto\"]").lambda.memory
        XCTAssertEqual(mixed, [.fixed(megabytes: 3008)] + MemorySetting.powerTuning.filter { $0 != .fixed(megabytes: 3008) }
            + [.auto])

        var overridden = try spec(memory: "[1769]")
        var overrides = SweepOverrides()
        overrides.memory = ["auto,power-tuning", "1769"]
        try overridden.apply(overrides)
        XCTAssertEqual(overridden.lambda.memory, [.auto] + MemorySetting.powerTuning)

        XCTAssertThrowsError(try spec(memory: "[\"power-tune\"]")) { error in
            XCTAssertTrue("\(error)".contains("\"lambda.memory\"") && "\(error)".contains("\"power-tuning\""), "\(error)")
        }
        overrides.memory = ["powertuning"]
        XCTAssertThrowsError(try overridden.apply(overrides)) { error in
            XCTAssertTrue("\(error)".contains("--memory") && "\(error)".contains("\"power-tuning\""), "\(error)")
        }
    }

    // MARK: - Front and picks

    func testParetoFrontOfHandMadeSet() {
        let a = choice("a", 2048, cost: 5, time: 10)
        let b = choice("b", 1024, cost: 3, time: 20)
        let c = choice("c", 3008, cost: 6, time: 15)   // dominated by a: dearer and slower
        let d = choice("d", 512, cost: 3, time: 30)    // dominated by b: as cheap, slower
        let e = choice("e", 1024, cost: 3, time: 20)   // the same figures as b: both on the front
        let f = choice("f", 256, cost: 1, time: 40)
        let g = choice("g", 4096, cost: 7, time: 10)   // dominated by a: as fast, dearer
        let front = PowerTuning.paretoFront([c, d, f, e, g, b, a])
        XCTAssertEqual(front.map(\.configID), ["a", "b", "e", "f"])
        XCTAssertEqual(PowerTuning.paretoFront([]), [])
        XCTAssertEqual(PowerTuning.paretoFront([c]), [c])
    }

    func testCheapestFastestAndBalancedPicks() throws {
        // cost_min = 1 (d), makespan_min = 10 (a); scores 0.5·cost + 0.5·time/10:
        // a 0.5·4 + 0.5 = 2.5; b 0.5·2 + 0.5·1.5 = 1.75; c 0.5·1.5 + 0.5·2.5 = 2.0; d 0.5 + 0.5·6 = 3.5.
        let a = choice("a", 3008, cost: 4, time: 10)
        let b = choice("b", 1769, cost: 2, time: 15)
        let c = choice("c", 1024, cost: 1.5, time: 25)
        let d = choice("d", 256, cost: 1, time: 60, auto: true)
        let picks = try XCTUnwrap(PowerTuning.picks([a, b, c, d]))
        XCTAssertEqual(picks.cheapest, d)
        XCTAssertEqual(picks.fastest, a)
        XCTAssertEqual(picks.balanced, b)
        XCTAssertEqual(picks.names(of: b), ["balanced"])
        // All weight on cost: the balanced choice is the cheapest.
        XCTAssertEqual(PowerTuning.picks([a, b, c, d], weight: 1)?.balanced, d)
        XCTAssertEqual(PowerTuning.picks([a, b, c, d], weight: 0)?.balanced, a)

        // Ties: equal cost goes to the faster, equal makespan to the cheaper, then to less memory.
        let slowCheap = choice("x", 512, cost: 1, time: 30), fastCheap = choice("y", 1024, cost: 1, time: 20)
        let dearFast = choice("z", 2048, cost: 3, time: 20)
        let tied = try XCTUnwrap(PowerTuning.picks([slowCheap, dearFast, fastCheap]))
        XCTAssertEqual(tied.cheapest, fastCheap)
        XCTAssertEqual(tied.fastest, fastCheap)
        XCTAssertEqual(tied.names(of: fastCheap), ["cheapest", "fastest", "balanced"])
        let twin = choice("a", 1536, cost: 2, time: 15)
        XCTAssertEqual(PowerTuning.picks([b, twin])?.cheapest, twin, "same figures: the smaller memory")
        XCTAssertNil(PowerTuning.picks([]))
    }

    // MARK: - Rows and plots

    /// A modelled row: cost and makespan from a toy Lambda (CPU share up to
    /// 1,769 MB, then flat), peak RSS 190 MB.
    func row(_ partition: String = "25MB", batch: Int = 512, size: String = "1GB", setting: String,
             memory: Int, peak: Double = 190) -> SummaryRow {
        let world = partition == "25MB" ? 41 : 11
        let seconds = 1 + 4 * 1_769 / Double(min(memory, 1_769)) * (partition == "25MB" ? 1 : 4)
        let cost = Double(world) * seconds * Double(memory) / 1_024 * 0.0000166667
        return summaryRow([
            "config_id": "\(partition)-b\(batch)-\(size)-t1", "partition": partition,
            "partition_mb": String(partition.dropLast(2)), "batch_size": String(batch), "data_size": size,
            "data_size_gb": String(size.dropLast(2)), "file_limit": String(world), "world_size": String(world),
            "measured_runs": "2", "measured_stat_runs": "2", "measured_inference_median_s": "4.000000",
            "measured_inference_min_s": "3.900000", "measured_inference_max_s": "4.300000",
            "measured_peak_rss_mb": NumberFormat.fixed(peak, 3), "measured_rank_samples_per_s": "319.500",
            "modelled_memory_setting": setting, "modelled_memory_mb": String(memory),
            "modelled_memory_gb": NumberFormat.fixed(Double(memory) / 1_024, 6),
            "modelled_rank_billed_mean_s": NumberFormat.fixed(seconds, 6), "modelled_makespan_s": NumberFormat.fixed(seconds + 2, 6),
            "modelled_cost_total_usd": NumberFormat.fixed(cost * 1.1, 8), "modelled_simple_cost_usd": NumberFormat.fixed(cost, 8),
            "modelled_exceeds_timeout": "false",
        ])
    }

    /// `configurations` × (auto + the preset), or × `settings`.
    func rows(_ configurations: [(String, Int, String)], settings: [MemorySetting] = [.auto] + MemorySetting.powerTuning)
        -> [SummaryRow] {
        configurations.flatMap { partition, batch, size in
            settings.map { setting -> SummaryRow in
                switch setting {
                case .auto: return row(partition, batch: batch, size: size, setting: "auto", memory: 283)
                case let .fixed(mb): return row(partition, batch: batch, size: size, setting: String(mb), memory: mb)
                }
            }
        }
    }

    func tradeOffPlots(_ output: Report.Output) -> [String] {
        output.plots.map { $0.name }.filter { $0.hasPrefix("memory_tradeoff_") || $0.hasPrefix("pareto_") }
    }

    func testOneConfigurationAtOneMemoryGetsTablesNotPlots() {
        let output = Report.render(rows: rows([("25MB", 512, "1GB")], settings: [.fixed(megabytes: 1769)]),
                                   environment: nil, name: "t")
        XCTAssertEqual(output.plots.map { $0.name }, [], "one point: no chart of any kind")
        XCTAssertTrue(output.markdown.contains("This sweep models one memory setting"), output.markdown)
        XCTAssertTrue(output.markdown.contains("| 25MB | 25MB-b512-1GB-t1 | cheapest | 1769 MB |"), output.markdown)
        XCTAssertTrue(output.markdown.contains("No chart: no workload has two or more fixed memory sizes"))
    }

    func testOneMemorySettingGetsNoTradeOffPlots() {
        let output = Report.render(
            rows: rows([("25MB", 512, "1GB"), ("25MB", 128, "1GB"), ("100MB", 512, "1GB")], settings: [.auto]),
            environment: nil, name: "t")
        XCTAssertEqual(tradeOffPlots(output), [])
        XCTAssertTrue(output.markdown.contains("This sweep models one memory setting"))
        XCTAssertTrue(output.markdown.contains("of 3 choices (3 configuration(s)) are on the front"), output.markdown)
    }

    func testOneConfigurationOverMemoryGetsItsCurveButNoScatter() {
        let output = Report.render(rows: rows([("25MB", 512, "1GB")]), environment: nil, name: "t")
        XCTAssertEqual(output.plots.map { $0.name }, ["memory_tradeoff_25MB.svg"], "the other charts would be one point")
        let svg = output.plots.first { $0.name == "memory_tradeoff_25MB.svg" }!.svg
        // The 15 preset sizes less 128 MB (below the 190 MB peak) are ticks; auto is a marker, not a tick.
        XCTAssertFalse(svg.contains(">128</text>"), svg)
        XCTAssertTrue(svg.contains(">256</text>") && svg.contains(">10240</text>"), svg)
        XCTAssertTrue(svg.contains("auto: 283 MB"), svg)
        XCTAssertFalse(svg.contains("nan") || svg.contains("inf"), svg)
        XCTAssertTrue(output.markdown.contains("128 MB is below the measured peak RSS of 190.0 MB"), output.markdown)
    }

    func testSweepOverMemoryAndConfigurations() throws {
        let sweep = rows([("25MB", 512, "1GB"), ("25MB", 128, "1GB"), ("100MB", 512, "1GB"), ("100MB", 512, "2GB")])
        let output = Report.render(rows: sweep, environment: nil, name: "t")
        XCTAssertEqual(tradeOffPlots(output), ["memory_tradeoff_25MB.svg", "memory_tradeoff_100MB.svg",
                                               "pareto_1GB.svg"])
        // The 100MB chart shows its largest data size at its most common batch size.
        XCTAssertTrue(output.markdown.contains("| 100MB | 100MB-b512-2GB-t1 | cheapest |"), output.markdown)
        // 2GB has one configuration: a front table, no scatter.
        XCTAssertTrue(output.markdown.contains("#### 2GB\n\n| Configuration |"), output.markdown)
        // 128 MB cannot run (peak RSS 190 MB): never a pick, never on a front, never cost-optimal.
        let tradeOff = try XCTUnwrap(output.markdown.components(separatedBy: "## Memory trade-off").last)
        XCTAssertFalse(tradeOff.contains("| 128 MB |"), tradeOff)
        XCTAssertTrue(output.markdown.contains("## Memory sizes Lambda could not run"))
        let optimal = try XCTUnwrap(output.markdown.components(separatedBy: "## Cost-optimal configurations").last?
            .components(separatedBy: "## Memory trade-off").first)
        XCTAssertFalse(optimal.contains("| 1 | 128 |"), optimal)  // threads, then memory
    }

    func testRenderIsDeterministic() {
        let sweep = rows([("25MB", 512, "1GB"), ("25MB", 128, "1GB"), ("100MB", 512, "1GB")])
        let first = Report.render(rows: sweep, environment: nil, name: "t")
        XCTAssertEqual(Report.render(rows: sweep, environment: nil, name: "t"), first)
        XCTAssertFalse(tradeOffPlots(first).isEmpty)
    }

    func testRowsLambdaCannotRun() {
        XCTAssertNotNil(row(setting: "128", memory: 128).lambdaCannotRunReason)
        XCTAssertNil(row(setting: "256", memory: 256).lambdaCannotRunReason)
        XCTAssertNil(PowerTuning.Choice(row: row(setting: "128", memory: 128)))
        var late = row(setting: "1769", memory: 1769)
        late.modelledExceedsTimeout = true
        XCTAssertTrue(late.lambdaCannotRunReason?.contains("900 s timeout") ?? false)
    }
}
