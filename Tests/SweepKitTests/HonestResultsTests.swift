import BuildInfo
import CAIWorkload
import Foundation
import LambdaCost
import SweepKit
import XCTest

/// Failures never read as results; statistics say what they come from.
final class HonestResultsTests: XCTestCase {
    let oneGB = SweepConfiguration(partition: .mb25, batchSize: 512, amount: .dataSize(try! DataSize(parsing: "1GB")),
                                   threads: 1)

    func record(_ c: SweepConfiguration, rep: Int, rank: Int, inference: Double,
                status: RankResult.Status = .ok, error: String = "") -> RankRecord {
        let samples = c.samplesInFile(rank + 1)
        return RankRecord(configuration: c, repetition: rep, rank: rank, file: "\(rank + 1).safetensors",
                          fileSamples: samples, remainderFile: samples < c.partition.samplesPerFile, status: status,
                          samples: status == .ok ? samples : 0, numBatches: 3, inferenceSeconds: inference,
                          modelLoadSeconds: 0.5, dataLoadSeconds: 0.02, processSeconds: inference + 0.6,
                          cpuSeconds: inference, peakRSSMB: 900, blasCore: "Core", blasThreads: 1, weights: "seeded",
                          dataSource: "test", verification: "passed", error: error)
    }

    /// The case: full-file ranks time out, only the short remainder
    /// rank finishes. No full-file figure may come from the remainder, and
    /// nothing is modelled from it.
    func testRemainderNeverStandsInForTimedOutFullFiles() throws {
        let c = oneGB
        let last = c.worldSize - 1
        let records = [
            record(c, rep: 1, rank: 0, inference: 0, status: .timeout, error: "killed after 2 s timeout"),
            record(c, rep: 1, rank: last, inference: 0.997),
        ]
        let rows = try Summarizer.summarize(records: records, lambda: LambdaSettings())
        XCTAssertEqual(rows.count, 1)
        let row = rows[0]
        XCTAssertEqual(row.status, .failed)
        XCTAssertNil(row.measuredInferenceMedianS)
        XCTAssertNil(row.modelledMakespanS)
        XCTAssertNil(row.modelledCostTotalUSD)
        XCTAssertEqual(row.measuredStatRuns, 0)
        XCTAssertTrue(row.failure.contains("1 of 2 runs failed: timeout: killed after 2 s timeout"), row.failure)
        let tables = Tables.markdown(rows)
        XCTAssertFalse(tables.contains("0.997"), tables)
        XCTAssertTrue(tables.contains("Failed configurations"), tables)
        XCTAssertTrue(tables.contains("failed (1 of 2 runs failed)"), tables)
    }

    /// Some runs failed, some finished: partial, with the count in every table.
    func testPartialConfigurationIsMarked() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 512, amount: .fileLimit(3), threads: 1)
        let records = [
            record(c, rep: 1, rank: 0, inference: 5), record(c, rep: 1, rank: 1, inference: 5.2),
            record(c, rep: 2, rank: 0, inference: 0, status: .failed, error: "terminated by signal 9"),
            record(c, rep: 2, rank: 1, inference: 5.1),
        ]
        let rows = try Summarizer.summarize(records: records, lambda: LambdaSettings())
        XCTAssertEqual(rows[0].status, .partial)
        XCTAssertEqual(rows[0].measuredStatRuns, 3)
        XCTAssertEqual(rows[0].statusLabel, "partial (1 of 4 runs failed)")
        let tables = Tables.markdown(rows)
        XCTAssertTrue(tables.contains("25MB-b512-files3-t1 — partial (1 of 4 runs failed)"), tables)
        XCTAssertTrue(tables.contains("Of 1 configurations, 1 partial"), tables)
        let report = Report.render(rows: rows, environment: nil, name: "t")
        XCTAssertTrue(report.markdown.contains("partial (1 of 4 runs failed)"))
        XCTAssertTrue(report.plots.isEmpty, "a partial configuration is not plotted as if it were clean")
    }

    /// Runs counts only what the statistics use; spread needs two runs.
    func testStatisticsStateTheirRuns() throws {
        let c = oneGB
        let records = [record(c, rep: 1, rank: 0, inference: 4.0), record(c, rep: 1, rank: c.worldSize - 1, inference: 1.0)]
        let row = try Summarizer.summarize(records: records, lambda: LambdaSettings())[0]
        XCTAssertEqual(row.status, .ok)
        XCTAssertEqual(row.measuredStatRuns, 1, "the remainder run is not a full-file run")
        XCTAssertEqual(row.measuredRemainderRuns, 1)
        XCTAssertEqual(row.measuredInferenceMedianS, 4.0)
        XCTAssertNil(row.measuredInferenceCV, "no CV from a single run")
        XCTAssertNil(row.measuredInferenceMinS)
        XCTAssertNil(row.measuredInferenceMaxS)
        XCTAssertEqual(row["measured_inference_cv"], "")

        let two = records + [record(c, rep: 2, rank: 0, inference: 4.4)]
        let again = try Summarizer.summarize(records: two, lambda: LambdaSettings())[0]
        XCTAssertEqual(again.measuredStatRuns, 2)
        XCTAssertNotNil(again.measuredInferenceCV)
        XCTAssertEqual(again.measuredInferenceMaxS, 4.4)
    }

    /// A data size smaller than one file: its one short file is the whole
    /// workload, and is labelled so.
    func testWholeDataInOneShortFile() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 128, amount: .dataSize(try DataSize(parsing: "0.001GB")),
                                   threads: 1)
        XCTAssertEqual(c.worldSize, 1)
        let row = try Summarizer.summarize(records: [record(c, rep: 1, rank: 0, inference: 0.2)],
                                           lambda: LambdaSettings())[0]
        XCTAssertEqual(row.status, .ok)
        XCTAssertEqual(row.measuredStatBasis, "whole data (one short file)")
        XCTAssertNotNil(row.modelledMakespanS)
    }

    /// A sweep whose ranks fail says so in its outcome, and the runner
    /// reports every such configuration.
    func testSweepOutcomeListsFailures() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        var spec = try SweepSpec(toml: """
            name = "fail"
            partitions = ["25MB"]
            batch_sizes = [64]
            file_limits = [2]
            repetitions = 1
            """, path: "fail.toml")
        spec.outputDirectory = out.path
        spec.cacheDirectory = out.appendingPathComponent("cache").path
        let runner = SweepRunner(spec: spec, executor: ClosureRankExecutor { jobs in
            jobs.map { job in
                var result = fakeResult(for: job, samples: 1278)
                result.status = .timeout
                result.stderrTail = "killed after 2 s timeout\n"
                return result
            }
        }, verifier: ClosureVerifier { _, _ in "ok" }, partitions: PaperPartitions())
        runner.environment = { fixedEnvironment }
        let outcome = try runner.run()
        XCTAssertEqual(outcome.failures.map(\.id), ["25MB-b64-files2-t1"])
        XCTAssertTrue(outcome.summaryLine.contains("1 with failed ranks"), outcome.summaryLine)
        XCTAssertTrue(outcome.failures[0].reason.contains("timeout: killed after 2 s timeout"))
        let summary = try SummaryRow.read(out.appendingPathComponent("summary.csv"))
        XCTAssertEqual(summary.map(\.status), [.failed])
    }

    /// The commit recorded is the one the code was built from, wherever it runs.
    func testEnvironmentRecordsTheBuiltCommit() throws {
        let previous = FileManager.default.currentDirectoryPath
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        FileManager.default.changeCurrentDirectoryPath(NSTemporaryDirectory())
        let environment = EnvironmentInfo.collect()
        XCTAssertEqual(environment.gitCommit, BuildInfo.commitDescription)
        XCTAssertNotEqual(BuildInfo.commit, "unknown", "the test build comes from a git checkout")
        XCTAssertEqual(BuildInfo.commit.count, 40)
        XCTAssertEqual(environment.binaryVersion, BuildInfo.versionLine)
        XCTAssertTrue(environment.binaryVersion.hasPrefix("cosmicbench \(BuildInfo.version) (commit "))
        let decoded = try JSONDecoder().decode(EnvironmentInfo.self, from: Data(try environment.encoded().utf8))
        XCTAssertEqual(decoded, environment)
    }
}

final class CompareHonestyTests: XCTestCase {
    func row(_ id: String, status: String = "ok", time: Double = 5) -> SummaryRow {
        summaryRow(["config_id": id, "status": status, "measured_inference_median_s": String(time),
                    "measured_rank_samples_per_s": "250", "measured_peak_rss_mb": "800"])
    }

    let metrics = SweepComparison.metrics(tolerance: 0.15)

    func testNothingInCommonIsNotAPass() {
        let result = SweepComparison.compare(base: [row("25MB-b512-1GB-t1")], new: [row("50MB-b512-1GB-t1")],
                                             metrics: metrics)
        XCTAssertTrue(result.nothingCompared)
        XCTAssertTrue(result.markdown.contains("Nothing compared"), result.markdown)
    }

    func testNewlyFailedConfigurationIsARegression() {
        let result = SweepComparison.compare(base: [row("25MB-b512-1GB-t1")],
                                             new: [row("25MB-b512-1GB-t1", status: "failed")], metrics: metrics)
        XCTAssertTrue(result.hasRegression)
        XCTAssertFalse(result.nothingCompared)
        XCTAssertTrue(result.markdown.contains("Failed or partial in NEW"), result.markdown)
    }

    func testEnvironmentDifferencesAreNamed() {
        var other = fixedEnvironment
        other.openBLASCore = "Haswell"
        other.gitCommit = "abc"
        let notes = SweepComparison.environmentDifferences(fixedEnvironment, other)
        XCTAssertEqual(notes, ["OpenBLAS core: BASE FakeCore, NEW Haswell", "commit: BASE unknown, NEW abc"])
        XCTAssertEqual(SweepComparison.environmentDifferences(fixedEnvironment, fixedEnvironment), [])
        XCTAssertEqual(SweepComparison.environmentDifferences(nil, fixedEnvironment), ["BASE has no environment.json"])
    }
}
