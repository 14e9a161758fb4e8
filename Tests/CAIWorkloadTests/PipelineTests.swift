import AstroMAE
import CAIWorkload
import CosmicSupport
import Foundation
import XCTest

/// The CAI pipeline end to end, with real rank processes of the built
/// `cosmicbench` binary (it sits beside the test bundle).
final class PipelineTests: XCTestCase {
    static let caiKeys = [
        "total_cpu_time (seconds)", "total_cpu_memory (MB)", "execution_time (seconds/batch)", "num_batches",
        "batch_size", "device", "throughput_bps", "sample_persec", "result_path", "data_path",
    ]

    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func executable() throws -> URL {
        try builtCosmicbench()
    }

    /// Writes `files` small synthetic partitions under root/data/tiny/.
    func makeData(files: Int, samples: Int) throws -> URL {
        let dir = root.appendingPathComponent("data/tiny")
        let generator = PartitionGenerator(partition: .mb25, seed: 11)
        for index in 1...files {
            try generator.generateFile(index: index, sampleCount: samples, to: dir.appendingPathComponent("\(index).safetensors"))
        }
        return dir
    }

    func options() throws -> Pipeline.Options {
        Pipeline.Options(root: root, threads: 1, concurrency: 2, timeoutSeconds: 120, savePredictions: true,
                         executable: try executable())
    }

    func testTwoRankRunWritesCAIJSON() throws {
        let data = try makeData(files: 2, samples: 13)
        let payload = Payload(bucket: "results", fileLimit: 2, batchSize: 5, resultPath: "run/1",
                              dataBucket: "data", dataPrefix: "tiny")
        let (results, summary) = try Pipeline.run(payload: payload, options: try options())
        XCTAssertEqual(results.map(\.status), [.ok, .ok])
        XCTAssertEqual(summary.ranksOK, 2)
        XCTAssertEqual(summary.samples, 26)

        let out = root.appendingPathComponent("results/run/1")
        for rank in 0..<2 {
            let object = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(rank).json"))) as? [String: Any])
            for key in Self.caiKeys { XCTAssertNotNil(object[key], "rank \(rank) JSON lacks CAI key \(key)") }
            XCTAssertEqual(object["num_batches"] as? Int, 3)
            XCTAssertEqual(object["batch_size"] as? Int, 5)
            XCTAssertEqual(object["samples"] as? Int, 13)
            XCTAssertEqual(object["status"] as? String, "ok")
            XCTAssertGreaterThan(object["peak_rss_mb"] as? Double ?? 0, 10)
            XCTAssertEqual(object["total_cpu_memory (MB)"] as? Double, object["peak_rss_mb"] as? Double)
            XCTAssertEqual(object["total_cpu_time (seconds)"] as? Double, object["inference_seconds"] as? Double)
            XCTAssertNotNil(object["accuracy"] as? [String: Any])
        }
        let combined = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("combined_data.json"))) as? [[String: Any]])
        XCTAssertEqual(combined.map { $0["rank"] as? Int }, [0, 1])
        let written = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("payload.json"))) as? [String: Any])
        XCTAssertEqual(written["data_map"] as? [[String]], [["1.safetensors"], ["2.safetensors"]])

        // The ranks' predictions are the model's: recompute rank 1's file in process.
        let partition = try Partition.open(data.appendingPathComponent("2.safetensors"))
        let expected = withExtendedLifetime(partition) {
            AstroMAEModel(weights: .seeded()).predict(images: Array(partition.images), magnitudes: Array(partition.magnitudes))
        }
        let csv = try String(contentsOf: out.appendingPathComponent("1.predictions.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        XCTAssertEqual(rows.count, 13)
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(row[0], "2.safetensors")
            XCTAssertEqual(Int(row[1]), i)
            XCTAssertEqual(Float(row[3])!, expected[i], accuracy: 1e-5)
        }
    }

    func testIdleRanksWhenFilesRunOut() throws {
        _ = try makeData(files: 2, samples: 3)
        let payload = Payload(bucket: "results", fileLimit: 2, batchSize: 4, resultPath: "idle",
                              dataBucket: "data", dataPrefix: "tiny", worldSize: 3)
        let (results, summary) = try Pipeline.run(payload: payload, options: try options())
        XCTAssertEqual(results.map(\.status), [.ok, .ok, .idle])
        XCTAssertEqual(summary.ranksIdle, 1)
        XCTAssertEqual(summary.ranksFailed, 0)
    }

    func launcher(timeout: Double) throws -> RankLauncher {
        let storage = LocalStorage(root: root)
        return RankLauncher(storage: storage, storageConfiguration: .local(root: root.path, mounts: [:]),
                            scratchDirectory: root.appendingPathComponent("scratch"), executable: try executable(),
                            concurrency: 1, timeoutSeconds: timeout)
    }

    func testCrashedAndKilledRanksAreRecordedAndOthersFinish() throws {
        _ = try makeData(files: 1, samples: 40)
        func job(_ rank: Int, _ key: String) -> RankJob {
            RankJob(rank: rank, worldSize: 3, dataBucket: "data", dataKeys: [key], resultBucket: "results",
                    resultPath: "out", batchSize: 8)
        }
        let good = job(0, "tiny/1.safetensors"), missing = job(1, "tiny/99.safetensors")
        let results = try launcher(timeout: 120).run([good, missing])
        XCTAssertEqual(results[0].status, .ok)
        XCTAssertEqual(results[1].status, .failed)
        XCTAssertNotEqual(results[1].exitStatus, 0)
        XCTAssertTrue(results[1].stderrTail?.contains("99.safetensors") ?? false, results[1].stderrTail ?? "")
        // Each result was written once, by the rank that ran, and reads back as returned.
        let storage = LocalStorage(root: root)
        for (job, result) in zip([good, missing], results) {
            let written = try JSONDecoder().decode(
                RankResult.self, from: storage.read(bucket: "results", key: job.resultKey))
            XCTAssertEqual(written, result)
        }
        XCTAssertGreaterThan(results[0].processSeconds, results[0].inferenceSeconds)
        XCTAssertGreaterThan(results[0].cpuSeconds, 0)
        XCTAssertEqual(results[0].runtime, "local")

        // A rank still running at its timeout is killed and recorded as such, by the launcher.
        let slow = job(2, "tiny/1.safetensors")
        let killed = try launcher(timeout: 0.02).run([slow])
        XCTAssertEqual(killed[0].status, .timeout)
        XCTAssertTrue(killed[0].stderrTail?.contains("timeout") ?? false)
        let onDisk = try JSONDecoder().decode(RankResult.self, from: storage.read(bucket: "results", key: slow.resultKey))
        XCTAssertEqual(onDisk.status, .timeout)
    }

    /// A job naming a key outside its bucket is refused before anything runs.
    func testTaskWithEscapingKeyIsRefused() throws {
        let task = RankTask(job: RankJob(rank: 0, worldSize: 1, dataBucket: "data", dataKeys: ["../../etc/passwd"],
                                         resultBucket: "results", resultPath: "out", batchSize: 8),
                            storage: .local(root: root.path, mounts: [:]))
        let file = root.appendingPathComponent("task.json")
        try JSONEncoder().encode(task).write(to: file)
        XCTAssertThrowsError(try RankTask.load(contentsOf: file)) { error in
            XCTAssertTrue("\(error)".contains("../../etc/passwd"), "\(error)")
        }
    }

    func testPipelineErrorsNameTheProblem() throws {
        _ = try makeData(files: 2, samples: 3)
        let tooMany = Payload(bucket: "results", fileLimit: 5, batchSize: 4, resultPath: "x",
                              dataBucket: "data", dataPrefix: "tiny")
        XCTAssertThrowsError(try Pipeline.initialize(payload: tooMany, options: try options())) { error in
            XCTAssertTrue("\(error)".contains("tiny"), "\(error)")
        }
        let noPrefix = Payload(bucket: "results", fileLimit: 1, batchSize: 4, resultPath: "x",
                               dataBucket: "data", dataPrefix: "absent")
        XCTAssertThrowsError(try Pipeline.initialize(payload: noPrefix, options: try options())) { error in
            XCTAssertTrue("\(error)".contains("absent"), "\(error)")
        }
    }

    /// A second run into the same folder is refused; with `replace` nothing
    /// of the first (rank 1's JSON, log, job file) survives beside the new
    /// `combined_data.json`.
    func testSecondRunRefusedOrReplacesTheOldResults() throws {
        _ = try makeData(files: 2, samples: 3)
        let two = Payload(bucket: "results", fileLimit: 2, batchSize: 4, resultPath: "again",
                          dataBucket: "data", dataPrefix: "tiny")
        _ = try Pipeline.run(payload: two, options: try options())
        let out = root.appendingPathComponent("results/again")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("1.json").path))
        let one = Payload(bucket: "results", fileLimit: 1, batchSize: 4, resultPath: "again",
                          dataBucket: "data", dataPrefix: "tiny")
        XCTAssertThrowsError(try Pipeline.run(payload: one, options: try options())) { error in
            guard case .resultDirectoryNotEmpty(let path, _)? = error as? PipelineError else {
                return XCTFail("wrong error \(error)")
            }
            XCTAssertEqual(path, out.path)
        }
        var replacing = try options()
        replacing.replace = true
        let (results, _) = try Pipeline.run(payload: one, options: replacing)
        XCTAssertEqual(results.count, 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { !$0.hasPrefix(".0.") }.sorted()
        XCTAssertEqual(left, ["0.json", "0.predictions.csv", "0.stderr.log", "combined_data.json", "payload.json"])
    }

    /// A runtime failure of `cosmicbench rank` (a missing job file) is a plain
    /// error with exit status 1, not a usage error (exit 64 with help text).
    func testRankCommandRuntimeFailureIsPlain() throws {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = ["rank", "/nonexistent/job.json"]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = Pipe()
        try process.run()
        let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, output)
        XCTAssertTrue(output.contains("cannot read rank task /nonexistent/job.json: no such file or directory"), output)
        XCTAssertFalse(output.contains("Usage"), output)
    }
}

/// The `cosmicbench` binary `swift test` built beside the test bundle.
func builtCosmicbench() throws -> URL {
    let exe = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    var dir = exe.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("cosmicbench")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw XCTSkip("cosmicbench binary not built beside \(exe.path)")
}
