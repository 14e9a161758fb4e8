#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Immutable bytes with a stable address for the lifetime of the object:
/// a read-only memory map of a whole file, or a private aligned heap copy.
/// Storages point into it instead of copying, and keep it alive.
final class ByteSource: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    let isMapped: Bool
    private let mappedLength: Int
    private let owned: UnsafeMutableRawPointer?
    /// Keeps borrowed bytes valid (nil for mapped and heap sources).
    private let owner: AnyObject?

    /// Alignment of heap copies: enough for any torch dtype and for SIMD loads.
    static let heapAlignment = 64

    private init(base: UnsafeRawPointer, count: Int, isMapped: Bool, mappedLength: Int, owned: UnsafeMutableRawPointer?,
                 owner: AnyObject? = nil) {
        self.base = base
        self.count = count
        self.isMapped = isMapped
        self.mappedLength = mappedLength
        self.owned = owned
        self.owner = owner
    }

    /// Views bytes already in memory without copying; `owner` keeps them
    /// valid and unchanged for the lifetime of this source.
    static func borrowing(_ bytes: UnsafeRawBufferPointer, owner: AnyObject) -> ByteSource {
        ByteSource(base: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!, count: bytes.count, isMapped: false,
                   mappedLength: 0, owned: nil, owner: owner)
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        } else {
            owned?.deallocate()
        }
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Maps `url` read-only. The file must not be truncated while mapped (the
    /// OS would fault on access), which holds for write-once partition files.
    static func map(_ url: URL) throws -> ByteSource {
        let path = url.path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TorchPickleError.unreadableFile(file: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw TorchPickleError.unreadableFile(file: path, reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw TorchPickleError.unreadableFile(file: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else { throw TorchPickleError.notATorchFile(file: path, reason: "the file is empty") }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
              address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw TorchPickleError.unreadableFile(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        return ByteSource(base: UnsafeRawPointer(address), count: size, isMapped: true, mappedLength: size, owned: nil)
    }

    /// One aligned copy of `data` (for archives already in memory).
    static func copy(of data: Data) -> ByteSource {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: heapAlignment)
        data.withUnsafeBytes { raw in
            if let source = raw.baseAddress, raw.count > 0 { memory.copyMemory(from: source, byteCount: raw.count) }
        }
        return ByteSource(base: UnsafeRawPointer(memory), count: data.count, isMapped: false, mappedLength: 0, owned: memory)
    }

    /// An aligned heap buffer filled by `fill` (inflated zip entries).
    static func allocate(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> ByteSource {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: heapAlignment)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: memory, count: count))
        } catch {
            memory.deallocate()
            throw error
        }
        return ByteSource(base: UnsafeRawPointer(memory), count: count, isMapped: false, mappedLength: 0, owned: memory)
    }
}
