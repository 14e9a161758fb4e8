/// Element types a torch storage can hold; the raw value is torch's dtype name
/// (`torch.float32` → "float32") so messages read like PyTorch's.
public enum TorchDType: String, Sendable, CaseIterable {
    case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    /// Bytes per element, as stored in a torch storage.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// The legacy typed-storage class name pickled for this dtype
    /// (`torch.FloatStorage` is written for float32 tensors).
    var storageClassName: String {
        switch self {
        case .float32: return "FloatStorage"
        case .float64: return "DoubleStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .int64: return "LongStorage"
        case .int32: return "IntStorage"
        case .int16: return "ShortStorage"
        case .int8: return "CharStorage"
        case .uint8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }

    /// The dtype whose storage class is `torch.<name>`, if any.
    init?(storageClassName name: String) {
        guard let match = TorchDType.allCases.first(where: { $0.storageClassName == name }) else { return nil }
        self = match
    }
}
