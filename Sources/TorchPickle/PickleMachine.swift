/// What a pickle is expected to hold, which decides the globals and opcodes it may use.
enum PickleMode {
    /// A TensorDataset partition: the strict allow-list only.
    case tensorDataset
    /// A model checkpoint (whole module or state_dict): unknown classes become
    /// inert records, code-running globals and calls are refused.
    case objectGraph
}

/// A restricted pickle virtual machine: it understands the opcodes torch.save
/// emits (protocols 2 and 4) and builds plain values. It never imports, calls
/// or executes anything; forbidden globals and opcodes are errors, and every
/// read is bounds-checked.
struct PickleMachine {
    let bytes: UnsafeRawBufferPointer
    let file: String
    let entry: String
    let mode: PickleMode
    var limits = PickleLimits()

    var position: Int
    var opcodeOffset = 0
    var opcodeName = ""
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    /// Memo slots whose value is still on the stack (slot → stack index). A GET
    /// reads the stack copy, so containers and objects filled after their PUT
    /// (SETITEMS, APPENDS, BUILD) are seen complete, as Python's shared
    /// references would be; the memo copy is refreshed when the value is consumed.
    var liveMemo: [Int: Int] = [:]
    var memoAtPosition: [Int: [Int]] = [:]
    /// Every storage a persistent id named, tensor or not (legacy streams need each one's size).
    var storageReferences: [String: StorageReference] = [:]

    init(bytes: UnsafeRawBufferPointer, start: Int = 0, file: String, entry: String, mode: PickleMode = .tensorDataset) {
        self.bytes = bytes
        self.file = file
        self.entry = entry
        self.mode = mode
        self.position = start
        if mode == .objectGraph { limits.maxDepth = PickleLimits.graphDepth }
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
                for (offset, item) in items.enumerated() { commitMemo(at: stack.count - count + offset, item) }
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
                let pid = try pop()
                if mode == .objectGraph, let moduleClass = try moduleSourceReference(pid) {
                    try push(moduleClass)
                } else {
                    let reference = try persistentLoad(pid)
                    if mode == .objectGraph, let known = storageReferences[reference.key], known != reference {
                        throw malformed("storage '\(reference.key)' is declared as \(reference.elementCount) x \(reference.dtype.rawValue) "
                            + "but elsewhere as \(known.elementCount) x \(known.dtype.rawValue)")
                    }
                    if storageReferences[reference.key] == nil { storageReferences[reference.key] = reference }
                    try push(.storage(reference))
                }
            case 0x52: // REDUCE
                let arguments = try pop()
                let callable = try pop()
                try push(mode == .objectGraph ? try graphReduce(callable, arguments) : try reduce(callable, arguments))
            case 0x81: // NEWOBJ
                let arguments = try pop()
                let cls = try pop()
                try push(mode == .objectGraph ? try graphNewObject(cls, arguments, keywords: nil) : try newObject(cls, arguments))
            case 0x62: // BUILD
                let state = try pop()
                let object = try takeTop()
                try putTop(mode == .objectGraph ? try graphBuild(object, state) : try build(object, state))
            default:
                if mode == .objectGraph, try runGraphOpcode(opcode) { continue }
                if PickleOpcode.names[opcode] != nil {
                    throw TorchPickleError.unsupportedOpcode(file: file, entry: entry, offset: opcodeOffset,
                                                             opcode: opcode, name: PickleOpcode.names[opcode] ?? "?")
                }
                throw TorchPickleError.unknownOpcode(file: file, entry: entry, offset: opcodeOffset, opcode: opcode)
            }
        }
    }

    // MARK: - Reading

    mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    /// Little-endian unsigned integer of `width` bytes (1...8).
    mutating func readUInt(_ width: Int) throws -> UInt64 {
        guard width <= bytes.count - position else { throw truncated() }
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        position += width
        return value
    }

    mutating func readLong1() throws -> PickleValue {
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

    mutating func readString(length: Int) throws -> String {
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
    mutating func readLine() throws -> String {
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

    mutating func push(_ value: PickleValue) throws {
        guard stack.count < limits.maxStackItems else { throw limit("more than \(limits.maxStackItems) stack items") }
        guard value.depth <= limits.maxDepth else { throw limit("values nested deeper than \(limits.maxDepth)") }
        stack.append(value)
    }

    mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else { throw underflow() }
        commitMemo(at: stack.count, value)
        return value
    }

    mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw underflow() }
        let items = Array(stack[mark...])
        for (offset, item) in items.enumerated() { commitMemo(at: mark + offset, item) }
        stack.removeSubrange(mark...)
        return items
    }

    /// The value at stack `position` is leaving the stack: its memo slots get its final state.
    mutating func commitMemo(at position: Int, _ value: PickleValue) {
        guard let slots = memoAtPosition.removeValue(forKey: position) else { return }
        for slot in slots where liveMemo[slot] == position {
            memo[slot] = value
            liveMemo[slot] = nil
        }
    }

    /// Moves the top value out for an in-place change (SETITEMS, APPENDS, BUILD),
    /// leaving its slot — and the memo slots attached to it — for `putTop`.
    mutating func takeTop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw underflow() }
        let value = stack[stack.count - 1]
        stack[stack.count - 1] = .none
        return value
    }

    /// Puts the changed value back where `takeTop` took it from.
    mutating func putTop(_ value: PickleValue) throws {
        guard value.depth <= limits.maxDepth else { throw limit("values nested deeper than \(limits.maxDepth)") }
        stack[stack.count - 1] = value
    }

    mutating func memoize(at index: Int) throws {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw underflow() }
        guard memo[index] != nil || memo.count < limits.maxMemoEntries else {
            throw limit("more than \(limits.maxMemoEntries) memo entries")
        }
        memo[index] = top
        let position = stack.count - 1
        liveMemo[index] = position
        memoAtPosition[position, default: []].append(index)
    }

    mutating func recall(_ index: Int) throws {
        if let position = liveMemo[index], position < stack.count {
            try push(stack[position])
            return
        }
        guard let value = memo[index] else {
            throw TorchPickleError.memoMiss(file: file, entry: entry, offset: opcodeOffset, index: index)
        }
        try push(value)
    }

    func makeTuple(_ items: [PickleValue]) throws -> PickleValue {
        PickleValue.makeTuple(items)
    }

    /// SETITEM(S): the dict sits just below the popped items.
    mutating func setItems(_ pairs: [(PickleValue, PickleValue)]) throws {
        var target = try takeTop()
        guard case .dict(var dict) = target else {
            throw malformed("SETITEM target is \(target.kindName), not a dict")
        }
        target = .none
        for (key, value) in pairs {
            guard let hashable = key.asKey else { throw malformed("dict key of kind \(key.kindName) is not supported") }
            dict.set(hashable, value)
        }
        try putTop(.dict(dict))
    }

    /// APPEND(S): the list sits just below the popped items.
    mutating func append(_ items: [PickleValue]) throws {
        var target = try takeTop()
        guard case .list(var list, var depth) = target else {
            throw malformed("APPEND target is \(target.kindName), not a list")
        }
        target = .none
        for item in items { depth = max(depth, item.depth + 1) }
        list.append(contentsOf: items)
        try putTop(.list(list, depth: depth))
    }

    // MARK: - Object semantics of the allowed globals

    func resolveGlobal(module: String, name: String) throws -> TorchGlobal {
        let resolved = mode == .objectGraph ? TorchGlobal.resolveInGraph(module: module, name: name)
            : TorchGlobal(module: module, name: name)
        guard let global = resolved else {
            throw TorchPickleError.forbiddenGlobal(file: file, entry: entry, offset: opcodeOffset, global: "\(module).\(name)")
        }
        return global
    }

    /// torch's persistent_load for `('storage', StorageType, key, location, numel[, view_metadata])`.
    func persistentLoad(_ pid: PickleValue) throws -> StorageReference {
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

    func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
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
    func rebuildTensor(_ args: [PickleValue]) throws -> TorchTensorRecord {
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

    func intTuple(_ value: PickleValue, what: String) throws -> [Int] {
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

    func newObject(_ cls: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(.tensorDataset) = cls else { throw malformed("NEWOBJ may not create \(cls.kindName)") }
        guard case .tuple(let args, _) = arguments, args.isEmpty else {
            throw malformed("TensorDataset.__new__ takes no arguments, got \(arguments.kindName)")
        }
        return .tensorDataset(state: nil)
    }

    func build(_ object: PickleValue, _ state: PickleValue) throws -> PickleValue {
        guard case .tensorDataset(nil) = object else { throw malformed("BUILD on \(object.kindName) is not supported") }
        guard case .dict(let dict) = state else { throw malformed("TensorDataset state is \(state.kindName), not a dict") }
        return .tensorDataset(state: dict)
    }

    // MARK: - Errors

    func describe(_ value: PickleValue) -> String {
        switch value {
        case .int(let number): return String(number)
        case .string(let text): return "'\(text.prefix(64))'"
        default: return value.kindName
        }
    }

    func truncated() -> TorchPickleError {
        .truncatedPickle(file: file, entry: entry, offset: position)
    }

    func underflow() -> TorchPickleError {
        .stackUnderflow(file: file, entry: entry, offset: opcodeOffset, opcode: opcodeName)
    }

    func limit(_ what: String) -> TorchPickleError {
        .limitExceeded(file: file, entry: entry, offset: opcodeOffset, limit: what)
    }

    func malformed(_ reason: String) -> TorchPickleError {
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
