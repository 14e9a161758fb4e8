/// The only globals a TensorDataset pickle may name. Each is interpreted by
/// this reader; none is ever imported or called.
enum TorchGlobal: Equatable {
    case rebuildTensorV2
    case storageType(TorchDType)
    case tensorDataset
    case orderedDict

    init?(module: String, name: String) {
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch.utils.data.dataset", "TensorDataset"): self = .tensorDataset
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch", _):
            guard let dtype = TorchDType(storageClassName: name) else { return nil }
            self = .storageType(dtype)
        default: return nil
        }
    }

    var qualifiedName: String {
        switch self {
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .storageType(let dtype): return "torch.\(dtype.storageClassName)"
        case .tensorDataset: return "torch.utils.data.dataset.TensorDataset"
        case .orderedDict: return "collections.OrderedDict"
        }
    }
}

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

    var depth: Int {
        switch self {
        case .tuple(_, let depth), .list(_, let depth): return depth
        case .dict(let dict): return dict.depth
        case .tensorDataset(let state): return (state?.depth ?? 0) + 1
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
}

/// Pickle opcode bytes and names (protocols 0–5), used to name refused opcodes.
enum PickleOpcode {
    static let names: [UInt8: String] = [
        0x28: "MARK", 0x2e: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT",
        0x49: "INT", 0x4a: "BININT", 0x4b: "BININT1", 0x4c: "LONG", 0x4d: "BININT2", 0x4e: "NONE",
        0x50: "PERSID", 0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING",
        0x55: "SHORT_BINSTRING", 0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD",
        0x63: "GLOBAL", 0x64: "DICT", 0x7d: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET",
        0x69: "INST", 0x6a: "LONG_BINGET", 0x6c: "LIST", 0x5d: "EMPTY_LIST", 0x6f: "OBJ", 0x70: "PUT",
        0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE",
        0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2",
        0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE",
        0x8a: "LONG1", 0x8b: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES", 0x8c: "SHORT_BINUNICODE",
        0x8d: "BINUNICODE8", 0x8e: "BINBYTES8", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME", 0x96: "BYTEARRAY8",
        0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    static func label(_ opcode: UInt8) -> String {
        "\(hex8(opcode)) \(names[opcode] ?? "?")"
    }
}

/// A restricted pickle virtual machine: it understands the opcodes torch.save
/// emits for a TensorDataset (protocols 2 and 4) and builds plain values. It
/// never imports, calls or executes anything; unknown globals and opcodes are
/// errors, and every read is bounds-checked.
struct PickleMachine {
    let bytes: UnsafeRawBufferPointer
    let file: String
    let entry: String
    var limits = PickleLimits()

    private var position: Int
    private var opcodeOffset = 0
    private var opcodeName = ""
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: UnsafeRawBufferPointer, start: Int = 0, file: String, entry: String) {
        self.bytes = bytes
        self.file = file
        self.entry = entry
        self.position = start
    }

    /// Runs to STOP; returns the single result and the offset just past STOP.
    mutating func run() throws -> (value: PickleValue, end: Int) {
        while true {
            opcodeOffset = position
            let opcode = try readByte()
            opcodeName = PickleOpcode.label(opcode)
            switch opcode {
            case 0x80: // PROTO
                let version = try readByte()
                guard version >= 2 && version <= 5 else {
                    throw malformed("pickle protocol \(version) is not supported (2...5 are)")
                }
            case 0x95: // FRAME: framing is transparent; only check the frame fits.
                let length = try readUInt(8)
                guard length <= UInt64(bytes.count - position) else { throw truncated() }
            case 0x2e: // STOP
                guard marks.isEmpty else { throw malformed("STOP inside an open MARK") }
                guard stack.count == 1, let value = stack.first else {
                    if stack.isEmpty { throw underflow() }
                    throw malformed("STOP with \(stack.count) values on the stack")
                }
                return (value, position)
            case 0x28: // MARK
                guard marks.count < limits.maxMarks else { throw limit("more than \(limits.maxMarks) open MARKs") }
                marks.append(stack.count)
            case 0x4e: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4b: try push(.int(Int(try readUInt(1))))
            case 0x4d: try push(.int(Int(try readUInt(2))))
            case 0x4a: try push(.int(Int(Int32(truncatingIfNeeded: try readUInt(4)))))
            case 0x8a: try push(try readLong1())
            case 0x58: try push(.string(try readString(length: Int(try readUInt(4)))))
            case 0x8c: try push(.string(try readString(length: Int(try readUInt(1)))))
            case 0x63: // GLOBAL
                let module = try readLine()
                let name = try readLine()
                try push(.global(try resolveGlobal(module: module, name: name)))
            case 0x93: // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let moduleName) = module, case .string(let globalName) = name else {
                    throw malformed("STACK_GLOBAL needs two strings, got \(module.kindName) and \(name.kindName)")
                }
                try push(.global(try resolveGlobal(module: moduleName, name: globalName)))
            case 0x71: try memoize(at: Int(try readUInt(1)))
            case 0x72: try memoize(at: Int(try readUInt(4)))
            case 0x94: try memoize(at: memo.count)
            case 0x68: try recall(Int(try readUInt(1)))
            case 0x6a: try recall(Int(try readUInt(4)))
            case 0x29: try push(.tuple([], depth: 1))
            case 0x7d: try push(.dict(PickleDict()))
            case 0x5d: try push(.list([], depth: 1))
            case 0x74: try push(try makeTuple(try popToMark()))
            case 0x85, 0x86, 0x87:
                let count = Int(opcode - 0x84)
                guard stack.count - count >= (marks.last ?? 0) else { throw underflow() }
                let items = Array(stack.suffix(count))
                stack.removeLast(count)
                try push(try makeTuple(items))
            case 0x73: // SETITEM
                let value = try pop()
                let key = try pop()
                try setItems([(key, value)])
            case 0x75: // SETITEMS
                let items = try popToMark()
                guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number (\(items.count)) of items") }
                try setItems(stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) })
            case 0x61: // APPEND
                let value = try pop()
                try append([value])
            case 0x65: // APPENDS
                try append(try popToMark())
            case 0x51: // BINPERSID
                try push(.storage(try persistentLoad(try pop())))
            case 0x52: // REDUCE
                let arguments = try pop()
                let callable = try pop()
                try push(try reduce(callable, arguments))
            case 0x81: // NEWOBJ
                let arguments = try pop()
                let cls = try pop()
                try push(try newObject(cls, arguments))
            case 0x62: // BUILD
                let state = try pop()
                let object = try pop()
                try push(try build(object, state))
            default:
                if PickleOpcode.names[opcode] != nil {
                    throw TorchPickleError.unsupportedOpcode(file: file, entry: entry, offset: opcodeOffset,
                                                             opcode: opcode, name: PickleOpcode.names[opcode] ?? "?")
                }
                throw TorchPickleError.unknownOpcode(file: file, entry: entry, offset: opcodeOffset, opcode: opcode)
            }
        }
    }

    // MARK: - Reading

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    /// Little-endian unsigned integer of `width` bytes (1...8).
    private mutating func readUInt(_ width: Int) throws -> UInt64 {
        guard width <= bytes.count - position else { throw truncated() }
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        position += width
        return value
    }

    private mutating func readLong1() throws -> PickleValue {
        let length = Int(try readUInt(1))
        guard length <= bytes.count - position else { throw truncated() }
        let raw = (0..<length).map { bytes[position + $0] }
        position += length
        if length == 0 { return .int(0) }
        if length > 8 { return .bigInt(raw) }
        var value: UInt64 = 0
        for (index, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        if length < 8, raw[length - 1] & 0x80 != 0 {
            value |= UInt64.max << (8 * UInt64(length))
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    private mutating func readString(length: Int) throws -> String {
        guard length <= limits.maxStringBytes else {
            throw limit("string of \(length) bytes (limit \(limits.maxStringBytes))")
        }
        guard length <= bytes.count - position else { throw truncated() }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)])
        position += length
        guard let text = String(validatingUTF8Bytes: slice) else { throw malformed("string is not valid UTF-8") }
        return text
    }

    /// A newline-terminated ASCII line, as GLOBAL's module and name arguments.
    private mutating func readLine() throws -> String {
        var end = position
        while true {
            guard end < bytes.count else { throw truncated() }
            if bytes[end] == 0x0a { break }
            guard end - position < limits.maxGlobalLineBytes else {
                throw limit("GLOBAL name longer than \(limits.maxGlobalLineBytes) bytes")
            }
            end += 1
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<end])
        position = end + 1
        guard let text = String(validatingUTF8Bytes: slice) else { throw malformed("GLOBAL name is not valid UTF-8") }
        return text
    }

    // MARK: - Stack and memo

    private mutating func push(_ value: PickleValue) throws {
        guard stack.count < limits.maxStackItems else { throw limit("more than \(limits.maxStackItems) stack items") }
        guard value.depth <= limits.maxDepth else { throw limit("values nested deeper than \(limits.maxDepth)") }
        stack.append(value)
    }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else { throw underflow() }
        return value
    }

    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw underflow() }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func memoize(at index: Int) throws {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw underflow() }
        guard memo[index] != nil || memo.count < limits.maxMemoEntries else {
            throw limit("more than \(limits.maxMemoEntries) memo entries")
        }
        memo[index] = top
    }

    private mutating func recall(_ index: Int) throws {
        guard let value = memo[index] else {
            throw TorchPickleError.memoMiss(file: file, entry: entry, offset: opcodeOffset, index: index)
        }
        try push(value)
    }

    private func makeTuple(_ items: [PickleValue]) throws -> PickleValue {
        PickleValue.makeTuple(items)
    }

    /// SETITEM(S): the dict sits just below the popped items.
    private mutating func setItems(_ pairs: [(PickleValue, PickleValue)]) throws {
        guard stack.count > (marks.last ?? 0), let target = stack.popLast() else { throw underflow() }
        guard case .dict(var dict) = target else {
            throw malformed("SETITEM target is \(target.kindName), not a dict")
        }
        for (key, value) in pairs {
            guard let hashable = key.asKey else { throw malformed("dict key of kind \(key.kindName) is not supported") }
            dict.set(hashable, value)
        }
        try push(.dict(dict))
    }

    /// APPEND(S): the list sits just below the popped items.
    private mutating func append(_ items: [PickleValue]) throws {
        guard stack.count > (marks.last ?? 0), let target = stack.popLast() else { throw underflow() }
        guard case .list(var list, var depth) = target else {
            throw malformed("APPEND target is \(target.kindName), not a list")
        }
        for item in items { depth = max(depth, item.depth + 1) }
        list.append(contentsOf: items)
        try push(.list(list, depth: depth))
    }

    // MARK: - Object semantics of the allowed globals

    private func resolveGlobal(module: String, name: String) throws -> TorchGlobal {
        guard let global = TorchGlobal(module: module, name: name) else {
            throw TorchPickleError.forbiddenGlobal(file: file, entry: entry, offset: opcodeOffset, global: "\(module).\(name)")
        }
        return global
    }

    /// torch's persistent_load for `('storage', StorageType, key, location, numel[, view_metadata])`.
    private func persistentLoad(_ pid: PickleValue) throws -> StorageReference {
        guard case .tuple(let items, _) = pid, items.count == 5 || items.count == 6 else {
            throw malformed("persistent id must be a 5- or 6-tuple, got \(pid.kindName)")
        }
        guard case .string("storage") = items[0] else {
            throw malformed("persistent id kind \(describe(items[0])) is not 'storage'")
        }
        guard case .global(.storageType(let dtype)) = items[1] else {
            throw malformed("persistent id storage type is \(items[1].kindName), not a torch storage class")
        }
        guard case .string(let key) = items[2] else { throw malformed("storage key is \(items[2].kindName), not str") }
        guard case .string(let location) = items[3] else { throw malformed("storage location is \(items[3].kindName), not str") }
        guard case .int(let count) = items[4], count >= 0 else {
            throw malformed("storage element count \(describe(items[4])) is not a non-negative int")
        }
        if items.count == 6 {
            guard case .none = items[5] else {
                throw malformed("storage view metadata (pre-0.4 shared storage views) is not supported")
            }
        }
        return StorageReference(dtype: dtype, key: key, location: location, elementCount: count)
    }

    private func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .tuple(let args, _) = arguments else {
            throw malformed("REDUCE arguments are \(arguments.kindName), not a tuple")
        }
        switch callable {
        case .global(.rebuildTensorV2):
            return .tensor(try rebuildTensor(args))
        case .global(.orderedDict):
            guard args.isEmpty else { throw malformed("OrderedDict(...) with arguments is not supported") }
            return .dict(PickleDict())
        default:
            throw malformed("REDUCE may not call \(callable.kindName)")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ args: [PickleValue]) throws -> TorchTensorRecord {
        guard args.count == 6 || args.count == 7 else {
            throw malformed("_rebuild_tensor_v2 takes 6 or 7 arguments, got \(args.count)")
        }
        guard case .storage(let storage) = args[0] else {
            throw malformed("_rebuild_tensor_v2 storage argument is \(args[0].kindName)")
        }
        guard case .int(let offset) = args[1], offset >= 0 else {
            throw malformed("storage offset \(describe(args[1])) is not a non-negative int")
        }
        let shape = try intTuple(args[2], what: "size")
        let strides = try intTuple(args[3], what: "stride")
        guard shape.count == strides.count else {
            throw malformed("size has \(shape.count) dimensions but stride has \(strides.count)")
        }
        guard case .bool(let requiresGrad) = args[4] else {
            throw malformed("requires_grad is \(args[4].kindName), not bool")
        }
        guard case .dict(let hooks) = args[5], hooks.count == 0 else {
            throw malformed("backward hooks must be an empty OrderedDict, got \(args[5].kindName)")
        }
        if args.count == 7 {
            switch args[6] {
            case .none: break
            case .dict(let metadata) where metadata.count == 0: break
            default: throw malformed("tensor metadata \(args[6].kindName) is not supported")
            }
        }
        return TorchTensorRecord(dtype: storage.dtype, shape: shape, strides: strides, storageOffset: offset,
                                 storageKey: storage.key, storageElementCount: storage.elementCount,
                                 location: storage.location, requiresGrad: requiresGrad)
    }

    private func intTuple(_ value: PickleValue, what: String) throws -> [Int] {
        guard case .tuple(let items, _) = value else { throw malformed("tensor \(what) is \(value.kindName), not a tuple") }
        guard items.count <= limits.maxTensorDimensions else {
            throw limit("tensor with \(items.count) dimensions (limit \(limits.maxTensorDimensions))")
        }
        return try items.map { item in
            guard case .int(let number) = item, number >= 0 else {
                throw malformed("tensor \(what) entry \(describe(item)) is not a non-negative int")
            }
            return number
        }
    }

    private func newObject(_ cls: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(.tensorDataset) = cls else { throw malformed("NEWOBJ may not create \(cls.kindName)") }
        guard case .tuple(let args, _) = arguments, args.isEmpty else {
            throw malformed("TensorDataset.__new__ takes no arguments, got \(arguments.kindName)")
        }
        return .tensorDataset(state: nil)
    }

    private func build(_ object: PickleValue, _ state: PickleValue) throws -> PickleValue {
        guard case .tensorDataset(nil) = object else { throw malformed("BUILD on \(object.kindName) is not supported") }
        guard case .dict(let dict) = state else { throw malformed("TensorDataset state is \(state.kindName), not a dict") }
        return .tensorDataset(state: dict)
    }

    // MARK: - Errors

    private func describe(_ value: PickleValue) -> String {
        switch value {
        case .int(let number): return String(number)
        case .string(let text): return "'\(text.prefix(64))'"
        default: return value.kindName
        }
    }

    private func truncated() -> TorchPickleError {
        .truncatedPickle(file: file, entry: entry, offset: position)
    }

    private func underflow() -> TorchPickleError {
        .stackUnderflow(file: file, entry: entry, offset: opcodeOffset, opcode: opcodeName)
    }

    private func limit(_ what: String) -> TorchPickleError {
        .limitExceeded(file: file, entry: entry, offset: opcodeOffset, limit: what)
    }

    private func malformed(_ reason: String) -> TorchPickleError {
        .malformedPickle(file: file, entry: entry, offset: opcodeOffset, opcode: opcodeName, reason: reason)
    }
}

extension String {
    /// Strict UTF-8 decoding; nil on invalid bytes instead of repairing them.
    init?(validatingUTF8Bytes bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else { return nil }
        self = text
    }
}
