import Foundation

/// A CAI partition file checked against the AstroMAE input spec:
/// `TensorDataset(images, magnitudes, redshift)` with images float32
/// [n, 5, 32, 32], magnitudes float64 [n, 5] and redshift float32 [n]
/// (a trailing unit dimension [n, 1] is accepted for the label).
public struct AstroTensorDataset: Sendable {
    public let sampleCount: Int
    public let images: TorchTensor
    public let magnitudes: TorchTensor
    public let redshift: TorchTensor

    public static let bands = 5
    public static let imageSide = 32

    /// Checks `tensors` (as returned by `TorchArchive.loadTensorDataset`) against the
    /// spec, so a wrong partition file fails on load rather than deep in the model.
    public init(tensors: [TorchTensor], file: String) throws {
        guard tensors.count == 3 else {
            throw TorchPickleError.wrongTensorCount(file: file, expected: 3, actual: tensors.count)
        }
        let (images, magnitudes, redshift) = (tensors[0], tensors[1], tensors[2])
        try Self.require(images, named: "images", dtype: .float32, file: file)
        try Self.require(magnitudes, named: "magnitudes", dtype: .float64, file: file)
        try Self.require(redshift, named: "redshift", dtype: .float32, file: file)
        guard let count = images.shape.first else {
            throw TorchPickleError.wrongShape(file: file, tensor: "images", expected: "[n, 5, 32, 32]", actual: images.shape)
        }
        guard images.shape == [count, Self.bands, Self.imageSide, Self.imageSide] else {
            throw TorchPickleError.wrongShape(file: file, tensor: "images", expected: "[\(count), 5, 32, 32]", actual: images.shape)
        }
        guard magnitudes.shape == [count, Self.bands] else {
            throw TorchPickleError.wrongShape(file: file, tensor: "magnitudes", expected: "[\(count), 5]", actual: magnitudes.shape)
        }
        guard redshift.shape == [count] || redshift.shape == [count, 1] else {
            throw TorchPickleError.wrongShape(file: file, tensor: "redshift", expected: "[\(count)] or [\(count), 1]", actual: redshift.shape)
        }
        self.sampleCount = count
        self.images = images
        self.magnitudes = magnitudes
        self.redshift = redshift
    }

    private static func require(_ tensor: TorchTensor, named name: String, dtype: TorchDType, file: String) throws {
        guard tensor.dtype == dtype else {
            throw TorchPickleError.wrongDType(file: file, tensor: name, expected: [dtype], actual: tensor.dtype)
        }
    }
}

extension TorchArchive {
    /// Loads a CAI partition file and checks it against the AstroMAE input spec.
    public static func loadAstroDataset(at url: URL) throws -> AstroTensorDataset {
        try AstroTensorDataset(tensors: loadTensorDataset(at: url), file: url.path)
    }
}
