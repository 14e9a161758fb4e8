import Foundation

/// Why a pipeline run was refused before anything was written. Each message
/// names the directory or file concerned.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    /// `--root` (the directory holding the local buckets) does not exist.
    case rootMissing(path: String)
    /// The result folder already holds files of another run; `entries`
    /// lists (some of) them.
    case resultDirectoryNotEmpty(path: String, entries: [String])
    /// The result folder, once symbolic links are resolved, is not below the root.
    case resultOutsideRoot(path: String, resolved: String, root: String)
    /// The result folder is, or lies inside, the data prefix (or holds it),
    /// so results and partitions would mix and replacing could delete data.
    case resultOverlapsData(result: String, data: String)
    /// Something on the result path exists but is not a directory.
    case resultNotADirectory(path: String, blocking: String)
    /// The result folder (or the folder it would be created in) cannot be written.
    case resultNotWritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .rootMissing(path):
            return "root \(path) does not exist or is not a directory"
        case let .resultDirectoryNotEmpty(path, entries):
            let shown = entries.prefix(5).joined(separator: ", ") + (entries.count > 5 ? ", ..." : "")
            return "result folder \(path) already holds \(entries.count) entr\(entries.count == 1 ? "y" : "ies") (\(shown)) "
                + "from an earlier run; choose another result_path or replace its contents"
        case let .resultOutsideRoot(path, resolved, root):
            return "result folder \(path) resolves to \(resolved), outside the root \(root) (a symbolic link points out of it)"
        case let .resultOverlapsData(result, data):
            return "result folder \(result) overlaps the data prefix \(data); results must not be written among the partitions"
        case let .resultNotADirectory(path, blocking):
            return "result folder \(path) cannot be created: \(blocking) exists and is not a directory"
        case let .resultNotWritable(path, reason):
            return "cannot write into result folder \(path): \(reason)"
        }
    }
}
