import CosmicSupport
import Foundation

/// The folder one run writes its results to, checked before anything is
/// written: below the root once symbolic links are resolved, apart from the
/// data prefix, creatable and writable, and empty unless `replace` was asked
/// for. `prepareForWriting` then empties (with `replace`) and creates it,
/// so nothing of an older run survives next to the new results.
public struct ResultDirectory: Sendable {
    public let url: URL
    /// Whether the old contents are removed by `prepareForWriting`.
    public let replace: Bool

    /// Checks `url` against the resolved `root` and `dataDirectory` (which must exist).
    public init(url: URL, root: URL, dataDirectory: URL, replace: Bool) throws {
        self.url = url
        self.replace = replace
        guard let resolvedRoot = FileSystem.resolvedPath(root) else {
            throw PipelineError.rootMissing(path: root.path)
        }
        // The deepest part of the path that exists decides where the rest
        // would be created; resolve it and append the missing components.
        var existing = url
        var missing: [String] = []
        var status = stat()
        while lstat(existing.path, &status) != 0 {
            missing.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        guard let resolvedExisting = FileSystem.resolvedPath(existing) else {
            throw PipelineError.resultNotWritable(path: url.path, reason: "\(existing.path) cannot be resolved (a dangling symbolic link?)")
        }
        let resolved = missing.reduce(resolvedExisting) { $0 == "/" ? "/" + $1 : $0 + "/" + $1 }
        guard FileSystem.isPath(resolved, inside: resolvedRoot) else {
            throw PipelineError.resultOutsideRoot(path: url.path, resolved: resolved, root: resolvedRoot)
        }
        let resolvedData = FileSystem.resolvedPath(dataDirectory) ?? dataDirectory.standardizedFileURL.path
        if FileSystem.isPath(resolved, inside: resolvedData) || FileSystem.isPath(resolvedData, inside: resolved) {
            throw PipelineError.resultOverlapsData(result: url.path, data: dataDirectory.path)
        }
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: resolvedExisting, isDirectory: &isDirectory)
        guard isDirectory.boolValue else {
            throw PipelineError.resultNotADirectory(path: url.path, blocking: existing.path)
        }
        if access(resolvedExisting, W_OK | X_OK) != 0 {
            throw PipelineError.resultNotWritable(path: url.path, reason: "\(existing.path): \(describeErrno(errno))")
        }
        if missing.isEmpty, !replace {
            let leftovers = try FileSystem.entries(of: url).filter { !AtomicFile.isStaleTemporaryName($0) }
            if !leftovers.isEmpty {
                throw PipelineError.resultDirectoryNotEmpty(path: url.path, entries: leftovers)
            }
        }
    }

    /// Right before the first write: removes the old contents (with
    /// `replace`) or the temporary files dead writers left, then creates
    /// the folder.
    public func prepareForWriting() throws {
        if FileManager.default.fileExists(atPath: url.path) {
            if replace {
                try FileSystem.removeContents(of: url)
            } else {
                try AtomicFile.removeStaleTemporaryFiles(in: url)
            }
        }
        try FileSystem.createDirectories(url)
    }
}
