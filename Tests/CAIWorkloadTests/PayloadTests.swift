import CAIWorkload
import XCTest

final class PayloadTests: XCTestCase {
    let path = "/runs/payload.json"

    /// A payload in CAI's own spelling (file_limit quoted, as CAI writes it).
    let caiPayload = """
    {
      "bucket": "cosmicai-results",
      "file_limit": "11",
      "batch_size": 512,
      "object_type": "folder",
      "S3_object_name": "Anomaly Detection",
      "script": "/tmp/Anomaly Detection/Inference/inference.py",
      "result_path": "Result/100MB",
      "data_bucket": "cosmicai-data",
      "data_prefix": "100MB"
    }
    """

    func parse(_ text: String) throws -> Payload {
        try Payload(data: Data(text.utf8), path: path)
    }

    /// The CAI payload with `key` replaced by `value` (JSON text), or removed when nil.
    func variant(_ key: String, _ value: String?) -> String {
        var object = try! JSONSerialization.jsonObject(with: Data(caiPayload.utf8)) as! [String: Any]
        object[key] = nil
        var text = String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        if let value {
            text.removeLast()
            text += ",\"\(key)\":\(value)}"
        }
        return text
    }

    func assertError(_ text: String, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path), message, file: file, line: line)
            for part in parts {
                XCTAssertTrue(message.contains(part), "\"\(part)\" not in: \(message)", file: file, line: line)
            }
        }
    }

    func testParsesCAIPayload() throws {
        let payload = try parse(caiPayload)
        XCTAssertEqual(payload.bucket, "cosmicai-results")
        XCTAssertEqual(payload.fileLimit, 11)
        XCTAssertEqual(payload.batchSize, 512)
        XCTAssertEqual(payload.objectType, "folder")
        XCTAssertEqual(payload.s3ObjectName, "Anomaly Detection")
        XCTAssertEqual(payload.script, "/tmp/Anomaly Detection/Inference/inference.py")
        XCTAssertEqual(payload.resultPath, "Result/100MB")
        XCTAssertEqual(payload.dataBucket, "cosmicai-data")
        XCTAssertEqual(payload.dataPrefix, "100MB")
        XCTAssertNil(payload.explicitWorldSize)
        XCTAssertEqual(payload.worldSize, 11)
    }

    func testNumericStringsAndWorldSize() throws {
        let payload = try parse(variant("world_size", "\"4\"").replacingOccurrences(of: "512", with: "\"256\""))
        XCTAssertEqual(payload.batchSize, 256)
        XCTAssertEqual(payload.worldSize, 4)
        XCTAssertEqual(try parse(variant("file_limit", "3")).fileLimit, 3)
        XCTAssertEqual(try parse(variant("object_type", "null")).objectType, nil)
    }

    func testUnknownKeySuggestsClosest() {
        let cases = [
            ("file limit", "file_limit"), ("data bucket", "data_bucket"), ("result path", "result_path"),
            ("S3 object name", "S3_object_name"), ("batchsize", "batch_size"), ("wrold_size", "world_size"),
            ("File-Limit", "file_limit"), ("data_prefx", "data_prefix"),
        ]
        for (key, suggestion) in cases {
            XCTAssertEqual(Payload.suggestion(for: key), suggestion, key)
            assertError(variant(key, "1"), contains: ["unknown key \"\(key)\"", "did you mean \"\(suggestion)\""])
        }
        XCTAssertNil(Payload.suggestion(for: "colour"))
        assertError(variant("colour", "\"red\""), contains: ["unknown key \"colour\"", "known keys"])
    }

    func testMissingRequiredKeys() {
        for key in Payload.requiredKeys {
            assertError(variant(key, nil), contains: ["missing required key \"\(key)\""])
            assertError(variant(key, "null"), contains: ["missing required key \"\(key)\""])
        }
    }

    func testOutOfRangeIntegers() {
        assertError(variant("batch_size", "0"), contains: ["\"batch_size\"", "0", ">= 1"])
        assertError(variant("batch_size", "-3"), contains: ["\"batch_size\"", "-3", ">= 1"])
        assertError(variant("file_limit", "\"0\""), contains: ["\"file_limit\"", "\"0\"", ">= 1"])
        assertError(variant("world_size", "0"), contains: ["\"world_size\"", ">= 1"])
    }

    func testNonNumericAndWrongTypes() {
        assertError(variant("file_limit", "\"eleven\""), contains: ["\"file_limit\"", "\"eleven\"", "integer"])
        assertError(variant("file_limit", "\"\""), contains: ["\"file_limit\"", "integer"])
        assertError(variant("batch_size", "2.5"), contains: ["\"batch_size\"", "2.5", "integer"])
        assertError(variant("batch_size", "true"), contains: ["\"batch_size\"", "true"])
        assertError(variant("batch_size", "[512]"), contains: ["\"batch_size\"", "[512]"])
        assertError(variant("bucket", "7"), contains: ["\"bucket\"", "7", "string"])
        assertError(variant("data_prefix", "{\"a\":1}"), contains: ["\"data_prefix\"", "string"])
        assertError(variant("script", "false"), contains: ["\"script\"", "false", "string"])
        assertError(variant("result_path", "\"\""), contains: ["\"result_path\"", "non-empty"])
    }

    func testMalformedDocuments() {
        assertError("{\"bucket\": ", contains: ["not valid JSON"])
        assertError("[1, 2]", contains: ["JSON object", "[1,2]"])
        assertError("", contains: ["not valid JSON"])
        XCTAssertThrowsError(try Payload(contentsOf: URL(fileURLWithPath: "/nonexistent/payload.json"))) { error in
            XCTAssertEqual("\(error)", "cannot read payload /nonexistent/payload.json: no such file or directory")
        }
    }

    func testEncodedKeepsValuesVerbatimWithSortedKeys() throws {
        let payload = try parse(caiPayload)
        let text = String(decoding: payload.encoded(), as: UTF8.self)
        XCTAssertTrue(text.contains("\"file_limit\" : \"11\""), text)
        XCTAssertTrue(text.contains("\"result_path\" : \"Result/100MB\""), text)
        let keys = text.split(separator: "\n").compactMap { line -> String? in
            let parts = line.components(separatedBy: "\"")
            return parts.count > 1 ? parts[1] : nil
        }
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertEqual(try parse(text), payload)
    }

    func testTypedInitRoundTrips() throws {
        let payload = Payload(bucket: "bkt", fileLimit: 5, batchSize: 32, resultPath: "out", dataBucket: "data",
                              dataPrefix: "25MB", worldSize: 8)
        let reparsed = try Payload(data: payload.encoded(), path: "<memory>")
        XCTAssertEqual(reparsed, payload)
        XCTAssertEqual(reparsed.worldSize, 8)
    }

    /// Every problem of a payload is reported in one error, each with its
    /// "did you mean"; before, only the first was, so fixing a file took
    /// one run per mistake.
    func testReportsEveryProblemAtOnce() throws {
        let text = """
        {"bucket": "Results", "file limit": 3, "batch_size": "many", "result_path": "../out",
         "data_bucket": "cosmicai-data", "data_prefx": "100MB", "script": 7}
        """
        XCTAssertThrowsError(try parse(text)) { error in
            guard let error = error as? PayloadError, case let .several(errorPath, problems) = error else {
                return XCTFail("wrong error \(error)")
            }
            XCTAssertEqual(errorPath, path)
            XCTAssertEqual(problems, [
                .unknownKey(path: path, key: "data_prefx", suggestion: "data_prefix"),
                .unknownKey(path: path, key: "file limit", suggestion: "file_limit"),
                .missingKey(path: path, key: "file_limit"),
                .missingKey(path: path, key: "data_prefix"),
                .invalidLocation(path: path, key: "bucket", value: "Results",
                                 reason: "a bucket name may only hold lowercase letters, digits, dots and hyphens"),
                .invalidLocation(path: path, key: "result_path", value: "../out",
                                 reason: "\"..\" folders are not allowed (the path must stay inside its bucket)"),
                .wrongType(path: path, key: "batch_size", expected: "an integer (number or numeric string)", value: "\"many\""),
                .wrongType(path: path, key: "script", expected: "a string", value: "7"),
            ])
            let message = error.description
            XCTAssertTrue(message.hasPrefix("payload \(path) has 8 problems:\n"), message)
            for part in ["did you mean \"data_prefix\"", "did you mean \"file_limit\"", "missing required key \"file_limit\"",
                         "key \"bucket\" = \"Results\"", "key \"result_path\" = \"../out\"", "key \"batch_size\" must be",
                         "key \"script\" must be a string"] {
                XCTAssertTrue(message.contains(part), "\(part) not in \(message)")
            }
            XCTAssertEqual(message.split(separator: "\n").count, 9)
        }
        // A single problem keeps its own case and one-line message.
        assertError(variant("batch_size", "0"), contains: ["payload \(path): key \"batch_size\""])
        XCTAssertThrowsError(try parse(variant("batch_size", "0"))) { error in
            XCTAssertEqual((error as? PayloadError)?.problems.count, 1)
        }
    }
}
