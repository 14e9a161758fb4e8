import CAIWorkload
import Foundation
import XCTest

/// The inputs fuzz-lambda-event (Fuzz/Sources/fuzz-lambda-event) failed on,
/// committed under Fuzz/Crashes/fuzz-lambda-event, replayed: through the
/// initializer's split here, and as events to real `cosmicbench lambda`
/// workers (one per handler, behind a fake Runtime API) by
/// Fuzz/Tools/replay_lambda_events.py. Each must be a clean handler error
/// and leave the worker serving. (The request-id input's headers are
/// replayed by LambdaRuntimeTests.NextInvocationFuzzRegressionTests.)
final class LambdaEventFuzzRegressionTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let crashes = repository.appendingPathComponent("Fuzz/Crashes/fuzz-lambda-event", isDirectory: true)

    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// `world_size` 1e12 made the initializer's split reserve a slot per
    /// rank (terabytes): now refused before anything is allocated.
    func testWorldSizeAboveTheLimitIsRefusedByTheInitializer() throws {
        let file = Self.crashes.appendingPathComponent("initialize-world-size-1e12.json")
        let payload = try Payload(contentsOf: file)
        XCTAssertEqual(payload.worldSize, 1_000_000_000_000)
        let data = root.appendingPathComponent(payload.dataBucket)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data().write(to: data.appendingPathComponent("1.safetensors"))
        let pipeline = Pipeline(local: Pipeline.Options(root: root))
        XCTAssertThrowsError(try pipeline.plan(payload)) { error in
            XCTAssertEqual(error as? DataMapError,
                           .tooManyRanks(worldSize: 1_000_000_000_000, limit: DataMap.maxWorldSize), "\(error)")
            XCTAssertTrue("\(error)".contains("at most 10000 ranks"), "\(error)")
        }
    }

    func testWorldSizeLimit() throws {
        let files = ["1.pt", "2.pt"]
        let most = try DataMap(files: files, fileLimit: 2, worldSize: DataMap.maxWorldSize, prefix: "p")
        XCTAssertEqual(most.worldSize, DataMap.maxWorldSize)
        XCTAssertEqual(most.idleRanks.count, DataMap.maxWorldSize - 2)
        for worldSize in [DataMap.maxWorldSize + 1, Int.max] {
            XCTAssertThrowsError(try DataMap(files: files, fileLimit: 2, worldSize: worldSize, prefix: "p")) { error in
                XCTAssertEqual(error as? DataMapError, .tooManyRanks(worldSize: worldSize, limit: DataMap.maxWorldSize))
            }
        }
    }

    /// Every committed input, as the event of each handler: an error answer
    /// with the worker's own error type (a non-object `"payload"` made the
    /// rank and summarize workers trap in JSONSerialization), and the worker
    /// still answers the next event.
    func testEveryCommittedInputIsACleanErrorOfEachWorker() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.crashes.path).sorted()
        XCTAssertFalse(names.isEmpty, "no inputs under \(Self.crashes.path)")
        let report = try replay()
        let clean: Set<String> = ["InvalidEvent", "PayloadError", "PayloadOutOfScope"]
        for handler in ["initialize", "rank", "summarize"] {
            let worker = try XCTUnwrap(report[handler] as? [String: Any], handler)
            let log = worker["log"] as? String ?? ""
            let answers = try XCTUnwrap(worker["inputs"] as? [String: [String: Any]], handler)
            XCTAssertEqual(answers.keys.sorted(), names, handler)
            for (name, answer) in answers {
                XCTAssertEqual(answer["status"] as? String, "error", "\(handler) \(name): \(answer)\n\(log)")
                let type = answer["errorType"] as? String ?? "none"
                XCTAssertTrue(clean.contains(type), "\(handler) \(name): error type \(type): \(answer)")
                XCTAssertFalse((answer["errorMessage"] as? String ?? "").isEmpty, "\(handler) \(name): \(answer)")
            }
            XCTAssertTrue(worker["exit"] is NSNull, "\(handler) worker exited \(worker["exit"] ?? "?")\n\(log)")
            let after = try XCTUnwrap(worker["after"] as? [String: Any], handler)
            XCTAssertEqual(after["status"] as? String, "error", "\(handler) worker stopped answering: \(after)\n\(log)")
        }
        let rank = report["rank"] as? [String: Any], summarize = report["summarize"] as? [String: Any]
        let rankAnswer = (rank?["inputs"] as? [String: [String: Any]])?["rank-payload-not-an-object.json"]
        XCTAssertEqual(rankAnswer?["errorType"] as? String, "PayloadError")
        XCTAssertTrue((rankAnswer?["errorMessage"] as? String ?? "").contains("must be a JSON object, found 5"), "\(rankAnswer ?? [:])")
        let summarizeAnswer = (summarize?["inputs"] as? [String: [String: Any]])?["summarize-payload-not-an-object.json"]
        XCTAssertEqual(summarizeAnswer?["errorType"] as? String, "PayloadError")
        XCTAssertTrue((summarizeAnswer?["errorMessage"] as? String ?? "").contains("must be a JSON object"), "\(summarizeAnswer ?? [:])")
    }

    func replay() throws -> [String: Any] {
        let script = Self.repository.appendingPathComponent("Fuzz/Tools/replay_lambda_events.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--binary", try builtCosmicbench().path, "--crashes", Self.crashes.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        let output = Pipe(), errors = root.appendingPathComponent("replay.stderr")
        try Data().write(to: errors)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let report = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            XCTFail("replay_lambda_events.py exited \(process.terminationStatus):\n\(log.suffix(3000))")
            return [:]
        }
        return report
    }
}
