import SweepKit
import XCTest

final class CompareTests: XCTestCase {
    func rows(time: Double, rate: Double, rss: Double, extra: String? = nil) -> [SummaryRow] {
        var ids = ["25MB-b512-1GB-t1"]
        if let extra { ids.append(extra) }
        return ids.map { id in
            summaryRow([
                "config_id": id, "status": "ok", "measured_inference_median_s": NumberFormat.fixed(time, 6),
                "measured_rank_samples_per_s": NumberFormat.fixed(rate, 3),
                "measured_peak_rss_mb": NumberFormat.fixed(rss, 3),
            ])
        }
    }

    let metrics = SweepComparison.metrics(tolerance: 0.15)

    func testRegressionFails() {
        let result = SweepComparison.compare(base: rows(time: 5, rate: 250, rss: 800),
                                             new: rows(time: 6, rate: 208, rss: 800), metrics: metrics)
        XCTAssertTrue(result.hasRegression)
        let verdicts = Dictionary(uniqueKeysWithValues: result.lines.map { ($0.metric, $0.verdict) })
        XCTAssertEqual(verdicts["median rank inference (s)"], .regression)
        XCTAssertEqual(verdicts["rank samples/s"], .regression)
        XCTAssertEqual(verdicts["peak RSS (MB)"], .ok)
        XCTAssertTrue(result.markdown.contains("| 25MB-b512-1GB-t1 | median rank inference (s) | 5 | 6 | +20.0 % | ±15 % | REGRESSION |"),
                      result.markdown)
        XCTAssertTrue(result.markdown.contains("regression(s) beyond tolerance"))
    }

    /// 1.38× the time is 1/1.38 of the rate: both are the same slowdown and
    /// get the same verdict (a signed-change rule passed one and failed the other).
    func testTimeAndRateOfOneSlowdownAgree() {
        let wide = SweepComparison.metrics(tolerance: 0.30)
        let result = SweepComparison.compare(base: rows(time: 3.283, rate: 389.3, rss: 120),
                                             new: rows(time: 4.532, rate: 282.0, rss: 120), metrics: wide)
        let verdicts = Dictionary(uniqueKeysWithValues: result.lines.map { ($0.metric, $0.verdict) })
        XCTAssertEqual(verdicts["median rank inference (s)"], .regression)
        XCTAssertEqual(verdicts["rank samples/s"], .regression)
    }

    func testOnlySelectedMetricsAreChecked() {
        let memoryOnly = SweepComparison.metrics(tolerance: 0.15, kinds: [.memory])
        let result = SweepComparison.compare(base: rows(time: 5, rate: 250, rss: 800),
                                             new: rows(time: 9, rate: 100, rss: 800), metrics: memoryOnly)
        XCTAssertFalse(result.hasRegression)
        XCTAssertEqual(result.lines.map(\.metric), ["peak RSS (MB)"])
    }

    func testMemoryRegressionFails() {
        let result = SweepComparison.compare(base: rows(time: 5, rate: 250, rss: 800),
                                             new: rows(time: 5, rate: 250, rss: 1000), metrics: metrics)
        XCTAssertTrue(result.hasRegression)
    }

    func testImprovementPassesWithNote() {
        let result = SweepComparison.compare(base: rows(time: 5, rate: 250, rss: 800),
                                             new: rows(time: 3, rate: 416, rss: 600), metrics: metrics)
        XCTAssertFalse(result.hasRegression)
        XCTAssertEqual(result.improvements.count, 3)
        XCTAssertTrue(result.markdown.contains("consider updating the baseline"), result.markdown)
    }

    func testWithinTolerancePasses() {
        let result = SweepComparison.compare(base: rows(time: 5, rate: 250, rss: 800),
                                             new: rows(time: 5.5, rate: 230, rss: 850), metrics: metrics)
        XCTAssertFalse(result.hasRegression)
        XCTAssertTrue(result.lines.allSatisfy { $0.verdict == .ok })
        XCTAssertTrue(result.markdown.contains("No regression beyond tolerance."))
    }

    func testMissingConfigurationsListed() {
        let result = SweepComparison.compare(base: rows(time: 5, rate: 250, rss: 800, extra: "100MB-b512-1GB-t1"),
                                             new: rows(time: 5, rate: 250, rss: 800, extra: "50MB-b512-1GB-t1"),
                                             metrics: metrics)
        XCTAssertEqual(result.onlyInBase, ["100MB-b512-1GB-t1"])
        XCTAssertEqual(result.onlyInNew, ["50MB-b512-1GB-t1"])
        XCTAssertTrue(result.markdown.contains("Only in BASE (not compared): 100MB-b512-1GB-t1"))
        XCTAssertTrue(result.markdown.contains("Only in NEW (not compared): 50MB-b512-1GB-t1"))
    }

    func testPerMetricTolerance() {
        let loose = SweepComparison.metrics(tolerance: 0.05, timeTolerance: 0.5)
        let result = SweepComparison.compare(base: rows(time: 5, rate: 250, rss: 800),
                                             new: rows(time: 6, rate: 250, rss: 800), metrics: loose)
        XCTAssertFalse(result.hasRegression)
    }

    /// Directories round-trip through summary.csv files.
    func testCompareDirectories() throws {
        let root = try makeTemporaryDirectory(self)
        let base = root.appendingPathComponent("base"), new = root.appendingPathComponent("new")
        for (url, time) in [(base, 5.0), (new, 7.0)] {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try SummaryRow.table(rows(time: time, rate: 250, rss: 800)).write(to: url.appendingPathComponent("summary.csv"))
        }
        XCTAssertTrue(try SweepComparison.compare(base: base, new: new, metrics: metrics).hasRegression)
        XCTAssertFalse(try SweepComparison.compare(base: base, new: base, metrics: metrics).hasRegression)
        XCTAssertThrowsError(try SweepComparison.compare(base: root.appendingPathComponent("none"), new: new, metrics: metrics))
    }
}
