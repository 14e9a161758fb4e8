/// The globals a pickle may name. Each is interpreted by this reader; none is
/// ever imported or called. A TensorDataset pickle may name only the first
/// four; a model checkpoint (`objectGraph`) also the torch rebuild functions,
/// a few value types, and any other class as an `inert` record.
enum TorchGlobal: Equatable {
    case rebuildTensorV2
    case storageType(TorchDType)
    case tensorDataset
    case orderedDict
    /// `torch._utils._rebuild_tensor(storage, offset, size, stride)` (torch < 1.0 layout).
    case rebuildTensor
    /// `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`.
    case rebuildParameter
    /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)`.
    case rebuildParameterWithState
    /// `torch._tensor._rebuild_from_type_v2(func, new_type, args, state)`.
    case rebuildFromTypeV2
    /// `torch.Tensor` / `torch.nn.parameter.Parameter`, only as `_rebuild_from_type_v2`'s type.
    case tensorType
    /// `builtins.set` / `frozenset`, called with one list.
    case set
    /// `torch.Size(tuple)`.
    case torchSize
    /// `torch.device(type[, index])`.
    case torchDevice
    /// Any other class or function: referenced, instantiated by NEWOBJ with no
    /// arguments into an inert record, but never called.
    case inert(module: String, name: String)

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

    /// The checkpoint policy: known globals, refusal of anything that can run
    /// code even when only referenced, and everything else as `inert`.
    static func resolveInGraph(module: String, name: String) -> TorchGlobal? {
        if let strict = TorchGlobal(module: module, name: name), strict != .tensorDataset { return strict }
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): return .rebuildFromTypeV2
        case ("torch", "Tensor"), ("torch._tensor", "Tensor"), ("torch.nn.parameter", "Parameter"): return .tensorType
        case ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"), ("__builtin__", "frozenset"): return .set
        case ("torch", "Size"): return .torchSize
        case ("torch", "device"): return .torchDevice
        default: break
        }
        if isRefused(module: module, name: name) { return nil }
        return .inert(module: module, name: name)
    }

    /// Modules whose members can run code, touch files, processes or the
    /// network, import or unpickle: refused by name wherever they appear.
    static let refusedModules: Set<String> = [
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "builtins", "__builtin__", "shutil",
        "socket", "importlib", "pickle", "_pickle", "cPickle", "pickletools", "marshal", "types", "runpy", "code",
        "codeop", "ctypes", "pty", "multiprocessing", "webbrowser", "io", "_io", "pathlib", "tempfile", "operator",
        "_operator", "functools", "_functools", "copyreg", "copy_reg", "signal", "threading", "_thread", "asyncio",
        "inspect", "pdb", "bdb", "timeit", "platform", "glob", "sqlite3", "urllib", "http", "ftplib", "smtplib",
        "telnetlib", "zipimport", "pkgutil", "site", "shelve", "dill", "cloudpickle", "joblib", "yaml", "commands",
        "popen2", "imp", "gc", "weakref", "_posixsubprocess", "select", "ssl", "requests", "fcntl", "resource",
        "zipfile", "tarfile", "distutils", "setuptools", "pip",
    ]

    /// torch submodules that load, compile or dispatch code.
    static let refusedTorchModules: [String] = [
        "torch.serialization", "torch.hub", "torch.jit", "torch.package", "torch.ops", "torch._ops", "torch.utils.cpp_extension",
        "torch._dynamo", "torch.compiler", "torch.distributed", "torch.multiprocessing", "torch.cuda", "torch._C",
        "torch.fx", "torch.export", "torch.library", "torch._inductor", "torch.backends", "torch.testing",
    ]

    private static func isRefused(module: String, name: String) -> Bool {
        let root = String(module.split(separator: ".", maxSplits: 1).first ?? "")
        if refusedModules.contains(root) || module.isEmpty || name.isEmpty { return true }
        if root == "torch" {
            if refusedTorchModules.contains(where: { module == $0 || module.hasPrefix($0 + ".") }) { return true }
            if module == "torch", ["load", "save", "compile", "from_file", "set_default_tensor_type"].contains(name) { return true }
        }
        // Dunder attributes (`__class__`, `__subclasses__`, ...) reach Python internals.
        return name.split(separator: ".").contains { $0.count > 4 && $0.hasPrefix("__") && $0.hasSuffix("__") }
    }

    var qualifiedName: String {
        switch self {
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .storageType(let dtype): return "torch.\(dtype.storageClassName)"
        case .tensorDataset: return "torch.utils.data.dataset.TensorDataset"
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .rebuildFromTypeV2: return "torch._tensor._rebuild_from_type_v2"
        case .tensorType: return "torch.Tensor"
        case .set: return "builtins.set"
        case .torchSize: return "torch.Size"
        case .torchDevice: return "torch.device"
        case let .inert(module, name): return "\(module).\(name)"
        }
    }
}
