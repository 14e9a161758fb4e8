/// Turns an unpickled checkpoint into `state_dict` names: a whole module is
/// walked the way `nn.Module.state_dict()` walks it (own `_parameters`, then
/// persistent `_buffers`, then `_modules` in order, names joined by dots); a
/// dict of tensors is a state_dict already, possibly nested under a key.
enum ModuleGraph {
    /// Keys under which training scripts nest the state_dict or the model, in the order tried.
    static let nestingKeys = ["state_dict", "model_state_dict", "model", "module", "net"]

    struct Extracted {
        var layout: TorchCheckpoint.Layout
        var names: [String] = []
        var records: [TorchTensorRecord] = []
        var modules: [TorchCheckpoint.Module] = []
    }

    static func extract(_ root: PickleValue, file: String) throws -> Extracted {
        try extract(root, keyPath: [], file: file)
    }

    private static func extract(_ value: PickleValue, keyPath: [String], file: String) throws -> Extracted {
        switch value {
        case .object(let object):
            var result = Extracted(layout: .fullModule(rootClass: object.className, keyPath: keyPath))
            try walk(object, prefix: "", into: &result, file: file)
            return result
        case .dict(let dict):
            var tensors: [(String, TorchTensorRecord)] = []
            var others: [String] = []
            for (key, item) in zip(dict.keys, dict.values) {
                guard case .string(let name) = key else {
                    others.append("\(key)")
                    continue
                }
                if case .tensor(let record) = item { tensors.append((name, record)) } else { others.append(name) }
            }
            if others.isEmpty && !tensors.isEmpty {
                return Extracted(layout: .stateDict(keyPath: keyPath), names: tensors.map(\.0), records: tensors.map(\.1))
            }
            for key in nestingKeys {
                guard let nested = dict[.string(key)] else { continue }
                switch nested {
                case .dict, .object: return try extract(nested, keyPath: keyPath + [key], file: file)
                default: continue
                }
            }
            let where_ = keyPath.isEmpty ? "the top-level dict" : "'\(keyPath.joined(separator: "."))'"
            throw TorchPickleError.unexpectedCheckpoint(
                file: file,
                reason: "\(where_) holds \(tensors.count) tensors and non-tensor keys \(others.prefix(8)) "
                    + "but no \(nestingKeys.map { "'\($0)'" }.joined(separator: "/")) entry")
        default:
            throw TorchPickleError.unexpectedCheckpoint(
                file: file, reason: "the top-level object is \(value.kindName), not a module or a dict of tensors")
        }
    }

    private static func walk(_ object: PickleObject, prefix: String, into result: inout Extracted, file: String) throws {
        let path = prefix.isEmpty ? "<root>" : String(prefix.dropLast())
        func fail(_ reason: String) -> TorchPickleError {
            .unexpectedCheckpoint(file: file, reason: "module \(path) (\(object.className)): \(reason)")
        }
        guard let state = object.state else { throw fail("has no state (no BUILD); not an nn.Module") }
        guard state[.string("_modules")] != nil || state[.string("_parameters")] != nil else {
            throw fail("its state has no _parameters or _modules; not an nn.Module")
        }
        result.modules.append(TorchCheckpoint.Module(path: prefix.isEmpty ? "" : String(prefix.dropLast()),
                                                     className: object.className))
        var nonPersistent = Set<String>()
        if case .set(let names, _)? = state[.string("_non_persistent_buffers_set")] {
            for case .string(let name) in names { nonPersistent.insert(name) }
        }
        for (field, skip) in [("_parameters", Set<String>()), ("_buffers", nonPersistent)] {
            guard let value = state[.string(field)] else { continue }
            guard case .dict(let dict) = value else { throw fail("\(field) is \(value.kindName), not a dict") }
            for (key, item) in zip(dict.keys, dict.values) {
                guard case .string(let name) = key else { throw fail("\(field) has a non-str key") }
                switch item {
                case .none: continue
                case .tensor(let record) where !skip.contains(name):
                    result.names.append(prefix + name)
                    result.records.append(record)
                case .tensor: continue
                default: throw fail("\(field)['\(name)'] is \(item.kindName), not a tensor")
                }
            }
        }
        guard let children = state[.string("_modules")] else { return }
        guard case .dict(let dict) = children else { throw fail("_modules is \(children.kindName), not a dict") }
        for (key, item) in zip(dict.keys, dict.values) {
            guard case .string(let name) = key else { throw fail("_modules has a non-str key") }
            switch item {
            case .none: continue
            case .object(let child): try walk(child, prefix: prefix + name + ".", into: &result, file: file)
            default: throw fail("_modules['\(name)'] is \(item.kindName), not a module")
            }
        }
    }
}
