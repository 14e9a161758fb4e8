import CAIWorkload
import Foundation
import XCTest

/// Bucket and prefix names can never lead a write out of `--root`, whatever
/// the spelling. Before `StorageLocation`, `result_path: "../../../escaped"`
/// was accepted and the pipeline wrote outside the root.
final class StorageLocationTests: XCTestCase {
    let path = "/runs/payload.json"
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-location-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inner"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func payloadText(_ key: String, _ value: String) throws -> String {
        var object: [String: Any] = [
            "bucket": "cosmicai-results", "file_limit": "1", "batch_size": 4, "result_path": "Result/100MB",
            "data_bucket": "cosmicai-data", "data_prefix": "100MB",
        ]
        object[key] = value
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func assertRejected(_ key: String, _ value: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let text = try payloadText(key, value)
        XCTAssertThrowsError(try Payload(data: Data(text.utf8), path: path), "\(key)=\(value)", file: file, line: line) { error in
            guard case let .invalidLocation(errorPath, errorKey, errorValue, _)? = error as? PayloadError else {
                return XCTFail("\(key)=\(value): wrong error \(error)", file: file, line: line)
            }
            XCTAssertEqual(errorPath, path, file: file, line: line)
            XCTAssertEqual(errorKey, key, file: file, line: line)
            XCTAssertEqual(errorValue, value, file: file, line: line)
            let message = "\(error)"
            XCTAssertTrue(message.contains("\"\(key)\""), message, file: file, line: line)
            XCTAssertTrue(message.contains(reason), "\(reason) not in \(message)", file: file, line: line)
        }
    }

    func testEscapingPrefixesAreRejected() throws {
        let cases: [(String, String)] = [
            ("../../../escaped", "\"..\" folders"), ("a/../../b", "\"..\" folders"), ("a/../b", "\"..\" folders"),
            ("..", "\"..\" folders"), ("./..", "\".\" folders"), ("./x", "\".\" folders"),
            ("/etc", "relative to its bucket"), ("/", "relative to its bucket"), ("a\\..\\..\\b", "backslash"),
            ("..\\x", "backslash"), ("a\u{0}b", "NUL"), ("a\nb", "control character U+000A"), ("a//b", "empty folder name"),
            (String(repeating: "x", count: 256), "longer than 255 bytes"),
            (String(repeating: "abc/", count: 300), "at most 1024 bytes"),
        ]
        for (value, reason) in cases {
            try assertRejected("result_path", value, reason)
            try assertRejected("data_prefix", value, reason)
        }
    }

    func testBadBucketNamesAreRejected() throws {
        let cases: [(String, String)] = [
            ("..", "3 to 63"), ("../x", "lowercase letters"), ("ab", "3 to 63"), (String(repeating: "a", count: 64), "3 to 63"),
            ("Results", "lowercase letters"), ("my_bucket", "lowercase letters"), ("my bucket", "lowercase letters"),
            ("/etc", "lowercase letters"), ("-abc", "start and end"), ("abc.", "start and end"),
            ("a..b", "two adjacent dots"), ("192.168.5.4", "IP address"), ("xn--abc", "reserved"),
            ("sthree-abc", "reserved"), ("abc-s3alias", "reserved"), ("abc--ol-s3", "reserved"),
        ]
        for (value, reason) in cases {
            try assertRejected("bucket", value, reason)
            try assertRejected("data_bucket", value, reason)
        }
    }

    func testCAINamesAreAccepted() throws {
        let location = try StorageLocation(bucket: "cosmicai-data", prefix: "Anomaly Detection/Result 1/", key: "data_prefix")
        XCTAssertEqual(location.prefix, "Anomaly Detection/Result 1")
        XCTAssertEqual(location.segments, ["Anomaly Detection", "Result 1"])
        XCTAssertEqual(location.directory(under: root).path, root.path + "/cosmicai-data/Anomaly Detection/Result 1")
        XCTAssertEqual(try StorageLocation(bucket: "a.b-c", prefix: "", key: "data_prefix").prefix, "")
        XCTAssertEqual(try StorageLocation(bucket: "cosmicai-results", prefix: "..a/b..", key: "result_path").prefix, "..a/b..")
        let payload = try Payload(data: Data(try payloadText("result_path", "result-partition-100MB/1GB/1/").utf8), path: path)
        XCTAssertEqual(payload.resultPath, "result-partition-100MB/1GB/1")
    }

    /// Keys are not URL-decoded (neither locally nor by S3), so `%2e%2e` is
    /// a literal folder name inside the bucket.
    func testPercentEncodingIsLiteral() throws {
        let location = try StorageLocation(bucket: "cosmicai-results", prefix: "%2e%2e/%2E%2E/x", key: "result_path")
        let directory = location.directory(under: root.appendingPathComponent("inner"))
        XCTAssertTrue(directory.standardizedFileURL.path.hasPrefix(root.appendingPathComponent("inner").path + "/"))
        XCTAssertEqual(directory.lastPathComponent, "x")
        XCTAssertEqual(directory.deletingLastPathComponent().lastPathComponent, "%2E%2E")
    }

    /// A payload that bypassed `Payload(data:path:)` (typed init) is still
    /// checked by the pipeline before it writes anything.
    func testPipelineRejectsTypedPayloadThatEscapes() throws {
        let inner = root.appendingPathComponent("inner")
        let payload = Payload(bucket: "results", fileLimit: 1, batchSize: 4, resultPath: "../../../escaped",
                              dataBucket: "data", dataPrefix: "tiny")
        XCTAssertThrowsError(try Pipeline.initialize(payload: payload, options: Pipeline.Options(root: inner))) { error in
            XCTAssertTrue("\(error)".contains("result_path"), "\(error)")
            XCTAssertTrue("\(error)".contains("../../../escaped"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("escaped").path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: inner.path), [])
    }

    /// A symbolic link inside the root that points out of it cannot carry
    /// results outside: the resolved result folder must stay below the root.
    func testSymlinkOutOfRootIsRefused() throws {
        let inner = root.appendingPathComponent("inner")
        let outside = root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let generator = PartitionGenerator(partition: .mb25, seed: 3)
        try generator.generateFile(index: 1, sampleCount: 2, to: inner.appendingPathComponent("data/tiny/1.safetensors"))
        try FileManager.default.createSymbolicLink(at: inner.appendingPathComponent("results"), withDestinationURL: outside)
        let payload = Payload(bucket: "results", fileLimit: 1, batchSize: 4, resultPath: "run/1",
                              dataBucket: "data", dataPrefix: "tiny")
        XCTAssertThrowsError(try Pipeline.initialize(payload: payload, options: Pipeline.Options(root: inner))) { error in
            guard case .resultOutsideRoot? = error as? PipelineError else { return XCTFail("wrong error \(error)") }
            XCTAssertTrue("\(error)".contains(outside.lastPathComponent), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [])
        // A link that stays inside the root is fine.
        try FileManager.default.removeItem(at: inner.appendingPathComponent("results"))
        try FileManager.default.createDirectory(at: inner.appendingPathComponent("real"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: inner.appendingPathComponent("results"),
                                                   withDestinationURL: inner.appendingPathComponent("real"))
        let plan = try Pipeline.initialize(payload: payload, options: Pipeline.Options(root: inner))
        XCTAssertTrue(FileManager.default.fileExists(atPath: inner.appendingPathComponent("real/run/1/payload.json").path))
        XCTAssertEqual(plan.jobs.count, 1)
    }
}
