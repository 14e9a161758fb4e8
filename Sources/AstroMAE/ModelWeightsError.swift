/// Why a checkpoint cannot be used for AstroMAE.
public enum ModelWeightsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    /// Every missing, unexpected, duplicated and wrong-shape name at once.
    case nameMismatch(path: String, report: CheckpointNameReport)
    case wrongDType(path: String, name: String, dtype: String)
    case nonFinite(path: String, name: String, index: Int)
    case badRenameMap(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): not a readable checkpoint: \(reason)"
        case let .nameMismatch(path, report):
            return "\(path): tensor names do not match AstroMAE (ASTROMAE.md state_dict names; "
                + "a --rename-map can fix renamed checkpoints):\n\(report)"
        case let .wrongDType(path, name, dtype):
            return "\(path): tensor '\(name)' has dtype \(dtype); only float32, float16, bfloat16 and float64 weights are supported"
        case let .nonFinite(path, name, index):
            return "\(path): tensor '\(name)' holds a non-finite value at element \(index)"
        case let .badRenameMap(path, reason):
            return "\(path): bad rename map: \(reason)"
        }
    }
}
