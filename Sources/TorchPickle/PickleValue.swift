/// A storage reference made from a persistent id
/// `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`.
struct StorageReference: Equatable {
    var dtype: TorchDType
    var key: String
    var location: String
    var elementCount: Int
}

/// A tensor as data.pkl describes it, before its storage bytes are attached.
/// Lets tools and tests inspect a pickle without any archive around it.
public struct TorchTensorRecord: Sendable, Equatable {
    public let dtype: TorchDType
    public let shape: [Int]
    public let strides: [Int]
    public let storageOffset: Int
    /// Storage key: the zip entry `<archive>/data/<key>` or the legacy storage id.
    public let storageKey: String
    /// Elements in the whole storage (the persistent id's numel), not just this view.
    public let storageElementCount: Int
    /// Device the tensor was saved from ("cpu", "cuda:0", ...); data is always read to host memory.
    public let location: String
    public let requiresGrad: Bool
}

/// Dictionary keys a TensorDataset pickle can contain; other key kinds are refused.
enum PickleKey: Hashable {
    case none
    case bool(Bool)
    case int(Int)
    case string(String)
}

/// An insertion-ordered dict with O(1) replacement of existing keys.
struct PickleDict {
    private(set) var keys: [PickleKey] = []
    private(set) var values: [PickleValue] = []
    private var index: [PickleKey: Int] = [:]
    private(set) var depth = 1

    var count: Int { keys.count }

    subscript(key: PickleKey) -> PickleValue? {
        index[key].map { values[$0] }
    }

    mutating func set(_ key: PickleKey, _ value: PickleValue) {
        depth = max(depth, value.depth + 1)
        if let position = index[key] {
            values[position] = value
        } else {
            index[key] = keys.count
            keys.append(key)
            values.append(value)
        }
    }
}

/// A value on the pickle machine's stack. Value semantics keep the machine free
/// of reference cycles; `depth` bounds nesting so teardown cannot recurse deeply.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// A LONG1 wider than 64 bits, little-endian two's complement (the legacy magic number).
    case bigInt([UInt8])
    case string(String)
    case tuple([PickleValue], depth: Int)
    case list([PickleValue], depth: Int)
    case dict(PickleDict)
    case global(TorchGlobal)
    case storage(StorageReference)
    case tensor(TorchTensorRecord)
    /// `TensorDataset.__new__` result, with its BUILD state once set.
    case tensorDataset(state: PickleDict?)
    /// BINFLOAT (checkpoints only).
    case float(Double)
    /// BINBYTES and friends: only the length is kept, the bytes are never interpreted.
    case bytes(count: Int)
    /// A set or frozenset (checkpoints only).
    case set([PickleValue], depth: Int)
    /// An instance of an unknown class (a module, `torch.device`, ...): its class
    /// name and BUILD state, inert data that nothing ever calls.
    case object(PickleObject)

    var depth: Int {
        switch self {
        case .tuple(_, let depth), .list(_, let depth), .set(_, let depth): return depth
        case .dict(let dict): return dict.depth
        case .tensorDataset(let state): return (state?.depth ?? 0) + 1
        case .object(let object): return object.depth
        default: return 0
        }
    }

    static func makeTuple(_ items: [PickleValue]) -> PickleValue {
        .tuple(items, depth: (items.map(\.depth).max() ?? 0) + 1)
    }

    /// Short kind name for error messages.
    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .bigInt: return "big int"
        case .string: return "str"
        case .tuple(let items, _): return "tuple of \(items.count)"
        case .list(let items, _): return "list of \(items.count)"
        case .dict(let dict): return "dict of \(dict.count)"
        case .global(let global): return global.qualifiedName
        case .storage: return "storage"
        case .tensor: return "tensor"
        case .tensorDataset: return "TensorDataset"
        case .float: return "float"
        case .bytes(let count): return "bytes of \(count)"
        case .set(let items, _): return "set of \(items.count)"
        case .object(let object): return "\(object.className) instance"
        }
    }

    var asKey: PickleKey? {
        switch self {
        case .none: return PickleKey.none
        case .bool(let value): return .bool(value)
        case .int(let value): return .int(value)
        case .string(let value): return .string(value)
        default: return nil
        }
    }
}

/// Guards that keep a hostile pickle from exhausting memory or stack.
struct PickleLimits {
    var maxStackItems = 100_000
    var maxMarks = 10_000
    var maxMemoEntries = 100_000
    var maxDepth = 32
    var maxStringBytes = 1 << 20
    var maxGlobalLineBytes = 256
    var maxTensorDimensions = 32
    var maxBytesLength = 1 << 24

    /// Nesting allowed in checkpoints: each module level adds an object, its
    /// state dict and its `_modules` dict.
    static let graphDepth = 200
}


/// An inert instance: what NEWOBJ of an unknown class builds instead of calling it.
struct PickleObject {
    let className: String
    /// The BUILD state (the instance `__dict__`), nil until BUILD.
    var state: PickleDict?
    /// Constructor arguments kept as data (`torch.device('cpu')`), never passed to anything.
    var arguments: [PickleValue] = []

    var depth: Int { max(state?.depth ?? 0, (arguments.map(\.depth).max() ?? 0)) + 1 }
}
