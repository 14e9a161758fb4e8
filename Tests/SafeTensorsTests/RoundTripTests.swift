import Foundation
import XCTest
import SafeTensors

final class RoundTripTests: XCTestCase {
    private func sampleWriter() throws -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: [
            "seed": "20250108", "format": "pt",
            "tricky \"key\"": "line\nbreak \\ tab\t ctrl\u{01} ünïcødé 🚀",
        ])
        try writer.add("weights", shape: [2, 3], floats: [1.5, -2.25, 0, .infinity, -.zero, 3e-38])
        try writer.add("bias", shape: [3], doubles: [0.1, -1e300, .pi])
        try writer.add("mask", dtype: .bool, shape: [3], bytes: Data([1, 0, 1]))
        try writer.add("after.mask", shape: [2], floats: [7, 8])
        try writer.add("scalar", shape: [], doubles: [42])
        try writer.add("empty", shape: [0, 5], floats: [])
        try writer.add("name with \"quotes\" / ü", dtype: .i16, shape: [2], bytes: Data([0xFF, 0x7F, 0x00, 0x80]))
        return writer
    }

    func testRoundTripThroughDisk() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("sample.safetensors")
        let writer = try sampleWriter()
        try writer.write(to: url)
        XCTAssertEqual(try Data(contentsOf: url), writer.serialized())

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.path, url.path)
        XCTAssertEqual(file.metadata, writer.metadata)
        XCTAssertEqual(file.tensors.map(\.name), writer.tensorNames, "data laid out in insertion order")
        XCTAssertEqual(try file.floats("weights").map(\.bitPattern),
                       [Float(1.5), -2.25, 0, .infinity, -.zero, 3e-38].map(\.bitPattern))
        XCTAssertEqual(try file.doubles("bias"), [0.1, -1e300, .pi])
        XCTAssertEqual(try file.withUnsafeBytes(of: "mask") { Array($0) }, [1, 0, 1])
        XCTAssertEqual(try file.floats("after.mask"), [7, 8])
        XCTAssertEqual(try file.doubles("scalar"), [42])
        XCTAssertEqual(try file.info("scalar").shape, [])
        XCTAssertEqual(try file.info("scalar").elementCount, 1)
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.info("empty").shape, [0, 5])
        XCTAssertEqual(try file.withUnsafeBytes(of: "name with \"quotes\" / ü") { Array($0) }, [0xFF, 0x7F, 0x00, 0x80])
        XCTAssertEqual(try file.info("weights"),
                       TensorInfo(name: "weights", dtype: .f32, shape: [2, 3], byteRange: 0..<24))
    }

    func testHeaderPaddedAndDataContiguous() throws {
        let data = try sampleWriter().serialized()
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + length) % 64, 0)
        XCTAssertEqual(data[8 + length - 1], UInt8(ascii: " "))
        let file = try SafeTensorsFile(data: data)
        var cursor = 0
        for tensor in file.tensors {
            XCTAssertEqual(tensor.byteRange.lowerBound, cursor)
            cursor = tensor.byteRange.upperBound
        }
        XCTAssertEqual(8 + length + cursor, data.count)
        let header = try XCTUnwrap(String(data: data[8..<(8 + length)], encoding: .utf8))
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])
        XCTAssertEqual(parsed.count, 8, "Foundation's parser sees the same 7 tensors plus __metadata__")
    }

    func testEmptyWriterProducesValidFile() throws {
        let file = try SafeTensorsFile(data: SafeTensorsWriter().serialized())
        XCTAssertTrue(file.tensors.isEmpty)
        XCTAssertTrue(file.metadata.isEmpty)
    }

    func testAllDTypesRoundTrip() throws {
        var writer = SafeTensorsWriter()
        for dtype in DType.allCases {
            let count = 3 * dtype.byteSize
            try writer.add(dtype.rawValue, dtype: dtype, shape: [3], bytes: Data((0..<count).map { UInt8($0 * 7 % 256) }))
        }
        let file = try SafeTensorsFile(data: writer.serialized())
        for dtype in DType.allCases {
            let info = try file.info(dtype.rawValue)
            XCTAssertEqual(info.dtype, dtype)
            XCTAssertEqual(info.byteRange.count, 3 * dtype.byteSize)
            XCTAssertEqual(try file.withUnsafeBytes(of: dtype.rawValue) { Array($0) },
                           (0..<(3 * dtype.byteSize)).map { UInt8($0 * 7 % 256) })
        }
    }

    func testAlignedTensorsAreZeroCopyAndUnalignedAreCopied() throws {
        var writer = SafeTensorsWriter()
        try writer.add("aligned", shape: [2], floats: [1, 2])
        try writer.add("pad", dtype: .u8, shape: [1], bytes: Data([9]))
        try writer.add("unaligned", shape: [3], floats: [3, 4, 5])
        try writer.add("unalignedDouble", shape: [1], doubles: [6])
        let file = try SafeTensorsFile(data: writer.serialized())

        let mapped = try XCTUnwrap(file.mappedFloats("aligned"))
        XCTAssertEqual(Array(mapped), [1, 2])
        XCTAssertEqual(Int(bitPattern: mapped.baseAddress) % 64, 0, "data section starts 64-byte aligned")
        let viewAddress = try file.withFloats("aligned") { Int(bitPattern: $0.baseAddress) }
        XCTAssertEqual(viewAddress, Int(bitPattern: mapped.baseAddress), "aligned view is the mapping itself")

        XCTAssertNil(try file.mappedFloats("unaligned"))
        XCTAssertNil(try file.mappedDoubles("unalignedDouble"))
        XCTAssertEqual(try file.withFloats("unaligned") { Array($0) }, [3, 4, 5])
        XCTAssertEqual(try file.withDoubles("unalignedDouble") { Array($0) }, [6])
        XCTAssertEqual(try file.floats("unaligned"), [3, 4, 5])
    }

    func testMappedPointerOutlivesLocalScopes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("m.safetensors")
        var writer = SafeTensorsWriter()
        let values = (0..<10_000).map { Float($0) * 0.5 }
        try writer.add("big", shape: [100, 100], floats: values)
        try writer.add("d", shape: [2], doubles: [1, 2])
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        let pointer = try XCTUnwrap(try file.mappedFloats("big"))
        let doubles = try XCTUnwrap(try file.mappedDoubles("d"))
        _ = try file.floats("big")
        XCTAssertEqual(Array(pointer), values)
        XCTAssertEqual(Array(doubles), [1, 2])
        XCTAssertEqual(try file.withDoubles("d") { $0.reduce(0, +) }, 3)
    }

    func testWriterRejectsBadInput() {
        var writer = SafeTensorsWriter()
        let path = SafeTensorsWriter.errorPath
        XCTAssertNoThrow(try writer.add("a", shape: [2], floats: [1, 2]))
        XCTAssertThrowsError(try writer.add("a", shape: [1], floats: [1])) {
            XCTAssertEqual($0 as? SafeTensorsError, .duplicateTensor(path: path, tensor: "a"))
        }
        XCTAssertThrowsError(try writer.add("b", shape: [3], floats: [1, 2])) {
            XCTAssertEqual($0 as? SafeTensorsError, .byteCountMismatch(path: path, tensor: "b", expected: 12, actual: 8))
        }
        XCTAssertThrowsError(try writer.add("c", dtype: .u8, shape: [-1], bytes: Data())) {
            XCTAssertEqual($0 as? SafeTensorsError, .invalidShape(
                path: path, tensor: "c", reason: "dimension 0 is -1, not a non-negative integer"))
        }
        XCTAssertThrowsError(try writer.add("d", dtype: .f64, shape: [Int.max / 4], bytes: Data())) {
            XCTAssertEqual($0 as? SafeTensorsError, .shapeOverflow(path: path, tensor: "d", shape: [Int.max / 4]))
        }
        XCTAssertThrowsError(try writer.add("__metadata__", shape: [1], floats: [1])) {
            XCTAssertEqual($0 as? SafeTensorsError, .invalidTensorName(path: path, tensor: "__metadata__"))
        }
        XCTAssertEqual(writer.tensorNames, ["a"], "rejected tensors are not added")
    }

    /// A write that fails part-way (file size limit) must leave the existing
    /// destination byte-for-byte intact and no temporary file behind.
    func testFailedWriteLeavesExistingFileIntact() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        var small = SafeTensorsWriter(metadata: ["version": "1"])
        try small.add("w", shape: [4], floats: [1, 2, 3, 4])
        try small.write(to: url)
        let before = try Data(contentsOf: url)

        var large = SafeTensorsWriter(metadata: ["version": "2"])
        try large.add("w", shape: [256, 1024], floats: [Float](repeating: 1, count: 256 * 1024))

        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
        #else
        let resource = RLIMIT_FSIZE
        #endif
        var saved = rlimit()
        XCTAssertEqual(getrlimit(resource, &saved), 0)
        var limited = saved
        limited.rlim_cur = 256 * 1024
        XCTAssertEqual(setrlimit(resource, &limited), 0)
        var failure: Error?
        do {
            try large.write(to: url)
        } catch {
            failure = error
        }
        setrlimit(resource, &saved)
        signal(SIGXFSZ, previousHandler)

        guard case let .writeFailed(path, _)? = failure as? SafeTensorsError else {
            return XCTFail("expected writeFailed, got \(String(describing: failure))")
        }
        XCTAssertEqual(path, url.path)
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).metadata["version"], "1")

        try large.write(to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).metadata["version"], "2")
    }
}
