import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of one safetensors image, either a read-only memory mapping of
/// a file or a 64-byte-aligned private copy of in-memory data. Its lifetime
/// bounds every pointer handed out by `SafeTensorsFile`.
private final class Backing: @unchecked Sendable {
    private enum Kind {
        case mapped
        case allocated
        case borrowed(AnyObject)
    }

    let base: UnsafeRawPointer
    let count: Int
    private let kind: Kind

    /// Maps `path` read-only; the file must be a regular file of at least 8 bytes.
    init(mapping path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SafeTensorsError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw SafeTensorsError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw SafeTensorsError.cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size >= 8 else { throw SafeTensorsError.fileTooShort(path: path, size: size) }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              pointer != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            throw SafeTensorsError.cannotMap(path: path, reason: String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(pointer)
        count = size
        kind = .mapped
    }

    /// Copies `data` into memory aligned like a mapping would be, so aligned
    /// views behave the same as for files.
    init(copying data: Data) {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { source in
            if let address = source.baseAddress, source.count > 0 {
                pointer.copyMemory(from: address, byteCount: source.count)
            }
        }
        base = UnsafeRawPointer(pointer)
        count = data.count
        kind = .allocated
    }

    /// Views `bytes` without copying; `owner` keeps them valid and is held
    /// for as long as this backing lives.
    init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
        count = bytes.count
        kind = .borrowed(owner)
    }

    /// True for a read-only file mapping (pages may be dropped and re-read).
    var isFileMapped: Bool {
        if case .mapped = kind { return true }
        return false
    }

    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    deinit {
        switch kind {
        case .mapped: munmap(UnsafeMutableRawPointer(mutating: base), count)
        case .allocated: UnsafeMutableRawPointer(mutating: base).deallocate()
        case .borrowed: break
        }
    }
}

/// A validated safetensors file. Opening checks the whole header (every
/// field, and that the tensors tile the data section exactly), so accessors
/// never see an inconsistent layout. Files are memory-mapped, not read, so
/// opening a large checkpoint costs page faults only for what is used.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file path, or the name given for in-memory data; used in errors.
    public let path: String
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Every tensor, sorted by `byteRange.lowerBound`.
    public let tensors: [TensorInfo]

    private let backing: Backing
    private let dataStart: Int
    private let index: [String: Int]

    private init(path: String, backing: Backing) throws {
        let layout = try HeaderLayout.parse(file: backing.bytes, path: path)
        self.path = path
        self.backing = backing
        self.metadata = layout.metadata
        self.tensors = layout.tensors
        self.dataStart = layout.dataStart
        var index: [String: Int] = [:]
        for (position, tensor) in layout.tensors.enumerated() {
            index[tensor.name] = position
        }
        self.index = index
    }

    /// Memory-maps the file read-only (never copies it whole) and validates it.
    /// The mapping is released when this object is deallocated.
    public convenience init(contentsOf url: URL) throws {
        let path = url.path
        try self.init(path: path, backing: try Backing(mapping: path))
    }

    /// Validates an in-memory image (copied once); for tests and fuzzing.
    public convenience init(data: Data, path: String = "<memory>") throws {
        try self.init(path: path, backing: Backing(copying: data))
    }

    /// Validates bytes already in memory without copying them (a downloaded
    /// object): `owner` must keep `bytes` valid and unchanged; it is retained
    /// for the lifetime of this file and of every view it hands out.
    public convenience init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject, path: String) throws {
        guard bytes.count >= 8 else { throw SafeTensorsError.fileTooShort(path: path, size: bytes.count) }
        try self.init(path: path, backing: Backing(borrowing: bytes, owner: owner))
    }

    /// True when the bytes are a read-only mapping of a file, so pages of
    /// them may be dropped after use and are re-read from the file if touched.
    public var isFileMapped: Bool { backing.isFileMapped }

    /// The tensor's description, or `.missingTensor`.
    public func info(_ name: String) throws -> TensorInfo {
        guard let position = index[name] else {
            throw SafeTensorsError.missingTensor(path: path, tensor: name)
        }
        return tensors[position]
    }

    /// Whether the file holds a tensor of that name.
    public func contains(_ name: String) -> Bool {
        index[name] != nil
    }

    private func address(of tensor: TensorInfo) -> UnsafeRawPointer {
        backing.base + dataStart + tensor.byteRange.lowerBound
    }

    /// The tensor's raw little-endian bytes, valid only inside `body`.
    public func withUnsafeBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let tensor = try info(name)
        return try body(UnsafeRawBufferPointer(start: address(of: tensor), count: tensor.byteRange.count))
    }

    private func checked(_ name: String, _ dtype: DType) throws -> TensorInfo {
        let tensor = try info(name)
        guard tensor.dtype == dtype else {
            throw SafeTensorsError.wrongDType(path: path, tensor: name, expected: dtype, actual: tensor.dtype)
        }
        return tensor
    }

    private func copy<T>(_ name: String, _ dtype: DType, as type: T.Type) throws -> [T] {
        let tensor = try checked(name, dtype)
        let count = tensor.byteRange.count / MemoryLayout<T>.stride
        let source = address(of: tensor)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0, let destination = buffer.baseAddress {
                UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: tensor.byteRange.count)
            }
            initialized = count
        }
    }

    private func mapped<T>(_ name: String, _ dtype: DType, as type: T.Type) throws -> UnsafeBufferPointer<T>? {
        let tensor = try checked(name, dtype)
        let start = address(of: tensor)
        guard Int(bitPattern: start) % MemoryLayout<T>.alignment == 0 else { return nil }
        let count = tensor.byteRange.count / MemoryLayout<T>.stride
        return UnsafeBufferPointer(start: start.bindMemory(to: T.self, capacity: count), count: count)
    }

    private func withView<T, R>(_ name: String, _ dtype: DType, as type: T.Type,
                                _ body: (UnsafeBufferPointer<T>) throws -> R) throws -> R {
        if let view = try mapped(name, dtype, as: type) {
            return try body(view)
        }
        return try copy(name, dtype, as: type).withUnsafeBufferPointer(body)
    }

    /// A copy of an F32 tensor; `.wrongDType` for any other dtype.
    public func floats(_ name: String) throws -> [Float] {
        try copy(name, .f32, as: Float.self)
    }

    /// A copy of an F64 tensor; `.wrongDType` for any other dtype.
    public func doubles(_ name: String) throws -> [Double] {
        try copy(name, .f64, as: Double.self)
    }

    /// An F32 tensor without copying when its absolute file offset is 4-byte
    /// aligned, otherwise through a temporary copy. `SafeTensorsWriter` files
    /// start their data 64-byte aligned, so a tensor there is aligned when the
    /// tensors before it have byte sizes that are multiples of its element size.
    public func withFloats<R>(_ name: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        try withView(name, .f32, as: Float.self, body)
    }

    /// An F64 tensor without copying when 8-byte aligned, otherwise via a copy.
    public func withDoubles<R>(_ name: String, _ body: (UnsafeBufferPointer<Double>) throws -> R) throws -> R {
        try withView(name, .f64, as: Double.self, body)
    }

    /// A pointer into the mapping, valid as long as this object lives, for
    /// callers that keep weights in place; nil when the tensor is unaligned.
    public func mappedFloats(_ name: String) throws -> UnsafeBufferPointer<Float>? {
        try mapped(name, .f32, as: Float.self)
    }

    /// Like `mappedFloats` for F64 tensors (needs 8-byte alignment).
    public func mappedDoubles(_ name: String) throws -> UnsafeBufferPointer<Double>? {
        try mapped(name, .f64, as: Double.self)
    }
}
