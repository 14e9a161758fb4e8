import CAIWorkload
import XCTest

final class DataMapTests: XCTestCase {
    func names(_ count: Int) -> [String] {
        (1...count).map { "\($0).pt" }
    }

    func counts(_ files: Int, limit: Int? = nil, ranks: Int) throws -> [Int] {
        try DataMap(files: names(files), fileLimit: limit ?? files, worldSize: ranks, prefix: "/data/100MB")
            .assignments.map(\.count)
    }

    func testHandWorkedSplits() throws {
        XCTAssertEqual(try counts(11, ranks: 11), Array(repeating: 1, count: 11))
        XCTAssertEqual(try counts(41, ranks: 4), [11, 10, 10, 10])
        XCTAssertEqual(try counts(5, ranks: 8), [1, 1, 1, 1, 1, 0, 0, 0])
        XCTAssertEqual(try counts(10, ranks: 3), [4, 3, 3])
        XCTAssertEqual(try counts(7, ranks: 1), [7])
        // ceil(files_left / ranks_left): 9 over 4 → 3, then 6/3 = 2, 4/2 = 2, 2/1 = 2
        XCTAssertEqual(try counts(9, ranks: 4), [3, 2, 2, 2])
    }

    func testAssignmentsAreConsecutiveAndKeepFirstFileLimit() throws {
        let map = try DataMap(files: names(12), fileLimit: 10, worldSize: 3, prefix: "p")
        XCTAssertEqual(map.assignments, [
            ["1.pt", "2.pt", "3.pt", "4.pt"], ["5.pt", "6.pt", "7.pt"], ["8.pt", "9.pt", "10.pt"],
        ])
        XCTAssertEqual(map.worldSize, 3)
        XCTAssertEqual(map.idleRanks, [])
        let idle = try DataMap(files: names(2), fileLimit: 2, worldSize: 4, prefix: "p")
        XCTAssertEqual(idle.assignments, [["1.pt"], ["2.pt"], [], []])
        XCTAssertEqual(idle.idleRanks, [2, 3])
    }

    func testTooFewFiles() {
        XCTAssertThrowsError(try DataMap(files: names(3), fileLimit: 5, worldSize: 5, prefix: "/data/25MB")) { error in
            XCTAssertEqual(error as? DataMapError, .tooFewFiles(prefix: "/data/25MB", found: 3, fileLimit: 5))
            let text = "\(error)"
            XCTAssertTrue(text.contains("/data/25MB") && text.contains("3 partition files") && text.contains("5"), text)
        }
        XCTAssertThrowsError(try DataMap(files: [], fileLimit: 1, worldSize: 1, prefix: "x"))
        XCTAssertThrowsError(try DataMap(files: names(3), fileLimit: 0, worldSize: 1, prefix: "x"))
        XCTAssertThrowsError(try DataMap(files: names(3), fileLimit: 3, worldSize: 0, prefix: "x"))
    }

    func testCodableAsBareArray() throws {
        let map = DataMap(assignments: [["1.pt"], []])
        let data = try JSONEncoder().encode(map)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[[\"1.pt\"],[]]")
        XCTAssertEqual(try JSONDecoder().decode(DataMap.self, from: data), map)
    }

    func testWritesPayloadWithDataMap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("datamap-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let payload = try Payload(data: Data("""
        {"bucket": "bkt", "file_limit": "3", "batch_size": 64, "result_path": "Result/x",
         "data_bucket": "data", "data_prefix": "25MB", "world_size": 2}
        """.utf8), path: "p.json")
        let map = try DataMap(files: names(4), fileLimit: payload.fileLimit, worldSize: payload.worldSize, prefix: "25MB")
        let url = try map.writePayload(payload, into: dir)
        XCTAssertEqual(url.lastPathComponent, "payload.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        XCTAssertEqual(object["data_map"] as? [[String]], [["1.pt", "2.pt"], ["3.pt"]])
        XCTAssertEqual(object["file_limit"] as? String, "3")
        XCTAssertEqual(object["world_size"] as? Int, 2)
        XCTAssertEqual(Set(object.keys), Set(payload.raw.keys).union(["data_map"]))
    }
}
