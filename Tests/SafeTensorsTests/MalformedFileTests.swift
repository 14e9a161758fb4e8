import Foundation
import XCTest
import SafeTensors

/// One test per validation failure, each asserting the exact error case and
/// its payload; every malformed input is otherwise valid, so the test fails
/// if the check under test is missing.
final class MalformedFileTests: XCTestCase {
    private let eight = bytes([1, 2])

    func testControlInputIsValid() throws {
        let file = try SafeTensorsFile(data: image(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: eight))
        XCTAssertEqual(try file.floats("a"), [1, 2])
    }

    func testFileShorterThanLengthField() {
        assertRejects(Data([1, 2, 3]), .fileTooShort(path: badPath, size: 3))
        assertRejects(Data(), .fileTooShort(path: badPath, size: 0))
    }

    func testEmptyFileOnDisk() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("empty.safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data()))
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .fileTooShort(path: url.path, size: 0))
        }
    }

    func testMissingFileAndDirectory() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("nope.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: missing)) { error in
            guard case let .cannotOpen(path, _)? = error as? SafeTensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing.path)
        }
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: directory)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .cannotOpen(path: directory.path, reason: "not a regular file"))
        }
    }

    func testAbsurdHeaderLength() {
        assertRejects(image("{}", length: 200_000_000), .headerTooLarge(path: badPath, length: 200_000_000, limit: 100_000_000))
        assertRejects(image("{}", length: UInt64.max), .headerTooLarge(path: badPath, length: UInt64.max, limit: 100_000_000))
    }

    func testHeaderLengthLargerThanFile() {
        assertRejects(image("{}", length: 100), .headerLengthExceedsFile(path: badPath, length: 100, available: 2))
    }

    func testHeaderNotUTF8() {
        let header: [UInt8] = Array(#"{"a"#.utf8) + [0xFF] + Array(#"":{}}"#.utf8)
        assertRejects(image(headerBytes: header), .headerNotUTF8(path: badPath))
    }

    func testHeaderNotJSON() {
        assertRejects(image(#"{"a":"#), .headerNotJSON(path: badPath, offset: 5, reason: "unexpected end of header"))
        for text in [
            "", "   ", "{", "{\"a\":1,}", "{'a':1}", "{\"a\" 1}", "[1,]", "{} x", "nul", "{\"a\":01}",
            "{\"a\":1.}", "{\"a\":-}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
            "{\"a\":\"tab\there\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"unterminated}",
        ] {
            assertRejects(image(text), case: "headerNotJSON")
        }
    }

    func testDeepNestingIsRejectedWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        assertRejects(image(deep), .headerNotJSON(path: badPath, offset: 64, reason: "nesting deeper than 64 levels"))
    }

    func testHeaderNotObject() {
        assertRejects(image("[1,2]"), .headerNotObject(path: badPath, found: "an array"))
        assertRejects(image("\"x\""), .headerNotObject(path: badPath, found: "\"x\""))
    }

    func testDuplicateTensorName() {
        let entry = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        assertRejects(image(#"{"a":\#(entry),"a":\#(entry)}"#, data: bytes([1])), .duplicateTensor(path: badPath, tensor: "a"))
        assertRejects(image(#"{"__metadata__":{},"__metadata__":{}}"#), .duplicateTensor(path: badPath, tensor: "__metadata__"))
    }

    func testDuplicateKeyInEntryAndMetadata() {
        assertRejects(image(#"{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: eight),
                      .duplicateKey(path: badPath, tensor: "a", key: "dtype"))
        assertRejects(image(#"{"__metadata__":{"k":"1","k":"2"}}"#),
                      .duplicateKey(path: badPath, tensor: "__metadata__", key: "k"))
    }

    func testMetadataNotObject() {
        assertRejects(image(#"{"__metadata__":"seed=1"}"#), .metadataNotObject(path: badPath, found: "\"seed=1\""))
        assertRejects(image(#"{"__metadata__":null}"#), .metadataNotObject(path: badPath, found: "null"))
    }

    func testMetadataValueNotString() {
        assertRejects(image(#"{"__metadata__":{"seed":20250108}}"#),
                      .metadataValueNotString(path: badPath, key: "seed", found: "20250108"))
    }

    func testEntryNotObject() {
        assertRejects(image(#"{"a":[0,8]}"#, data: eight), .entryNotObject(path: badPath, tensor: "a", found: "an array"))
    }

    func testMissingField() {
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[2]}}"#, data: eight),
                      .missingField(path: badPath, tensor: "a", field: "data_offsets"))
        assertRejects(image(#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, data: eight),
                      .missingField(path: badPath, tensor: "a", field: "dtype"))
        assertRejects(image(#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, data: eight),
                      .missingField(path: badPath, tensor: "a", field: "shape"))
    }

    func testUnexpectedField() {
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"offsets":[0,8]}}"#, data: eight),
                      .unexpectedField(path: badPath, tensor: "a", field: "offsets"))
    }

    func testUnknownDType() {
        assertRejects(image(#"{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#, data: eight),
                      .unknownDType(path: badPath, tensor: "a", dtype: "\"F8_E4M3\""))
        assertRejects(image(#"{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}"#, data: eight),
                      .unknownDType(path: badPath, tensor: "a", dtype: "\"f32\""))
        assertRejects(image(#"{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}"#, data: eight),
                      .unknownDType(path: badPath, tensor: "a", dtype: "4"))
        let error = SafeTensorsError.unknownDType(path: badPath, tensor: "a", dtype: "\"F8_E4M3\"")
        XCTAssertTrue(error.description.contains("F8_E4M3") && error.description.contains("'a'"))
    }

    func testInvalidShape() {
        for shape in ["2", "[-2]", "[2.0]", "[2e0]", "[true]", "[\"2\"]", "[null]", "[99999999999999999999]", "{}"] {
            assertRejects(image(#"{"a":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,8]}}"#, data: eight),
                          case: "invalidShape")
        }
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight),
                      .invalidShape(path: badPath, tensor: "a",
                                    reason: "dimension 0 is -2, not a non-negative integer that fits in Int"))
    }

    func testShapeProductOverflowDoesNotCrash() {
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#),
                      .shapeOverflow(path: badPath, tensor: "a", shape: [4_611_686_018_427_387_904, 4]))
        assertRejects(image(#"{"a":{"dtype":"F64","shape":[1152921504606846976],"data_offsets":[0,0]}}"#),
                      .shapeOverflow(path: badPath, tensor: "a", shape: [1_152_921_504_606_846_976]))
    }

    func testZeroDimensionBeatsOverflowingDimensions() throws {
        let file = try SafeTensorsFile(data: image(
            #"{"a":{"dtype":"F32","shape":[4611686018427387904,4,0],"data_offsets":[0,0]}}"#))
        XCTAssertEqual(try file.info("a").elementCount, 0)
        XCTAssertEqual(try file.floats("a"), [])
    }

    func testInvalidDataOffsets() {
        for offsets in ["[0]", "[0,4,8]", "\"0,8\"", "[-1,8]", "[0,8.0]", "[0,null]", "[0,18446744073709551616]", "{}"] {
            assertRejects(image(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":\#(offsets)}}"#, data: eight),
                          case: "invalidDataOffsets")
        }
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, data: eight),
                      .invalidDataOffsets(path: badPath, tensor: "a", reason: "expected [begin, end], found an array"))
    }

    func testReversedDataOffsets() {
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: eight),
                      .reversedDataOffsets(path: badPath, tensor: "a", begin: 8, end: 4))
    }

    func testOffsetsOutOfRange() {
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [1, 2, 3, 4]),
                      .offsetsOutOfRange(path: badPath, tensor: "a", begin: 0, end: 8, dataLength: 4))
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775799,9223372036854775807]}}"#,
                            data: eight),
                      .offsetsOutOfRange(path: badPath, tensor: "a", begin: 9_223_372_036_854_775_799,
                                         end: 9_223_372_036_854_775_807, dataLength: 8))
    }

    func testByteCountMismatch() {
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight),
                      .byteCountMismatch(path: badPath, tensor: "a", expected: 12, actual: 8))
        assertRejects(image(#"{"a":{"dtype":"F64","shape":[],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#,
                            data: eight),
                      .byteCountMismatch(path: badPath, tensor: "a", expected: 8, actual: 4))
    }

    func testOverlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        assertRejects(image(header, data: bytes([1, 2, 3])), .overlappingTensors(path: badPath, tensor: "b", other: "a"))
        let same = #"{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        assertRejects(image(same, data: eight), .overlappingTensors(path: badPath, tensor: "b", other: "a"))
        let emptyInside = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#
        assertRejects(image(emptyInside, data: eight), .overlappingTensors(path: badPath, tensor: "z", other: "a"))
    }

    func testGapInData() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        assertRejects(image(header, data: bytes([1, 2, 3])), .gapInData(path: badPath, tensor: "b", start: 4, end: 8))
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight),
                      .gapInData(path: badPath, tensor: "a", start: 0, end: 4))
    }

    func testTrailingBytes() {
        assertRejects(image(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [1, 2, 3, 4, 5, 6]),
                      .trailingBytes(path: badPath, after: "a", start: 4, count: 2))
        assertRejects(image("{}", data: [0, 0, 0]), .trailingBytes(path: badPath, after: "", start: 0, count: 3))
    }

    func testMissingTensorAndWrongDType() throws {
        let file = try SafeTensorsFile(data: image(#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, data: eight),
                                       path: badPath)
        XCTAssertFalse(file.contains("b"))
        XCTAssertThrowsError(try file.info("b")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .missingTensor(path: badPath, tensor: "b"))
        }
        XCTAssertThrowsError(try file.withUnsafeBytes(of: "b") { $0.count }) { error in
            XCTAssertEqual(error as? SafeTensorsError, .missingTensor(path: badPath, tensor: "b"))
        }
        let wrong = SafeTensorsError.wrongDType(path: badPath, tensor: "a", expected: .f32, actual: .f64)
        XCTAssertThrowsError(try file.floats("a")) { XCTAssertEqual($0 as? SafeTensorsError, wrong) }
        XCTAssertThrowsError(try file.withFloats("a") { $0.count }) { XCTAssertEqual($0 as? SafeTensorsError, wrong) }
        XCTAssertThrowsError(try file.mappedFloats("a")) { XCTAssertEqual($0 as? SafeTensorsError, wrong) }
        XCTAssertTrue(wrong.description.contains("'a'") && wrong.description.contains("F32") && wrong.description.contains("F64"))
        XCTAssertEqual(try file.doubles("a").count, 1)
    }
}
