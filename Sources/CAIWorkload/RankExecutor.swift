import CosmicSupport
import Foundation

/// Runs rank jobs somewhere — local child processes (`RankLauncher`), or
/// Lambdas behind Step Functions — and returns one result per job, in job
/// order. Each rank writes its own `{rank}.json` to the jobs' storage; an
/// executor writes one only for a rank that never ran or died without one.
public protocol RankExecutor {
    /// `progress` is called with (done, total) as ranks finish.
    func run(_ jobs: [RankJob], progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> [RankResult]
}

extension RankExecutor {
    public func run(_ jobs: [RankJob]) throws -> [RankResult] {
        try run(jobs, progress: nil)
    }
}

/// An executor from a closure (tests, dry runs).
public struct ClosureRankExecutor: RankExecutor {
    public let body: ([RankJob]) throws -> [RankResult]

    public init(_ body: @escaping ([RankJob]) throws -> [RankResult]) {
        self.body = body
    }

    public func run(_ jobs: [RankJob], progress: ((Int, Int) -> Void)?) throws -> [RankResult] {
        let results = try body(jobs)
        progress?(results.count, jobs.count)
        return results
    }
}

/// Which storage a rank process should open: what a launcher hands its
/// children next to the job, so the job itself stays location-independent.
public enum StorageConfiguration: Codable, Equatable, Sendable {
    /// Folders: bucket `b` is `root/b` unless mounted elsewhere.
    case local(root: String, mounts: [String: String])
    /// S3, with credentials, region and endpoint from the standard AWS environment.
    case s3

    /// The local storage this describes, nil for S3.
    public var localStorage: LocalStorage? {
        guard case let .local(root, mounts) = self else { return nil }
        return LocalStorage(root: URL(fileURLWithPath: root), mounts: mounts.mapValues { URL(fileURLWithPath: $0) })
    }

    /// `local` or `s3`, recorded in each rank's JSON.
    public var kind: String {
        switch self {
        case .local: return "local"
        case .s3: return "s3"
        }
    }
}

/// What `cosmicbench rank TASK.json` reads: the job and the storage to run it on.
public struct RankTask: Codable, Equatable, Sendable {
    public var job: RankJob
    public var storage: StorageConfiguration

    public init(job: RankJob, storage: StorageConfiguration) {
        self.job = job
        self.storage = storage
    }

    /// Reads and validates a task file; errors name the file.
    public static func load(contentsOf url: URL) throws -> RankTask {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FileOperationError(operation: "read rank task", path: url.path, error: error)
        }
        let task: RankTask
        do { task = try JSONDecoder().decode(RankTask.self, from: data) } catch {
            throw FileOperationError(operation: "use rank task", path: url.path,
                                     reason: "not a rank task (\(describeDecodingError(error)))")
        }
        try task.job.validate(source: url.path)
        return task
    }
}
