import CAIWorkload
import Foundation
import SweepAWS
import SweepKit
import XCTest

/// The sweep-on-AWS logic against a stand-in stack: executions "run" when
/// started (rank JSONs written to local storage, REPORT lines logged) and
/// finish on their second DescribeExecution.
final class LambdaSweepTests: XCTestCase {
    func testSweepRecordsLambdaRowsAndResumesWithoutStartingExecutionsTwice() throws {
        let world = try World(self, memory: "[1769, 3008]")
        let outcome = try world.runner().run()
        XCTAssertEqual(outcome.ran.count, 2)
        XCTAssertEqual(world.stack.memoryUpdates, [3008, 1769, 3008])
        XCTAssertEqual(world.stack.started.count, 8)
        XCTAssertEqual(world.stack.started.first, "t-25MB-b16-files2-t1-1769mb-rep1-a1")

        let rows = try world.rows()
        XCTAssertEqual(rows.count, 16)
        XCTAssertTrue(rows.allSatisfy { $0.source == .lambda && $0.status == .ok && $0.lambda?.figures == .reportLog })
        let first = try XCTUnwrap(rows.first?.lambda)
        XCTAssertEqual(first.memoryMB, 1769)
        XCTAssertEqual(first.billedMs, 1_501)
        XCTAssertEqual(first.maxMemoryUsedMB, 321)
        XCTAssertTrue(first.coldStart)
        XCTAssertEqual(first.initMs, 250)
        let lambdaRows = try LambdaRow.read(world.files.lambda)
        XCTAssertEqual(lambdaRows.map(\.memoryMB), [1769, 3008, 1769, 3008])
        XCTAssertEqual(lambdaRows[0].runs, 4)

        // Everything done: nothing runs again.
        XCTAssertEqual(try world.runner().run().skipped.count, 2)
        XCTAssertEqual(world.stack.started.count, 8)
        // Results lost but executions kept: they are found, not started again.
        try FileManager.default.removeItem(at: world.files.ranks)
        _ = try world.runner().run()
        XCTAssertEqual(world.stack.started.count, 8)
        XCTAssertEqual(try world.rows().count, 16)
    }

    func testFailedRankMarksItsRowAndTheRetryStartsTheNextAttempt() throws {
        let world = try World(self, memory: "[1769]", partitions: "[\"25MB\"]")
        world.stack.failRank = 1
        let outcome = try world.runner().run()
        XCTAssertEqual(outcome.failures.count, 1)
        let rows = try world.rows()
        let failed = rows.filter { $0.status != .ok }
        XCTAssertEqual(failed.map(\.rank), [1, 1])
        XCTAssertTrue(failed[0].error.contains("FAILED: States.ExceedToleratedFailureThreshold"), failed[0].error)
        XCTAssertTrue(failed[0].error.contains("results/out/t/25MB-b16-files2-t1/1769mb/rep1-a1/1.json"), failed[0].error)
        XCTAssertEqual(failed[0].lambda?.figures, LambdaFigures.Origin.none)

        world.stack.failRank = nil
        _ = try world.runner().run()
        XCTAssertEqual(world.stack.started.suffix(2), ["t-25MB-b16-files2-t1-1769mb-rep1-a2", "t-25MB-b16-files2-t1-1769mb-rep2-a2"])
        XCTAssertTrue(try world.rows().allSatisfy { $0.status == .ok })
    }

    func testWithoutReportLinesTheWorkersTimingsAreUsedAndLabelled() throws {
        let world = try World(self, memory: "[1769]", partitions: "[\"25MB\"]")
        world.stack.logReports = false
        _ = try world.runner().run()
        let figures = try world.rows().compactMap(\.lambda)
        XCTAssertTrue(figures.allSatisfy { $0.figures == .workerTimings })
        XCTAssertEqual(figures.first?.durationMs ?? 0, 1_400, accuracy: 1e-6)
        XCTAssertNil(figures.first?.initMs)
    }

    func testInterruptStopsPollingAndTheRerunPicksUpTheRunningExecution() throws {
        let world = try World(self, memory: "[1769]", partitions: "[\"25MB\"]")
        world.stack.describesToFinish = 1_000
        let runner = world.runner()
        (runner.remote as! LambdaSweepMeasurer).isInterrupted = { world.stack.describes > 2 }
        XCTAssertThrowsError(try runner.run()) { error in
            guard case AWSSweepError.interrupted = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("run the same command again to resume"), "\(error)")
        }
        XCTAssertEqual(world.stack.started.count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: world.files.ranks.path))

        world.stack.describesToFinish = 1
        _ = try world.runner().run()
        XCTAssertEqual(world.stack.started.count, 2, "the interrupted execution is polled again, only rep2 starts")
        XCTAssertEqual(try world.rows().count, 4)
    }

    func testAutoMemoryIsRefusedByName() throws {
        let world = try World(self, memory: "[\"auto\"]", partitions: "[\"25MB\"]")
        XCTAssertThrowsError(try world.runner().run()) { error in
            XCTAssertTrue("\(error)".contains("lambda.memory \"auto\""), "\(error)")
        }
        XCTAssertTrue(world.stack.started.isEmpty)
    }
}

/// A spec, a stand-in stack and local storage for the results bucket.
private final class World {
    let directory: URL
    let spec: SweepSpec
    let stack: FakeStack
    let storage: LocalStorage

    init(_ test: XCTestCase, memory: String, partitions: String = "[\"25MB\", \"100MB\"]") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sweepaws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let directory = self.directory
        test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let specURL = directory.appendingPathComponent("t.toml")
        try """
        name = "t"
        partitions = \(partitions)
        batch_sizes = [16]
        file_limits = [2]
        repetitions = 2
        [lambda]
        memory = \(memory)
        """.write(to: specURL, atomically: true, encoding: .utf8)
        var spec = try SweepSpec(contentsOf: specURL)
        var overrides = SweepOverrides()
        overrides.outputDirectory = directory.appendingPathComponent("results").path
        overrides.cacheDirectory = directory.appendingPathComponent("cache").path
        try spec.apply(overrides)
        self.spec = spec
        storage = LocalStorage(root: directory.appendingPathComponent("s3"))
        stack = FakeStack(storage: storage)
    }

    var files: SweepFiles { SweepFiles(directory: URL(fileURLWithPath: spec.outputDirectory)) }

    func runner() -> SweepRunner {
        let runner = SweepRunner(
            spec: spec, executor: ClosureRankExecutor { _ in XCTFail("no local rank on AWS"); return [] },
            verifier: ClosureVerifier { _, _ in XCTFail("no local verification on AWS"); return "" },
            partitions: NamedPartitions())
        let measurer = LambdaSweepMeasurer(
            target: try! StackTarget(stack: "cb", dataBucket: "data", dataPrefix: "in/", resultsBucket: "results",
                                     resultsPrefix: "out"),
            control: stack, storage: storage, uploader: CountingUploader())
        measurer.poll = (0, 0)
        runner.remote = measurer
        return runner
    }

    func rows() throws -> [RankRecord] {
        try RankRecord.records(in: try CSVTable.read(files.ranks), path: files.ranks.path)
    }
}

private struct NamedPartitions: PartitionProviding {
    var sourceDescription: String { "named" }
    var dataDirectory: URL { URL(fileURLWithPath: "/nonexistent") }

    func prepare(_ c: SweepConfiguration, ranks: [Int]) throws -> (prefix: String, names: [String]) {
        (c.partition.rawValue, (1...c.fileLimit).map { "\($0).safetensors" })
    }
}

private final class CountingUploader: PartitionUploading {
    var keys: [String] = []

    func upload(_ file: URL, bucket: String, key: String) throws -> Bool {
        keys.append(key)
        return true
    }
}

/// Executions succeed (or fail at `failRank`) after `describesToFinish` describes.
private final class FakeStack: StackControl {
    let storage: LocalStorage
    var memory = 1769
    var memoryUpdates: [Int] = []
    var started: [String] = []
    var failRank: Int?
    var logReports = true
    var describesToFinish = 1
    var describes = 0
    private var executions: [String: (state: ExecutionState, describes: Int, failed: Bool)] = [:]
    private var reports: [String] = []
    private var clock = 1_800_000_000.0

    init(storage: LocalStorage) {
        self.storage = storage
    }

    func stateMachineARN(named name: String) throws -> String {
        "arn:aws:states:us-east-1:123456789012:stateMachine:\(name)"
    }

    func functionMemory(_ function: String) throws -> Int { memory }

    func setFunctionMemory(_ function: String, megabytes: Int) throws {
        memory = megabytes
        memoryUpdates.append(megabytes)
    }

    func execution(stateMachineARN: String, name: String) throws -> ExecutionState? {
        executions[name]?.state
    }

    func startExecution(stateMachineARN: String, name: String, input: Data) throws -> String {
        started.append(name)
        let payload = try Payload(data: input, path: "execution input")
        clock += 10
        var results: [RankResult] = []
        for rank in 0..<payload.worldSize where rank != failRank {
            let requestID = "req-\(name)-\(rank)"
            var result = RankResult.failed(rank: rank, worldSize: payload.worldSize, files: ["\(rank + 1).safetensors"],
                                           batchSize: payload.batchSize, resultPath: payload.resultPath, status: .ok,
                                           exitStatus: 0, stderrTail: "", processSeconds: 1.4)
            result.stderrTail = nil
            result.samples = 1_278
            result.inferenceSeconds = 1.2
            result.peakRSSMB = 300
            result.lambdaRequestID = requestID
            result.lambdaMemoryMB = memory
            results.append(result)
            try storage.write(try RankResult.encoder.encode(result), bucket: payload.bucket,
                              key: ObjectKey.join(payload.resultPath, "\(rank).json"))
            if logReports {
                reports.append("REPORT RequestId: \(requestID)\tDuration: 1500.25 ms\tBilled Duration: 1501 ms\t"
                    + "Memory Size: \(memory) MB\tMax Memory Used: 321 MB\tInit Duration: 250.00 ms")
            }
        }
        if failRank == nil {
            try storage.write(try RankResult.encoder.encode(results), bucket: payload.bucket,
                              key: ObjectKey.join(payload.resultPath, "combined_data.json"))
        }
        let arn = "arn:aws:states:us-east-1:123456789012:execution:cb-pipeline:\(name)"
        executions[name] = (ExecutionState(arn: arn, status: .running, startDate: clock), 0, failRank != nil)
        return arn
    }

    func describeExecution(arn: String) throws -> ExecutionState {
        describes += 1
        let name = String(arn.split(separator: ":").last!)
        var entry = executions[name]!
        entry.describes += 1
        if entry.describes >= describesToFinish, entry.state.status == .running {
            entry.state.status = entry.failed ? .failed : .succeeded
            entry.state.stopDate = entry.state.startDate + 4
            if entry.failed { entry.state.error = "States.ExceedToleratedFailureThreshold" }
        }
        executions[name] = entry
        return entry.state
    }

    func reportLines(logGroup: String, startMs: Int64, endMs: Int64) throws -> [String] {
        XCTAssertEqual(logGroup, "/aws/lambda/cb-rank")
        return reports
    }
}
