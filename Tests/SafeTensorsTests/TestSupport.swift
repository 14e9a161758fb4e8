import Foundation
import XCTest
import SafeTensors

/// Deterministic generator so fuzz failures reproduce from the seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds a file image from header text and data bytes; `length` overrides
/// the header-length field.
func image(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
    image(headerBytes: Array(header.utf8), data: data, length: length)
}

func image(headerBytes: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> Data {
    var result = Data()
    var field = (length ?? UInt64(headerBytes.count)).littleEndian
    withUnsafeBytes(of: &field) { result.append(contentsOf: $0) }
    result.append(contentsOf: headerBytes)
    result.append(contentsOf: data)
    return result
}

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory(_ function: String = #function) throws -> URL {
    let name = "safetensors-tests-\(getpid())-\(function.filter(\.isLetter))-\(UInt32.random(in: 0...UInt32.max))"
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The name of an error's enum case, for histograms in fuzz output.
func caseName(_ error: SafeTensorsError) -> String {
    Mirror(reflecting: error).children.first?.label ?? "\(error)"
}

let badPath = "bad.safetensors"

/// Asserts that reading `data` fails with exactly `expected`, and that the
/// message names the file.
func assertRejects(_ data: Data, _ expected: SafeTensorsError, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try SafeTensorsFile(data: data, path: badPath), file: file, line: line) { error in
        guard let error = error as? SafeTensorsError else {
            return XCTFail("not a SafeTensorsError: \(error)", file: file, line: line)
        }
        XCTAssertEqual(error, expected, file: file, line: line)
        XCTAssertTrue(error.description.hasPrefix(badPath + ":"), error.description, file: file, line: line)
    }
}

/// Asserts that reading `data` fails with some error of the case `name`.
func assertRejects(_ data: Data, case name: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try SafeTensorsFile(data: data, path: badPath), file: file, line: line) { error in
        guard let error = error as? SafeTensorsError else {
            return XCTFail("not a SafeTensorsError: \(error)", file: file, line: line)
        }
        XCTAssertEqual(caseName(error), name, "\(error)", file: file, line: line)
    }
}

/// Little-endian bytes of a sequence of floats.
func bytes(_ floats: [Float]) -> [UInt8] {
    floats.withUnsafeBytes { Array($0) }
}
