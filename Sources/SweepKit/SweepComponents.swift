import AstroMAE
import CAIWorkload
import Foundation

/// The accuracy check run before a configuration is timed. Returns a short
/// description of what passed; throws `SweepError.verificationFailed` (or
/// `.noFixtures`) when the model must not be timed.
public protocol AccuracyChecking {
    func verify(threads: Int, configuration: String) throws -> String
}

/// Runs `Verifier.verify` on the golden fixtures in this process with the
/// threading the ranks are about to use (`threads` workers splitting the
/// batch over single-threaded BLAS, as `RankJob` runs them). The fixtures
/// carry the seed of the weights they were made with, so this checks the
/// kernels and the threading, whatever weights the ranks then load.
public struct FixtureVerifier: AccuracyChecking {
    public var fixtures: [URL]

    public init(fixtures: [URL] = Verifier.defaultFixtures()) {
        self.fixtures = fixtures
    }

    public func verify(threads: Int, configuration: String) throws -> String {
        guard !fixtures.isEmpty else { throw SweepError.noFixtures }
        let session = Verifier.SessionConfiguration(threads: threads, parallelism: RankJob.defaultParallelism)
        for fixture in fixtures {
            let report: VerificationReport
            do {
                report = try Verifier.verify(fixture: fixture, session: session)
            } catch {
                throw SweepError.verificationFailed(configuration: configuration, threads: threads, details: "\(error)")
            }
            guard report.passed else {
                throw SweepError.verificationFailed(configuration: configuration, threads: threads,
                                                    details: report.rendered())
            }
        }
        return "passed \(fixtures.count) fixture(s), OpenBLAS \(BLAS.coreName), \(session.description)"
    }
}

/// An accuracy check from a closure (tests).
public struct ClosureVerifier: AccuracyChecking {
    public let body: (Int, String) throws -> String

    public init(_ body: @escaping (Int, String) throws -> String) {
        self.body = body
    }

    public func verify(threads: Int, configuration: String) throws -> String {
        try body(threads, configuration)
    }
}

/// Supplies the partitions of the ranks a configuration measures, as a data
/// prefix the sweep's ranks read through `LocalStorage` like any payload's.
public protocol PartitionProviding {
    /// The folder the sweep mounts as its data bucket.
    var dataDirectory: URL { get }
    /// The data prefix (below `dataDirectory`) of configuration `c` and the
    /// partition names CAI's initializer finds there, with the files of
    /// `ranks` present.
    func prepare(_ c: SweepConfiguration, ranks: [Int]) throws -> (prefix: String, names: [String])
    /// Where the data comes from, recorded in ranks.csv.
    var sourceDescription: String { get }
}

/// Generated partitions, cached under `<cache>/partitions/seed-<seed>/`:
/// `<partition>/<n>.safetensors` for full files, and
/// `<partition>/remainder-<samples>/<n>.safetensors` for a data size's short
/// last file (its sample count depends on the data size). Each configuration
/// reads the prefix `<partition>/<data size>/`, whose files are symbolic
/// links to those. Only the files of measured ranks are generated; the
/// other names are listed as CAI's initializer would find them.
public struct SyntheticPartitions: PartitionProviding {
    public var cacheDirectory: URL
    public var seed: UInt64
    /// Called before each file is generated with (partition, file index, samples).
    public var onGenerate: ((PartitionSize, Int, Int) -> Void)?

    public init(cacheDirectory: URL, seed: UInt64, onGenerate: ((PartitionSize, Int, Int) -> Void)? = nil) {
        self.cacheDirectory = cacheDirectory
        self.seed = seed
        self.onGenerate = onGenerate
    }

    public var sourceDescription: String { "synthetic seed \(seed)" }

    public var dataDirectory: URL {
        cacheDirectory.appendingPathComponent("partitions").appendingPathComponent("seed-\(seed)")
    }

    /// Where file `index` with `samples` samples of `partition` is cached.
    public func url(partition: PartitionSize, index: Int, samples: Int) -> URL {
        var directory = dataDirectory.appendingPathComponent(partition.rawValue)
        if samples != partition.samplesPerFile {
            directory = directory.appendingPathComponent("remainder-\(samples)")
        }
        return directory.appendingPathComponent("\(index).safetensors")
    }

    public func prepare(_ c: SweepConfiguration, ranks: [Int]) throws -> (prefix: String, names: [String]) {
        let names = (1...c.fileLimit).map { "\($0).safetensors" }
        let prefix = "\(c.partition.rawValue)/\(c.amountLabel)"
        let assignments = try caiAssignments(names: names, configuration: c, prefix: "synthetic/\(prefix)")
        let generator = PartitionGenerator(partition: c.partition, seed: seed)
        let prefixDirectory = dataDirectory.appendingPathComponent(prefix)
        for rank in ranks {
            for name in assignments[rank] {
                let index = Int(name.dropLast(".safetensors".count))!
                let samples = c.samplesInFile(index)
                let url = self.url(partition: c.partition, index: index, samples: samples)
                do {
                    if !generator.isComplete(fileIndex: index, sampleCount: samples, at: url) {
                        onGenerate?(c.partition, index, samples)
                        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                                withIntermediateDirectories: true)
                        try generator.generateFile(index: index, sampleCount: samples, to: url)
                    }
                    try link(prefixDirectory.appendingPathComponent(name), to: url)
                } catch {
                    throw SweepError.dataUnavailable(configuration: c.id,
                                                     reason: "cannot generate \(url.path): \(error)")
                }
            }
        }
        return (prefix, names)
    }

    /// Points `link` at `target` (replacing a stale link).
    private func link(_ link: URL, to target: URL) throws {
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) == target.path { return }
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: link)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
    }
}

/// Existing partitions (`.pt` or `.safetensors`, numbered from 1) under
/// `<directory>/<partition>/` — or directly in `<directory>` when it has no
/// such subdirectory — listed and split as CAI's initializer does.
public struct DirectoryPartitions: PartitionProviding {
    public var directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public var sourceDescription: String { "directory \(directory.path)" }
    public var dataDirectory: URL { directory }

    /// Where `partition`'s files are: `<directory>/<partition>/` when that
    /// folder exists (prefix = the partition's name), else `directory` itself (prefix "").
    public func folder(for partition: PartitionSize) -> (prefix: String, url: URL) {
        let sub = directory.appendingPathComponent(partition.rawValue)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: sub.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return (partition.rawValue, sub)
        }
        return ("", directory)
    }

    public func prepare(_ c: SweepConfiguration, ranks: [Int]) throws -> (prefix: String, names: [String]) {
        let (prefix, folder) = folder(for: c.partition)
        let listed: [PartitionFile]
        do {
            listed = try PartitionStore.list(directory: folder)
        } catch {
            throw SweepError.dataUnavailable(configuration: c.id, reason: "\(error)")
        }
        let names = listed.map(\.name)
        _ = try caiAssignments(names: names, configuration: c, prefix: folder.path)
        return (prefix, names)
    }
}

/// CAI's initializer over file names `1…file_limit` of a prefix: which
/// files each rank gets.
func caiAssignments(names: [String], configuration c: SweepConfiguration, prefix: String) throws -> [[String]] {
    do {
        return try DataMap(files: names, fileLimit: c.fileLimit, worldSize: c.worldSize, prefix: prefix).assignments
    } catch {
        throw SweepError.dataUnavailable(configuration: c.id, reason: "\(error)")
    }
}
