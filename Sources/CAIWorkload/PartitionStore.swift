import CosmicSupport
import Foundation

/// On-disk formats a partition file can have.
public enum PartitionFormat: String, Sendable, CaseIterable {
    /// Native files written by `PartitionGenerator` (memory-mapped on read).
    case safetensors
    /// The original CAI files: `torch.save` of a `TensorDataset`.
    case pt
}

/// One partition file of a data prefix, `<index>.safetensors` or `<index>.pt`.
public struct PartitionFile: Equatable, Hashable, Sendable {
    public let index: Int
    public let url: URL
    public let format: PartitionFormat

    public init(index: Int, url: URL, format: PartitionFormat) {
        self.index = index
        self.url = url
        self.format = format
    }

    /// File name relative to the prefix directory, e.g. "10.pt".
    public var name: String { url.lastPathComponent }
}

/// Why a data prefix directory could not be listed.
public enum PartitionStoreError: Error, CustomStringConvertible, Equatable {
    case notADirectory(path: String)
    case unreadable(path: String, reason: String)
    case noPartitionFiles(path: String)
    case duplicateIndex(path: String, index: Int, names: [String])

    public var description: String {
        switch self {
        case let .notADirectory(path):
            return "data prefix \(path) does not exist or is not a directory"
        case let .unreadable(path, reason):
            return "cannot list data prefix \(path): \(reason)"
        case let .noPartitionFiles(path):
            return "data prefix \(path) holds no partition files (expected 1.pt, 2.pt, ... or 1.safetensors, 2.safetensors, ...)"
        case let .duplicateIndex(path, index, names):
            return "data prefix \(path) has partition \(index) more than once (\(names.joined(separator: ", "))); keep one of them"
        }
    }
}

/// Lists the partition files of a data prefix the way CAI's initializer does,
/// but in numeric order (1, 2, ..., 10), not S3's lexical order.
public enum PartitionStore {
    /// Partition files directly in `directory`, sorted by their number. Other
    /// files (temporary files, notes, `payload.json`) are ignored. A directory
    /// without partition files, or with two files for the same number (such as
    /// `3.pt` and `3.safetensors`, or `3.pt` and `03.pt`), is an error.
    public static func list(directory: URL) throws -> [PartitionFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PartitionStoreError.notADirectory(path: directory.path)
        }
        let names: [String]
        do {
            names = try FileSystem.entries(of: directory)
        } catch let error as FileOperationError {
            throw PartitionStoreError.unreadable(path: directory.path, reason: error.reason)
        }
        return try select(names, path: directory.path).map {
            PartitionFile(index: $0.index, url: directory.appendingPathComponent($0.name), format: $0.format)
        }
    }

    /// The partition names among `names` (a listing of the prefix `path`),
    /// sorted by their number, with the same rules as `list(directory:)`.
    public static func select(_ names: [String], path: String) throws -> [(index: Int, name: String, format: PartitionFormat)] {
        var byIndex: [Int: [(index: Int, name: String, format: PartitionFormat)]] = [:]
        for name in names {
            guard let (index, format) = parse(name) else { continue }
            byIndex[index, default: []].append((index, name, format))
        }
        guard !byIndex.isEmpty else { throw PartitionStoreError.noPartitionFiles(path: path) }
        var files: [(index: Int, name: String, format: PartitionFormat)] = []
        for index in byIndex.keys.sorted() {
            let candidates = byIndex[index]!
            guard candidates.count == 1 else {
                throw PartitionStoreError.duplicateIndex(path: path, index: index, names: candidates.map(\.name).sorted())
            }
            files.append(candidates[0])
        }
        return files
    }

    /// The number and format of a partition file name, nil for other names.
    public static func parse(_ name: String) -> (Int, PartitionFormat)? {
        for format in PartitionFormat.allCases {
            let suffix = "." + format.rawValue
            guard name.hasSuffix(suffix) else { continue }
            let stem = name.dropLast(suffix.count)
            guard !stem.isEmpty, stem.count <= 18, stem.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let index = Int(stem) else { return nil }
            return (index, format)
        }
        return nil
    }
}
