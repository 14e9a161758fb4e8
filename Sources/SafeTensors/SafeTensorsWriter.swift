import CosmicSupport
import Foundation

/// Builds a safetensors file in memory and writes it atomically. Tensors are
/// stored contiguously in insertion order (the format forbids gaps); the
/// header is padded with spaces so the data section starts at a multiple of
/// 64 bytes, which keeps mapped views of well-aligned tensors zero-copy.
public struct SafeTensorsWriter: Sendable {
    /// Path used in errors raised before a destination is known.
    public static let errorPath = "<writer>"

    private struct Entry: Sendable {
        let name: String
        let dtype: DType
        let shape: [Int]
        let bytes: Data
    }

    /// The `__metadata__` map written to the header (omitted when empty).
    public var metadata: [String: String]
    private var entries: [Entry] = []
    private var names: Set<String> = []

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Names of the tensors added so far, in file order.
    public var tensorNames: [String] {
        entries.map(\.name)
    }

    /// Adds raw little-endian bytes; rejects duplicate or reserved names,
    /// negative dimensions and a byte count that does not match the shape.
    public mutating func add(_ name: String, dtype: DType, shape: [Int], bytes: Data) throws {
        let path = Self.errorPath
        guard name != "__metadata__" else {
            throw SafeTensorsError.invalidTensorName(path: path, tensor: name)
        }
        guard !names.contains(name) else {
            throw SafeTensorsError.duplicateTensor(path: path, tensor: name)
        }
        if let axis = shape.firstIndex(where: { $0 < 0 }) {
            throw SafeTensorsError.invalidShape(
                path: path, tensor: name, reason: "dimension \(axis) is \(shape[axis]), not a non-negative integer")
        }
        guard let expected = Shape.byteCount(shape, dtype) else {
            throw SafeTensorsError.shapeOverflow(path: path, tensor: name, shape: shape)
        }
        guard expected == bytes.count else {
            throw SafeTensorsError.byteCountMismatch(path: path, tensor: name, expected: expected, actual: bytes.count)
        }
        names.insert(name)
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Adds an F32 tensor.
    public mutating func add(_ name: String, shape: [Int], floats: [Float]) throws {
        try add(name, dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { Data($0) })
    }

    /// Adds an F64 tensor.
    public mutating func add(_ name: String, shape: [Int], doubles: [Double]) throws {
        try add(name, dtype: .f64, shape: shape, bytes: doubles.withUnsafeBytes { Data($0) })
    }

    /// The 8-byte length field followed by the space-padded header JSON.
    private func prefix() -> Data {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }
                .map { JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value) }
            json += "\"__metadata__\":{" + pairs.joined(separator: ",") + "}"
            first = false
        }
        var offset = 0
        for entry in entries {
            if !first { json += "," }
            first = false
            let end = offset + entry.bytes.count
            json += JSONText.quoted(entry.name)
                + ":{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":["
                + entry.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var header = Data(json.utf8)
        let padding = (64 - (8 + header.count) % 64) % 64
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        var result = Data(capacity: 8 + header.count)
        var length = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &length) { result.append(contentsOf: $0) }
        result.append(header)
        return result
    }

    /// The complete file image.
    public func serialized() -> Data {
        var data = prefix()
        for entry in entries {
            data.append(entry.bytes)
        }
        return data
    }

    /// Writes the file atomically (temporary file + rename via `AtomicFile`),
    /// streaming tensor by tensor; on failure an existing file is untouched.
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(to: url) { handle in
                try handle.write(contentsOf: prefix())
                for entry in entries where !entry.bytes.isEmpty {
                    try handle.write(contentsOf: entry.bytes)
                }
            }
        } catch {
            throw SafeTensorsError.writeFailed(path: url.path, reason: "\(error)")
        }
    }
}
