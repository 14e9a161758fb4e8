/// Why a safetensors file cannot be read or written. Each failure has its own
/// case so callers and tests can tell them apart; every message names the
/// file (or `<writer>` / `<memory>`) and, where one is involved, the tensor.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or is not a regular file.
    case cannotOpen(path: String, reason: String)
    /// The file could not be memory-mapped.
    case cannotMap(path: String, reason: String)
    /// Fewer than the 8 bytes of the header-length field.
    case fileTooShort(path: String, size: Int)
    /// The file starts with text or another format's signature, so its first
    /// 8 bytes are no header length; `start` describes what was found.
    case notSafeTensors(path: String, start: String)
    /// The header-length field exceeds the sanity limit (100 MB).
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    /// The header-length field points past the end of the file.
    case headerLengthExceedsFile(path: String, length: UInt64, available: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(path: String)
    /// The header is not well-formed JSON; `offset` is a byte offset into the header.
    case headerNotJSON(path: String, offset: Int, reason: String)
    /// The header is JSON but not an object.
    case headerNotObject(path: String, found: String)
    /// The same top-level key (tensor name or `__metadata__`) occurs twice.
    case duplicateTensor(path: String, tensor: String)
    /// The same key occurs twice inside one entry (`tensor` is `__metadata__` for metadata).
    case duplicateKey(path: String, tensor: String, key: String)
    /// `__metadata__` is not an object.
    case metadataNotObject(path: String, found: String)
    /// A `__metadata__` value is not a string.
    case metadataValueNotString(path: String, key: String, found: String)
    /// A tensor entry is not an object.
    case entryNotObject(path: String, tensor: String, found: String)
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(path: String, tensor: String, field: String)
    /// A tensor entry has a key other than `dtype`, `shape` and `data_offsets`.
    case unexpectedField(path: String, tensor: String, field: String)
    /// `dtype` is not one of the supported dtype strings (`dtype` is the JSON text found).
    case unknownDType(path: String, tensor: String, dtype: String)
    /// `shape` is not an array of non-negative integers.
    case invalidShape(path: String, tensor: String, reason: String)
    /// The product of `shape` times the dtype size does not fit in `Int`.
    case shapeOverflow(path: String, tensor: String, shape: [Int])
    /// `data_offsets` is not an array of exactly two non-negative integers.
    case invalidDataOffsets(path: String, tensor: String, reason: String)
    /// `data_offsets` has begin > end.
    case reversedDataOffsets(path: String, tensor: String, begin: Int, end: Int)
    /// `data_offsets` reaches past the end of the data section.
    case offsetsOutOfRange(path: String, tensor: String, begin: Int, end: Int, dataLength: Int)
    /// The byte range length differs from product(shape) * dtype size.
    case byteCountMismatch(path: String, tensor: String, expected: Int, actual: Int)
    /// Two tensors share bytes.
    case overlappingTensors(path: String, tensor: String, other: String)
    /// Bytes in `start..<end` of the data section belong to no tensor, before `tensor`.
    case gapInData(path: String, tensor: String, start: Int, end: Int)
    /// The data section continues after the last tensor; `after` is that tensor ("" if none).
    case trailingBytes(path: String, after: String, start: Int, count: Int)
    /// The writer refuses a name that would not round-trip (`__metadata__`).
    case invalidTensorName(path: String, tensor: String)
    /// No tensor of that name.
    case missingTensor(path: String, tensor: String)
    /// A typed accessor was used on a tensor of another dtype.
    case wrongDType(path: String, tensor: String, expected: DType, actual: DType)
    /// Writing the file failed; an existing destination is untouched.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open safetensors file: \(reason)"
        case let .cannotMap(path, reason):
            return "\(path): cannot memory-map safetensors file: \(reason)"
        case let .fileTooShort(path, size):
            return "\(path): \(size) bytes is too short for a safetensors file (needs at least the 8-byte header length)"
        case let .notSafeTensors(path, start):
            return "\(path): not a safetensors file: it starts with \(start)"
        case let .headerTooLarge(path, length, limit):
            return "\(path): header length \(length) exceeds the \(limit)-byte limit (corrupt length field?)"
        case let .headerLengthExceedsFile(path, length, available):
            return "\(path): header length \(length) is larger than the \(available) bytes after the length field"
        case let .headerNotUTF8(path):
            return "\(path): header is not valid UTF-8"
        case let .headerNotJSON(path, offset, reason):
            return "\(path): header is not valid JSON at byte \(offset): \(reason)"
        case let .headerNotObject(path, found):
            return "\(path): header must be a JSON object, found \(found)"
        case let .duplicateTensor(path, tensor):
            return "\(path): header lists '\(tensor)' more than once"
        case let .duplicateKey(path, tensor, key):
            return "\(path): entry '\(tensor)' has key '\(key)' more than once"
        case let .metadataNotObject(path, found):
            return "\(path): '__metadata__' must be an object of strings, found \(found)"
        case let .metadataValueNotString(path, key, found):
            return "\(path): '__metadata__' value for '\(key)' must be a string, found \(found)"
        case let .entryNotObject(path, tensor, found):
            return "\(path): tensor '\(tensor)' must be an object, found \(found)"
        case let .missingField(path, tensor, field):
            return "\(path): tensor '\(tensor)' has no '\(field)'"
        case let .unexpectedField(path, tensor, field):
            return "\(path): tensor '\(tensor)' has unknown field '\(field)'"
        case let .unknownDType(path, tensor, dtype):
            let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(path): tensor '\(tensor)' has unknown dtype \(dtype) (supported: \(known))"
        case let .invalidShape(path, tensor, reason):
            return "\(path): tensor '\(tensor)' has an invalid shape: \(reason)"
        case let .shapeOverflow(path, tensor, shape):
            return "\(path): tensor '\(tensor)' has shape \(shape) whose byte size overflows"
        case let .invalidDataOffsets(path, tensor, reason):
            return "\(path): tensor '\(tensor)' has invalid data_offsets: \(reason)"
        case let .reversedDataOffsets(path, tensor, begin, end):
            return "\(path): tensor '\(tensor)' has data_offsets [\(begin), \(end)] with begin > end"
        case let .offsetsOutOfRange(path, tensor, begin, end, dataLength):
            return "\(path): tensor '\(tensor)' has data_offsets [\(begin), \(end)] beyond the \(dataLength)-byte data section"
        case let .byteCountMismatch(path, tensor, expected, actual):
            return "\(path): tensor '\(tensor)' has \(actual) bytes but its shape and dtype need \(expected)"
        case let .overlappingTensors(path, tensor, other):
            return "\(path): tensor '\(tensor)' overlaps tensor '\(other)'"
        case let .gapInData(path, tensor, start, end):
            return "\(path): data bytes \(start)..<\(end) before tensor '\(tensor)' belong to no tensor"
        case let .trailingBytes(path, after, start, count):
            let owner = after.isEmpty ? "the header (no tensor covers them)" : "tensor '\(after)'"
            return "\(path): \(count) unused data bytes from offset \(start) after \(owner)"
        case let .invalidTensorName(path, tensor):
            return "\(path): '\(tensor)' cannot be used as a tensor name"
        case let .missingTensor(path, tensor):
            return "\(path): no tensor named '\(tensor)'"
        case let .wrongDType(path, tensor, expected, actual):
            return "\(path): tensor '\(tensor)' is \(actual.rawValue), expected \(expected.rawValue)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write safetensors file: \(reason)"
        }
    }
}
