import CAIWorkload
import Foundation
import XCTest

/// The pipeline on S3 and as Lambda functions, through the built binary,
/// against loopback protocol peers: moto's S3 with signatures and IAM
/// enforced, and a fake Lambda Runtime API (scripts/aws-harness). The
/// driver prints what it observed; these tests judge it.
final class AWSPipelineTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// Two small partitions with labels, so accuracy and predictions show.
    func partitions(samples: Int = 40) throws -> URL {
        let directory = root.appendingPathComponent("partitions")
        let generator = PartitionGenerator(partition: .mb25, seed: 7)
        for index in 1...2 {
            try generator.generateFile(index: index, sampleCount: samples,
                                       to: directory.appendingPathComponent("\(index).safetensors"))
        }
        return directory
    }

    func drive(_ scenario: String, partitions: URL, extra: [String] = []) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/aws-harness/pipeline_check.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, scenario, "--binary", try builtCosmicbench().path,
                             "--partitions", partitions.path] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        let output = Pipe(), errors = root.appendingPathComponent("\(scenario).stderr")
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0,
              let report = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw DriverFailure(description: "pipeline_check.py \(scenario) exited \(process.terminationStatus) "
                + "(moto is required: pip install 'moto[server]==5.2.1'):\n\(log.suffix(3000))")
        }
        return report
    }

    struct DriverFailure: Error, CustomStringConvertible {
        var description: String
    }

    func testRunWithS3StorageUnderLeastPrivilege() throws {
        let report = try drive("s3-run", partitions: try partitions())
        let good = try XCTUnwrap(report["good"] as? [String: Any])
        XCTAssertEqual(good["exit"] as? Int, 0, "\(good["stderr"] ?? "")")
        XCTAssertEqual(good["written"] as? [String], [
            "Anomaly Detection/run 1/0.json", "Anomaly Detection/run 1/0.predictions.csv",
            "Anomaly Detection/run 1/1.json", "Anomaly Detection/run 1/1.predictions.csv",
            "Anomaly Detection/run 1/combined_data.json", "Anomaly Detection/run 1/payload.json",
        ])
        let ranks = try XCTUnwrap(good["ranks"] as? [[String: Any]])
        for (rank, json) in ranks.enumerated() {
            XCTAssertEqual(json["status"] as? String, "ok")
            XCTAssertEqual(json["runtime"] as? String, "s3")
            XCTAssertEqual(json["samples"] as? Int, 40)
            XCTAssertEqual(json["data_path"] as? [String], ["25MB/\(rank + 1).safetensors"])
            XCTAssertGreaterThan(json["storage_read_bytes"] as? Int ?? 0, 40 * 20_480)
        }
        XCTAssertEqual((good["combined"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual((good["payload_json"] as? [String: Any])?["data_map"] as? [[String]],
                       [["1.safetensors"], ["2.safetensors"]])
        // The same partitions on local folders give the same predictions.
        let local = try XCTUnwrap(report["local"] as? [String: Any])
        XCTAssertEqual(local["exit"] as? Int, 0, "\(local["stderr"] ?? "")")
        XCTAssertEqual(good["predictions"] as? [String], local["predictions"] as? [String])

        // Refused access: a clear error naming bucket and key, exit 1, nothing written.
        let readRefused = try XCTUnwrap(report["read_refused"] as? [String: Any])
        XCTAssertEqual(readRefused["exit"] as? Int, 1)
        XCTAssertTrue((readRefused["stderr"] as? String ?? "").contains("cosmicai-data"), "\(readRefused)")
        XCTAssertTrue((readRefused["stderr"] as? String ?? "").contains("forbidden/1.safetensors"), "\(readRefused)")
        XCTAssertEqual(readRefused["written"] as? [String], [])
        let writeRefused = try XCTUnwrap(report["write_refused"] as? [String: Any])
        XCTAssertEqual(writeRefused["exit"] as? Int, 1)
        XCTAssertTrue((writeRefused["stderr"] as? String ?? "").contains("AccessDenied"), "\(writeRefused)")
        XCTAssertTrue((writeRefused["stderr"] as? String ?? "").contains("elsewhere/run/payload.json"), "\(writeRefused)")
        let wrongSecret = try XCTUnwrap(report["wrong_secret"] as? [String: Any])
        XCTAssertEqual(wrongSecret["exit"] as? Int, 1)
        XCTAssertTrue((wrongSecret["stderr"] as? String ?? "").contains("SignatureDoesNotMatch"), "\(wrongSecret)")
        XCTAssertEqual(wrongSecret["written"] as? [String], [])
    }

    /// A full 100MB partition read from S3 is held once: the rank's peak
    /// RSS stays under 300 MB (the partition is 105 MB, the model ~80 MB).
    func testHundredMegabyteRankFromS3StaysUnder300MB() throws {
        let directory = root.appendingPathComponent("big")
        try PartitionGenerator(partition: .mb100, seed: 3).generateFile(
            index: 1, sampleCount: PartitionSize.mb100.samplesPerFile, to: directory.appendingPathComponent("1.safetensors"))
        let report = try drive("s3-run", partitions: directory, extra: ["--prefix", "100MB", "--batch", "128", "--only-good"])
        let good = try XCTUnwrap(report["good"] as? [String: Any])
        XCTAssertEqual(good["exit"] as? Int, 0, "\(good["stderr"] ?? "")")
        let rank = try XCTUnwrap((good["ranks"] as? [[String: Any]])?.first)
        XCTAssertEqual(rank["samples"] as? Int, PartitionSize.mb100.samplesPerFile)
        let peak = try XCTUnwrap(rank["peak_rss_mb"] as? Double)
        let bytes = try XCTUnwrap(rank["storage_read_bytes"] as? Int)
        XCTAssertGreaterThan(bytes, 100_000_000)
        XCTAssertLessThanOrEqual(peak, 300, "peak RSS \(peak) MB for a \(bytes)-byte partition")
        print("100MB rank from S3: peak RSS \(peak) MB, \(bytes) bytes read in \(rank["data_load_seconds"] ?? "?") s")
    }

    func testLambdaWorkerHandlers() throws {
        let report = try drive("lambda", partitions: try partitions())
        let logs = (report["logs"] as? [String] ?? []).joined(separator: "\n---\n")
        let initialize = try XCTUnwrap(report["initialize"] as? [String: Any])
        XCTAssertEqual(initialize["status"] as? String, "response", "\(initialize)\n\(logs)")
        let body = try XCTUnwrap((initialize["body"] as? String).flatMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        })
        XCTAssertEqual(body["data_map"] as? [[String]], [["1.safetensors"], ["2.safetensors"]])
        XCTAssertEqual((body["payload"] as? [String: Any])?["result_path"] as? String, "Anomaly Detection/lambda run")

        let ranks = try XCTUnwrap(report["ranks"] as? [[String: Any]])
        XCTAssertEqual(ranks.map { $0["status"] as? String }, ["response", "response"], "\(ranks)\n\(logs)")
        let written = try XCTUnwrap(report["rank_json"] as? [[String: Any]])
        XCTAssertEqual(written.map { $0["cold_start"] as? Bool }, [true, false], "\(written)")
        XCTAssertEqual(written.map { $0["runtime"] as? String }, ["lambda", "lambda"])
        XCTAssertEqual(written.map { $0["lambda_memory_mb"] as? Int }, [2048, 2048])
        XCTAssertEqual(written.map { $0["samples"] as? Int }, [40, 40])
        // Warm invocations reuse the model built at init: nothing to load.
        XCTAssertLessThan(written[1]["model_load_seconds"] as? Double ?? 1, 0.05)
        XCTAssertGreaterThan(written[0]["cpus_seen"] as? Int ?? 0, 0)

        let handlerError = try XCTUnwrap(report["handler_error"] as? [String: Any])
        XCTAssertEqual(handlerError["status"] as? String, "error")
        let errorBody = handlerError["errorBody"] as? [String: Any]
        XCTAssertTrue((errorBody?["errorMessage"] as? String ?? "").contains("77.safetensors"), "\(handlerError)")
        let outOfScope = try XCTUnwrap(report["out_of_scope"] as? [String: Any])
        XCTAssertEqual((outOfScope["errorBody"] as? [String: Any])?["errorType"] as? String, "PayloadOutOfScope",
                       "\(outOfScope)")
        XCTAssertEqual((report["after_errors"] as? [String: Any])?["status"] as? String, "response",
                       "a handler error must not stop the worker")

        let summarize = try XCTUnwrap(report["summarize"] as? [String: Any])
        XCTAssertEqual(summarize["status"] as? String, "response", "\(summarize)\n\(logs)")
        let combined = try XCTUnwrap(report["combined"] as? [[String: Any]])
        XCTAssertEqual(combined.map { $0["rank"] as? Int }, [0, 1])
        XCTAssertEqual(combined.map { $0["status"] as? String }, ["ok", "ok"])

        let deadline = try XCTUnwrap(report["deadline"] as? [String: Any])
        XCTAssertEqual(deadline["status"] as? String, "error", "\(deadline)\n\(logs)")
        XCTAssertEqual((deadline["errorBody"] as? [String: Any])?["errorType"] as? String, "Timeout")
        XCTAssertGreaterThan(deadline["msBeforeDeadline"] as? Int ?? -1, 0)
        XCTAssertEqual(report["deadline_exit"] as? Int, 3, "the worker exits after abandoning work")

        let initError = try XCTUnwrap(report["init_error"] as? [String: Any], logs)
        XCTAssertEqual(initError["status"] as? String, "init_error")
        XCTAssertTrue("\(initError)".contains("bogus"), "\(initError)")
        XCTAssertEqual(report["init_error_exit"] as? Int, 1)

        // Lambda ranks predict what local ranks predict for the same partitions.
        let predictions = try XCTUnwrap(report["predictions"] as? [String])
        XCTAssertEqual(predictions.count, 2)
        XCTAssertTrue(predictions.allSatisfy { $0.hasPrefix("file,index,redshift,prediction\n") }, "\(predictions)")
    }
}
