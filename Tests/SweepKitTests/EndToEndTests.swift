import Foundation
import SweepKit
import XCTest

/// Runs the real `cosmicbench` binary when it was built beside the test
/// bundle (`swift build` before `swift test`): a one-rank sweep on a tiny
/// generated partition, its resume, `report` and `compare`. Set
/// COSMICBENCH_SKIP_E2E=1 to skip it.
final class EndToEndTests: XCTestCase {
    func binary() throws -> URL {
        try Self.builtBinary()
    }

    /// The `cosmicbench` binary built beside the test bundle.
    static func builtBinary() throws -> URL {
        if ProcessInfo.processInfo.environment["COSMICBENCH_SKIP_E2E"] != nil {
            throw XCTSkip("COSMICBENCH_SKIP_E2E is set")
        }
        let bundle = Bundle(for: EndToEndTests.self).bundleURL
        for directory in [bundle.deletingLastPathComponent(), bundle] {
            let candidate = directory.appendingPathComponent("cosmicbench")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("cosmicbench binary not found beside \(bundle.path)")
    }

    @discardableResult
    func run(_ binary: URL, _ arguments: [String], in directory: URL, expect status: Int32 = 0,
             file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try runBinary(binary, arguments, in: directory, expect: status, file: file, line: line)
    }

    func testTinySweepWithRealRanks() throws {
        let binary = try binary()
        let root = try makeTemporaryDirectory(self)
        let spec = root.appendingPathComponent("tiny.toml")
        try """
            name = "tiny"
            partitions = ["25MB"]
            batch_sizes = [128]
            data_sizes = ["0.001GB"]
            repetitions = 1
            measure = 1
            out = "\(root.appendingPathComponent("results/tiny").path)"
            cache = "\(root.appendingPathComponent("cache").path)"
            """.write(to: spec, atomically: true, encoding: .utf8)
        let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let output = try run(binary, ["sweep", spec.path], in: repository)
        XCTAssertTrue(output.contains("measured 1 configuration(s)"), output)
        let results = root.appendingPathComponent("results/tiny")
        let rows = try CSVTable.read(results.appendingPathComponent("ranks.csv")).records
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first?["status"], "ok")
        XCTAssertEqual(rows.first?["measured_samples"], "52")
        XCTAssertTrue(rows.first?["verification"]?.hasPrefix("passed") ?? false)
        XCTAssertTrue(FileManager.default.fileExists(atPath: results.appendingPathComponent("REPORT.md").path))

        let again = try run(binary, ["sweep", spec.path, "--no-report"], in: repository)
        XCTAssertTrue(again.contains("measured 0 configuration(s), 1 already done"), again)
        XCTAssertEqual(try CSVTable.read(results.appendingPathComponent("ranks.csv")).records, rows)
        try run(binary, ["report", results.path], in: root)
        try run(binary, ["compare", results.path, results.path], in: root)
        let cost = try run(binary, ["cost", "--requests", "517", "--duration", "6.55", "--memory", "2.8GB"], in: root)
        XCTAssertTrue(cost.contains("= $0.158"), cost)
    }

    /// A sweep whose ranks time out exits non-zero, says what failed and
    /// why, and its tables call the configuration failed.
    func testTimedOutSweepFails() throws {
        let binary = try binary()
        let root = try makeTemporaryDirectory(self)
        let spec = root.appendingPathComponent("timeout.toml")
        try """
            name = "timeout"
            partitions = ["25MB"]
            batch_sizes = [128]
            data_sizes = ["0.001GB"]
            repetitions = 1
            warmup = 0
            out = "\(root.appendingPathComponent("results/timeout").path)"
            cache = "\(root.appendingPathComponent("cache").path)"
            """.write(to: spec, atomically: true, encoding: .utf8)
        let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let output = try run(binary, ["sweep", spec.path, "--timeout", "0.001"], in: repository, expect: 1)
        XCTAssertTrue(output.contains("1 configuration(s) had failed ranks"), output)
        XCTAssertTrue(output.contains("timeout"), output)
        let tables = try String(contentsOf: root.appendingPathComponent("results/timeout/tables.md"), encoding: .utf8)
        XCTAssertTrue(tables.contains("Failed configurations"), tables)
    }

    /// `compare` with nothing in common is an error, not "no regression".
    func testCompareWithNothingInCommonFails() throws {
        let binary = try binary()
        let root = try makeTemporaryDirectory(self)
        for (name, id) in [("a", "25MB-b512-1GB-t1"), ("b", "50MB-b512-1GB-t1")] {
            let directory = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try SummaryRow.table([summaryRow(["config_id": id])]).write(to: directory.appendingPathComponent("summary.csv"))
        }
        let output = try run(binary, ["compare", root.appendingPathComponent("a").path,
                                      root.appendingPathComponent("b").path], in: root, expect: 1)
        XCTAssertTrue(output.contains("nothing compared"), output)
    }

    /// `--version` names the commit the binary was built from.
    func testVersionNamesTheBuiltCommit() throws {
        let output = try run(try binary(), ["--version"], in: URL(fileURLWithPath: NSTemporaryDirectory()))
        XCTAssertTrue(output.hasPrefix("cosmicbench "), output)
        XCTAssertTrue(output.contains("(commit "), output)
        XCTAssertFalse(output.contains("commit unknown"), output)
    }

    /// SIGINT to a running sweep ends the rank in flight, keeps the finished
    /// measurements, says how to resume and exits 130; the same command then
    /// measures only what is missing.
    func testInterruptedSweepResumes() throws {
        let binary = try binary()
        let root = try makeTemporaryDirectory(self)
        let spec = root.appendingPathComponent("stop.toml")
        try """
            name = "stop"
            partitions = ["25MB"]
            batch_sizes = [128]
            data_sizes = ["0.05GB"]
            repetitions = 2
            measure = 1
            out = "\(root.appendingPathComponent("results").path)"
            cache = "\(root.appendingPathComponent("cache").path)"
            """.write(to: spec, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["sweep", spec.path, "--no-report"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        var printed = ""
        let deadline = Date().addingTimeInterval(120)
        while !printed.contains("[1/4]"), Date() < deadline, process.isRunning {
            printed += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        XCTAssertTrue(printed.contains("[1/4]"), printed)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 130, message)
        XCTAssertNotNil(message.range(of: #"interrupted after [1-3] of 4 measurements; run the same command again to resume"#,
                                      options: .regularExpression), message)
        // No rank of this sweep is left running.
        let stray = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { entry in
            guard Int(entry) != nil, let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(root.path)
        }
        XCTAssertEqual(stray, [])
        let kept = try CSVTable.read(root.appendingPathComponent("results/ranks.csv")).records.count
        XCTAssertTrue((1...3).contains(kept), "\(kept) rows kept")

        let again = try run(binary, ["sweep", spec.path, "--no-report"], in: root)
        XCTAssertTrue(again.contains("\(4 - kept) rank run(s) to measure"), again)
        XCTAssertEqual(try CSVTable.read(root.appendingPathComponent("results/ranks.csv")).records.count, 4)
    }
}
