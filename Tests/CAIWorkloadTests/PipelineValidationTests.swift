import CAIWorkload
import Foundation
import XCTest

/// Everything the initializer can check is checked before its first write,
/// and an old result folder is refused or (with `replace`) emptied. Before,
/// a second run into a folder left stale `{rank}.json` beside the new
/// `combined_data.json`, and bad weights or a corrupt partition were found
/// inside each rank after `payload.json` had been written.
final class PipelineValidationTests: XCTestCase {
    var root: URL!
    var out: URL { root.appendingPathComponent("results/run/1") }

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-validate-\(UUID().uuidString)")
        let generator = PartitionGenerator(partition: .mb25, seed: 11)
        for index in 1...2 {
            try generator.generateFile(index: index, sampleCount: 3,
                                       to: root.appendingPathComponent("data/tiny/\(index).safetensors"))
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func payload(resultPath: String = "run/1", bucket: String = "results", dataPrefix: String = "tiny",
                 fileLimit: Int = 2) -> Payload {
        Payload(bucket: bucket, fileLimit: fileLimit, batchSize: 4, resultPath: resultPath, dataBucket: "data",
                dataPrefix: dataPrefix)
    }

    func options(replace: Bool = false, weights: String? = nil) -> Pipeline.Options {
        Pipeline.Options(root: root, weightsPath: weights, replace: replace)
    }

    func testNonEmptyResultFolderIsRefused() throws {
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: out.appendingPathComponent("7.json"))
        XCTAssertThrowsError(try Pipeline.initialize(payload: payload(), options: options())) { error in
            XCTAssertEqual(error as? PipelineError, .resultDirectoryNotEmpty(path: out.path, entries: ["7.json"]))
            XCTAssertTrue("\(error)".contains(out.path), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), ["7.json"])
        // An empty folder, or one holding only a dead writer's temporary file, is fine.
        try FileManager.default.removeItem(at: out.appendingPathComponent("7.json"))
        let stale = out.appendingPathComponent(".0.json.tmp-\(try deadPID())-42")
        try Data("half".utf8).write(to: stale)
        _ = try Pipeline.initialize(payload: payload(), options: options())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), ["payload.json"])
    }

    func testReplaceRemovesEverythingOfTheOlderRun() throws {
        try FileManager.default.createDirectory(at: out.appendingPathComponent("sub"), withIntermediateDirectories: true)
        for name in ["0.json", "1.json", "5.json", "combined_data.json", ".3.job.json", "sub/x"] {
            try Data("old".utf8).write(to: out.appendingPathComponent(name))
        }
        let plan = try Pipeline.initialize(payload: payload(fileLimit: 1), options: options(replace: true))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), ["payload.json"])
        XCTAssertEqual(plan.dataMap.assignments, [["1.safetensors"]])
    }

    func testBadWeightsFailBeforeAnythingIsWritten() throws {
        let weights = root.appendingPathComponent("weights.safetensors")
        try Data("this is a text file, not a checkpoint\n".utf8).write(to: weights)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("good".utf8).write(to: out.appendingPathComponent("0.json"))
        XCTAssertThrowsError(try Pipeline.initialize(payload: payload(), options: options(replace: true, weights: weights.path))) { error in
            XCTAssertTrue("\(error)".contains(weights.path), "\(error)")
        }
        // The earlier run's results are untouched: removal waits for every check.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), ["0.json"])
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("0.json")), Data("good".utf8))
    }

    func testCorruptPartitionFailsBeforeAnythingIsWritten() throws {
        let second = root.appendingPathComponent("data/tiny/2.safetensors")
        let bytes = try Data(contentsOf: second)
        try bytes.prefix(bytes.count - 100).write(to: second)
        XCTAssertThrowsError(try Pipeline.initialize(payload: payload(), options: options())) { error in
            XCTAssertTrue("\(error)".contains(second.path), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("results").path))
        // Only assigned files are opened: with file_limit 1 the corrupt file is not used.
        _ = try Pipeline.initialize(payload: payload(fileLimit: 1), options: options())
    }

    func testResultFolderMustNotOverlapTheData() throws {
        let inside = payload(resultPath: "tiny/out", bucket: "data")
        XCTAssertThrowsError(try Pipeline.initialize(payload: inside, options: options())) { error in
            guard case .resultOverlapsData? = error as? PipelineError else { return XCTFail("wrong error \(error)") }
        }
        let same = payload(resultPath: "tiny", bucket: "data")
        XCTAssertThrowsError(try Pipeline.initialize(payload: same, options: options(replace: true))) { error in
            guard case .resultOverlapsData? = error as? PipelineError else { return XCTFail("wrong error \(error)") }
        }
        // Results above the data would let `replace` delete the partitions.
        let nested = root.appendingPathComponent("data/set/tiny")
        try FileManager.default.createDirectory(at: nested.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: root.appendingPathComponent("data/tiny"), to: nested)
        let above = payload(resultPath: "set", bucket: "data", dataPrefix: "set/tiny")
        XCTAssertThrowsError(try Pipeline.initialize(payload: above, options: options(replace: true))) { error in
            guard case .resultOverlapsData? = error as? PipelineError else { return XCTFail("wrong error \(error)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: nested.path).sorted(),
                       ["1.safetensors", "2.safetensors"])
    }

    func testResultPathBlockedByAFile() throws {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("results"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: root.appendingPathComponent("results/run"))
        XCTAssertThrowsError(try Pipeline.initialize(payload: payload(), options: options())) { error in
            XCTAssertEqual(error as? PipelineError,
                           .resultNotADirectory(path: out.path, blocking: root.appendingPathComponent("results/run").path))
        }
    }

    func testMissingRootIsNamed() throws {
        let missing = root.appendingPathComponent("nowhere")
        XCTAssertThrowsError(try Pipeline.initialize(payload: payload(), options: Pipeline.Options(root: missing))) { error in
            XCTAssertEqual(error as? PipelineError, .rootMissing(path: missing.path))
        }
    }
}

/// A process id no process has: above the kernel's `pid_max`.
func deadPID() throws -> Int32 {
    let text = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
    return try XCTUnwrap(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))) + 1
}
