/// Checkpoint (`objectGraph`) semantics: the extra opcodes a whole-module
/// pickle uses, and the module-tree pattern — NEWOBJ of a class with no
/// arguments, then BUILD with its `__dict__` — turned into inert records.
/// Every other way a pickle can call something is refused with the global named.
extension PickleMachine {
    /// Runs one opcode the TensorDataset reader does not know; false when it is not supported at all.
    mutating func runGraphOpcode(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x47: // BINFLOAT, big-endian IEEE double
            guard 8 <= bytes.count - position else { throw truncated() }
            var bits: UInt64 = 0
            for index in 0..<8 { bits = bits << 8 | UInt64(bytes[position + index]) }
            position += 8
            try push(.float(Double(bitPattern: bits)))
        case 0x42: try push(try skipBytes(length: try readUInt(4)))
        case 0x43: try push(try skipBytes(length: try readUInt(1)))
        case 0x8e, 0x96: try push(try skipBytes(length: try readUInt(8)))
        case 0x8d: // BINUNICODE8
            let length = try readUInt(8)
            guard length <= UInt64(limits.maxStringBytes) else { throw limit("string of \(length) bytes (limit \(limits.maxStringBytes))") }
            try push(.string(try readString(length: Int(length))))
        case 0x8b: // LONG4
            let length = try readUInt(4)
            guard length <= 64 else { throw limit("LONG4 of \(length) bytes") }
            guard Int(length) <= bytes.count - position else { throw truncated() }
            let raw = (0..<Int(length)).map { bytes[position + $0] }
            position += Int(length)
            try push(raw.count <= 8 ? littleEndianInt(raw) : .bigInt(raw))
        case 0x8f: try push(.set([], depth: 1))
        case 0x91: try push(PickleValue.makeSet(try popToMark()))
        case 0x90: // ADDITEMS
            let items = try popToMark()
            let target = try takeTop()
            guard case .set(let existing, _) = target else { throw malformed("ADDITEMS target is \(target.kindName), not a set") }
            try putTop(PickleValue.makeSet(existing + items))
        case 0x6c: try push(.list(try popToMark(), depth: 1).rebalanced)
        case 0x64: // DICT
            let items = try popToMark()
            guard items.count % 2 == 0 else { throw malformed("DICT with an odd number (\(items.count)) of items") }
            try push(.dict(PickleDict()))
            try setItems(stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) })
        case 0x30: _ = try pop()
        case 0x31: _ = try popToMark()
        case 0x32:
            guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw underflow() }
            try push(top)
        case 0x92: // NEWOBJ_EX
            let keywords = try pop()
            let arguments = try pop()
            let cls = try pop()
            try push(try graphNewObject(cls, arguments, keywords: keywords))
        case 0x69: // INST: calls module.name(*marked) — refused whatever it names.
            let module = try readLine()
            let name = try readLine()
            let global = try resolveGlobal(module: module, name: name)
            throw forbiddenCall(global.qualifiedName, "INST would call it with the marked arguments")
        case 0x6f: // OBJ: calls the first marked item with the others.
            let items = try popToMark()
            throw forbiddenCall(items.first?.kindName ?? "<nothing>", "OBJ would call it with \(items.count - 1) arguments")
        case 0x82, 0x83, 0x84: // EXT1/2/4: a global chosen through copyreg's extension registry.
            let width = opcode == 0x82 ? 1 : opcode == 0x83 ? 2 : 4
            let code = try readUInt(width)
            throw forbiddenCall("copyreg extension code \(code)", "extension-registry globals are never resolved")
        default:
            return false
        }
        return true
    }

    private mutating func skipBytes(length: UInt64) throws -> PickleValue {
        guard length <= UInt64(limits.maxBytesLength) else { throw limit("bytes of \(length) (limit \(limits.maxBytesLength))") }
        guard length <= UInt64(bytes.count - position) else { throw truncated() }
        position += Int(length)
        return .bytes(count: Int(length))
    }

    private func littleEndianInt(_ raw: [UInt8]) -> PickleValue {
        guard let last = raw.last else { return .int(0) }
        var value: UInt64 = 0
        for (index, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        if raw.count < 8, last & 0x80 != 0 { value |= UInt64.max << (8 * UInt64(raw.count)) }
        return .int(Int(Int64(bitPattern: value)))
    }

    /// Legacy torch.save pickles a module class as `('module', cls, source_file, source)`.
    func moduleSourceReference(_ pid: PickleValue) throws -> PickleValue? {
        guard case .tuple(let items, _) = pid, case .string("module") = items.first else { return nil }
        guard items.count == 4, case .global = items[1] else {
            throw malformed("module persistent id must be ('module', class, source_file, source)")
        }
        return items[1]
    }

    func graphReduce(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let global) = callable else {
            throw forbiddenCall(callable.kindName, "REDUCE would call it")
        }
        guard case .tuple(let args, _) = arguments else {
            throw forbiddenCall(global.qualifiedName, "REDUCE with \(arguments.kindName) arguments")
        }
        switch global {
        case .rebuildTensorV2:
            return .tensor(try rebuildTensor(args))
        case .rebuildTensor:
            guard args.count == 4 else { throw malformed("_rebuild_tensor takes 4 arguments, got \(args.count)") }
            return .tensor(try rebuildTensor(args + [.bool(false), .dict(PickleDict())]))
        case .rebuildParameter, .rebuildParameterWithState:
            let expected = global == .rebuildParameter ? 3 : 4
            guard args.count == expected, case .tensor(let data) = args[0], case .bool(let requiresGrad) = args[1] else {
                throw malformed("\(global.qualifiedName) takes (tensor, bool, hooks\(expected == 4 ? ", state" : "")), got \(args.count) arguments")
            }
            guard case .dict(let hooks) = args[2], hooks.count == 0 else {
                throw malformed("parameter backward hooks must be an empty OrderedDict, got \(args[2].kindName)")
            }
            return .tensor(data.withRequiresGrad(requiresGrad))
        case .rebuildFromTypeV2:
            guard args.count == 4, case .global(.rebuildTensorV2) = args[0], case .global(.tensorType) = args[1],
                  case .tuple(let tensorArgs, _) = args[2] else {
                throw malformed("_rebuild_from_type_v2 must rebuild a torch.Tensor or Parameter with _rebuild_tensor_v2")
            }
            return .tensor(try rebuildTensor(tensorArgs))
        case .orderedDict:
            guard args.isEmpty else { throw forbiddenCall(global.qualifiedName, "OrderedDict(...) with arguments") }
            return .dict(PickleDict())
        case .set:
            switch args.first {
            case nil: return .set([], depth: 1)
            case .list(let items, _)?, .tuple(let items, _)? where args.count == 1: return PickleValue.makeSet(items)
            default: throw forbiddenCall(global.qualifiedName, "set(...) takes one list")
            }
        case .torchSize:
            guard args.count == 1, case .tuple(let sizes, _) = args[0], sizes.allSatisfy({ if case .int = $0 { return true }; return false }) else {
                throw forbiddenCall(global.qualifiedName, "torch.Size(...) takes one tuple of ints")
            }
            return args[0]
        case .torchDevice:
            let plain = args.allSatisfy { value in
                switch value {
                case .string, .int: return true
                default: return false
                }
            }
            guard plain, (1...2).contains(args.count) else { throw forbiddenCall(global.qualifiedName, "torch.device(...) takes a str and an int") }
            return .object(PickleObject(className: global.qualifiedName, state: nil, arguments: args))
        default:
            let kinds = args.map(\.kindName).joined(separator: ", ")
            throw forbiddenCall(global.qualifiedName, "REDUCE would call it with (\(kinds))")
        }
    }

    func graphNewObject(_ cls: PickleValue, _ arguments: PickleValue, keywords: PickleValue?) throws -> PickleValue {
        guard case .global(let global) = cls else { throw forbiddenCall(cls.kindName, "NEWOBJ would call it") }
        var empty = false
        if case .tuple(let args, _) = arguments, args.isEmpty { empty = true }
        if let keywords {
            if case .dict(let dict) = keywords, dict.count == 0 {} else { empty = false }
        }
        guard empty else {
            throw forbiddenCall(global.qualifiedName, "NEWOBJ would call its __new__ with arguments \(arguments.kindName)")
        }
        switch global {
        case .inert: return .object(PickleObject(className: global.qualifiedName, state: nil))
        case .orderedDict: return .dict(PickleDict())
        default: throw forbiddenCall(global.qualifiedName, "NEWOBJ may only create module-tree classes")
        }
    }

    func graphBuild(_ object: PickleValue, _ state: PickleValue) throws -> PickleValue {
        switch object {
        case .object(var instance):
            guard instance.state == nil, instance.arguments.isEmpty else {
                throw forbiddenCall(instance.className, "a second BUILD on one object")
            }
            instance.state = try instanceDictionary(state, of: instance.className)
            return .object(instance)
        case .dict:
            // Attributes of an OrderedDict subclass (state_dict's `_metadata`): kept out of the tensors.
            _ = try instanceDictionary(state, of: "collections.OrderedDict")
            return object
        case .global(let global):
            throw forbiddenCall(global.qualifiedName, "BUILD would set attributes on the global itself")
        default:
            throw malformed("BUILD on \(object.kindName) is not supported")
        }
    }

    /// BUILD's state: a `__dict__` (optionally with empty slot state) whose keys are plain attribute names.
    private func instanceDictionary(_ state: PickleValue, of className: String) throws -> PickleDict {
        var dictionary = PickleDict()
        switch state {
        case .dict(let dict): dictionary = dict
        case .tuple(let parts, _) where parts.count == 2:
            if case .dict(let dict) = parts[0] { dictionary = dict } else if case .none = parts[0] {} else {
                throw malformed("BUILD state of \(className) is \(parts[0].kindName)")
            }
            if case .dict(let slots) = parts[1] {
                for (key, value) in zip(slots.keys, slots.values) { dictionary.set(key, value) }
            } else if case .none = parts[1] {} else {
                throw malformed("BUILD slot state of \(className) is \(parts[1].kindName)")
            }
        default:
            throw malformed("BUILD state of \(className) is \(state.kindName), not a dict")
        }
        for key in dictionary.keys {
            guard case .string(let name) = key else { throw malformed("attribute name of \(className) is not a str") }
            if name.hasPrefix("__") && name.hasSuffix("__") {
                throw forbiddenCall(className, "BUILD would set the special attribute '\(name)'")
            }
        }
        return dictionary
    }

    func forbiddenCall(_ global: String, _ reason: String) -> TorchPickleError {
        .forbiddenCall(file: file, entry: entry, offset: opcodeOffset, global: global, reason: reason)
    }
}

extension PickleValue {
    static func makeSet(_ items: [PickleValue]) -> PickleValue {
        .set(items, depth: (items.map(\.depth).max() ?? 0) + 1)
    }

    /// A LIST built from a MARK: its depth recomputed from its items.
    var rebalanced: PickleValue {
        guard case .list(let items, _) = self else { return self }
        return .list(items, depth: (items.map(\.depth).max() ?? 0) + 1)
    }
}

extension TorchTensorRecord {
    func withRequiresGrad(_ value: Bool) -> TorchTensorRecord {
        TorchTensorRecord(dtype: dtype, shape: shape, strides: strides, storageOffset: storageOffset, storageKey: storageKey,
                          storageElementCount: storageElementCount, location: location, requiresGrad: value)
    }
}
