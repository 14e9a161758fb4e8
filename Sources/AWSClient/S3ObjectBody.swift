import Foundation

/// A downloaded object. `data` owns the single buffer the body was streamed
/// into (no second copy is ever made); metadata comes from the response.
public struct S3ObjectBody: Sendable {
    public var data: Data
    public var etag: String?
    public var contentType: String?

    public init(data: Data, etag: String?, contentType: String?) {
        self.data = data
        self.etag = etag
        self.contentType = contentType
    }

    /// Raw read access without going through `Data`'s API.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try data.withUnsafeBytes(body)
    }
}

/// One malloc'd destination of known size that parts of a body are written
/// into at their offsets (disjoint ranges, possibly from several tasks),
/// then handed to `Data` without copying.
final class S3DownloadBuffer: @unchecked Sendable {
    let count: Int
    private var pointer: UnsafeMutableRawPointer?

    /// Fails (nil) when the allocation cannot be made.
    init?(count: Int) {
        precondition(count >= 0)
        self.count = count
        if count > 0 {
            guard let memory = malloc(count) else { return nil }
            pointer = memory
        }
    }

    deinit { free(pointer) }

    /// Copies `bytes` to `offset`. Returns false instead of writing when the
    /// bytes would not fit below `limit` (the end of the caller's range).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int) -> Bool {
        guard offset >= 0, limit <= count, bytes.count <= limit - offset else { return false }
        guard let base = bytes.baseAddress, bytes.count > 0, let pointer else { return true }
        (pointer + offset).copyMemory(from: base, byteCount: bytes.count)
        return true
    }

    /// Hands the memory to a `Data` that frees it; the buffer is empty afterwards.
    func takeData() -> Data {
        guard let memory = pointer else { return Data() }
        pointer = nil
        return Data(bytesNoCopy: memory, count: count, deallocator: .free)
    }
}
