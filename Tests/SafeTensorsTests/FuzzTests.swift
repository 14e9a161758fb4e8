import Foundation
import XCTest
import SafeTensors

/// Seeded corruption of a valid file: the reader must either throw a
/// `SafeTensorsError` naming the file or return a layout that is consistent
/// with the bytes it was given. A crash or trap fails the whole run.
final class FuzzTests: XCTestCase {
    private static let iterations = 25_000
    private static let fuzzPath = "fuzz.safetensors"

    private static func baseImage() throws -> Data {
        var writer = SafeTensorsWriter(metadata: ["seed": "7", "note": "fuzz"])
        try writer.add("w", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        try writer.add("b", shape: [2], doubles: [0.5, -0.5])
        try writer.add("m", dtype: .u8, shape: [3], bytes: Data([1, 2, 3]))
        try writer.add("h", dtype: .bf16, shape: [2, 1], bytes: Data([0, 0x3F, 0, 0x40]))
        try writer.add("s", dtype: .i32, shape: [], bytes: Data([7, 0, 0, 0]))
        try writer.add("e", shape: [0, 4], floats: [])
        return writer.serialized()
    }

    private static let jsonBytes = Array(#"{}[]",:0123456789-.eE tfnul\"#.utf8)
    private static let numberTexts = [
        "0", "1", "2", "3", "4", "8", "-1", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "4611686018427387904", "1.0", "1e3", "-0", "00",
    ]
    private static let dtypeTexts = DType.allCases.map(\.rawValue) + ["F8_E5M2", "f32", ""]

    private struct Parts {
        var header: [UInt8]
        var data: [UInt8]
    }

    private static func split(_ bytes: [UInt8]) -> Parts {
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        return Parts(header: Array(bytes[8..<(8 + length)]), data: Array(bytes[(8 + length)...]))
    }

    private static func join(_ parts: Parts) -> [UInt8] {
        Array(image(headerBytes: parts.header, data: parts.data))
    }

    /// Byte ranges of maximal runs matching `predicate` in `bytes`.
    private static func runs(_ bytes: [UInt8], _ predicate: (UInt8) -> Bool) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start: Int?
        for (position, byte) in bytes.enumerated() {
            if predicate(byte) {
                if start == nil { start = position }
            } else if let begin = start {
                result.append(begin..<position)
                start = nil
            }
        }
        if let begin = start { result.append(begin..<bytes.count) }
        return result
    }

    /// One corruption; several strategies keep the length field consistent
    /// so the input gets past framing and into header validation.
    private static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            guard !bytes.isEmpty else { return bytes }
            let position = Int.random(in: 0..<bytes.count, using: &rng)
            bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 1:
            bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
        case 2:
            guard bytes.count > 8 else { return bytes }
            let position = Int.random(in: 8..<bytes.count, using: &rng)
            bytes[position] = Bool.random(using: &rng)
                ? jsonBytes.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
        case 3:
            let length: UInt64
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: length = UInt64.random(in: 0...UInt64.max, using: &rng)
            case 1: length = UInt64.random(in: 0...UInt64(bytes.count + 16), using: &rng)
            default: length = UInt64(1) << UInt64.random(in: 0..<64, using: &rng)
            }
            var field = length.littleEndian
            let replacement = withUnsafeBytes(of: &field) { Array($0) }
            bytes.replaceSubrange(0..<min(8, bytes.count), with: replacement)
        default:
            guard bytes.count >= 8 else { return bytes }
            let length = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard length <= UInt64(bytes.count - 8) else { return bytes }
            var parts = split(bytes)
            mutateHeaderKeepingFraming(&parts, &rng)
            bytes = join(parts)
        }
        return bytes
    }

    private static func mutateHeaderKeepingFraming(_ parts: inout Parts, _ rng: inout SplitMix64) {
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:
            let digitRuns = runs(parts.header) { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard let run = digitRuns.randomElement(using: &rng) else { return }
            let original = min(Int(String(decoding: parts.header[run], as: UTF8.self)) ?? 0, 1 << 40)
            let text = Bool.random(using: &rng)
                ? numberTexts.randomElement(using: &rng)!
                : String(max(0, original + Int.random(in: -8...8, using: &rng)))
            parts.header.replaceSubrange(run, with: Array(text.utf8))
        case 1:
            let upperRuns = runs(parts.header) { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
                .filter { parts.header[$0.lowerBound] >= UInt8(ascii: "A") }
            guard let run = upperRuns.randomElement(using: &rng) else { return }
            parts.header.replaceSubrange(run, with: Array(dtypeTexts.randomElement(using: &rng)!.utf8))
        case 2:
            let position = Int.random(in: 0...parts.header.count, using: &rng)
            parts.header.insert(jsonBytes.randomElement(using: &rng)!, at: position)
        case 3:
            guard !parts.header.isEmpty else { return }
            parts.header.remove(at: Int.random(in: 0..<parts.header.count, using: &rng))
        case 4:
            if Bool.random(using: &rng) || parts.data.isEmpty {
                parts.data.append(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            } else {
                parts.data.removeLast(Int.random(in: 1...parts.data.count, using: &rng))
            }
        case 5:
            shiftDataOffsets(&parts, &rng)
        default:
            let brackets = runs(parts.header) { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "\"") }
            guard let run = brackets.randomElement(using: &rng) else { return }
            parts.header[run.lowerBound] = jsonBytes.randomElement(using: &rng)!
        }
    }

    /// Moves one tensor's `data_offsets` by the same amount, keeping its byte
    /// count right so the layout checks (overlap, gap, trailing) are reached.
    private static func shiftDataOffsets(_ parts: inout Parts, _ rng: inout SplitMix64) {
        let key = Array("\"data_offsets\":[".utf8)
        var starts: [Int] = []
        if parts.header.count >= key.count {
            for position in 0...(parts.header.count - key.count) where parts.header[position..<(position + key.count)].elementsEqual(key) {
                starts.append(position + key.count)
            }
        }
        guard let start = starts.randomElement(using: &rng),
              let close = parts.header[start...].firstIndex(of: UInt8(ascii: "]")) else { return }
        let numbers = String(decoding: parts.header[start..<close], as: UTF8.self).split(separator: ",").compactMap { Int($0) }
        guard numbers.count == 2, numbers.allSatisfy({ abs($0) < 1 << 40 }) else { return }
        let delta = Int.random(in: -8...8, using: &rng)
        let shifted = "\(max(0, numbers[0] + delta)),\(max(0, numbers[1] + delta))"
        parts.header.replaceSubrange(start..<close, with: Array(shifted.utf8))
    }

    /// Everything a successful open promises, checked against the raw bytes.
    private static func checkConsistent(_ file: SafeTensorsFile, _ bytes: [UInt8]) {
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let dataStart = 8 + length
        let dataLength = bytes.count - dataStart
        XCTAssertEqual(file.path, fuzzPath)
        XCTAssertNotNil(String(validating: bytes[8..<dataStart], as: UTF8.self), "accepted headers are UTF-8")
        XCTAssertEqual(Set(file.tensors.map(\.name)).count, file.tensors.count, "unique names")
        var cursor = 0
        for info in file.tensors {
            XCTAssertEqual(info.byteRange.lowerBound, cursor, "sorted and contiguous")
            cursor = info.byteRange.upperBound
            XCTAssertTrue(info.shape.allSatisfy { $0 >= 0 })
            XCTAssertEqual(info.byteRange.count, info.elementCount * info.dtype.byteSize)
            XCTAssertTrue(file.contains(info.name))
            XCTAssertEqual(try file.info(info.name), info)
            let raw = try? file.withUnsafeBytes(of: info.name) { Array($0) }
            XCTAssertEqual(raw, Array(bytes[(dataStart + info.byteRange.lowerBound)..<(dataStart + info.byteRange.upperBound)]))
            switch info.dtype {
            case .f32:
                let values = try? file.floats(info.name)
                XCTAssertEqual(values?.count, info.elementCount)
                XCTAssertEqual(values.map { bytesOf($0) }, raw)
                XCTAssertEqual(try? file.withFloats(info.name) { bytesOf(Array($0)) }, raw)
            case .f64:
                let values = try? file.doubles(info.name)
                XCTAssertEqual(values?.count, info.elementCount)
                XCTAssertEqual(values.map { bytesOf($0) }, raw)
                XCTAssertEqual(try? file.withDoubles(info.name) { bytesOf(Array($0)) }, raw)
            default:
                XCTAssertThrowsError(try file.floats(info.name))
            }
        }
        XCTAssertEqual(cursor, dataLength, "tensors cover the data section")
    }

    private static func bytesOf<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    func testSeededCorruptionsNeverCrash() throws {
        let base = Array(try Self.baseImage())
        XCTAssertNoThrow(try SafeTensorsFile(data: Data(base)))
        var rng = SplitMix64(seed: 20_250_108)
        var accepted = 0
        var rejections: [String: Int] = [:]
        var run = 0
        for _ in 0..<Self.iterations {
            var input = base
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                input = Self.mutate(input, &rng)
            }
            run += 1
            do {
                let file = try SafeTensorsFile(data: Data(input), path: Self.fuzzPath)
                accepted += 1
                Self.checkConsistent(file, input)
            } catch let error as SafeTensorsError {
                rejections[caseName(error), default: 0] += 1
                XCTAssertTrue(error.description.hasPrefix(Self.fuzzPath + ":"), error.description)
            } catch {
                XCTFail("unexpected error type: \(error)")
            }
        }
        let summary = rejections.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("safetensors fuzz: \(run) inputs run, \(accepted) accepted, \(run - accepted) rejected [\(summary)]")
        XCTAssertEqual(run, Self.iterations)
        XCTAssertGreaterThan(accepted, 0, "some corruptions (e.g. F32->I32) stay valid and must be accepted")
        XCTAssertGreaterThanOrEqual(rejections.count, 15, "the corruptions should reach most validation checks")
    }
}
