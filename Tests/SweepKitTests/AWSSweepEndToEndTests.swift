import CAIWorkload
import Foundation
import SweepKit
import XCTest

/// `cosmicbench sweep --executor aws` end to end on loopback: moto's S3,
/// Step Functions (executing the generated ASL, Distributed Map included),
/// Lambda routed to `cosmicbench lambda` workers through a fake Runtime API,
/// and CloudWatch Logs with REPORT lines (scripts/aws-harness/moto_stack.py).
final class AWSSweepEndToEndTests: XCTestCase {
    static let stack = "cbe2e", dataBucket = "cb-data", resultsBucket = "cb-results"

    func testSweepOnStepFunctionsAndLambdaBesideTheModel() throws {
        let binary = try EndToEndTests.builtBinary()
        let root = try makeTemporaryDirectory(self)
        let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let spec = root.appendingPathComponent("e2e.toml")
        try """
            name = "e2e"
            partitions = ["25MB"]
            batch_sizes = [16, 32]
            data_sizes = ["0.001GB"]
            repetitions = 2
            measure = "all"
            cache = "\(root.appendingPathComponent("cache").path)"
            [lambda]
            memory = [1769]
            max_concurrency = 2
            """.write(to: spec, atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("results/e2e")
        let started = Date()
        let harness = try StackHarness(binary: binary, stack: Self.stack, dataBucket: Self.dataBucket,
                                       resultsBucket: Self.resultsBucket)
        defer { harness.stop() }
        let aws = ["--executor", "aws", "--stack", Self.stack, "--data-bucket", Self.dataBucket, "--data-prefix", "data/",
                   "--results-bucket", Self.resultsBucket, "--results-prefix", "runs/"]

        try runBinary(binary, ["sweep", spec.path, "--out", out.path], environment: [:], in: repository)
        let sweepStarted = Date()
        let output = try runBinary(binary, ["sweep", spec.path, "--out", out.path] + aws, environment: harness.environment,
                             in: repository)
        let sweepSeconds = Date().timeIntervalSince(sweepStarted)
        XCTAssertTrue(output.contains("started execution e2e-25MB-b16-0_001GB-t1-1769mb-rep1-a1"), output)
        XCTAssertTrue(output.contains("uploaded 1 partition(s)"), output)

        let files = SweepFiles(directory: out)
        let rows = try RankRecord.records(in: try CSVTable.read(files.ranks), path: files.ranks.path)
        let lambdaRows = rows.filter { $0.source == .lambda }
        XCTAssertEqual(lambdaRows.count, 4, "2 configurations × 2 repetitions × 1 rank")
        XCTAssertEqual(rows.filter { $0.source == .local }.count, 4)
        for row in lambdaRows {
            XCTAssertEqual(row.status, .ok, row.error)
            let figures = try XCTUnwrap(row.lambda)
            XCTAssertEqual(figures.figures, .reportLog)
            XCTAssertEqual(figures.memoryMB, 1769)
            XCTAssertGreaterThan(figures.billedMs, 0)
            XCTAssertGreaterThanOrEqual(Double(figures.billedMs), figures.durationMs)
            XCTAssertGreaterThan(figures.maxMemoryUsedMB, 0)
            XCTAssertEqual(row.samples, 52)
        }
        XCTAssertGreaterThan(lambdaRows.filter { $0.lambda?.coldStart == true }.count, 0)
        let comparison = try LambdaRow.read(files.lambda)
        XCTAssertEqual(comparison.map(\.configID), ["25MB-b16-0.001GB-t1", "25MB-b32-0.001GB-t1"])
        for row in comparison {
            XCTAssertNotNil(row.durationErrorPct, "\(row)")
            XCTAssertNotNil(row.makespanErrorPct, "\(row)")
            XCTAssertNotNil(row.costErrorPct, "\(row)")
        }
        let report = try String(contentsOf: files.report, encoding: .utf8)
        XCTAssertTrue(report.contains("## Measured on Lambda vs modelled"), report)
        XCTAssertTrue(report.contains("| 25MB-b32-0.001GB-t1 | 1769 | ok | 2/2 |"), report)
        XCTAssertTrue(try runBinary(binary, ["report", out.path], environment: [:], in: repository).contains("REPORT.md"))
        let calibrated = try runBinary(binary, ["calibrate", out.path, "--spec", spec.path], environment: [:], in: repository)
        let speed = calibrated.components(separatedBy: "[lambda]\ncpu_speed_factor = ").dropFirst().first
            .flatMap { Double($0.prefix { !$0.isWhitespace }) }
        XCTAssertGreaterThan(speed ?? 0, 0, calibrated)

        // Done: a re-run starts nothing.
        let invokes = try harness.rankInvokes()
        let again = try runBinary(binary, ["sweep", spec.path, "--out", out.path] + aws, environment: harness.environment,
                            in: repository)
        XCTAssertTrue(again.contains("2 already done"), again)
        XCTAssertEqual(try harness.rankInvokes(), invokes)

        // A rank whose runtime dies: its row fails and the exit code says so.
        try harness.command("fail-rank 0")
        let failOut = root.appendingPathComponent("results/fail")
        let failed = try runBinary(binary, ["sweep", spec.path, "--name", "e2efail", "--out", failOut.path,
                                      "--batch-sizes", "16", "--repetitions", "1"] + aws,
                             environment: harness.environment, in: repository, expect: 1)
        XCTAssertTrue(failed.contains("had failed ranks"), failed)
        let failRows = try RankRecord.records(in: try CSVTable.read(SweepFiles(directory: failOut).ranks), path: "fail")
        XCTAssertEqual(failRows.map(\.status), [.failed])
        XCTAssertFalse(failRows[0].error.isEmpty)
        print("AWS sweep end to end: sweep on moto \(String(format: "%.1f", sweepSeconds)) s "
            + "(4 executions of 1 rank), whole test \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

/// scripts/aws-harness/moto_stack.py as a child: its announced JSON line,
/// its stdin commands, and its end when stdin closes.
private final class StackHarness {
    let process = Process()
    let input = Pipe(), output = Pipe()
    let info: [String: Any]

    init(binary: URL, stack: String, dataBucket: String, resultsBucket: String) throws {
        let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repository.appendingPathComponent("scripts/aws-harness/moto_stack.py").path,
                             "--binary", binary.path, "--stack", stack, "--data-bucket", dataBucket,
                             "--results-bucket", resultsBucket, "--data-prefix", "data/", "--results-prefix", "runs/"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        guard let line = Self.readLine(output.fileHandleForReading),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              object["ready"] as? Bool == true else {
            process.terminate()
            throw XCTSkip("moto_stack.py did not start (is moto[server] installed? scripts/setup-test-tools.sh)")
        }
        info = object
    }

    /// What the sweep process needs to reach the stack as its least-privilege user.
    var environment: [String: String] {
        ["AWS_ENDPOINT_URL": info["endpoint"] as! String, "AWS_ACCESS_KEY_ID": info["access_key_id"] as! String,
         "AWS_SECRET_ACCESS_KEY": info["secret_access_key"] as! String, "AWS_REGION": info["region"] as! String]
    }

    @discardableResult
    func command(_ text: String) throws -> [String: Any] {
        input.fileHandleForWriting.write(Data((text + "\n").utf8))
        guard let line = Self.readLine(output.fileHandleForReading),
              let reply = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw XCTSkip("moto_stack.py stopped answering")
        }
        return reply
    }

    func rankInvokes() throws -> Int {
        let invokes = try command("stats")["invokes"] as? [String: Int]
        return invokes?["\(AWSSweepEndToEndTests.stack)-rank"] ?? -1
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = handle.readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
