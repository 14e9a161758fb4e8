import CosmicSupport
import Foundation
import SafeTensors

/// What `generateDataset` found and did, so the caller can say which happened.
public struct DatasetGenerationReport: Equatable, Sendable {
    /// Every file of the requested split, in order.
    public let urls: [URL]
    /// Files written by this call.
    public let generated: [String]
    /// Files that already held exactly what would have been written.
    public let kept: [String]
    /// Further files of the same dataset (same generator, seed and
    /// partition) beyond the request, left in place.
    public let extra: [String]
    /// Old partition files removed because `replace` was asked for.
    public let removed: [String]
    /// Temporary files of interrupted writers that were cleaned up.
    public let staleTemporaryFiles: [String]
}

/// Generates a synthetic data prefix: `1.safetensors`, `2.safetensors`, ...
/// in `dir` (e.g. root/100MB), one file in memory at a time.
///
/// - `dataSize` given: the spec's split of that size (full files, remainder
///   in the last); with `files` too, only the first `files` files of it.
/// - only `files` given: that many full files.
/// - neither: the whole dataset (12.6 GB).
///
/// The folder is inspected before anything is written. A file that already
/// holds exactly what would be written (judged by its header) is kept;
/// further files of the same dataset are left in place. Any other partition
/// file (another partition size, seed or sample count, a `.pt`, something
/// unreadable) would leave a mixed prefix, so the call fails with
/// `GeneratorError.conflictingFiles` naming each one, unless `replace`:
/// then those files, and the same-dataset extras, are removed first.
/// Temporary files of dead writers (an interrupted earlier run) are removed.
/// `progress` receives (files done, files total) after each file.
@discardableResult
public func generateDataset(partition: PartitionSize, files: Int? = nil, dataSize: DataSize? = nil,
                            into dir: URL, seed: UInt64, replace: Bool = false,
                            progress: ((Int, Int) -> Void)? = nil) throws -> DatasetGenerationReport {
    let counts: [Int]
    switch (files, dataSize) {
    case let (files?, nil):
        guard files >= 1 else { throw GeneratorError.invalidFileCount(files) }
        counts = Array(repeating: partition.samplesPerFile, count: files)
    case let (files, size):
        let size = size ?? .wholeDataset
        let available = size.fileCount(partition: partition)
        let wanted = files ?? available
        guard wanted >= 1 else { throw GeneratorError.invalidFileCount(wanted) }
        guard wanted <= available else {
            throw GeneratorError.tooManyFiles(requested: wanted, available: available,
                                              dataSize: size.description, partition: partition.rawValue)
        }
        counts = (1...wanted).map { size.samplesInFile(index: $0, partition: partition) }
    }
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory)
    if exists, !isDirectory.boolValue { throw GeneratorError.notADirectory(path: dir.path) }
    let generator = PartitionGenerator(partition: partition, seed: seed)

    var kept: [String] = [], extra: [String] = [], conflicts: [(name: String, reason: String)] = []
    var stale: [String] = []
    if exists {
        stale = try AtomicFile.removeStaleTemporaryFiles(in: dir).map(\.lastPathComponent)
        for name in try FileSystem.entries(of: dir) {
            guard let (index, format) = PartitionStore.parse(name) else { continue }
            let url = dir.appendingPathComponent(name)
            let planned = index <= counts.count && name == "\(index).safetensors"
            if planned, generator.isComplete(fileIndex: index, sampleCount: counts[index - 1], at: url) {
                kept.append(name)
            } else if !planned, format == .safetensors, generator.belongsToDataset(fileIndex: index, at: url) {
                extra.append(name)
            } else {
                conflicts.append((name, describePartitionFile(url)))
            }
        }
    }
    let wanted = "\(counts.count) file\(counts.count == 1 ? "" : "s") of \(partition.rawValue), seed \(seed)"
        + (counts.last.map { $0 == partition.samplesPerFile ? "" : " (last file \($0) samples)" } ?? "")
    let order = { (a: String, b: String) in
        (PartitionStore.parse(a)?.0 ?? 0, a) < (PartitionStore.parse(b)?.0 ?? 0, b)
    }
    conflicts.sort { order($0.name, $1.name) }
    guard conflicts.isEmpty || replace else {
        throw GeneratorError.conflictingFiles(directory: dir.path, wanted: wanted,
                                              conflicts: conflicts.map { "\($0.name): \($0.reason)" })
    }
    var removed: [String] = []
    if replace {
        for name in conflicts.map(\.name) + extra {
            try FileSystem.remove(dir.appendingPathComponent(name))
            removed.append(name)
        }
        extra = []
    }
    try FileSystem.createDirectories(dir)
    var urls: [URL] = [], generated: [String] = []
    for (offset, count) in counts.enumerated() {
        let index = offset + 1
        let name = "\(index).safetensors"
        let url = dir.appendingPathComponent(name)
        if !kept.contains(name) {
            try generator.generateFile(index: index, sampleCount: count, to: url)
            generated.append(name)
        }
        urls.append(url)
        progress?(index, counts.count)
    }
    return DatasetGenerationReport(urls: urls, generated: generated, kept: kept.sorted(by: order),
                                   extra: extra.sorted(by: order), removed: removed.sorted(by: order),
                                   staleTemporaryFiles: stale)
}

/// One line on what a partition file holds, for a conflict message.
func describePartitionFile(_ url: URL) -> String {
    guard url.pathExtension == PartitionFormat.safetensors.rawValue else {
        return "a .\(url.pathExtension) partition, not a generated one"
    }
    let file: SafeTensorsFile
    do { file = try SafeTensorsFile(contentsOf: url) } catch { return "not a readable partition (\(error))" }
    let m = file.metadata
    guard m["generator"] == PartitionGenerator.name else { return "a partition not written by this generator" }
    return "partition \(m["partition"] ?? "?"), seed \(m["seed"] ?? "?"), \(m["samples"] ?? "?") samples"
}

extension PartitionGenerator {
    /// Whether the file at `url` was written by this generator with this
    /// seed and partition size as file `index` (any sample count: the last
    /// file of a split holds the remainder).
    func belongsToDataset(fileIndex index: Int, at url: URL) -> Bool {
        guard let file = try? SafeTensorsFile(contentsOf: url), let samples = file.metadata["samples"].flatMap(Int.init),
              samples >= 1, samples <= partition.samplesPerFile else { return false }
        return isComplete(fileIndex: index, sampleCount: samples, at: url)
    }
}
