import CAIWorkload
import SafeTensors
import XCTest

final class SyntheticGalaxiesTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testSameSeedGivesByteIdenticalFile() throws {
        let a = dir.appendingPathComponent("a/1.safetensors"), b = dir.appendingPathComponent("b/1.safetensors")
        try PartitionGenerator(partition: .mb25, seed: 11).generateFile(index: 1, sampleCount: 40, to: a)
        try PartitionGenerator(partition: .mb25, seed: 11).generateFile(index: 1, sampleCount: 40, to: b)
        let bytes = try Data(contentsOf: a)
        XCTAssertEqual(bytes, try Data(contentsOf: b))
        XCTAssertGreaterThan(bytes.count, 40 * SampleFormat.bytesPerSample)
    }

    func testDifferentSeedOrFileDiffers() throws {
        let one = try PartitionGenerator(partition: .mb25, seed: 1).samples(fileIndex: 1, sampleCount: 8)
        let two = try PartitionGenerator(partition: .mb25, seed: 2).samples(fileIndex: 1, sampleCount: 8)
        let otherFile = try PartitionGenerator(partition: .mb25, seed: 1).samples(fileIndex: 2, sampleCount: 8)
        XCTAssertNotEqual(one.images, two.images)
        XCTAssertNotEqual(one.redshift, two.redshift)
        XCTAssertNotEqual(one.images, otherFile.images)
        // Samples within a file differ from one another.
        XCTAssertNotEqual(one.images[0..<SampleFormat.pixelsPerSample],
                          one.images[SampleFormat.pixelsPerSample..<(2 * SampleFormat.pixelsPerSample)])
    }

    func testFileGeneratedAloneEqualsFileInSequence() throws {
        // 0.03 GB = 1,570 samples = files of 1,278 and 292 samples at 25MB.
        let size = try DataSize(parsing: "0.03GB")
        var reports: [(Int, Int)] = []
        let urls = try generateDataset(partition: .mb25, dataSize: size, into: dir.appendingPathComponent("25MB"),
                                       seed: 5) { reports.append(($0, $1)) }.urls
        XCTAssertEqual(urls.map(\.lastPathComponent), ["1.safetensors", "2.safetensors"])
        XCTAssertEqual(reports.map(\.0), [1, 2])
        XCTAssertEqual(reports.map(\.1), [2, 2])
        let alone = dir.appendingPathComponent("alone/2.safetensors")
        try PartitionGenerator(partition: .mb25, seed: 5).generateFile(index: 2, sampleCount: 292, to: alone)
        XCTAssertEqual(try Data(contentsOf: alone), try Data(contentsOf: urls[1]))
        let header = try SafeTensorsFile(contentsOf: urls[1])
        XCTAssertEqual(try header.info("images").shape, [292, 5, 32, 32])
        XCTAssertEqual(header.metadata["file_index"], "2")
        XCTAssertEqual(header.metadata["seed"], "5")
        XCTAssertEqual(header.metadata["partition"], "25MB")
        XCTAssertEqual(header.metadata["generator"], PartitionGenerator.name)
    }

    func testSamplesAreTheSameWhateverThePartitionSize() throws {
        let small = try PartitionGenerator(partition: .mb25, seed: 3).samples(fileIndex: 2, sampleCount: 4)
        let large = try PartitionGenerator(partition: .mb50, seed: 3).samples(fileIndex: 1, sampleCount: 1282)
        XCTAssertEqual(small.redshift, Array(large.redshift[1278...]))
        XCTAssertEqual(small.images, Array(large.images[(1278 * SampleFormat.pixelsPerSample)...]))
    }

    func testValuesInRangeAndConsistent() throws {
        let count = 300
        let s = try PartitionGenerator(partition: .mb100, seed: 99).samples(fileIndex: 3, sampleCount: count)
        XCTAssertEqual(s.images.count, count * 5 * 32 * 32)
        XCTAssertTrue(s.images.allSatisfy(\.isFinite))
        XCTAssertTrue(s.magnitudes.allSatisfy { $0 >= 14 && $0 <= 24 })
        XCTAssertTrue(s.redshift.allSatisfy { $0 >= 0 && $0 <= 0.8 })
        XCTAssertGreaterThan(Set(s.redshift).count, count - 5)
        // Redshift must be learnable: it correlates strongly with r magnitude.
        let r = (0..<count).map { s.magnitudes[$0 * 5 + 2] }
        let z = s.redshift.map(Double.init)
        XCTAssertGreaterThan(correlation(r, z), 0.6)
        // The summed r-band image recovers the r magnitude for bright galaxies
        // (sky noise per stamp is 0.05 × 32 = 1.6 nanomaggies).
        var checked = 0
        for i in 0..<count where r[i] < 18 {
            let start = i * SampleFormat.pixelsPerSample + 2 * SampleFormat.pixelsPerBand
            let flux = s.images[start..<(start + SampleFormat.pixelsPerBand)].reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(22.5 - 2.5 * log10(flux), r[i], accuracy: 0.2)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 5)
        // The galaxy sits near the centre: the central pixels outshine the corners on average.
        var centre = 0.0, corner = 0.0
        for i in 0..<count {
            let band = i * SampleFormat.pixelsPerSample + 2 * SampleFormat.pixelsPerBand
            centre += Double(s.images[band + 16 * 32 + 16])
            corner += Double(s.images[band])
        }
        XCTAssertGreaterThan(centre, 10 * abs(corner))
    }

    func testDatasetSplitAndSkipExisting() throws {
        let target = dir.appendingPathComponent("files")
        let first = try generateDataset(partition: .mb25, files: 2, into: target, seed: 1)
        let urls = first.urls
        XCTAssertEqual(urls.count, 2)
        XCTAssertEqual(first.generated, ["1.safetensors", "2.safetensors"])
        XCTAssertEqual(try SafeTensorsFile(contentsOf: urls[1]).info("redshift").shape, [1278])
        // A file that is already complete is kept (not rewritten).
        let generator = PartitionGenerator(partition: .mb25, seed: 1)
        XCTAssertTrue(generator.isComplete(fileIndex: 1, sampleCount: 1278, at: urls[0]))
        XCTAssertFalse(PartitionGenerator(partition: .mb25, seed: 2).isComplete(fileIndex: 1, sampleCount: 1278, at: urls[0]))
        let inode = try FileManager.default.attributesOfItem(atPath: urls[0].path)[.systemFileNumber] as? Int
        let again = try generateDataset(partition: .mb25, files: 2, into: target, seed: 1)
        XCTAssertEqual(again.kept, ["1.safetensors", "2.safetensors"])
        XCTAssertEqual(again.generated, [])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: urls[0].path)[.systemFileNumber] as? Int, inode)
    }

    func testInvalidRequests() throws {
        let g = PartitionGenerator(partition: .mb25, seed: 1)
        XCTAssertThrowsError(try g.generateFile(index: 0, sampleCount: 5, to: dir.appendingPathComponent("0.safetensors")))
        XCTAssertThrowsError(try g.generateFile(index: 1, sampleCount: 0, to: dir.appendingPathComponent("1.safetensors")))
        XCTAssertThrowsError(try generateDataset(partition: .mb25, files: 0, into: dir, seed: 1))
        XCTAssertThrowsError(try generateDataset(partition: .mb100, files: 12, dataSize: DataSize(parsing: "1GB"), into: dir, seed: 1)) { error in
            XCTAssertEqual(error as? GeneratorError, .tooManyFiles(requested: 12, available: 11, dataSize: "1GB", partition: "100MB"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testNoiseTableIsStandardNormal() {
        let table: [Double] = GalaxySynthesizer.noiseTable.map { Double($0) }
        let mean: Double = table.reduce(0, +) / Double(table.count)
        var squares = 0.0
        for value in table { squares += (value - mean) * (value - mean) }
        let variance = squares / Double(table.count)
        XCTAssertEqual(mean, 0, accuracy: 1e-6)
        XCTAssertEqual(variance, 1, accuracy: 1e-4)
        XCTAssertEqual(GalaxySynthesizer.inverseNormalCDF(0.975), 1.959964, accuracy: 1e-5)
        XCTAssertEqual(GalaxySynthesizer.inverseNormalCDF(0.001), -3.090232, accuracy: 1e-5)
    }

    private func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            sab += (a[i] - ma) * (b[i] - mb)
            saa += (a[i] - ma) * (a[i] - ma)
            sbb += (b[i] - mb) * (b[i] - mb)
        }
        return sab / (saa * sbb).squareRoot()
    }
}
