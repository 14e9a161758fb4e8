import CAIWorkload
import SafeTensors
import XCTest

final class PartitionTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("partition-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// Writes a safetensors file from (name, dtype, shape) entries filled with a ramp.
    func write(_ name: String, _ tensors: [(String, DType, [Int])]) throws -> URL {
        var writer = SafeTensorsWriter()
        for (tensor, dtype, shape) in tensors {
            let count = shape.reduce(1, *)
            let bytes: Data
            switch dtype {
            case .f32: bytes = (0..<count).map { Float($0) }.withUnsafeBytes { Data($0) }
            case .f64: bytes = (0..<count).map { Double($0) * 0.5 }.withUnsafeBytes { Data($0) }
            default: bytes = Data(count: count * dtype.byteSize)
            }
            try writer.add(tensor, dtype: dtype, shape: shape, bytes: bytes)
        }
        let url = dir.appendingPathComponent(name)
        try writer.write(to: url)
        return url
    }

    func assertOpenFails(_ url: URL, _ expected: PartitionError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Partition.open(url), file: file, line: line) { error in
            XCTAssertEqual(error as? PartitionError, expected, file: file, line: line)
            XCTAssertTrue("\(error)".contains(url.path), "\(error)", file: file, line: line)
        }
    }

    func testRoundTripOfGeneratedFileIsZeroCopy() throws {
        let generator = PartitionGenerator(partition: .mb25, seed: 21)
        let url = dir.appendingPathComponent("1.safetensors")
        try generator.generateFile(index: 1, sampleCount: 12, to: url)
        let expected = try generator.samples(fileIndex: 1, sampleCount: 12)
        let files = try PartitionStore.list(directory: dir)
        let partition = try Partition.open(files[0])
        defer { withExtendedLifetime(partition) {} }
        XCTAssertEqual(partition.count, 12)
        XCTAssertEqual(partition.format, .safetensors)
        XCTAssertTrue(partition.isZeroCopy)
        XCTAssertTrue(partition.imagesAreFileMapped)
        XCTAssertEqual(Array(partition.images), expected.images)
        XCTAssertEqual(Array(partition.magnitudes), expected.magnitudes)
        XCTAssertEqual(partition.redshift.map(Array.init), expected.redshift)
        XCTAssertEqual(Array(partition.images(2..<4)), Array(expected.images[(2 * 5120)..<(4 * 5120)]))
        XCTAssertEqual(Array(partition.magnitudes(11..<12)), Array(expected.magnitudes[55..<60]))
        XCTAssertEqual(partition.redshift(3..<5).map(Array.init), Array(expected.redshift[3..<5]))
    }

    func testUnalignedTensorsAreCopiedAndRedshiftOptional() throws {
        // A 1-byte tensor first pushes every later tensor off alignment.
        let url = try write("3.safetensors", [("pad", .u8, [1]), ("images", .f32, [2, 5, 32, 32]),
                                              ("magnitudes", .f64, [2, 5])])
        let partition = try Partition.open(url)
        defer { withExtendedLifetime(partition) {} }
        XCTAssertFalse(partition.isZeroCopy)
        XCTAssertFalse(partition.imagesAreFileMapped)
        XCTAssertEqual(partition.count, 2)
        XCTAssertNil(partition.redshift)
        XCTAssertEqual(partition.images[5119], 5119)
        XCTAssertEqual(Array(partition.magnitudes), (0..<10).map { Double($0) * 0.5 })
    }

    func testRedshiftColumnShapeAccepted() throws {
        let url = try write("4.safetensors", [("images", .f32, [3, 5, 32, 32]), ("magnitudes", .f64, [3, 5]),
                                              ("redshift", .f32, [3, 1])])
        let partition = try Partition.open(url)
        defer { withExtendedLifetime(partition) {} }
        XCTAssertEqual(partition.redshift.map(Array.init), [0, 1, 2])
    }

    func testMalformedFilesNameFileAndTensor() throws {
        let good: [(String, DType, [Int])] = [("images", .f32, [2, 5, 32, 32]), ("magnitudes", .f64, [2, 5]),
                                              ("redshift", .f32, [2])]
        func replacing(_ name: String, with entry: (String, DType, [Int])?) -> [(String, DType, [Int])] {
            good.compactMap { $0.0 == name ? entry : $0 }
        }
        var url = try write("a.safetensors", replacing("images", with: nil))
        assertOpenFails(url, .missingTensor(path: url.path, tensor: "images"))
        url = try write("b.safetensors", replacing("magnitudes", with: nil))
        assertOpenFails(url, .missingTensor(path: url.path, tensor: "magnitudes"))
        url = try write("c.safetensors", replacing("images", with: ("images", .f64, [2, 5, 32, 32])))
        assertOpenFails(url, .wrongDType(path: url.path, tensor: "images", expected: "F32", actual: "F64"))
        url = try write("d.safetensors", replacing("magnitudes", with: ("magnitudes", .f32, [2, 5])))
        assertOpenFails(url, .wrongDType(path: url.path, tensor: "magnitudes", expected: "F64", actual: "F32"))
        url = try write("e.safetensors", replacing("images", with: ("images", .f32, [2, 5, 32, 31])))
        assertOpenFails(url, .wrongShape(path: url.path, tensor: "images", expected: "[n, 5, 32, 32]", actual: [2, 5, 32, 31]))
        url = try write("f.safetensors", replacing("images", with: ("images", .f32, [2, 3, 32, 32])))
        assertOpenFails(url, .wrongShape(path: url.path, tensor: "images", expected: "[n, 5, 32, 32]", actual: [2, 3, 32, 32]))
        url = try write("g.safetensors", replacing("magnitudes", with: ("magnitudes", .f64, [3, 5])))
        assertOpenFails(url, .countMismatch(path: url.path, tensor: "magnitudes", count: 3, imageCount: 2))
        url = try write("h.safetensors", replacing("magnitudes", with: ("magnitudes", .f64, [2, 4])))
        assertOpenFails(url, .wrongShape(path: url.path, tensor: "magnitudes", expected: "[n, 5]", actual: [2, 4]))
        url = try write("i.safetensors", replacing("redshift", with: ("redshift", .f32, [1])))
        assertOpenFails(url, .countMismatch(path: url.path, tensor: "redshift", count: 1, imageCount: 2))
        url = try write("j.safetensors", replacing("redshift", with: ("redshift", .f64, [2])))
        assertOpenFails(url, .wrongDType(path: url.path, tensor: "redshift", expected: "F32", actual: "F64"))
        url = try write("k.safetensors", replacing("redshift", with: ("redshift", .f32, [2, 2])))
        assertOpenFails(url, .wrongShape(path: url.path, tensor: "redshift", expected: "[n] or [n, 1]", actual: [2, 2]))
    }

    func testUnreadableAndUnsupportedFiles() throws {
        let corrupt = dir.appendingPathComponent("5.safetensors")
        try Data("not a safetensors file".utf8).write(to: corrupt)
        XCTAssertThrowsError(try Partition.open(corrupt)) { error in
            guard case let .unreadable(path, reason)? = error as? PartitionError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, corrupt.path)
            // A text file is named as such, not as an absurd header length.
            XCTAssertTrue(reason.hasSuffix("not a safetensors file: it starts with text \"not a safetensors file\""), reason)
            XCTAssertFalse(reason.contains("header length"), reason)
        }
        let missing = dir.appendingPathComponent("6.pt")
        XCTAssertThrowsError(try Partition.open(missing)) { error in
            guard case let .unreadable(path, _)? = error as? PartitionError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing.path)
        }
        let other = dir.appendingPathComponent("7.npz")
        assertOpenFails(other, .unsupportedFormat(path: other.path, fileExtension: "npz"))
    }

    // MARK: - .pt files (the TorchPickle module's fixtures, written by torch.save)

    static let torchFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TorchPickleTests/Fixtures")

    /// Opens a fixture and compares it with its `.expected.bin` (images, magnitudes, redshift bytes).
    func checkTorchFixture(_ name: String, count: Int, zeroCopy: Bool, fileMapped: Bool) throws {
        let partition = try Partition.open(Self.torchFixtures.appendingPathComponent("\(name).pt"))
        defer { withExtendedLifetime(partition) {} }
        let expected = try Data(contentsOf: Self.torchFixtures.appendingPathComponent("\(name).expected.bin"))
        XCTAssertEqual(partition.format, .pt)
        XCTAssertEqual(partition.count, count)
        XCTAssertEqual(partition.isZeroCopy, zeroCopy, name)
        XCTAssertEqual(partition.imagesAreFileMapped, fileMapped, name)
        let imageBytes = count * SampleFormat.imageBytesPerSample, magnitudeBytes = count * 40
        XCTAssertEqual(expected.count, imageBytes + magnitudeBytes + count * 4)
        XCTAssertEqual(Data(buffer: partition.images), expected.prefix(imageBytes))
        XCTAssertEqual(Data(buffer: partition.magnitudes), expected.dropFirst(imageBytes).prefix(magnitudeBytes))
        XCTAssertEqual(partition.redshift.map { Data(buffer: $0) }, expected.suffix(count * 4))
    }

    /// Bytes already in memory (a downloaded S3 object) open without a copy
    /// and read the same as the mapped file, for both formats.
    func testPartitionsOpenInPlaceFromMemory() throws {
        final class Owner { let data: Data; init(_ data: Data) { self.data = data } }
        let safetensors = dir.appendingPathComponent("1.safetensors")
        try PartitionGenerator(partition: .mb25, seed: 5).generateFile(index: 1, sampleCount: 6, to: safetensors)
        for url in [safetensors, Self.torchFixtures.appendingPathComponent("ds3.pt")] {
            let owner = Owner(try Data(contentsOf: url))
            let fromFile = try Partition.open(url)
            let inMemory = try owner.data.withUnsafeBytes { bytes in
                let partition = try Partition.open(bytes: bytes, owner: owner, source: "s3://bucket/\(url.lastPathComponent)")
                let start = UnsafeRawPointer(partition.images.baseAddress!)
                XCTAssertTrue(start >= bytes.baseAddress! && start < bytes.baseAddress! + bytes.count,
                              "\(url.lastPathComponent): the images must be read in place, not copied")
                return partition
            }
            XCTAssertEqual(inMemory.count, fromFile.count)
            XCTAssertEqual(Data(buffer: inMemory.images), Data(buffer: fromFile.images))
            XCTAssertEqual(Data(buffer: inMemory.magnitudes), Data(buffer: fromFile.magnitudes))
            XCTAssertFalse(inMemory.imagesAreFileMapped)
            XCTAssertEqual(inMemory.name, url.lastPathComponent)
        }
        let text = Owner(Data("not a partition".utf8))
        XCTAssertThrowsError(try text.data.withUnsafeBytes {
            try Partition.open(bytes: $0, owner: text, source: "s3://bucket/prefix/3.safetensors")
        }) { error in
            XCTAssertTrue("\(error)".contains("s3://bucket/prefix/3.safetensors"), "\(error)")
        }
    }

    func testTorchFilesMatchTheirExpectedBytes() throws {
        try checkTorchFixture("ds3", count: 3, zeroCopy: true, fileMapped: true)
        // Images at a storage offset stay zero-copy; strided magnitudes are gathered.
        try checkTorchFixture("views", count: 1, zeroCopy: true, fileMapped: true)
        try checkTorchFixture("ds2_legacy", count: 2, zeroCopy: true, fileMapped: true)
        // A compressed entry is inflated once by TorchPickle: viewed in place, not file-backed.
        try checkTorchFixture("deflated", count: 1, zeroCopy: true, fileMapped: false)
    }

    func testMalformedTorchFilesNameTheTensor() {
        let fixtures = Self.torchFixtures
        var url = fixtures.appendingPathComponent("wrong_dtype.pt")
        assertOpenFails(url, .wrongDType(path: url.path, tensor: "images (tensors[0])", expected: "float32", actual: "float64"))
        url = fixtures.appendingPathComponent("wrong_shape.pt")
        assertOpenFails(url, .wrongShape(path: url.path, tensor: "images (tensors[0])", expected: "[n, 5, 32, 32]", actual: [1, 5, 16, 16]))
        url = fixtures.appendingPathComponent("mixed_dtypes.pt")
        assertOpenFails(url, .wrongTensorCount(path: url.path, count: 5))
        // TorchPickle itself rejects these; the error still names the file.
        for name in ["mismatched_counts.pt", "evil_global.pt", "truncated.pt"] {
            url = fixtures.appendingPathComponent(name)
            XCTAssertThrowsError(try Partition.open(url), name) { error in
                guard case let .unreadable(path, _)? = error as? PartitionError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, url.path)
            }
        }
    }
}
