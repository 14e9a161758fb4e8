import CAIWorkload
import Foundation
import XCTest

/// `generateDataset` never leaves a data prefix that mixes two datasets.
/// Before, generating 50MB partitions into a folder of 25MB ones rewrote
/// the first files and left the rest, and an interrupted run's temporary
/// files stayed forever.
final class DatasetGeneratorTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-generate-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    func testAnotherPartitionSizeIsRefusedThenReplaced() throws {
        let size = try DataSize(parsing: "0.03GB")
        _ = try generateDataset(partition: .mb25, dataSize: size, into: dir, seed: 5)
        let before = try Data(contentsOf: dir.appendingPathComponent("1.safetensors"))
        XCTAssertThrowsError(try generateDataset(partition: .mb50, dataSize: size, into: dir, seed: 5)) { error in
            guard case let .conflictingFiles(directory, _, conflicts)? = error as? GeneratorError else {
                return XCTFail("wrong error \(error)")
            }
            XCTAssertEqual(directory, dir.path)
            XCTAssertEqual(conflicts, ["1.safetensors: partition 25MB, seed 5, 1278 samples",
                                       "2.safetensors: partition 25MB, seed 5, 292 samples"])
            XCTAssertTrue("\(error)".contains("1 file of 50MB, seed 5"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("1.safetensors")), before)
        XCTAssertEqual(try names(), ["1.safetensors", "2.safetensors"])

        let report = try generateDataset(partition: .mb50, dataSize: size, into: dir, seed: 5, replace: true)
        XCTAssertEqual(report.removed, ["1.safetensors", "2.safetensors"])
        XCTAssertEqual(report.generated, ["1.safetensors"])
        XCTAssertEqual(try names(), ["1.safetensors"])
        XCTAssertTrue(PartitionGenerator(partition: .mb50, seed: 5)
            .isComplete(fileIndex: 1, sampleCount: 1570, at: dir.appendingPathComponent("1.safetensors")))
    }

    func testAnotherSeedOrForeignFileIsRefused() throws {
        let size = try DataSize(parsing: "0.001GB")
        _ = try generateDataset(partition: .mb25, dataSize: size, into: dir, seed: 1)
        XCTAssertThrowsError(try generateDataset(partition: .mb25, dataSize: size, into: dir, seed: 2)) { error in
            XCTAssertTrue("\(error)".contains("1.safetensors: partition 25MB, seed 1, 52 samples"), "\(error)")
        }
        try Data("notes".utf8).write(to: dir.appendingPathComponent("3.pt"))
        try Data("a text file\n".utf8).write(to: dir.appendingPathComponent("2.safetensors"))
        try Data("kept".utf8).write(to: dir.appendingPathComponent("README.md"))
        XCTAssertThrowsError(try generateDataset(partition: .mb25, dataSize: size, into: dir, seed: 1)) { error in
            guard case let .conflictingFiles(_, _, conflicts)? = error as? GeneratorError else {
                return XCTFail("wrong error \(error)")
            }
            XCTAssertEqual(conflicts.count, 2, "\(conflicts)")
            XCTAssertTrue(conflicts[0].hasPrefix("2.safetensors: not a readable partition"), conflicts[0])
            XCTAssertTrue(conflicts[0].contains("not a safetensors file"), conflicts[0])
            XCTAssertEqual(conflicts[1], "3.pt: a .pt partition, not a generated one")
        }
        let report = try generateDataset(partition: .mb25, dataSize: size, into: dir, seed: 1, replace: true)
        XCTAssertEqual(report.removed, ["2.safetensors", "3.pt"])
        XCTAssertEqual(report.kept, ["1.safetensors"])
        XCTAssertEqual(try names(), ["1.safetensors", "README.md"])
    }

    /// Files of the same dataset beyond the request are no conflict: they
    /// are kept and reported (and removed with `replace`).
    func testFurtherFilesOfTheSameDatasetAreKept() throws {
        let size = try DataSize(parsing: "0.03GB")
        _ = try generateDataset(partition: .mb25, dataSize: size, into: dir, seed: 5)
        let report = try generateDataset(partition: .mb25, files: 1, dataSize: size, into: dir, seed: 5)
        XCTAssertEqual(report.kept, ["1.safetensors"])
        XCTAssertEqual(report.extra, ["2.safetensors"])
        XCTAssertEqual(report.generated, [])
        let replaced = try generateDataset(partition: .mb25, files: 1, dataSize: size, into: dir, seed: 5, replace: true)
        XCTAssertEqual(replaced.removed, ["2.safetensors"])
        XCTAssertEqual(try names(), ["1.safetensors"])
    }

    func testInterruptedRunsTemporaryFilesAreRemoved() throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let stale = ".1.safetensors.tmp-\(try deadPID())-99"
        try Data(count: 100).write(to: dir.appendingPathComponent(stale))
        let report = try generateDataset(partition: .mb25, dataSize: DataSize(parsing: "0.001GB"), into: dir, seed: 1)
        XCTAssertEqual(report.staleTemporaryFiles, [stale])
        XCTAssertEqual(try names(), ["1.safetensors"])
    }
}
