import Foundation

/// Writes files so that a reader never sees a half-written one: the bytes go
/// to a temporary file in the same directory, are flushed, and the temporary
/// file is renamed over the destination. A crash or Ctrl-C leaves either the
/// old file or the new one, never a mix.
public enum AtomicFile {
    /// Atomically replaces `url` with `data`, creating parent directories.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: temp)
            try renameReplacing(temp, url)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw AtomicFileError.writeFailed(path: url.path, reason: "\(error)")
        }
    }

    /// Atomically replaces `url` with the UTF-8 bytes of `text`.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Streams a large file: `body` receives a handle to a temporary file,
    /// which is renamed over `url` only if `body` returns normally.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw AtomicFileError.writeFailed(path: url.path, reason: "cannot create \(temp.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            try renameReplacing(temp, url)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
    }

    private static func renameReplacing(_ from: URL, _ to: URL) throws {
        if rename(from.path, to.path) != 0 {
            throw AtomicFileError.writeFailed(path: to.path, reason: String(cString: strerror(errno)))
        }
    }
}

/// A failed atomic write; the destination is untouched.
public enum AtomicFileError: Error, CustomStringConvertible {
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .writeFailed(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}
