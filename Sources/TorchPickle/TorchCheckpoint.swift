import Foundation

/// A model checkpoint written by `torch.save`: a whole pickled `nn.Module`
/// (as CAI's `Mixed_Inception_z_VITAE_Base_Img_Full_New_Full.pt`) or a
/// `state_dict`, read without Python and without executing anything. Module
/// classes become inert records; only the torch rebuild functions are
/// interpreted; anything that would call code is refused, naming the global,
/// before a single storage byte is read.
public struct TorchCheckpoint: Sendable {
    /// How the tensors were found.
    public enum Layout: Sendable, Equatable {
        /// A pickled module object of `rootClass` (e.g. `torch.nn.parallel.data_parallel.DataParallel`),
        /// at `keyPath` inside nesting dicts (empty when it is the top-level object).
        case fullModule(rootClass: String, keyPath: [String])
        /// A dict of tensors at `keyPath` (e.g. `["state_dict"]`; empty for a plain state_dict).
        case stateDict(keyPath: [String])
    }

    /// One module of a whole-module checkpoint: its dotted path ("" for the root) and recorded class.
    public struct Module: Sendable, Equatable {
        public let path: String
        public let className: String
    }

    /// One state_dict entry.
    public struct Entry: Sendable {
        public let name: String
        public let tensor: TorchTensor
    }

    public let layout: Layout
    /// Tensors in `state_dict()` order with their full names.
    public let entries: [Entry]
    /// Modules in tree order (empty for a state_dict).
    public let modules: [Module]

    /// Reads a checkpoint file (zip or legacy format, told apart by content).
    /// Stored entries are memory-mapped, not copied.
    public static func load(at url: URL, verifyChecksums: Bool = false) throws -> TorchCheckpoint {
        try load(source: ByteSource.map(url), file: url.path, verifyChecksums: verifyChecksums)
    }

    /// Reads a checkpoint already in memory; `name` is used in error messages.
    public static func load(data: Data, name: String, verifyChecksums: Bool = false) throws -> TorchCheckpoint {
        guard !data.isEmpty else { throw TorchPickleError.notATorchFile(file: name, reason: "the file is empty") }
        return try load(source: ByteSource.copy(of: data), file: name, verifyChecksums: verifyChecksums)
    }

    /// True when the bytes start like a torch.save file (zip or pickle), for format dispatch.
    public static func looksLikeTorchFile(_ prefix: some Collection<UInt8>) -> Bool {
        prefix.starts(with: TorchArchive.zipMagic) || prefix.first == 0x80
    }

    static func load(source: ByteSource, file: String, verifyChecksums: Bool) throws -> TorchCheckpoint {
        let archive = try TorchArchive.open(source: source, file: file, mode: .objectGraph, verifyChecksums: verifyChecksums)
        let extracted = try ModuleGraph.extract(archive.root, file: file)
        var seen = Set<String>()
        for name in extracted.names where !seen.insert(name).inserted {
            throw TorchPickleError.unexpectedCheckpoint(file: file, reason: "tensor name '\(name)' appears twice")
        }
        let tensors = try archive.attach(extracted.records, extracted.names.map { "'\($0)'" })
        return TorchCheckpoint(layout: extracted.layout,
                               entries: zip(extracted.names, tensors).map { Entry(name: $0, tensor: $1) },
                               modules: extracted.modules)
    }
}
