import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader never sees a half-written one: the bytes go
/// to a temporary file in the same directory (`.<name>.tmp-<pid>-<random>`),
/// are flushed with `fsync`, and the temporary file is renamed over the
/// destination. A crash or Ctrl-C leaves either the old file or the new one,
/// never a mix; the orphaned temporary file is removed by
/// `removeStaleTemporaryFiles` once its process is gone.
///
/// POSIX calls are used (not `Data.write`) so a failure carries its errno:
/// every error is a `FileOperationError` naming the destination path and the
/// cause in words ("cannot write /x/1.json: no space left on device").
public enum AtomicFile {
    /// Atomically replaces `url` with `data`, creating parent directories.
    public static func write(_ data: Data, to url: URL) throws {
        try writeAtomically(to: url) { fd in
            try data.withUnsafeBytes { bytes in
                try writeAll(fd, bytes, path: url.path)
            }
        }
    }

    /// Atomically replaces `url` with the UTF-8 bytes of `text`.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Streams a large file: `body` receives a handle to a temporary file,
    /// which is renamed over `url` only if `body` returns normally. Foundation
    /// errors `body` lets through are reported as failed writes of `url`.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        try writeAtomically(to: url) { fd in
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
            do {
                try body(handle)
            } catch let error as NSError where error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain {
                throw FileOperationError(operation: "write", path: url.path, error: error)
            }
        }
    }

    /// The temporary name used for `url` by this process.
    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent)\(marker)\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// The destination name and writer pid encoded in a temporary file name,
    /// nil for any other name.
    public static func parseTemporaryName(_ name: String) -> (target: String, pid: pid_t)? {
        guard name.hasPrefix("."), let range = name.range(of: marker, options: .backwards) else { return nil }
        let target = String(name[name.index(after: name.startIndex)..<range.lowerBound])
        let fields = name[range.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard !target.isEmpty, fields.count == 2, let pid = pid_t(fields[0]), pid > 0, UInt32(fields[1]) != nil else {
            return nil
        }
        return (target, pid)
    }

    /// Removes the temporary files in `directory` whose writing process no
    /// longer exists (left by a crash or Ctrl-C) and returns them. Files of
    /// living processes, this one included, are kept.
    @discardableResult
    public static func removeStaleTemporaryFiles(in directory: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return []
        }
        var removed: [URL] = []
        for name in try FileSystem.entries(of: directory) {
            guard let (_, pid) = parseTemporaryName(name), pid != getpid(), !FileSystem.processExists(pid) else { continue }
            let url = directory.appendingPathComponent(name)
            try FileSystem.remove(url)
            removed.append(url)
        }
        return removed
    }

    /// True when `name` is a temporary file of a process that no longer exists.
    public static func isStaleTemporaryName(_ name: String) -> Bool {
        guard let (_, pid) = parseTemporaryName(name) else { return false }
        return pid != getpid() && !FileSystem.processExists(pid)
    }

    private static let marker = ".tmp-"

    /// Creates the temporary file, lets `fill` write to its descriptor, then
    /// syncs, closes and renames it; on any failure the temporary is removed.
    private static func writeAtomically(to url: URL, fill: (Int32) throws -> Void) throws {
        try FileSystem.createDirectories(url.deletingLastPathComponent())
        let temp = temporaryURL(for: url)
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileOperationError(operation: "create", path: url.path, errno: errno) }
        var isOpen = true
        do {
            try fill(fd)
            guard fsync(fd) == 0 else { throw FileOperationError(operation: "write", path: url.path, errno: errno) }
            isOpen = false
            guard close(fd) == 0 else { throw FileOperationError(operation: "write", path: url.path, errno: errno) }
            guard rename(temp.path, url.path) == 0 else {
                throw FileOperationError(operation: "replace", path: url.path, errno: errno)
            }
        } catch {
            if isOpen { close(fd) }
            unlink(temp.path)
            throw error
        }
    }

    /// Writes every byte, retrying after signals and short writes.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = posixWrite(fd, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileOperationError(operation: "write", path: path, errno: errno)
            }
            next += written
            left -= written
        }
    }
}

/// write(2), named apart from `AtomicFile.write` so the call is unambiguous.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
