import Crypto
import Foundation
import SafeTensors
import TorchPickle

/// A weights file of either supported format, told apart by its content (not
/// its extension): safetensors, or a `torch.save` checkpoint — a whole
/// pickled model as CAI ships it, or a state_dict — read without executing it.
public struct CheckpointFile: @unchecked Sendable {
    /// One tensor as stored, before name matching.
    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        /// Torch-style dtype name: float32, float16, bfloat16, float64, int64, ...
        public let dtype: String
    }

    public let path: String
    /// "safetensors", "torch full module (<root class>)" or "torch state_dict".
    public let format: String
    /// SHA-256 of the file's bytes, lowercase hex.
    public let sha256: String
    public let tensors: [Tensor]
    /// The safetensors metadata (empty for torch files).
    public let metadata: [String: String]
    private let reader: Reader

    private enum Reader {
        case safetensors(SafeTensorsFile)
        case torch([String: TorchTensor])
    }

    /// Opens `url`; only headers and pickles are interpreted here, tensor data is mapped.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let mapped: Data
        do {
            mapped = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw ModelWeightsError.unreadable(path: path, reason: error.localizedDescription)
        }
        self.path = path
        sha256 = SHA256.hash(data: mapped).map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
        if TorchCheckpoint.looksLikeTorchFile(mapped.prefix(4)) {
            // TorchPickleError names the file, entry and refused global itself.
            let checkpoint = try TorchCheckpoint.load(at: url)
            switch checkpoint.layout {
            case let .fullModule(rootClass, keyPath):
                format = "torch full module (\(rootClass))" + (keyPath.isEmpty ? "" : " under '\(keyPath.joined(separator: "."))'")
            case let .stateDict(keyPath):
                format = "torch state_dict" + (keyPath.isEmpty ? "" : " under '\(keyPath.joined(separator: "."))'")
            }
            tensors = checkpoint.entries.map { Tensor(name: $0.name, shape: $0.tensor.shape, dtype: $0.tensor.dtype.rawValue) }
            metadata = [:]
            reader = .torch(Dictionary(checkpoint.entries.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first }))
        } else {
            let file: SafeTensorsFile
            do {
                file = try SafeTensorsFile(contentsOf: url)
            } catch {
                throw ModelWeightsError.unreadable(path: path, reason: "neither a torch.save file nor safetensors: \(error)")
            }
            format = "safetensors"
            tensors = file.tensors.map { Tensor(name: $0.name, shape: $0.shape, dtype: Self.torchName($0.dtype)) }
            metadata = file.metadata
            reader = .safetensors(file)
        }
    }

    /// Copies tensor `name` into `destination` as float32, converting
    /// float16 / bfloat16 / float64; other dtypes are refused.
    func read(_ name: String, as target: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        switch reader {
        case .safetensors(let file):
            let info = try file.info(name)
            switch info.dtype {
            case .f32:
                try file.withFloats(name) { source in _ = destination.initialize(from: source) }
            case .f64:
                try file.withDoubles(name) { source in
                    for index in source.indices { destination[index] = Float(source[index]) }
                }
            default:
                throw ModelWeightsError.wrongDType(path: path, name: target, dtype: info.dtype.rawValue)
            }
        case .torch(let tensors):
            guard let tensor = tensors[name] else { throw ModelWeightsError.unreadable(path: path, reason: "no tensor '\(name)'") }
            guard [.float32, .float16, .bfloat16, .float64].contains(tensor.dtype) else {
                throw ModelWeightsError.wrongDType(path: path, name: target, dtype: tensor.dtype.rawValue)
            }
            let values = try tensor.contiguousFloats()
            _ = destination.initialize(from: values)
        }
    }

    private static func torchName(_ dtype: DType) -> String {
        switch dtype {
        case .f32: return "float32"
        case .f64: return "float64"
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        default: return dtype.rawValue
        }
    }
}
