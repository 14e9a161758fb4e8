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

    /// An interrupted sweep keeps every rank run finished before the
    /// interrupt; re-running it measures only what is missing and completes
    /// without duplicate rows.
    func testInterruptedSweepCompletesWithoutDuplicates() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        let spec = try tinySpec(out: out)
        let total = spec.configurations.count
        XCTAssertEqual(total, 8)

        // 1GB configurations measure ranks 0, 1 and the remainder, twice: 6
        // rank runs each; the file-limit configurations read the same first
        // two files, so all their rows are copies. Interrupt at the 8th run.
        let first = FakeSweep()
        first.failAfterCalls = 7
        XCTAssertThrowsError(try first.runner(spec: spec).run()) { error in
            XCTAssertTrue(error is InterruptForTest, "\(error)")
        }
        let partial = try rankRows(out)
        XCTAssertEqual(partial.filter { $0["measured_for"] == "\($0["config_id"]!) rank \($0["rank"]!)" }.count, 7)
        XCTAssertEqual(Set(partial.map { $0["config_id"]! }),
                       ["25MB-b64-1GB-t1", "25MB-b64-files2-t1", "25MB-b256-1GB-t1", "25MB-b256-files2-t1"])
        XCTAssertEqual(Set(try SummaryRow.read(out.appendingPathComponent("summary.csv")).map(\.configID)),
                       Set(partial.map { $0["config_id"]! }))

        let second = FakeSweep()
        let outcome = try second.runner(spec: spec).run()
        XCTAssertEqual(outcome.skipped, ["25MB-b64-1GB-t1", "25MB-b64-files2-t1"])
        XCTAssertEqual(outcome.ran.count, 6)
        XCTAssertEqual(second.calls, 4 * 6 - 7)

        let rows = try rankRows(out)
        let keys = rows.map { "\($0["config_id"]!)|\($0["repetition"]!)|\($0["rank"]!)" }
        XCTAssertEqual(keys.count, Set(keys).count, "duplicate rank rows")
        XCTAssertEqual(Set(rows.map { $0["config_id"]! }), Set(spec.configurations.map(\.id)))
        let expected = spec.configurations.reduce(0) { sum, c in
            sum + c.measuredRanks(measure: spec.measure, includeRemainder: true).count * 2
        }
        XCTAssertEqual(rows.count, expected)
        for row in rows where row["config_id"]!.contains("files2") {
            XCTAssertEqual(row["measured_for"], row["config_id"]!.replacingOccurrences(of: "files2", with: "1GB")
                + " rank \(row["rank"]!)")
        }
        // Rows kept from the first run are byte-identical in the rewritten file.
        XCTAssertEqual(Array(rows.prefix(partial.count)), partial)

        // A third run does nothing.
        let third = FakeSweep()
        let again = try third.runner(spec: spec).run()
        XCTAssertEqual(again.ran, [])
        XCTAssertEqual(third.calls, 0)
        XCTAssertEqual(try rankRows(out), rows)

        let summary = try SummaryRow.read(out.appendingPathComponent("summary.csv"))
        XCTAssertEqual(Set(summary.map(\.configID)), Set(spec.configurations.map(\.id)))
        XCTAssertTrue(summary.allSatisfy(\.isOK))
        XCTAssertEqual(summary.first { $0.configID == "25MB-b64-files2-t1" }?.measuredReusedRuns, 4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.json").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tables.md").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("environment.json").path))
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// Ctrl-C (the runner's interrupt flag) discards the ranks in flight, keeps
    /// what finished and says how many measurements are done.
    func testInterruptSaysHowToResume() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        let spec = try tinySpec(out: out)
        let fake = FakeSweep()
        let runner = fake.runner(spec: spec)
        runner.isInterrupted = { fake.calls >= 3 }
        XCTAssertThrowsError(try runner.run()) { error in
            XCTAssertEqual("\(error)", "interrupted after 2 of 24 measurements; run the same command again to resume")
        }
        let rows = try rankRows(out)
        XCTAssertEqual(Set(rows.map { "\($0["config_id"]!) \($0["rank"]!) \($0["repetition"]!)" }),
                       ["25MB-b64-1GB-t1 0 1", "25MB-b64-1GB-t1 1 1", "25MB-b64-files2-t1 0 1",
                        "25MB-b64-files2-t1 1 1"])
        let second = FakeSweep()
        try second.runner(spec: spec).run()
        XCTAssertEqual(second.calls, 22)
        // runs.csv keeps each run: its outcome, wall time and what it measured.
        let runs = try SweepRunRecord.read(SweepFiles(directory: out))
        XCTAssertEqual(runs.map(\.outcome), ["interrupted", "complete"])
        XCTAssertEqual(runs.map(\.measuredRankRuns), [2, 22])
        XCTAssertEqual(runs.map(\.reusedRows), [2, 14])
        XCTAssertTrue(runs.allSatisfy { $0.wallSeconds >= 0 && $0.source == "local" })
    }

    /// Full files are measured once per repetition and serve every data size;
    /// each data size's short last file is measured for it.
    func testFullFilesAreMeasuredOnceAcrossDataSizes() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        var spec = try tinySpec(out: out)
        spec.grids = [SweepGrid(partitions: [.mb25], batchSizes: [512],
                                dataSizes: [try DataSize(parsing: "1GB"), try DataSize(parsing: "2GB")])]
        spec.repetitions = 1
        let fake = FakeSweep()
        try fake.runner(spec: spec).run()
        XCTAssertEqual(fake.calls, 4)
        let rows = try rankRows(out)
        XCTAssertEqual(rows.count, 6)
        let twoGB = rows.filter { $0["config_id"] == "25MB-b512-2GB-t1" }
        XCTAssertEqual(twoGB.map { $0["measured_for"]! }.sorted(),
                       ["25MB-b512-1GB-t1 rank 0", "25MB-b512-1GB-t1 rank 1", "25MB-b512-2GB-t1 rank 81"])
        let copied = twoGB.first { $0["rank"] == "0" }!, original = rows.first { $0["config_id"] == "25MB-b512-1GB-t1" && $0["rank"] == "0" }!
        XCTAssertEqual(copied["measured_inference_s"], original["measured_inference_s"])
        XCTAssertEqual(copied["file"], "1.safetensors")
    }

    /// With concurrency 2, single-thread ranks run two at a time and 2-thread
    /// ranks alone; rows say how many ran side by side.
    func testConcurrencyCountsCores() throws {
        let out = try makeTemporaryDirectory(self).appendingPathComponent("results")
        var spec = try tinySpec(out: out)
        spec.grids = [SweepGrid(partitions: [.mb25], batchSizes: [64], fileLimits: [2], threads: [1, 2])]
        spec.concurrency = 2
        var groups: [[Int]] = []
        let runner = SweepRunner(spec: spec, executor: ClosureRankExecutor { jobs in
            groups.append(jobs.map(\.threads))
            return jobs.map { fakeResult(for: $0, samples: 1278) }
        }, verifier: ClosureVerifier { _, _ in "ok" }, partitions: PaperPartitions())
        runner.environment = { fixedEnvironment }
        try runner.run()
        XCTAssertEqual(groups, [[1, 1], [1, 1], [2], [2], [2], [2]])
        let rows = try rankRows(out)
        XCTAssertEqual(rows.filter { $0["threads"] == "1" }.map { $0["concurrent_ranks"]! }, ["2", "2", "2", "2"])
        XCTAssertEqual(rows.filter { $0["threads"] == "2" }.map { $0["concurrent_ranks"]! }, ["1", "1", "1", "1"])
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
        XCTAssertEqual(second.calls, 1, "only the failed rank run is measured again")
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
