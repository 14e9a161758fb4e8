import Foundation
import LambdaCost
import SweepKit
import XCTest

/// `SweepPreflight`: the dry run's checks, each problem named, all at once.
final class PreflightTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    /// A spec over 25MB partitions at the given file limits, with `extra` lines at the top level.
    func spec(fileLimits: [Int] = [2], _ extra: [String: String] = [:], lambda: String = "") throws -> SweepSpec {
        var lines = ["name = \"preflight\"", "partitions = [\"25MB\"]", "batch_sizes = [128]",
                     "file_limits = [\(fileLimits.map(String.init).joined(separator: ", "))]",
                     "out = \"\(directory.appendingPathComponent("results").path)\"",
                     "cache = \"\(directory.appendingPathComponent("cache").path)\""]
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
            lines.removeAll { $0.hasPrefix("\(key) =") }
            lines.append("\(key) = \"\(value)\"")
        }
        let text = lines.joined(separator: "\n") + "\n" + (lambda.isEmpty ? "" : "[lambda]\n\(lambda)\n")
        return try SweepSpec(toml: text, path: "preflight.toml")
    }

    /// `<directory>/data/<partition>/1.safetensors ... n.safetensors` (names only: the dry run lists, not reads).
    func makeData(partition: String = "25MB", files: Int) throws -> URL {
        let data = directory.appendingPathComponent("data")
        let folder = data.appendingPathComponent(partition)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for i in 0..<files {
            try Data().write(to: folder.appendingPathComponent("\(i + 1).safetensors"))
        }
        return data
    }

    /// A folder no one can write to; for root, whom modes do not stop, a path below a regular file.
    func unwritableFolder() throws -> URL {
        if geteuid() == 0 {
            let file = directory.appendingPathComponent("a-file")
            try Data("x".utf8).write(to: file)
            return file.appendingPathComponent("results")
        }
        let locked = directory.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked.path)
        addTeardownBlock {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked.path)
        }
        return locked.appendingPathComponent("results")
    }

    func testCleanSpecHasNoProblemsAndLeavesNothingBehind() throws {
        let data = try makeData(files: 3)
        let weights = directory.appendingPathComponent("weights.safetensors")
        try Data("w".utf8).write(to: weights)
        let before = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        let sweep = try spec(fileLimits: [2, 3], ["data": data.path, "weights": weights.path],
                             lambda: "memory = [\"auto\", 1769]")
        XCTAssertEqual(SweepPreflight(spec: sweep).problems(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), before,
                       "the write checks must leave nothing behind")
        // An existing, writable output folder is fine too, and keeps no probe file.
        let out = directory.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        XCTAssertEqual(SweepPreflight(spec: sweep).problems(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [])
    }

    func testMissingDataDirectory() throws {
        let missing = directory.appendingPathComponent("no-such-data").path
        let problems = SweepPreflight(spec: try spec(["data": missing])).problems()
        XCTAssertEqual(problems, [.init(key: "data", value: missing, reason: "no such directory")])
        XCTAssertEqual("\(problems[0])", "data = \"\(missing)\": no such directory")
    }

    func testTooFewFilesForAFileLimit() throws {
        let data = try makeData(files: 3)
        let problems = SweepPreflight(spec: try spec(fileLimits: [2, 4, 5], ["data": data.path])).problems()
        XCTAssertEqual(problems.count, 1, "\(problems)")
        let text = "\(problems.first!)"
        XCTAssertEqual(problems.first?.key, "data")
        XCTAssertTrue(text.contains("\(data.path)/25MB holds 3 partition file(s)"), text)
        XCTAssertTrue(text.contains("25MB-b128-files4-t1 needs 4"), text)
        XCTAssertTrue(text.contains("25MB-b128-files5-t1 needs 5"), text)
        XCTAssertFalse(text.contains("files2"), text)
    }

    func testDataFolderWithoutPartitionFiles() throws {
        let data = directory.appendingPathComponent("empty-data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let problems = SweepPreflight(spec: try spec(["data": data.path])).problems()
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].reason.contains("no 25MB folder"), problems[0].reason)
        XCTAssertTrue(problems[0].reason.contains("holds no partition files"), problems[0].reason)
    }

    func testUnwritableOutput() throws {
        let out = try unwritableFolder()
        let problems = SweepPreflight(spec: try spec(["out": out.path])).problems()
        XCTAssertEqual(problems.map(\.key), ["out"], "\(problems)")
        XCTAssertEqual(problems.first?.value, out.path)
        XCTAssertTrue(problems.first?.reason.hasPrefix("cannot be created") ?? false, "\(problems)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    func testEveryProblemAtOnce() throws {
        let missingData = directory.appendingPathComponent("no-data").path
        let missingWeights = directory.appendingPathComponent("no-weights.pt").path
        let out = try unwritableFolder()
        let cache = directory.appendingPathComponent("cache-file")
        try Data().write(to: cache)
        let sweep = try spec(["data": missingData, "weights": missingWeights, "out": out.path, "cache": cache.path])
        let problems = SweepPreflight(spec: sweep, remote: true).problems()
        XCTAssertEqual(problems.map(\.key), ["data", "weights", "out", "cache", "lambda.memory"], "\(problems)")
        XCTAssertEqual(problems[1].reason, "no such file")
        XCTAssertEqual(problems[3].reason, "not a directory")
        XCTAssertEqual(problems[4].value, "auto")
    }

    func testMemorySettingsAndRemoteMemory() throws {
        XCTAssertEqual(SweepPreflight.memoryDescription([.auto, .fixed(megabytes: 1769)]), "auto, 1769 MB")
        let fixed = try spec(lambda: "memory = [1769, \"3008MB\"]")
        XCTAssertEqual(SweepPreflight.memoryDescription(fixed.lambda.memory), "1769 MB, 3008 MB")
        XCTAssertEqual(SweepPreflight(spec: fixed, remote: true).problems(), [])
    }

    func testMissingFixturesOnlyMatterLocally() throws {
        let sweep = try spec(lambda: "memory = [1769]")
        XCTAssertEqual(SweepPreflight(spec: sweep, fixtures: []).problems().map(\.key), ["fixtures"])
        XCTAssertEqual(SweepPreflight(spec: sweep, remote: true, fixtures: []).problems(), [])
    }
}
