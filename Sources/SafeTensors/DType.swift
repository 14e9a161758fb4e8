/// Element types of the safetensors format, spelled as in the header's
/// `dtype` field. Only these are accepted; anything else (for example the
/// float8 variants) is rejected as an unknown dtype rather than guessed.
public enum DType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element, used to check a tensor's byte range against its shape.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}

/// One tensor as the header describes it, after validation: the byte range
/// is relative to the start of the data section (the byte after the header)
/// and always equals `elementCount * dtype.byteSize` bytes.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let byteRange: Range<Int>

    public init(name: String, dtype: DType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }

    /// Product of the shape (1 for a scalar). Exact for every tensor a reader
    /// returns; saturates at `Int.max` instead of trapping for hand-made
    /// infos whose shape overflows.
    public var elementCount: Int {
        Shape.elementCount(shape) ?? Int.max
    }
}

/// Overflow-checked shape arithmetic shared by the reader and the writer.
enum Shape {
    /// Product of the dimensions, or nil when it does not fit in `Int` or a
    /// dimension is negative. A zero dimension makes the product zero even if
    /// the other dimensions together would overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        if shape.contains(where: { $0 < 0 }) { return nil }
        if shape.contains(0) { return 0 }
        var product = 1
        for dimension in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }

    /// Bytes a tensor of this shape and dtype occupies, or nil on overflow.
    static func byteCount(_ shape: [Int], _ dtype: DType) -> Int? {
        guard let count = elementCount(shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        return overflow ? nil : bytes
    }
}
