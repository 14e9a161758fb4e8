import CAIWorkload
import XCTest

final class PartitionSpecTests: XCTestCase {
    func testSamplesPerFile() {
        XCTAssertEqual(PartitionSize.allCases.map(\.samplesPerFile), [1278, 2556, 3834, 5113])
        XCTAssertEqual(SampleFormat.bytesPerSample, 20_480 + 40 + 4)
        XCTAssertEqual(SampleFormat.bitsPerSample, (20_480 + 40) * 8)
    }

    func testParsePartitionSize() throws {
        XCTAssertEqual(try PartitionSize(parsing: "25MB"), .mb25)
        XCTAssertEqual(try PartitionSize(parsing: "50mb"), .mb50)
        XCTAssertEqual(try PartitionSize(parsing: "75"), .mb75)
        XCTAssertEqual(try PartitionSize(parsing: " 100 MB "), .mb100)
        for bad in ["", "MB", "30MB", "100GB", "1e2", "25MBB"] {
            XCTAssertThrowsError(try PartitionSize(parsing: bad), bad) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("\"\(bad)\""), text)
                XCTAssertTrue(text.contains("25MB, 50MB, 75MB, 100MB"), text)
            }
        }
    }

    /// The spec's table: files for 12.6 GB and for 1 GB per partition size.
    func testFileCountsMatchSpecTable() throws {
        let whole = try DataSize(parsing: "12.6GB")
        let one = try DataSize(parsing: "1GB")
        XCTAssertEqual(whole.totalSamples, 659_817)
        XCTAssertEqual(whole, DataSize.wholeDataset)
        XCTAssertEqual(one.totalSamples, 52_366)
        XCTAssertEqual(PartitionSize.allCases.map { whole.fileCount(partition: $0) }, [517, 259, 173, 130])
        XCTAssertEqual(PartitionSize.allCases.map { one.fileCount(partition: $0) }, [41, 21, 14, 11])
    }

    func testLastFileHoldsRemainder() throws {
        let whole = try DataSize(parsing: "12.6GB")
        let one = try DataSize(parsing: "1gb")
        // 659,817 = 516×1278 + 369 = 258×2556 + 369 = 172×3834 + 369 = 129×5113 + 240
        let wholeLast: [PartitionSize: Int] = [.mb25: 369, .mb50: 369, .mb75: 369, .mb100: 240]
        // 52,366 = 40×1278 + 1246 = 20×2556 + 1246 = 13×3834 + 2524 = 10×5113 + 1236
        let oneLast: [PartitionSize: Int] = [.mb25: 1246, .mb50: 1246, .mb75: 2524, .mb100: 1236]
        for (size, expectedLast) in [(whole, wholeLast), (one, oneLast)] {
            for partition in PartitionSize.allCases {
                let files = size.fileCount(partition: partition)
                XCTAssertEqual(size.samplesInFile(index: files, partition: partition), expectedLast[partition])
                XCTAssertEqual(size.samplesInFile(index: 1, partition: partition), partition.samplesPerFile)
                XCTAssertEqual(size.samplesInFile(index: files - 1, partition: partition), partition.samplesPerFile)
                XCTAssertEqual(size.samplesInFile(index: files + 1, partition: partition), 0)
                XCTAssertEqual(size.samplesInFile(index: 0, partition: partition), 0)
                let total = (1...files).reduce(0) { $0 + size.samplesInFile(index: $1, partition: partition) }
                XCTAssertEqual(total, size.totalSamples)
            }
        }
    }

    func testParseDataSize() throws {
        XCTAssertEqual(try DataSize(parsing: "0.5GB").totalSamples, 26_183)
        XCTAssertEqual(try DataSize(parsing: "2").totalSamples, 104_732)
        XCTAssertEqual(try DataSize(parsing: "12.60 GB").description, "12.6GB")
        XCTAssertEqual(try DataSize(parsing: "3G").description, "3GB")
        XCTAssertEqual(try DataSize(parsing: ".25GB").description, "0.25GB")
        for bad in ["", "GB", "-1GB", "1.2.3GB", "abc", "1TB", "0GB", "0.0000001GB", "1e3GB", "200000GB"] {
            XCTAssertThrowsError(try DataSize(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("\"\(bad)\""), "\(error)")
            }
        }
    }

    func testDataSizeCodableAsText() throws {
        let size = try DataSize(parsing: "12.6GB")
        let data = try JSONEncoder().encode([size])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[\"12.6GB\"]")
        XCTAssertEqual(try JSONDecoder().decode([DataSize].self, from: data), [size])
    }
}
