import CAIWorkload
import Foundation
import LambdaCost

/// What a real sweep of `spec` would refuse, found without running anything:
/// `sweep --dry-run` reports every problem at once instead of the first.
///
/// The checks read the file system only; the one write is a temporary file
/// in each output folder (or its nearest existing parent), removed at once.
public struct SweepPreflight {
    /// One thing a real run would refuse: the spec key, its value and why.
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        /// The spec key (`data`, `weights`, `out`, `cache`, `lambda.memory`, ...).
        public var key: String
        /// The key's value as given (a path, a memory setting).
        public var value: String
        public var reason: String

        public init(key: String, value: String, reason: String) {
            self.key = key
            self.value = value
            self.reason = reason
        }

        public var description: String { "\(key) = \"\(value)\": \(reason)" }
    }

    public var spec: SweepSpec
    /// True for `--executor aws`: `lambda.memory` must then be fixed sizes.
    public var remote: Bool
    /// The golden fixtures the local accuracy check would use; nil skips that check.
    public var fixtures: [URL]?

    public init(spec: SweepSpec, remote: Bool = false, fixtures: [URL]? = nil) {
        self.spec = spec
        self.remote = remote
        self.fixtures = fixtures
    }

    /// Every problem found, in the order data, weights, out, cache, memory, fixtures.
    public func problems() -> [Problem] {
        var problems = dataProblems()
        if let weights = spec.weights, let reason = Self.unreadableFile(weights) {
            problems.append(Problem(key: "weights", value: weights, reason: reason))
        }
        if let reason = Self.unwritableDirectory(spec.outputDirectory) {
            problems.append(Problem(key: "out", value: spec.outputDirectory, reason: reason))
        }
        if let reason = Self.unwritableDirectory(spec.cacheDirectory) {
            problems.append(Problem(key: "cache", value: spec.cacheDirectory, reason: reason))
        }
        if remote, spec.lambda.memory.contains(.auto) {
            problems.append(Problem(key: "lambda.memory", value: Self.memoryDescription(spec.lambda.memory),
                                    reason: "--executor aws needs fixed sizes in MB (\"auto\" is resolved from a "
                                        + "local peak RSS), e.g. --memory 1769,3008"))
        }
        if !remote, let fixtures, fixtures.isEmpty {
            problems.append(Problem(key: "fixtures", value: "../shared/fixtures, Fixtures/golden",
                                    reason: "no golden fixture found; the accuracy check before timing would fail"))
        }
        return problems
    }

    /// Memory settings as the dry run prints them: "auto, 1769 MB, 3008 MB".
    public static func memoryDescription(_ memory: [MemorySetting]) -> String {
        memory.map { setting in
            switch setting {
            case .auto: return "auto"
            case let .fixed(megabytes): return "\(megabytes) MB"
            }
        }.joined(separator: ", ")
    }

    // MARK: - Data

    /// `data` as `DirectoryPartitions` reads it: per partition size the folder
    /// `<data>/<partition>/` (or `<data>` itself without one) must list at
    /// least as many partition files as each configuration's file limit.
    func dataProblems() -> [Problem] {
        guard let data = spec.dataDirectory else { return [] }
        let root = URL(fileURLWithPath: data)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory) else {
            return [Problem(key: "data", value: data, reason: "no such directory")]
        }
        guard isDirectory.boolValue else { return [Problem(key: "data", value: data, reason: "not a directory")] }
        let configurations = spec.configurations
        var problems: [Problem] = []
        var seen = Set<PartitionSize>()
        for partition in configurations.map(\.partition) where seen.insert(partition).inserted {
            let folder = DirectoryPartitions(directory: root).folder(for: partition).url
            let sub = root.appendingPathComponent(partition.rawValue)
            let files: [PartitionFile]
            do {
                files = try PartitionStore.list(directory: folder)
            } catch {
                let place = folder == root ? "\(root.path) has no \(partition.rawValue) folder and" : sub.path
                problems.append(Problem(key: "data", value: data, reason: "for \(partition.rawValue): \(place) "
                    + Self.listingReason(error)))
                continue
            }
            let short = configurations.filter { $0.partition == partition && $0.fileLimit > files.count }
            guard !short.isEmpty else { continue }
            let needs = short.map { "\($0.id) needs \($0.fileLimit)" }
            problems.append(Problem(key: "data", value: data, reason: "\(folder.path) holds \(files.count) partition "
                + "file(s), too few for the file limit of \(short.count) configuration(s): "
                + needs.joined(separator: ", ")))
        }
        return problems
    }

    private static func listingReason(_ error: Error) -> String {
        switch error as? PartitionStoreError {
        case .noPartitionFiles?: return "holds no partition files (1.pt, 2.pt, ... or 1.safetensors, ...)"
        case .notADirectory?: return "is not a directory"
        case let .unreadable(_, reason)?: return "cannot be listed: \(reason)"
        case let .duplicateIndex(_, index, names)?:
            return "has partition \(index) more than once (\(names.joined(separator: ", ")))"
        case nil: return "\(error)"
        }
    }

    // MARK: - Files and folders

    /// Why `path` cannot be read as a file, nil when it can.
    static func unreadableFile(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "a directory, not a file" }
        guard FileManager.default.isReadableFile(atPath: path) else { return "not readable" }
        return nil
    }

    /// Why a folder at `path` cannot be created or written, nil when it can:
    /// a temporary file is created (and removed) in `path`, or, when `path`
    /// does not exist yet, in its nearest existing parent.
    static func unwritableDirectory(_ path: String) -> String? {
        let target = URL(fileURLWithPath: path).standardizedFileURL
        var url = target
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return "no existing parent folder" }
            url = parent
        }
        let own = url.path == target.path
        guard isDirectory.boolValue else {
            return own ? "not a directory" : "cannot be created: \(url.path) is not a directory"
        }
        let probe = url.appendingPathComponent(".cosmicbench-preflight-\(UUID().uuidString)")
        let fd = open(probe.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            return own ? "cannot be written: \(reason)" : "cannot be created in \(url.path): \(reason)"
        }
        close(fd)
        unlink(probe.path)
        return nil
    }
}
