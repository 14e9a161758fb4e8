import Foundation
import TorchPickle
import XCTest

/// Fixtures written by scripts/make_pt_fixtures.py with real PyTorch.
enum Fixtures {
    static var directory: URL {
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: data("manifest.json"))
    }

    /// Entries of a (comment-free) zip from its central directory: torch writes
    /// data descriptors, so local headers carry no sizes.
    static func zipEntries(_ bytes: [UInt8]) -> [(name: String, directoryOffset: Int, dataOffset: Int, size: Int)] {
        let end = bytes.count - 22
        let count = Int(readUInt16(bytes, end + 10))
        var cursor = Int(readUInt32(bytes, end + 16))
        var entries: [(name: String, directoryOffset: Int, dataOffset: Int, size: Int)] = []
        for _ in 0..<count {
            let size = Int(readUInt32(bytes, cursor + 20))
            let nameLength = Int(readUInt16(bytes, cursor + 28))
            let extraLength = Int(readUInt16(bytes, cursor + 30))
            let commentLength = Int(readUInt16(bytes, cursor + 32))
            let local = Int(readUInt32(bytes, cursor + 42))
            let name = String(decoding: bytes[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self)
            let dataOffset = local + 30 + Int(readUInt16(bytes, local + 26)) + Int(readUInt16(bytes, local + 28))
            entries.append((name, cursor, dataOffset, size))
            cursor += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }

    /// Data offset of an entry.
    static func entryDataOffset(_ bytes: [UInt8], name: String) -> Int? {
        zipEntries(bytes).first { $0.name == name }?.dataOffset
    }

    /// The `data.pkl` bytes of a torch zip archive and where they start.
    static func pickleBytes(ofZip bytes: [UInt8]) -> (offset: Int, bytes: [UInt8]) {
        guard let entry = zipEntries(bytes).first(where: { $0.name.hasSuffix("/data.pkl") }) else { return (0, []) }
        return (entry.dataOffset, Array(bytes[entry.dataOffset..<(entry.dataOffset + entry.size)]))
    }

    /// Rewrites the CRC-32 of data.pkl in the central directory (the copy the reader trusts).
    static func patchPickleCRC(_ bytes: inout [UInt8], crc: UInt32) {
        guard let entry = zipEntries(bytes).first(where: { $0.name.hasSuffix("/data.pkl") }) else { return }
        writeUInt32(&bytes, entry.directoryOffset + 16, crc)
    }
}

struct Manifest: Decodable {
    struct TensorInfo: Decodable {
        let dtype: String
        let shape: [Int]
        let strides: [Int]
        let storage_offset: Int
        let expected_offset: Int
        let expected_bytes: Int
    }

    struct Valid: Decodable {
        let expected: String
        let format: String
        let tensors: [TensorInfo]
    }

    let torch_version: String
    let valid: [String: Valid]
    let malformed: [String: String]
}

func readUInt16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}

func writeUInt32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
}

/// Plain bitwise CRC-32 (IEEE), independent of the code under test.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xedb8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}

/// Deterministic generator so fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Writes protocol-2 pickle bytes the way torch.save lays out a TensorDataset,
/// so tests can vary one detail at a time.
struct PickleBuilder {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func op(_ values: UInt8...) { bytes += values }

    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array(module.utf8) + [0x0a] + Array(name.utf8) + [0x0a]
    }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(0x58)
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    mutating func int(_ value: Int) {
        if value >= 0 && value < 256 {
            bytes += [0x4b, UInt8(value)]
        } else if value >= 0 && value < 65536 {
            bytes += [0x4d, UInt8(value & 0xff), UInt8(value >> 8)]
        } else if value >= Int(Int32.min) && value <= Int(Int32.max) {
            bytes.append(0x4a)
            withUnsafeBytes(of: Int32(value).littleEndian) { bytes += $0 }
        } else {
            bytes += [0x8a, 8]
            withUnsafeBytes(of: Int64(value).littleEndian) { bytes += $0 }
        }
    }

    mutating func intTuple(_ values: [Int]) {
        op(0x28)
        values.forEach { int($0) }
        op(0x74)
    }

    struct Tensor {
        var storageClass = "FloatStorage"
        var key = "0"
        var location = "cpu"
        var storageCount = 4
        var offset = 0
        var shape = [4]
        var strides = [1]
        var requiresGrad = false
    }

    /// A tensor via `_rebuild_tensor_v2(persistent storage, offset, size, stride, requires_grad, OrderedDict())`.
    mutating func tensor(_ tensor: Tensor) {
        global("torch._utils", "_rebuild_tensor_v2")
        op(0x28, 0x28)
        string("storage")
        global("torch", tensor.storageClass)
        string(tensor.key)
        string(tensor.location)
        int(tensor.storageCount)
        op(0x74, 0x51)
        int(tensor.offset)
        intTuple(tensor.shape)
        intTuple(tensor.strides)
        op(tensor.requiresGrad ? 0x88 : 0x89)
        global("collections", "OrderedDict")
        op(0x29, 0x52, 0x74, 0x52)
    }

    /// `TensorDataset.__new__()` then BUILD with `{'tensors': (...)}` and STOP.
    static func dataset(_ tensors: [Tensor]) -> [UInt8] {
        var builder = PickleBuilder()
        builder.global("torch.utils.data.dataset", "TensorDataset")
        builder.op(0x29, 0x81, 0x7d)
        builder.string("tensors")
        builder.op(0x28)
        tensors.forEach { builder.tensor($0) }
        builder.op(0x74, 0x73, 0x62, 0x2e)
        return builder.bytes
    }
}

/// Runs `body`, requiring a TorchPickleError for which `matches` holds.
func assertTorchError<T>(_ body: @autoclosure () throws -> T, _ message: String = "",
                         file: StaticString = #filePath, line: UInt = #line,
                         _ matches: (TorchPickleError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected an error, got a value. \(message)", file: file, line: line)
    } catch let error as TorchPickleError {
        XCTAssertTrue(matches(error), "unexpected error: \(error). \(message)", file: file, line: line)
    } catch {
        XCTFail("not a TorchPickleError: \(error). \(message)", file: file, line: line)
    }
}

/// A minimal zip writer (stored or with a forced method field) for crafting archives
/// that torch itself would never write.
struct ZipWriter {
    struct Entry {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 0
        var flags: UInt16 = 0
    }

    /// With `zip64`, every size and offset in the central directory is moved into
    /// ZIP64 records, as writers do for archives past 4 GiB.
    static func archive(_ entries: [Entry], zip64: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        var directory: [UInt8] = []
        func u16(_ value: UInt16, _ into: inout [UInt8]) { into += [UInt8(value & 0xff), UInt8(value >> 8)] }
        func u32(_ value: UInt32, _ into: inout [UInt8]) { for shift in [0, 8, 16, 24] { into.append(UInt8((value >> UInt32(shift)) & 0xff)) } }
        func u64(_ value: UInt64, _ into: inout [UInt8]) { for shift in stride(from: 0, to: 64, by: 8) { into.append(UInt8((value >> UInt64(shift)) & 0xff)) } }
        let saturated: UInt32 = 0xffff_ffff
        for entry in entries {
            let offset = UInt32(output.count)
            let name = Array(entry.name.utf8)
            let crc = referenceCRC32(entry.data)
            let size = UInt32(entry.data.count)
            u32(0x0403_4b50, &output); u16(20, &output); u16(entry.flags, &output); u16(entry.method, &output)
            u16(0, &output); u16(0, &output); u32(crc, &output)
            u32(size, &output); u32(size, &output)
            u16(UInt16(name.count), &output); u16(0, &output)
            output += name + entry.data
            u32(0x0201_4b50, &directory); u16(45, &directory); u16(45, &directory); u16(entry.flags, &directory)
            u16(entry.method, &directory); u16(0, &directory); u16(0, &directory); u32(crc, &directory)
            u32(zip64 ? saturated : size, &directory); u32(zip64 ? saturated : size, &directory)
            u16(UInt16(name.count), &directory); u16(zip64 ? 28 : 0, &directory); u16(0, &directory); u16(0, &directory)
            u16(0, &directory); u32(0, &directory); u32(zip64 ? saturated : offset, &directory)
            directory += name
            if zip64 {
                u16(0x0001, &directory); u16(24, &directory)
                u64(UInt64(size), &directory); u64(UInt64(size), &directory); u64(UInt64(offset), &directory)
            }
        }
        let directoryOffset = UInt32(output.count)
        output += directory
        if zip64 {
            let recordOffset = UInt64(output.count)
            u32(0x0606_4b50, &output); u64(44, &output); u16(45, &output); u16(45, &output)
            u32(0, &output); u32(0, &output)
            u64(UInt64(entries.count), &output); u64(UInt64(entries.count), &output)
            u64(UInt64(directory.count), &output); u64(UInt64(directoryOffset), &output)
            u32(0x0706_4b50, &output); u32(0, &output); u64(recordOffset, &output); u32(1, &output)
            u32(0x0605_4b50, &output); u16(0, &output); u16(0, &output)
            u16(0xffff, &output); u16(0xffff, &output); u32(saturated, &output); u32(saturated, &output); u16(0, &output)
            return output
        }
        u32(0x0605_4b50, &output); u16(0, &output); u16(0, &output)
        u16(UInt16(entries.count), &output); u16(UInt16(entries.count), &output)
        u32(UInt32(directory.count), &output); u32(directoryOffset, &output); u16(0, &output)
        return output
    }

    /// A torch-style archive `a/` holding `pickle` and the given storages.
    static func torchArchive(pickle: [UInt8], storages: [(key: String, bytes: [UInt8])], prefix: String = "a",
                             zip64: Bool = false) -> [UInt8] {
        var entries = [Entry(name: "\(prefix)/data.pkl", data: pickle)]
        entries += storages.map { Entry(name: "\(prefix)/data/\($0.key)", data: $0.bytes) }
        entries.append(Entry(name: "\(prefix)/version", data: Array("3\n".utf8)))
        return archive(entries, zip64: zip64)
    }
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
}
