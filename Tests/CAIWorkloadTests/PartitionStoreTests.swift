import CAIWorkload
import XCTest

final class PartitionStoreTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func touch(_ names: [String]) {
        for name in names {
            _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data())
        }
    }

    func testNumericOrderAndIgnoredNames() throws {
        touch(["10.pt", "2.pt", "1.pt", "11.pt", "3.pt", "payload.json", ".1.pt.tmp-5-7", "a.pt", "1.5.pt", "x10.pt", "-1.pt"])
        let files = try PartitionStore.list(directory: dir)
        XCTAssertEqual(files.map(\.name), ["1.pt", "2.pt", "3.pt", "10.pt", "11.pt"])
        XCTAssertEqual(files.map(\.index), [1, 2, 3, 10, 11])
        XCTAssertEqual(Set(files.map(\.format)), [.pt])
        XCTAssertEqual(files[0].url, dir.appendingPathComponent("1.pt"))
    }

    func testSafetensorsAndDistinctMixedIndices() throws {
        touch(["2.safetensors", "1.safetensors", "12.safetensors", "3.pt"])
        let files = try PartitionStore.list(directory: dir)
        XCTAssertEqual(files.map(\.name), ["1.safetensors", "2.safetensors", "3.pt", "12.safetensors"])
        XCTAssertEqual(files.map(\.format), [.safetensors, .safetensors, .pt, .safetensors])
    }

    func testEmptyDirectoryIsAnError() {
        touch(["notes.txt"])
        XCTAssertThrowsError(try PartitionStore.list(directory: dir)) { error in
            XCTAssertEqual(error as? PartitionStoreError, .noPartitionFiles(path: dir.path))
            XCTAssertTrue("\(error)".contains(dir.path))
        }
    }

    func testMissingDirectoryIsAnError() {
        let missing = dir.appendingPathComponent("100MB")
        XCTAssertThrowsError(try PartitionStore.list(directory: missing)) { error in
            XCTAssertEqual(error as? PartitionStoreError, .notADirectory(path: missing.path))
        }
    }

    func testSameNumberTwiceIsAnError() {
        touch(["1.pt", "2.pt", "2.safetensors"])
        XCTAssertThrowsError(try PartitionStore.list(directory: dir)) { error in
            XCTAssertEqual(error as? PartitionStoreError,
                           .duplicateIndex(path: dir.path, index: 2, names: ["2.pt", "2.safetensors"]))
        }
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("2.safetensors"))
        touch(["02.pt"])
        XCTAssertThrowsError(try PartitionStore.list(directory: dir))
    }
}
