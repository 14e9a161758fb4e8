import Foundation
import SafeTensors
import TorchPickle

/// Why a partition file could not be opened; every message names the file
/// and, where one is involved, the tensor.
public enum PartitionError: Error, CustomStringConvertible, Equatable {
    case unsupportedFormat(path: String, fileExtension: String)
    case unreadable(path: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case wrongDType(path: String, tensor: String, expected: String, actual: String)
    case wrongShape(path: String, tensor: String, expected: String, actual: [Int])
    case countMismatch(path: String, tensor: String, count: Int, imageCount: Int)
    case wrongTensorCount(path: String, count: Int)

    public var description: String {
        switch self {
        case let .unsupportedFormat(path, fileExtension):
            return "partition \(path): unsupported extension \"\(fileExtension)\" (expected .safetensors or .pt)"
        case let .unreadable(path, reason):
            return "cannot read partition \(path): \(reason)"
        case let .missingTensor(path, tensor):
            return "partition \(path): missing tensor \"\(tensor)\""
        case let .wrongDType(path, tensor, expected, actual):
            return "partition \(path): tensor \"\(tensor)\" has dtype \(actual), expected \(expected)"
        case let .wrongShape(path, tensor, expected, actual):
            return "partition \(path): tensor \"\(tensor)\" has shape \(actual), expected \(expected)"
        case let .countMismatch(path, tensor, count, imageCount):
            return "partition \(path): tensor \"\(tensor)\" has \(count) samples but \"images\" has \(imageCount)"
        case let .wrongTensorCount(path, count):
            return "partition \(path): the TensorDataset holds \(count) tensors, expected 2 or 3 (images, magnitudes[, redshift])"
        }
    }
}

/// One partition file's samples, held for as long as the object lives.
///
/// Safetensors files are memory-mapped and, when a tensor is aligned (always
/// for files from `PartitionGenerator`), viewed in place with no copy; an
/// unaligned tensor is copied once. `.pt` files are memory-mapped by
/// TorchPickle; a tensor whose elements are contiguous and aligned in its
/// storage (what `torch.save` writes) is viewed in place — the bytes
/// `withContiguousBytes` hands over are checked to lie inside the tensor's
/// storage, whose address is stable while the storage lives, and the
/// partition keeps the tensors (and so the mapping) alive. A strided or
/// unaligned tensor arrives in a temporary buffer and is copied once into
/// memory owned by the partition.
///
/// Required tensors: `images` F32 [n,5,32,32] and `magnitudes` F64 [n,5]
/// (float32 magnitudes are rejected rather than silently widened, since the
/// model's input contract is float64); optional `redshift` F32 [n] or [n,1].
/// In a `.pt` TensorDataset the tensors are positional: images, magnitudes,
/// then (optionally) redshift. Other tensors in a safetensors file are ignored.
///
/// The buffers are valid only while the `Partition` is alive: keep a
/// reference for as long as they are read (ARC may release an object after
/// its last use, so wrap pointer-only code in `withExtendedLifetime`).
public final class Partition: @unchecked Sendable {
    /// Where it was read from: a file path, or `s3://bucket/key`; used in errors.
    public let source: String
    /// The object's own name, e.g. `10.pt` (predictions name their file by it).
    public var name: String { String(source.split(separator: "/").last ?? Substring(source)) }
    public let format: PartitionFormat
    /// Samples in the file.
    public let count: Int
    /// count × 5 × 32 × 32 pixels, NCHW.
    public let images: UnsafeBufferPointer<Float>
    /// count × 5 magnitudes.
    public let magnitudes: UnsafeBufferPointer<Double>
    /// count redshift labels, nil when the file carries none.
    public let redshift: UnsafeBufferPointer<Float>?
    /// True when `images` (99.8% of the bytes) views the reader's memory —
    /// the file mapping, or a compressed `.pt` entry's one inflated copy —
    /// rather than a copy made by `Partition`.
    public let isZeroCopy: Bool
    /// True when `images` lies in a read-only file mapping: its pages can be
    /// dropped after use (`madvise(MADV_DONTNEED)`) and are re-read from the
    /// file if touched again. Never do that to owned or inflated memory,
    /// where dropped pages come back as zeros.
    public let imagesAreFileMapped: Bool

    /// The reader objects whose memory the buffers may point into.
    private let backing: Any?
    private let owned: [UnsafeMutableRawPointer]

    private init(source: String, format: PartitionFormat, count: Int, images: UnsafeBufferPointer<Float>,
                 magnitudes: UnsafeBufferPointer<Double>, redshift: UnsafeBufferPointer<Float>?,
                 isZeroCopy: Bool, imagesAreFileMapped: Bool, backing: Any?, owned: [UnsafeMutableRawPointer]) {
        self.source = source
        self.format = format
        self.count = count
        self.images = images
        self.magnitudes = magnitudes
        self.redshift = redshift
        self.isZeroCopy = isZeroCopy
        self.imagesAreFileMapped = imagesAreFileMapped
        self.backing = backing
        self.owned = owned
    }

    deinit {
        for pointer in owned { pointer.deallocate() }
    }

    /// Opens `<n>.safetensors` or `<n>.pt`, choosing the reader by extension.
    /// Files are memory-mapped, never read whole.
    public static func open(_ url: URL) throws -> Partition {
        let path = url.path
        switch try format(of: path) {
        case .safetensors:
            return try openSafeTensors(path) { try SafeTensorsFile(contentsOf: url) }
        case .pt:
            return try openTorch(path) { try TorchArchive.loadTensorDataset(at: url) }
        }
    }

    /// Opens a partition already in memory (a downloaded object) without
    /// copying it; `owner` keeps `bytes` valid and is held by the partition.
    /// `source` (e.g. `s3://bucket/3.pt`) names it in errors and its
    /// extension chooses the reader.
    public static func open(bytes: UnsafeRawBufferPointer, owner: AnyObject, source: String) throws -> Partition {
        switch try format(of: source) {
        case .safetensors:
            return try openSafeTensors(source) { try SafeTensorsFile(borrowing: bytes, owner: owner, path: source) }
        case .pt:
            return try openTorch(source) {
                try TorchArchive.loadTensorDataset(borrowing: bytes, owner: owner, name: source)
            }
        }
    }

    /// The reader for `path`'s extension (after the last `.` of its last segment).
    private static func format(of path: String) throws -> PartitionFormat {
        let name = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { path[path.index(after: $0)...] } ?? path[...]
        let fileExtension = name.utf8.lastIndex(of: UInt8(ascii: ".")).map { String(name[name.index(after: $0)...]) } ?? ""
        guard let format = PartitionFormat(rawValue: fileExtension.lowercased()) else {
            throw PartitionError.unsupportedFormat(path: path, fileExtension: fileExtension)
        }
        return format
    }

    /// Opens a listed partition file.
    public static func open(_ file: PartitionFile) throws -> Partition {
        try open(file.url)
    }

    /// Pixels of samples `range` (contiguous, NCHW).
    public func images(_ range: Range<Int>) -> UnsafeBufferPointer<Float> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "sample range \(range) outside 0..<\(count)")
        return UnsafeBufferPointer(rebasing: images[(range.lowerBound * SampleFormat.pixelsPerSample)..<(range.upperBound * SampleFormat.pixelsPerSample)])
    }

    /// Magnitudes of samples `range` (contiguous, 5 per sample).
    public func magnitudes(_ range: Range<Int>) -> UnsafeBufferPointer<Double> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "sample range \(range) outside 0..<\(count)")
        return UnsafeBufferPointer(rebasing: magnitudes[(range.lowerBound * SampleFormat.bandCount)..<(range.upperBound * SampleFormat.bandCount)])
    }

    /// Redshift labels of samples `range`, nil when the file has none.
    public func redshift(_ range: Range<Int>) -> UnsafeBufferPointer<Float>? {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "sample range \(range) outside 0..<\(count)")
        return redshift.map { UnsafeBufferPointer(rebasing: $0[range]) }
    }

    // MARK: - Shape checks shared by both formats

    private static let imageShape = "[n, 5, 32, 32]"

    private static func imageCount(_ shape: [Int], path: String, tensor: String) throws -> Int {
        guard shape.count == 4, shape[1] == SampleFormat.bandCount, shape[2] == SampleFormat.height,
              shape[3] == SampleFormat.width, shape[0] >= 0 else {
            throw PartitionError.wrongShape(path: path, tensor: tensor, expected: imageShape, actual: shape)
        }
        return shape[0]
    }

    private static func checkMagnitudes(_ shape: [Int], count: Int, path: String, tensor: String) throws {
        guard shape.count == 2, shape[1] == SampleFormat.bandCount else {
            throw PartitionError.wrongShape(path: path, tensor: tensor, expected: "[n, 5]", actual: shape)
        }
        guard shape[0] == count else {
            throw PartitionError.countMismatch(path: path, tensor: tensor, count: shape[0], imageCount: count)
        }
    }

    private static func checkRedshift(_ shape: [Int], count: Int, path: String, tensor: String) throws {
        guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
            throw PartitionError.wrongShape(path: path, tensor: tensor, expected: "[n] or [n, 1]", actual: shape)
        }
        guard shape[0] == count else {
            throw PartitionError.countMismatch(path: path, tensor: tensor, count: shape[0], imageCount: count)
        }
    }

    // MARK: - safetensors

    private static func openSafeTensors(_ path: String, reader: () throws -> SafeTensorsFile) throws -> Partition {
        let file: SafeTensorsFile
        do {
            file = try reader()
        } catch {
            throw PartitionError.unreadable(path: path, reason: "\(error)")
        }
        func info(_ name: String, _ dtype: DType) throws -> TensorInfo {
            guard file.contains(name) else { throw PartitionError.missingTensor(path: path, tensor: name) }
            let info = try file.info(name)
            guard info.dtype == dtype else {
                throw PartitionError.wrongDType(path: path, tensor: name, expected: dtype.rawValue, actual: info.dtype.rawValue)
            }
            return info
        }
        let imageInfo = try info("images", .f32)
        let count = try imageCount(imageInfo.shape, path: path, tensor: "images")
        let magnitudeInfo = try info("magnitudes", .f64)
        try checkMagnitudes(magnitudeInfo.shape, count: count, path: path, tensor: "magnitudes")
        var hasRedshift = false
        if file.contains("redshift") {
            let redshiftInfo = try info("redshift", .f32)
            try checkRedshift(redshiftInfo.shape, count: count, path: path, tensor: "redshift")
            hasRedshift = true
        }

        var owned: [UnsafeMutableRawPointer] = []
        func floats(_ name: String) throws -> (UnsafeBufferPointer<Float>, Bool) {
            if let view = try file.mappedFloats(name) { return (view, true) }
            let copy = try file.floats(name)
            return (own(copy, &owned), false)
        }
        func doubles(_ name: String) throws -> UnsafeBufferPointer<Double> {
            if let view = try file.mappedDoubles(name) { return view }
            return own(try file.doubles(name), &owned)
        }
        do {
            let (images, mapped) = try floats("images")
            let magnitudes = try doubles("magnitudes")
            let redshift = hasRedshift ? try floats("redshift").0 : nil
            return Partition(source: path, format: .safetensors, count: count, images: images, magnitudes: magnitudes,
                             redshift: redshift, isZeroCopy: mapped, imagesAreFileMapped: mapped && file.isFileMapped,
                             backing: file, owned: owned)
        } catch let error as PartitionError {
            owned.forEach { $0.deallocate() }
            throw error
        } catch {
            owned.forEach { $0.deallocate() }
            throw PartitionError.unreadable(path: path, reason: "\(error)")
        }
    }

    /// Copies `values` into a new allocation recorded in `owned`.
    private static func own<T>(_ values: [T], _ owned: inout [UnsafeMutableRawPointer]) -> UnsafeBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
        _ = buffer.initialize(fromContentsOf: values)
        owned.append(UnsafeMutableRawPointer(buffer.baseAddress!))
        return UnsafeBufferPointer(start: buffer.baseAddress, count: values.count)
    }

    // MARK: - .pt (torch.save of a TensorDataset)

    private static func openTorch(_ path: String, reader: () throws -> [TorchTensor]) throws -> Partition {
        let tensors: [TorchTensor]
        do {
            tensors = try reader()
        } catch {
            throw PartitionError.unreadable(path: path, reason: "\(error)")
        }
        guard tensors.count == 2 || tensors.count == 3 else {
            throw PartitionError.wrongTensorCount(path: path, count: tensors.count)
        }
        let names = ["images (tensors[0])", "magnitudes (tensors[1])", "redshift (tensors[2])"]
        func check(_ position: Int, _ dtype: TorchDType) throws {
            guard tensors[position].dtype == dtype else {
                throw PartitionError.wrongDType(path: path, tensor: names[position], expected: dtype.rawValue,
                                                actual: tensors[position].dtype.rawValue)
            }
        }
        try check(0, .float32)
        let count = try imageCount(tensors[0].shape, path: path, tensor: names[0])
        try check(1, .float64)
        try checkMagnitudes(tensors[1].shape, count: count, path: path, tensor: names[1])
        if tensors.count == 3 {
            try check(2, .float32)
            try checkRedshift(tensors[2].shape, count: count, path: path, tensor: names[2])
        }
        var owned: [UnsafeMutableRawPointer] = []
        /// The tensor's elements: a view of its storage when torch laid them
        /// out contiguously and aligned, else a copy owned by the partition.
        func elements<T>(_ position: Int, as type: T.Type) throws -> (UnsafeBufferPointer<T>, Bool) {
            let tensor = tensors[position]
            let storage = tensor.storage.withUnsafeBytes { ($0.baseAddress, $0.count) }
            return try tensor.withContiguousBytes { bytes in
                let count = bytes.count / MemoryLayout<T>.stride
                if let start = bytes.baseAddress, let storageStart = storage.0, start >= storageStart,
                   start + bytes.count <= storageStart + storage.1,
                   Int(bitPattern: start) % MemoryLayout<T>.alignment == 0 {
                    return (UnsafeBufferPointer(start: start.bindMemory(to: T.self, capacity: count), count: count), true)
                }
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1),
                                                              alignment: MemoryLayout<T>.alignment)
                owned.append(buffer)
                if let source = bytes.baseAddress, !bytes.isEmpty {
                    buffer.copyMemory(from: source, byteCount: bytes.count)
                }
                return (UnsafeBufferPointer(start: buffer.bindMemory(to: T.self, capacity: count), count: count), false)
            }
        }
        do {
            let (images, zeroCopy) = try elements(0, as: Float.self)
            let magnitudes = try elements(1, as: Double.self).0
            let redshift = tensors.count == 3 ? try elements(2, as: Float.self).0 : nil
            guard images.count == count * SampleFormat.pixelsPerSample,
                  magnitudes.count == count * SampleFormat.bandCount,
                  redshift.map({ $0.count == count }) ?? true else {
                throw PartitionError.unreadable(path: path, reason: "tensor data is shorter than its shape")
            }
            return Partition(source: path, format: .pt, count: count, images: images, magnitudes: magnitudes,
                             redshift: redshift, isZeroCopy: zeroCopy,
                             imagesAreFileMapped: zeroCopy && tensors[0].storage.isMapped, backing: tensors, owned: owned)
        } catch let error as PartitionError {
            owned.forEach { $0.deallocate() }
            throw error
        } catch {
            owned.forEach { $0.deallocate() }
            throw PartitionError.unreadable(path: path, reason: "\(error)")
        }
    }
}
