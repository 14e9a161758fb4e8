import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few directory operations the harness needs, on POSIX calls so every
/// failure is a `FileOperationError` naming the path and the errno in words.
public enum FileSystem {
    /// Creates `url` and any missing parents (like `mkdir -p`). An existing
    /// directory is fine; an existing non-directory is an error naming it.
    public static func createDirectories(_ url: URL) throws {
        let path = url.standardizedFileURL.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw FileOperationError(operation: "create directory", path: path, reason: "a file of that name exists")
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try createDirectories(URL(fileURLWithPath: parent)) }
        if mkdir(path, 0o777) != 0, errno != EEXIST {
            throw FileOperationError(operation: "create directory", path: path, errno: errno)
        }
    }

    /// Names of the entries of `directory` (hidden ones included), sorted.
    public static func entries(of directory: URL) throws -> [String] {
        guard let dir = opendir(directory.path) else {
            throw FileOperationError(operation: "list", path: directory.path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes a file, a symbolic link (not its target) or a whole directory tree.
    public static func remove(_ url: URL) throws {
        let path = url.path
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw FileOperationError(operation: "remove", path: path, errno: errno)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            try removeContents(of: url)
            if rmdir(path) != 0 { throw FileOperationError(operation: "remove", path: path, errno: errno) }
        } else if unlink(path) != 0, errno != ENOENT {
            throw FileOperationError(operation: "remove", path: path, errno: errno)
        }
    }

    /// Empties `directory` but keeps it (it may be a mount point or have
    /// permissions someone chose).
    public static func removeContents(of directory: URL) throws {
        for name in try entries(of: directory) {
            try remove(directory.appendingPathComponent(name))
        }
    }

    /// Whether a process with this id exists (a zombie or another user's
    /// process counts as alive, so nothing of a living writer is removed).
    public static func processExists(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// `realpath(3)`: the path with every symbolic link, `.` and `..`
    /// resolved; nil when it does not exist.
    public static func resolvedPath(_ url: URL) -> String? {
        guard let resolved = realpath(url.path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// True when `path` is `ancestor` or lies below it (both already resolved).
    public static func isPath(_ path: String, inside ancestor: String) -> Bool {
        if path == ancestor { return true }
        let base = ancestor.hasSuffix("/") ? ancestor : ancestor + "/"
        return path.hasPrefix(base)
    }
}
