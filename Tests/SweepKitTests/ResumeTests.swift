import CAIWorkload
import SweepKit
import XCTest

final class ResumeTests: XCTestCase {
    func tinySpec(out: URL) throws -> SweepSpec {
        var spec = try SweepSpec(toml: """
            name = "tiny"
            partitions = ["25MB", "100MB"]
            batch_sizes = [64, 256]
            data_sizes = ["1GB"]
            file_limits = [2]
            repetitions = 2
            measure = 2
            """, path: "tiny.toml")
        spec.outputDirectory = out.path
        spec.cacheDirectory = out.appendingPathComponent("cache").path
        return spec
    }

    func rankRows(_ out: URL) throws -> [[String: String]] {
        try CSVTable.read(out.appendingPathComponent("ranks.csv")).records
    }

    /// An interrupted sweep keeps finished configurations; re-running it
    /// skips them and completes without duplicate rows.
    func testInterruptedSweepCompletesWithoutDuplicates() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        let spec = try tinySpec(out: out)
        let total = spec.configurations.count
        XCTAssertEqual(total, 8)

        // Each configuration runs 2 repetitions = 2 runner calls; interrupt in the 4th configuration.
        let first = FakeSweep()
        first.failAfterCalls = 7
        XCTAssertThrowsError(try first.runner(spec: spec).run()) { error in
            XCTAssertTrue(error is InterruptForTest, "\(error)")
        }
        let partial = try rankRows(out)
        let partialIDs = Set(partial.map { $0["config_id"]! })
        XCTAssertEqual(partialIDs.count, 3)
        XCTAssertEqual(Set(try SummaryRow.read(out.appendingPathComponent("summary.csv")).map(\.configID)), partialIDs)

        let second = FakeSweep()
        let outcome = try second.runner(spec: spec).run()
        XCTAssertEqual(outcome.skipped.count, 3)
        XCTAssertEqual(outcome.ran.count, 5)
        XCTAssertEqual(second.calls, 5 * 2)

        let rows = try rankRows(out)
        let keys = rows.map { "\($0["config_id"]!)|\($0["repetition"]!)|\($0["rank"]!)" }
        XCTAssertEqual(keys.count, Set(keys).count, "duplicate rank rows")
        XCTAssertEqual(Set(rows.map { $0["config_id"]! }), Set(spec.configurations.map(\.id)))
        // 1GB configurations measure ranks 0, 1 and the remainder rank; file limits ranks 0, 1.
        let expected = spec.configurations.reduce(0) { sum, c in
            sum + c.measuredRanks(measure: spec.measure, includeRemainder: true).count * 2
        }
        XCTAssertEqual(rows.count, expected)
        // Rows kept from the first run are byte-identical in the rewritten file.
        XCTAssertEqual(Array(rows.prefix(partial.count)), partial)

        // A third run does nothing.
        let third = FakeSweep()
        let again = try third.runner(spec: spec).run()
        XCTAssertEqual(again.ran, [])
        XCTAssertEqual(third.calls, 0)
        XCTAssertEqual(try rankRows(out), rows)

        let summary = try SummaryRow.read(out.appendingPathComponent("summary.csv"))
        XCTAssertEqual(summary.map(\.configID), spec.configurations.map(\.id))
        XCTAssertTrue(summary.allSatisfy(\.isOK))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.json").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tables.md").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("environment.json").path))
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// A configuration with a failed rank is measured again on the next run
    /// and its old rows are replaced.
    func testFailedConfigurationIsRetried() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        var spec = try tinySpec(out: out)
        spec.grids[0].partitions = [.mb25]
        spec.grids[0].batchSizes = [64]
        spec.grids[0].dataSizes = []
        let first = FakeSweep()
        first.failRank = (2, 1)
        try first.runner(spec: spec).run()
        var rows = try rankRows(out)
        XCTAssertEqual(rows.filter { $0["status"] == "failed" }.count, 1)
        XCTAssertEqual(rows.first { $0["status"] == "failed" }?["error"], "simulated crash")

        let second = FakeSweep()
        let outcome = try second.runner(spec: spec).run()
        XCTAssertEqual(outcome.ran, ["25MB-b64-files2-t1"])
        rows = try rankRows(out)
        XCTAssertEqual(rows.count, 4)
        XCTAssertTrue(rows.allSatisfy { $0["status"] == "ok" })
    }

    /// Verification failure stops the sweep before any rank is timed.
    func testRefusesToTimeWhenVerificationFails() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        let spec = try tinySpec(out: out)
        let fake = FakeSweep()
        let runner = fake.runner(spec: spec)
        runner.verifier = ClosureVerifier { threads, id in
            throw SweepError.verificationFailed(configuration: id, threads: threads, details: "stage output.redshift off")
        }
        XCTAssertThrowsError(try runner.run()) { error in
            XCTAssertTrue("\(error)".contains("refusing to time"), "\(error)")
        }
        XCTAssertEqual(fake.calls, 0)
        // A sweep that failed before any result leaves no folder of empty files behind.
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// Jobs follow CAI's data map: one file per rank, world size = file limit.
    func testJobsFollowDataMap() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        var spec = try tinySpec(out: out)
        spec.grids = [SweepGrid(partitions: [.mb50], batchSizes: [128], dataSizes: [try DataSize(parsing: "1GB")])]
        spec.repetitions = 1
        var seen: [RankJob] = []
        let runner = SweepRunner(spec: spec, executor: ClosureRankExecutor { jobs in
            seen += jobs
            return jobs.map { fakeResult(for: $0, samples: $0.rank == 20 ? 1246 : 2556) }
        }, verifier: ClosureVerifier { _, _ in "ok" }, partitions: PaperPartitions())
        runner.environment = { fixedEnvironment }
        try runner.run()
        XCTAssertEqual(seen.map(\.rank), [0, 1, 20])
        XCTAssertTrue(seen.allSatisfy { $0.worldSize == 21 && $0.files.count == 1 && $0.batchSize == 128 && $0.threads == 1 })
        XCTAssertEqual(seen.map { URL(fileURLWithPath: $0.files[0]).lastPathComponent },
                       ["1.safetensors", "2.safetensors", "21.safetensors"])
        let rows = try rankRows(out)
        XCTAssertEqual(rows.map { $0["remainder_file"]! }, ["false", "false", "true"])
        XCTAssertEqual(rows.map { $0["source"]! }, ["local", "local", "local"])
    }
}
