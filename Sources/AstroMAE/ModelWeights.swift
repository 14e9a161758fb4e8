import CosmicSupport
import Foundation
import SafeTensors

/// The checkpoint the model is built from, from either source the spec
/// allows: the seeded generator or a file with PyTorch `state_dict` names
/// (safetensors or torch.save). All tensors live in one contiguous float32 buffer.
public final class ModelWeights: @unchecked Sendable {
    /// Where the weights came from, e.g. `seeded:20250108` or a file path.
    public let source: String
    /// The seed, when the weights are seeded (or a file records one).
    public let seed: UInt64?
    /// SHA-256 (lowercase hex) of the checkpoint file, so results name the
    /// exact weights they came from; nil for seeded weights.
    public let sha256: String?
    private let storage: [Float]
    private let ranges: [String: Range<Int>]

    private init(source: String, seed: UInt64?, sha256: String?, storage: [Float], ranges: [String: Range<Int>]) {
        self.source = source
        self.seed = seed
        self.sha256 = sha256
        self.storage = storage
        self.ranges = ranges
    }

    /// Offsets of every manifest tensor inside the flat buffer.
    private static func layout() -> (ranges: [String: Range<Int>], total: Int) {
        var ranges: [String: Range<Int>] = [:]
        var offset = 0
        for spec in WeightManifest.all {
            ranges[spec.name] = offset..<(offset + spec.elementCount)
            offset += spec.elementCount
        }
        return (ranges, offset)
    }

    /// The spec's seeded weights (`seed` defaults to the fixtures' 20250108).
    public static func seeded(_ seed: UInt64 = SeededWeights.defaultSeed) -> ModelWeights {
        let (ranges, total) = layout()
        let storage = [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
            let specs = WeightManifest.all
            nonisolated(unsafe) let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: specs.count) { index in
                let spec = specs[index]
                let range = ranges[spec.name]!
                let slice = UnsafeMutableBufferPointer(start: base + range.lowerBound, count: range.count)
                SeededWeights.fill(slice, name: spec.name, rule: spec.rule, seed: seed)
            }
            initialized = total
        }
        return ModelWeights(source: "seeded:\(seed)", seed: seed, sha256: nil, storage: storage, ranges: ranges)
    }

    /// Loads a checkpoint and checks it against the model: safetensors, or a
    /// `torch.save` file (a whole pickled model such as CAI's, or a state_dict,
    /// plain, with DataParallel `module.` names, or nested under `model` /
    /// `state_dict`), told apart by content and read without executing
    /// anything. float16 / bfloat16 / float64 become float32. Every manifest
    /// tensor must be present with its exact shape and nothing unknown; all
    /// problems are reported at once. `num_batches_tracked` buffers and the
    /// `inception_model.vis_inception.0.*` alias of the shared first conv are
    /// accepted and ignored, since a real `state_dict()` contains them.
    public static func load(contentsOf url: URL, renameMap: WeightRenameMap? = nil) throws -> ModelWeights {
        let file = try CheckpointFile(contentsOf: url)
        let report = CheckpointNames.resolve(file.tensors.map { ($0.name, $0.shape) }, renameMap: renameMap)
        guard report.isClean else { throw ModelWeightsError.nameMismatch(path: file.path, report: report) }
        var sourceByTarget: [String: String] = [:]
        for (source, target) in report.resolved { sourceByTarget[target] = source }
        let (ranges, total) = layout()
        var storage = [Float](repeating: 0, count: total)
        try storage.withUnsafeMutableBufferPointer { buffer in
            for spec in WeightManifest.all {
                let range = ranges[spec.name]!
                let slice = UnsafeMutableBufferPointer(rebasing: buffer[range])
                try file.read(sourceByTarget[spec.name]!, as: spec.name, into: slice)
                if let bad = slice.firstIndex(where: { !$0.isFinite }) {
                    throw ModelWeightsError.nonFinite(path: file.path, name: spec.name, index: bad - slice.startIndex)
                }
            }
        }
        let seed = file.metadata["seed"].flatMap { UInt64($0) }
        return ModelWeights(source: file.path, seed: seed, sha256: file.sha256, storage: storage, ranges: ranges)
    }

    /// What `load` would see in a file, without building the model: its format,
    /// tensors and the name report (which may have problems).
    public static func inspect(contentsOf url: URL, renameMap: WeightRenameMap? = nil) throws
        -> (file: CheckpointFile, report: CheckpointNameReport) {
        let file = try CheckpointFile(contentsOf: url)
        return (file, CheckpointNames.resolve(file.tensors.map { ($0.name, $0.shape) }, renameMap: renameMap))
    }

    /// The values of one manifest tensor, row-major over its PyTorch shape.
    public func tensor(_ name: String) -> ArraySlice<Float> {
        guard let range = ranges[name] else {
            preconditionFailure("\(name) is not a tensor of the AstroMAE manifest")
        }
        return storage[range]
    }

    /// Writes every tensor as safetensors (manifest order), so any
    /// safetensors tool can inspect the weights.
    public func write(to url: URL) throws {
        var metadata = ["format": "pt", "model": "AstroMAE", "source": source]
        if let seed { metadata["seed"] = String(seed) }
        if let sha256 { metadata["source_sha256"] = sha256 }
        var writer = SafeTensorsWriter(metadata: metadata)
        for spec in WeightManifest.all {
            try writer.add(spec.name, shape: spec.shape, floats: Array(tensor(spec.name)))
        }
        try writer.write(to: url)
    }
}

