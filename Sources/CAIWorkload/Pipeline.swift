import AstroMAE
import CosmicSupport
import Foundation

/// One CAI Step Functions execution on local files: initializer (payload →
/// data_map), distributed map (one child process per rank), summarizer
/// (`combined_data.json`).
///
/// Local "buckets" are directories under `root`: data is read from
/// `root/data_bucket/data_prefix/`, results go to `root/bucket/result_path/`.
/// Bucket and prefix names follow `StorageLocation`'s rules, and the result
/// folder must stay below the root once symbolic links are resolved (the
/// data prefix may be a link to data elsewhere: it is only read).
///
/// Everything that can be checked is checked before the first file is
/// written: the names, the partition listing and the header of every
/// assigned partition, the weights (loaded once here), and the result
/// folder (`ResultDirectory`: inside the root, apart from the data, writable,
/// empty unless `replace`).
public enum Pipeline {
    /// How ranks are run.
    public struct Options: Sendable {
        public var root: URL
        public var threads: Int
        public var concurrency: Int
        public var timeoutSeconds: Double
        public var savePredictions: Bool
        public var weightsPath: String?
        public var seed: UInt64
        public var executable: URL
        /// Remove what an earlier run left in the result folder (right
        /// before the first write) instead of refusing to run.
        public var replace: Bool

        public init(root: URL, threads: Int = 1, concurrency: Int = 1, timeoutSeconds: Double = 3600,
                    savePredictions: Bool = false, weightsPath: String? = nil, seed: UInt64 = 20_250_108,
                    executable: URL = RankLauncher.currentExecutable, replace: Bool = false) {
            self.root = root
            self.threads = threads
            self.concurrency = concurrency
            self.timeoutSeconds = timeoutSeconds
            self.savePredictions = savePredictions
            self.weightsPath = weightsPath
            self.seed = seed
            self.executable = executable
            self.replace = replace
        }
    }

    /// The initializer's output: where data and results are, and each rank's job.
    public struct Plan: Sendable {
        public let payload: Payload
        public let dataDirectory: URL
        public let resultDirectory: URL
        public let dataMap: DataMap
        public let jobs: [RankJob]
    }

    /// CAI's initializer: validate everything (`plan`), then write
    /// `payload.json` (the payload plus its `data_map`) beside the results.
    public static func initialize(payload: Payload, options: Options) throws -> Plan {
        let (plan, results) = try prepare(payload: payload, options: options)
        try results.prepareForWriting()
        try plan.dataMap.writePayload(payload, into: plan.resultDirectory)
        return plan
    }

    /// The initializer without its writes: list the partitions under the
    /// prefix, split the first `file_limit` of them over `world_size` ranks,
    /// open every assigned partition, load the weights, check the result
    /// folder. Throws the first problem; nothing is written.
    public static func plan(payload: Payload, options: Options) throws -> Plan {
        try prepare(payload: payload, options: options).plan
    }

    private static func prepare(payload: Payload, options: Options) throws -> (plan: Plan, results: ResultDirectory) {
        // Typed payloads skip `Payload(data:path:)`; their names are checked here.
        let data = try StorageLocation(bucket: payload.dataBucket, prefix: payload.dataPrefix, key: "data_prefix",
                                       bucketKey: "data_bucket", source: "payload")
        let output = try StorageLocation(bucket: payload.bucket, prefix: payload.resultPath, key: "result_path",
                                         bucketKey: "bucket", source: "payload")
        let root = options.root.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PipelineError.rootMissing(path: root.path)
        }
        let dataDirectory = data.directory(under: root)
        let resultDirectory = output.directory(under: root)
        let files = try PartitionStore.list(directory: dataDirectory)
        let dataMap = try DataMap(files: files, payload: payload, prefixDirectory: dataDirectory)
        for name in dataMap.assignments.joined() {
            _ = try Partition.open(dataDirectory.appendingPathComponent(name))
        }
        if let weights = options.weightsPath {
            _ = try ModelWeights.load(contentsOf: URL(fileURLWithPath: weights))
        }
        let results = try ResultDirectory(url: resultDirectory, root: root, dataDirectory: dataDirectory,
                                          replace: options.replace)
        let jobs = dataMap.assignments.enumerated().map { rank, names in
            RankJob(rank: rank, worldSize: dataMap.worldSize,
                    files: names.map { dataDirectory.appendingPathComponent($0).path },
                    batchSize: payload.batchSize, resultDirectory: resultDirectory.path,
                    resultPath: payload.resultPath, threads: options.threads, weightsPath: options.weightsPath,
                    seed: options.seed, savePredictions: options.savePredictions)
        }
        let plan = Plan(payload: payload, dataDirectory: dataDirectory, resultDirectory: resultDirectory,
                        dataMap: dataMap, jobs: jobs)
        return (plan, results)
    }

    /// Runs the whole execution and returns every rank's result and the summary.
    public static func run(payload: Payload, options: Options,
                           progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> (results: [RankResult], summary: PipelineSummary) {
        let plan = try initialize(payload: payload, options: options)
        let launcher = RankLauncher(executable: options.executable, concurrency: options.concurrency,
                                    timeoutSeconds: options.timeoutSeconds)
        let start = MonotonicClock.now()
        let results = launcher.run(plan.jobs, progress: progress)
        let wall = MonotonicClock.now() - start
        let summary = try summarize(results, into: plan.resultDirectory, wallSeconds: wall)
        return (results, summary)
    }

    /// CAI's summarizer: every rank's JSON, ordered by rank, as one array in
    /// `combined_data.json`.
    @discardableResult
    public static func summarize(_ results: [RankResult], into directory: URL, wallSeconds: Double) throws -> PipelineSummary {
        let ordered = results.sorted { $0.rank < $1.rank }
        try AtomicFile.write(try RankResult.encoder.encode(ordered), to: directory.appendingPathComponent("combined_data.json"))
        return PipelineSummary(results: ordered, wallSeconds: wallSeconds, resultDirectory: directory.path)
    }
}

/// The one-line outcome of a pipeline run (measured on this machine).
public struct PipelineSummary: Codable, Sendable {
    public let ranks: Int
    public let ranksOK: Int
    public let ranksFailed: Int
    public let ranksIdle: Int
    public let samples: Int
    /// Wall seconds from the first rank's start to the last rank's exit.
    public let wallSeconds: Double
    /// Samples of all ranks over the wall time.
    public let aggregateSamplesPerSecond: Double
    /// The same in CAI's unit: bits of model input per second.
    public let aggregateThroughputBPS: Double
    public let resultDirectory: String

    init(results: [RankResult], wallSeconds: Double, resultDirectory: String) {
        ranks = results.count
        ranksOK = results.filter { $0.status == .ok }.count
        ranksIdle = results.filter { $0.status == .idle }.count
        ranksFailed = ranks - ranksOK - ranksIdle
        samples = results.reduce(0) { $0 + $1.samples }
        self.wallSeconds = wallSeconds
        aggregateSamplesPerSecond = wallSeconds > 0 ? Double(samples) / wallSeconds : 0
        aggregateThroughputBPS = aggregateSamplesPerSecond * Double(SampleFormat.bitsPerSample)
        self.resultDirectory = resultDirectory
    }

    /// `ranks 11 ok, 0 failed, 0 idle · 52366 samples · 123.4 s wall · 424.3 samples/s (69.6 Mbit/s)`.
    public var line: String {
        String(format: "ranks %d ok, %d failed, %d idle · %d samples · %.1f s wall · %.1f samples/s (%.1f Mbit/s) · %@",
               ranksOK, ranksFailed, ranksIdle, samples, wallSeconds, aggregateSamplesPerSecond,
               aggregateThroughputBPS / 1e6, resultDirectory)
    }
}
