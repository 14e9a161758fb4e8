/// Everything that can go wrong reading a torch.save file. Each message names
/// the file, the zip entry or tensor involved and the offending value, so a bad
/// partition file can be found and fixed without a debugger.
public enum TorchPickleError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, stat'ed or mapped.
    case unreadableFile(file: String, reason: String)
    /// Neither a torch zip archive nor a legacy torch.save stream.
    case notATorchFile(file: String, reason: String)
    /// A legacy (pre-1.6) stream this reader does not handle.
    case unsupportedLegacyFormat(file: String, reason: String)
    /// The zip container is damaged (truncated, bad signatures, out-of-range offsets).
    case malformedZip(file: String, reason: String)
    /// A zip entry or legacy storage that the pickle needs is absent.
    case missingEntry(file: String, entry: String)
    /// A zip entry's CRC-32 does not match its bytes.
    case checksumMismatch(file: String, entry: String, expected: UInt32, actual: UInt32)
    /// A zip entry uses a compression method other than stored or deflate.
    case unsupportedCompression(file: String, entry: String, method: UInt16)
    /// A compressed entry could not be inflated to its declared size.
    case corruptEntry(file: String, entry: String, reason: String)
    /// The archive's `byteorder` record is not "little".
    case unsupportedByteOrder(file: String, entry: String, value: String)
    /// The pickle ends before its STOP opcode or mid-argument.
    case truncatedPickle(file: String, entry: String, offset: Int)
    /// A byte that is no pickle opcode at all.
    case unknownOpcode(file: String, entry: String, offset: Int, opcode: UInt8)
    /// A real pickle opcode that torch.save never emits (or one that could run code), so it is refused.
    case unsupportedOpcode(file: String, entry: String, offset: Int, opcode: UInt8, name: String)
    /// A GLOBAL outside the small allow-list (for example `os.system`); nothing is imported or run.
    case forbiddenGlobal(file: String, entry: String, offset: Int, global: String)
    /// A pickle that would call or patch `global` (REDUCE, NEWOBJ with arguments,
    /// INST, OBJ, BUILD on a global, ...): refused before any tensor is read.
    case forbiddenCall(file: String, entry: String, offset: Int, global: String, reason: String)
    /// The checkpoint pickle holds no module tree or state_dict of tensors.
    case unexpectedCheckpoint(file: String, reason: String)
    /// An opcode needed more stack items (or a MARK) than there were.
    case stackUnderflow(file: String, entry: String, offset: Int, opcode: String)
    /// A memo GET of an index that was never PUT.
    case memoMiss(file: String, entry: String, offset: Int, index: Int)
    /// A size, depth or count guard tripped.
    case limitExceeded(file: String, entry: String, offset: Int, limit: String)
    /// Opcode arguments of the wrong kind (for example REDUCE on a non-callable).
    case malformedPickle(file: String, entry: String, offset: Int, opcode: String, reason: String)
    /// The unpickled object is not a TensorDataset of tensors.
    case unexpectedObject(file: String, entry: String, reason: String)
    /// A tensor's size, stride or offset is invalid or reaches outside its storage.
    case invalidTensor(file: String, tensor: String, reason: String)
    /// A storage's bytes do not match the element count the pickle declares.
    case storageSizeMismatch(file: String, entry: String, expectedBytes: Int, actualBytes: Int)
    /// The tensors of the dataset disagree on the number of samples (their first dimension).
    case sampleCountMismatch(file: String, counts: [Int])
    /// The dataset does not hold the number of tensors the caller expects.
    case wrongTensorCount(file: String, expected: Int, actual: Int)
    /// A tensor has a dtype the caller does not accept.
    case wrongDType(file: String, tensor: String, expected: [TorchDType], actual: TorchDType)
    /// A tensor has a shape the caller does not accept.
    case wrongShape(file: String, tensor: String, expected: String, actual: [Int])

    public var description: String {
        switch self {
        case let .unreadableFile(file, reason):
            return "\(file): cannot read file: \(reason)"
        case let .notATorchFile(file, reason):
            return "\(file): not a torch.save file: \(reason)"
        case let .unsupportedLegacyFormat(file, reason):
            return "\(file): legacy torch.save format not supported, re-save with torch>=1.6 (\(reason))"
        case let .malformedZip(file, reason):
            return "\(file): malformed zip archive: \(reason)"
        case let .missingEntry(file, entry):
            return "\(file): missing entry '\(entry)'"
        case let .checksumMismatch(file, entry, expected, actual):
            return "\(file): entry '\(entry)' CRC-32 is \(hex32(actual)), the zip directory says \(hex32(expected))"
        case let .unsupportedCompression(file, entry, method):
            return "\(file): entry '\(entry)' uses zip compression method \(method) (only stored and deflate are supported)"
        case let .corruptEntry(file, entry, reason):
            return "\(file): entry '\(entry)' is corrupt: \(reason)"
        case let .unsupportedByteOrder(file, entry, value):
            return "\(file): entry '\(entry)' says byte order '\(value)'; only little-endian archives are supported"
        case let .truncatedPickle(file, entry, offset):
            return "\(file): pickle '\(entry)' ends early at byte \(offset)"
        case let .unknownOpcode(file, entry, offset, opcode):
            return "\(file): pickle '\(entry)' has unknown opcode \(hex8(opcode)) at byte \(offset)"
        case let .unsupportedOpcode(file, entry, offset, opcode, name):
            return "\(file): pickle '\(entry)' uses opcode \(hex8(opcode)) \(name) at byte \(offset), which a torch.save file never needs"
        case let .forbiddenGlobal(file, entry, offset, global):
            return "\(file): pickle '\(entry)' refers to global '\(global)' at byte \(offset), which is not on the allow-list"
        case let .forbiddenCall(file, entry, offset, global, reason):
            return "\(file): pickle '\(entry)' refused at byte \(offset): \(reason) (global '\(global)'); nothing was executed"
        case let .unexpectedCheckpoint(file, reason):
            return "\(file): not a model checkpoint: \(reason)"
        case let .stackUnderflow(file, entry, offset, opcode):
            return "\(file): pickle '\(entry)' stack underflow in \(opcode) at byte \(offset)"
        case let .memoMiss(file, entry, offset, index):
            return "\(file): pickle '\(entry)' reads memo slot \(index) at byte \(offset), which was never stored"
        case let .limitExceeded(file, entry, offset, limit):
            return "\(file): pickle '\(entry)' exceeds a limit at byte \(offset): \(limit)"
        case let .malformedPickle(file, entry, offset, opcode, reason):
            return "\(file): pickle '\(entry)' \(opcode) at byte \(offset): \(reason)"
        case let .unexpectedObject(file, entry, reason):
            return "\(file): pickle '\(entry)' does not hold a TensorDataset: \(reason)"
        case let .invalidTensor(file, tensor, reason):
            return "\(file): tensor \(tensor): \(reason)"
        case let .storageSizeMismatch(file, entry, expectedBytes, actualBytes):
            return "\(file): storage '\(entry)' has \(actualBytes) bytes, the pickle declares \(expectedBytes)"
        case let .sampleCountMismatch(file, counts):
            return "\(file): TensorDataset tensors have different sample counts \(counts)"
        case let .wrongTensorCount(file, expected, actual):
            return "\(file): TensorDataset holds \(actual) tensors, expected \(expected)"
        case let .wrongDType(file, tensor, expected, actual):
            let names = expected.map(\.rawValue).joined(separator: " or ")
            return "\(file): tensor '\(tensor)' has dtype \(actual.rawValue), expected \(names)"
        case let .wrongShape(file, tensor, expected, actual):
            return "\(file): tensor '\(tensor)' has shape \(actual), expected \(expected)"
        }
    }
}

func hex8(_ value: UInt8) -> String {
    let digits = String(value, radix: 16, uppercase: false)
    return "0x" + (digits.count < 2 ? "0" + digits : digits)
}

func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: false)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
