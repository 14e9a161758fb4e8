import CosmicSupport
import Foundation
import SafeTensors

/// The checkpoint the model is built from, from either source the spec
/// allows: the seeded generator or a safetensors file with PyTorch
/// `state_dict` names. All tensors live in one contiguous float32 buffer.
public final class ModelWeights: @unchecked Sendable {
    /// Where the weights came from, e.g. `seeded:20250108` or a file path.
    public let source: String
    /// The seed, when the weights are seeded.
    public let seed: UInt64?
    private let storage: [Float]
    private let ranges: [String: Range<Int>]

    private init(source: String, seed: UInt64?, storage: [Float], ranges: [String: Range<Int>]) {
        self.source = source
        self.seed = seed
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
        return ModelWeights(source: "seeded:\(seed)", seed: seed, storage: storage, ranges: ranges)
    }

    /// Loads a safetensors checkpoint and checks it against the model: every
    /// manifest tensor present with its exact shape, float32 or float64, and
    /// nothing unknown. `num_batches_tracked` buffers and the
    /// `inception_model.vis_inception.0.*` alias of the shared first conv are
    /// accepted and ignored, since a real `state_dict()` contains them.
    public static func load(contentsOf url: URL) throws -> ModelWeights {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: url)
        } catch {
            throw ModelWeightsError.unreadable(path: url.path, reason: "\(error)")
        }
        let path = url.path
        for info in file.tensors where WeightManifest.byName[info.name] == nil {
            if info.name.hasSuffix(".num_batches_tracked") { continue }
            if info.name.hasPrefix("inception_model.vis_inception.0.") { continue }
            throw ModelWeightsError.unexpectedTensor(path: path, name: info.name)
        }
        let (ranges, total) = layout()
        var storage = [Float](repeating: 0, count: total)
        for spec in WeightManifest.all {
            guard file.contains(spec.name) else {
                throw ModelWeightsError.missingTensor(path: path, name: spec.name)
            }
            let info = try file.info(spec.name)
            guard info.shape == spec.shape else {
                throw ModelWeightsError.wrongShape(path: path, name: spec.name, expected: spec.shape, actual: info.shape)
            }
            let values: [Float]
            switch info.dtype {
            case .f32: values = try file.floats(spec.name)
            case .f64: values = try file.doubles(spec.name).map { Float($0) }
            default:
                throw ModelWeightsError.wrongDType(path: path, name: spec.name, dtype: info.dtype.rawValue)
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw ModelWeightsError.nonFinite(path: path, name: spec.name, index: bad)
            }
            let range = ranges[spec.name]!
            storage.replaceSubrange(range, with: values)
        }
        let seed = file.metadata["seed"].flatMap { UInt64($0) }
        return ModelWeights(source: path, seed: seed, storage: storage, ranges: ranges)
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
        var writer = SafeTensorsWriter(metadata: metadata)
        for spec in WeightManifest.all {
            try writer.add(spec.name, shape: spec.shape, floats: Array(tensor(spec.name)))
        }
        try writer.write(to: url)
    }
}

/// Why a checkpoint cannot be used for AstroMAE.
public enum ModelWeightsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case missingTensor(path: String, name: String)
    case unexpectedTensor(path: String, name: String)
    case wrongShape(path: String, name: String, expected: [Int], actual: [Int])
    case wrongDType(path: String, name: String, dtype: String)
    case nonFinite(path: String, name: String, index: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): not a readable safetensors checkpoint: \(reason)"
        case let .missingTensor(path, name):
            return "\(path): tensor '\(name)' is missing (AstroMAE needs every tensor of its state_dict)"
        case let .unexpectedTensor(path, name):
            return "\(path): tensor '\(name)' is not part of AstroMAE (wrong model or renamed checkpoint?)"
        case let .wrongShape(path, name, expected, actual):
            return "\(path): tensor '\(name)' has shape \(actual), AstroMAE needs \(expected)"
        case let .wrongDType(path, name, dtype):
            return "\(path): tensor '\(name)' has dtype \(dtype); only F32 and F64 checkpoints are supported"
        case let .nonFinite(path, name, index):
            return "\(path): tensor '\(name)' holds a non-finite value at element \(index)"
        }
    }
}
