import AstroMAE
import CAIWorkload
import Foundation

/// Runs the rank jobs of one repetition and returns one result per job, in
/// job order. Injected into `SweepRunner` so tests need no child processes.
public protocol RankRunning {
    func run(_ jobs: [RankJob]) throws -> [RankResult]
}

/// Production runner: each rank is a child process `cosmicbench rank JOB.json`
/// (CAIWorkload.RankLauncher), so its peak RSS and timings are its own.
public struct ProcessRankRunner: RankRunning {
    public var launcher: RankLauncher
    /// Called after each rank finishes with (done, total).
    public var progress: ((Int, Int) -> Void)?

    public init(launcher: RankLauncher, progress: ((Int, Int) -> Void)? = nil) {
        self.launcher = launcher
        self.progress = progress
    }

    public func run(_ jobs: [RankJob]) throws -> [RankResult] {
        launcher.run(jobs, progress: progress)
    }
}

/// A runner from a closure (tests, dry runs).
public struct ClosureRankRunner: RankRunning {
    public let body: ([RankJob]) throws -> [RankResult]

    public init(_ body: @escaping ([RankJob]) throws -> [RankResult]) {
        self.body = body
    }

    public func run(_ jobs: [RankJob]) throws -> [RankResult] {
        try body(jobs)
    }
}

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

/// One partition file a rank will read.
public struct PlannedFile: Equatable, Sendable {
    public var url: URL
    /// Samples the plan expects in it.
    public var samples: Int

    public init(url: URL, samples: Int) {
        self.url = url
        self.samples = samples
    }
}

/// Supplies the partition files of the ranks a configuration measures.
public protocol PartitionProviding {
    /// Files for each rank in `ranks` (CAI's data map with world_size =
    /// file_limit gives each rank exactly one file).
    func files(for configuration: SweepConfiguration, ranks: [Int]) throws -> [Int: [PlannedFile]]
    /// Where the data comes from, recorded in ranks.csv.
    var sourceDescription: String { get }
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

/// Synthetic partitions generated on demand into a cache and reused:
/// `<cache>/partitions/seed-<seed>/<partition>/<n>.safetensors` for full
/// files, and `.../<partition>/remainder-<samples>/<n>.safetensors` for a
/// data size's short last file (its sample count depends on the data size).
/// Only the files of measured ranks are generated.
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

    /// Where file `index` with `samples` samples of `partition` is cached.
    public func url(partition: PartitionSize, index: Int, samples: Int) -> URL {
        var directory = cacheDirectory.appendingPathComponent("partitions")
            .appendingPathComponent("seed-\(seed)").appendingPathComponent(partition.rawValue)
        if samples != partition.samplesPerFile {
            directory = directory.appendingPathComponent("remainder-\(samples)")
        }
        return directory.appendingPathComponent("\(index).safetensors")
    }

    public func files(for c: SweepConfiguration, ranks: [Int]) throws -> [Int: [PlannedFile]] {
        let names = (1...c.fileLimit).map { "\($0).safetensors" }
        let assignments = try caiAssignments(names: names, configuration: c, prefix: "synthetic/\(c.partition.rawValue)")
        let generator = PartitionGenerator(partition: c.partition, seed: seed)
        var result: [Int: [PlannedFile]] = [:]
        for rank in ranks {
            var files: [PlannedFile] = []
            for name in assignments[rank] {
                let index = Int(name.dropLast(".safetensors".count))!
                let samples = c.samplesInFile(index)
                let url = self.url(partition: c.partition, index: index, samples: samples)
                if !generator.isComplete(fileIndex: index, sampleCount: samples, at: url) {
                    onGenerate?(c.partition, index, samples)
                    do {
                        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                                withIntermediateDirectories: true)
                        try generator.generateFile(index: index, sampleCount: samples, to: url)
                    } catch {
                        throw SweepError.dataUnavailable(configuration: c.id,
                                                         reason: "cannot generate \(url.path): \(error)")
                    }
                }
                files.append(PlannedFile(url: url, samples: samples))
            }
            result[rank] = files
        }
        return result
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

    public func files(for c: SweepConfiguration, ranks: [Int]) throws -> [Int: [PlannedFile]] {
        var prefix = directory.appendingPathComponent(c.partition.rawValue)
        var isDirectory: ObjCBool = false
        if !(FileManager.default.fileExists(atPath: prefix.path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            prefix = directory
        }
        let listed: [PartitionFile]
        do {
            listed = try PartitionStore.list(directory: prefix)
        } catch {
            throw SweepError.dataUnavailable(configuration: c.id, reason: "\(error)")
        }
        let byName = Dictionary(listed.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let assignments = try caiAssignments(names: listed.map(\.name), configuration: c, prefix: prefix.path)
        var result: [Int: [PlannedFile]] = [:]
        for rank in ranks {
            result[rank] = assignments[rank].map { name in
                let file = byName[name]!
                return PlannedFile(url: file.url, samples: c.samplesInFile(file.index))
            }
        }
        return result
    }
}
