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
}
