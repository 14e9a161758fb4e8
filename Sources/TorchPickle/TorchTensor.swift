/// The raw bytes of one torch storage (a whole `<archive>/data/<key>` entry or
/// legacy storage record). Points into the memory-mapped file when the entry
/// is stored uncompressed, so loading a partition file copies nothing.
public final class TorchStorage: @unchecked Sendable {
    /// The storage key from the pickle (zip entry name suffix or legacy id).
    public let key: String
    public let dtype: TorchDType
    public let elementCount: Int
    /// True when the bytes live in the memory-mapped file rather than a heap copy.
    public var isMapped: Bool { source.isMapped }

    let source: ByteSource
    let byteOffset: Int

    init(key: String, dtype: TorchDType, elementCount: Int, source: ByteSource, byteOffset: Int) {
        self.key = key
        self.dtype = dtype
        self.elementCount = elementCount
        self.source = source
        self.byteOffset = byteOffset
    }

    public var byteCount: Int { elementCount * dtype.byteSize }

    /// The storage's little-endian bytes; valid only inside `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: source.base + byteOffset, count: byteCount))
    }
}

/// One tensor of the dataset: a strided view into a storage, exactly as
/// `torch._utils._rebuild_tensor_v2` would build it. Geometry is validated at
/// load time, so every element it addresses lies inside `storage`.
public struct TorchTensor: Sendable {
    public let dtype: TorchDType
    public let shape: [Int]
    /// Strides in elements, as torch reports them.
    public let strides: [Int]
    /// Offset of element [0, 0, ...] in the storage, in elements.
    public let storageOffset: Int
    public let storageKey: String
    public let storage: TorchStorage

    init(record: TorchTensorRecord, storage: TorchStorage) {
        self.dtype = record.dtype
        self.shape = record.shape
        self.strides = record.strides
        self.storageOffset = record.storageOffset
        self.storageKey = record.storageKey
        self.storage = storage
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// Row-major contiguity as torch defines it (size-1 dimensions may have any stride).
    public var isContiguous: Bool {
        if shape.contains(0) { return true }
        var expected = 1
        for dimension in shape.indices.reversed() where shape[dimension] != 1 {
            guard strides[dimension] == expected else { return false }
            expected *= shape[dimension]
        }
        return true
    }

    /// The elements in row-major order as Float, converting from the stored dtype
    /// (float64 is rounded, integers and bools are converted by value).
    public func contiguousFloats() throws -> [Float] {
        if dtype == .float32 { return try copyElements(as: Float.self) }
        return try withContiguousBytes { raw in
            (0..<elementCount).map { Float(Self.load(raw, index: $0, dtype: dtype)) }
        }
    }

    /// The elements in row-major order as Double, converting from the stored dtype.
    public func contiguousDoubles() throws -> [Double] {
        if dtype == .float64 { return try copyElements(as: Double.self) }
        return try withContiguousBytes { raw in
            (0..<elementCount).map { Self.load(raw, index: $0, dtype: dtype) }
        }
    }

    /// Calls `body` with the elements' bytes in row-major order. Zero-copy when the
    /// tensor is contiguous and its first element is aligned for its dtype (always
    /// true for mapped zip entries, which torch aligns to 64 bytes); otherwise the
    /// elements are gathered into a temporary aligned buffer.
    public func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let size = dtype.byteSize
        let count = elementCount
        let byteCount = count * size
        if byteCount == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try storage.withUnsafeBytes { all in
            guard let base = all.baseAddress else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
            let first = base + storageOffset * size
            let contiguous = isContiguous
            if contiguous && Int(bitPattern: first) % size == 0 {
                return try body(UnsafeRawBufferPointer(start: first, count: byteCount))
            }
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: ByteSource.heapAlignment)
            defer { scratch.deallocate() }
            if contiguous {
                // Misaligned (legacy streams do not pad storages): one aligned copy.
                scratch.copyMemory(from: first, byteCount: byteCount)
            } else {
                var written = 0
                forEachElementOffset { element in
                    scratch.advanced(by: written).copyMemory(from: base + element * size, byteCount: size)
                    written += size
                }
            }
            return try body(UnsafeRawBufferPointer(start: scratch, count: byteCount))
        }
    }

    /// Storage element offsets of every element, in row-major order.
    private func forEachElementOffset(_ visit: (Int) -> Void) {
        if shape.isEmpty {
            visit(storageOffset)
            return
        }
        if shape.contains(0) { return }
        let last = shape.count - 1
        var index = [Int](repeating: 0, count: shape.count)
        var offset = storageOffset
        while true {
            let stride = strides[last]
            var element = offset
            for _ in 0..<shape[last] {
                visit(element)
                element += stride
            }
            var dimension = last - 1
            while dimension >= 0 {
                index[dimension] += 1
                offset += strides[dimension]
                if index[dimension] < shape[dimension] { break }
                offset -= strides[dimension] * shape[dimension]
                index[dimension] = 0
                dimension -= 1
            }
            if dimension < 0 { return }
        }
    }

    private func copyElements<T>(as type: T.Type) throws -> [T] {
        try withContiguousBytes { raw in
            [T](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
                if let destination = buffer.baseAddress, raw.count > 0 {
                    UnsafeMutableRawPointer(destination).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
                }
                initialized = elementCount
            }
        }
    }

    /// Element `index` of little-endian `raw` bytes of `dtype`, as Double.
    static func load(_ raw: UnsafeRawBufferPointer, index: Int, dtype: TorchDType) -> Double {
        let offset = index * dtype.byteSize
        switch dtype {
        case .float32: return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
        case .float64: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
        case .float16: return Double(halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
        case .bfloat16:
            let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            return Double(Float(bitPattern: UInt32(bits) << 16))
        case .int64: return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
        case .int32: return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        case .int16: return Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
        case .int8: return Double(raw.loadUnaligned(fromByteOffset: offset, as: Int8.self))
        case .uint8: return Double(raw[offset])
        case .bool: return raw[offset] != 0 ? 1 : 0
        }
    }
}

/// IEEE 754 binary16 → binary32, done by hand because `Float16` is missing on some platforms.
func halfToFloat(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int(bits >> 10) & 0x1f
    let mantissa = UInt32(bits & 0x03ff)
    if exponent == 0 {
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 0x1f {
        return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
}
