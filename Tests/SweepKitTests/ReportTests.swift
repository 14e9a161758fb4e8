import SweepKit
import XCTest

final class ReportTests: XCTestCase {
    /// A small summary written out in full in the test: the CAI paper's
    /// 25MB and 100MB rows at 12.6 GB (their published durations and
    /// memory), and a 1 GB row with a batch sweep point.
    static func fixtureRows() -> [SummaryRow] {
        func row(_ id: String, _ partition: String, _ batch: Int, _ size: String, _ gb: String, _ world: Int,
                 _ duration: String, _ memoryMB: Int, _ memoryGB: String, _ simple: String, _ total: String,
                 _ makespan: String, _ median: String, _ rate: String) -> SummaryRow {
            summaryRow([
                "config_id": id, "status": "ok", "source": "measured ranks + modelled fleet", "partition": partition,
                "partition_mb": String(partition.dropLast(2)), "batch_size": String(batch), "data_size": size,
                "data_size_gb": gb, "file_limit": String(world), "world_size": String(world), "threads": "1",
                "total_samples": "659817", "measured_runs": "6", "measured_inference_median_s": median,
                "measured_inference_mean_s": median, "measured_inference_iqr_mean_s": median,
                "measured_inference_min_s": median, "measured_inference_max_s": median, "measured_inference_cv": "0.010000",
                "measured_peak_rss_mb": "812.500", "measured_rank_samples_per_s": rate,
                "measured_rank_gb_per_s": "0.004000000", "modelled_memory_setting": "auto",
                "modelled_memory_mb": String(memoryMB), "modelled_memory_gb": memoryGB,
                "modelled_rank_cold_start_s": "1.000000", "modelled_parallel_efficiency": "0.0000",
                "modelled_efficiency_source": "assumed", "modelled_rank_billed_mean_s": duration,
                "modelled_rank_duration_mean_s": duration, "modelled_makespan_s": makespan,
                "modelled_simple_cost_usd": simple, "modelled_cost_total_usd": total,
                "modelled_fleet_gb_per_s": "1.234500000", "modelled_gb_seconds": "9481.780000",
            ])
        }
        return [
            row("25MB-b512-12.6GB-t1", "25MB", 512, "12.6GB", "12.6", 517, "6.550000", 2867, "2.799805",
                "0.15806100", "0.16100000", "7.000000", "5.500000", "232.363"),
            row("100MB-b512-12.6GB-t1", "100MB", 512, "12.6GB", "12.6", 130, "25.000000", 7168, "7.000000",
                "0.37921500", "0.38100000", "26.000000", "23.000000", "222.304"),
            row("25MB-b512-1GB-t1", "25MB", 512, "1GB", "1", 41, "6.550000", 2867, "2.799805",
                "0.01253500", "0.01300000", "6.900000", "5.500000", "232.363"),
            row("25MB-b32-1GB-t1", "25MB", 32, "1GB", "1", 41, "8.000000", 2867, "2.799805",
                "0.01530000", "0.01600000", "8.300000", "7.000000", "182.571"),
        ]
    }

    func writeFixture(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SummaryRow.table(Self.fixtureRows()).write(to: directory.appendingPathComponent("summary.csv"))
        try fixedEnvironment.encoded().write(to: directory.appendingPathComponent("environment.json"), atomically: true,
                                             encoding: .utf8)
    }

    func snapshot(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory.path)!
        for case let path as String in enumerator where path == "REPORT.md" || path.hasPrefix("plots/") {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { files[path] = try Data(contentsOf: directory.appendingPathComponent(path)) }
        }
        return files
    }

    func testReportIsByteIdenticalAndReadsOnlyCSV() throws {
        let directory = try makeTemporaryDirectory(self).appendingPathComponent("paper")
        try writeFixture(directory)
        try Report.generate(directory: directory)
        let first = try snapshot(directory)
        XCTAssertEqual(Set(first.keys), [
            "REPORT.md", "plots/time_vs_data_size.svg", "plots/throughput_vs_data_size.svg",
            "plots/cost_per_partition.svg", "plots/time_vs_batch_size.svg", "plots/throughput_vs_batch_size.svg",
        ])
        // Regenerate after deleting the outputs: same bytes.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("REPORT.md"))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("plots"))
        try Report.generate(directory: directory)
        XCTAssertEqual(try snapshot(directory), first)
        // And again on top of the existing outputs.
        try Report.generate(directory: directory)
        XCTAssertEqual(try snapshot(directory), first)

        let report = String(decoding: first["REPORT.md"]!, as: UTF8.self)
        XCTAssertTrue(report.hasPrefix("# Scaling report: paper\n"))
        XCTAssertTrue(report.contains("| World Size | Partition | Requests | Duration (s) | Memory (GB) | Cost ($) |"), report)
        XCTAssertTrue(report.contains("| 517 | 25MB | 517 | 6.55 | 2.80 | 0.1581 |"), report)
        XCTAssertTrue(report.contains("| 130 | 100MB | 130 | 25.00 | 7.00 | 0.3792 |"), report)
        XCTAssertTrue(report.contains(
            "| Partition (MB) | Lambda/File Limit | Avg Runtime (s) | Memory (MB) | Data Size (GB) | Cost ($) | Throughput (GB/s) | Batch Size |"),
            report)
        XCTAssertTrue(report.contains("| 25 | 517 | 6.55 | 2867 | 12.6 | 0.1581 | 1.2345 | 512 |"), report)
        XCTAssertTrue(report.contains("\"Throughput (MB/s)\", but its values were GB/s"), report)
        XCTAssertTrue(report.contains("| CPU | Test CPU (2 cores) |"), report)
        XCTAssertTrue(report.contains("![Inference time vs data size](plots/time_vs_data_size.svg)"), report)
        // Cost-optimal table: at 12.6 GB the 25MB partition is both cheaper and faster.
        XCTAssertTrue(report.contains("| 12.6GB | cheapest | 25MB | 512 | 1 | 2867 | 7.00 | 0.16100 |"), report)
        XCTAssertTrue(report.contains("| 1GB | cheapest | 25MB | 512 | 1 | 2867 | 6.90 | 0.01300 |"), report)

        let svg = String(decoding: first["plots/time_vs_data_size.svg"]!, as: UTF8.self)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.contains(">Inference time vs data size</text>"))
        XCTAssertTrue(svg.contains(">Data size (GB, CAI dataset)</text>"))
        XCTAssertTrue(svg.contains(">Time (s)</text>"))
        XCTAssertTrue(svg.contains(">25MB fleet makespan (modelled)</text>"))
        XCTAssertTrue(svg.contains("<polyline"))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
    }

    /// The report of a (fake) sweep's own output is stable too, and the
    /// tables.md the sweep wrote matches the report's tables.
    func testReportFromSweepOutput() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("tiny")
        var spec = try SweepSpec(toml: """
            partitions = ["25MB", "50MB"]
            batch_sizes = [32, 128]
            data_sizes = ["1GB", "2GB"]
            threads = [1, 2]
            repetitions = 3
            measure = 2
            [lambda]
            memory = ["auto", 2048]
            """, path: "tiny.toml")
        spec.outputDirectory = out.path
        spec.cacheDirectory = out.appendingPathComponent("cache").path
        try FakeSweep().runner(spec: spec).run()
        try Report.generate(directory: out)
        let first = try snapshot(out)
        try Report.generate(directory: out)
        XCTAssertEqual(try snapshot(out), first)
        let report = String(decoding: first["REPORT.md"]!, as: UTF8.self)
        let tables = try String(contentsOf: out.appendingPathComponent("tables.md"), encoding: .utf8)
        XCTAssertTrue(tables.hasPrefix("# Sweep tables\n\n## Fleet cost (paper layout)"))
        XCTAssertTrue(report.contains(String(tables.dropFirst("# Sweep tables\n\n".count))), "tables.md differs from REPORT.md's tables")
        // 2 partitions × 2 batches × 2 sizes × 2 threads × 2 memory settings.
        XCTAssertEqual(try SummaryRow.read(out.appendingPathComponent("summary.csv")).count, 32)
    }

    func testMissingDirectory() {
        XCTAssertThrowsError(try Report.generate(directory: URL(fileURLWithPath: "/nonexistent/results/x"))) { error in
            XCTAssertTrue("\(error)".contains("summary.csv not found"), "\(error)")
        }
    }

    func testCSVRoundTripQuotes() throws {
        let table = CSVTable(columns: ["a", "b"], rows: [["1,5", "say \"hi\""], ["", "x"]])
        let text = try table.encoded()
        XCTAssertEqual(text, "a,b\n\"1,5\",\"say \"\"hi\"\"\"\n,x\n")
        XCTAssertEqual(try CSVTable.parse(text, path: "t.csv"), table)
    }
}
