import AstroMAE
import CosmicSupport
import Foundation

/// One CAI Step Functions execution, on any storage and any executor:
/// initializer (payload → data_map, `payload.json`), distributed map (the
/// ranks, on `executor`), summarizer (`combined_data.json`). `run` and
/// `sweep` both go through it; locally it runs on folders and child
/// processes, against S3 on S3, and on AWS the same steps run as Lambdas.
///
/// Everything that can be checked is checked before the first write: the
/// payload's names, the partition listing, every assigned partition
/// (`ObjectStorage.checkPartition`), the weights (loaded once here), and the
/// result location (`ObjectStorage.prepareResults`: locally inside the
/// root, apart from the data, writable, empty unless `replace`).
public struct Pipeline {
    public var storage: ObjectStorage
    public var executor: RankExecutor
    public var settings: Settings

    /// How each rank runs the model.
    public struct Settings: Sendable {
        /// Threads inside each rank; 0 = every CPU the rank sees.
        public var threads: Int
        public var savePredictions: Bool
        public var weightsPath: String?
        public var seed: UInt64
        /// Remove what an earlier run left in the result location (right
        /// before the first write) instead of refusing to run.
        public var replace: Bool

        public init(threads: Int = 1, savePredictions: Bool = false, weightsPath: String? = nil,
                    seed: UInt64 = 20_250_108, replace: Bool = false) {
            self.threads = threads
            self.savePredictions = savePredictions
            self.weightsPath = weightsPath
            self.seed = seed
            self.replace = replace
        }
    }

    public init(storage: ObjectStorage, executor: RankExecutor, settings: Settings) {
        self.storage = storage
        self.executor = executor
        self.settings = settings
    }

    /// The local default: folders under `root`, ranks as child processes.
    public struct Options: Sendable {
        public var root: URL
        public var threads: Int
        public var concurrency: Int
        public var timeoutSeconds: Double
        public var savePredictions: Bool
        public var weightsPath: String?
        public var seed: UInt64
        public var executable: URL
        public var replace: Bool
        /// Kill a rank above this many MiB resident (`RankLauncher.memoryLimitMB`).
        public var memoryLimitMB: Int?

        public init(root: URL, threads: Int = 1, concurrency: Int = 1, timeoutSeconds: Double = 3600,
                    savePredictions: Bool = false, weightsPath: String? = nil, seed: UInt64 = 20_250_108,
                    executable: URL = RankLauncher.currentExecutable, replace: Bool = false, memoryLimitMB: Int? = nil) {
            self.root = root
            self.threads = threads
            self.concurrency = concurrency
            self.timeoutSeconds = timeoutSeconds
            self.savePredictions = savePredictions
            self.weightsPath = weightsPath
            self.seed = seed
            self.executable = executable
            self.replace = replace
            self.memoryLimitMB = memoryLimitMB
        }

        public var settings: Settings {
            Settings(threads: threads, savePredictions: savePredictions, weightsPath: weightsPath, seed: seed,
                     replace: replace)
        }
    }

    /// Local folders under `options.root` and child processes; task files
    /// and rank logs go beside the results (`scratch` places them elsewhere).
    public init(local options: Options, scratch: URL? = nil) {
        let root = options.root.standardizedFileURL
        let storage = LocalStorage(root: root)
        var launcher = RankLauncher(
            storage: storage, storageConfiguration: .local(root: root.path, mounts: [:]),
            scratchDirectory: scratch ?? root,
            executable: options.executable, concurrency: options.concurrency, timeoutSeconds: options.timeoutSeconds)
        launcher.memoryLimitMB = options.memoryLimitMB
        self.init(storage: storage, executor: launcher, settings: options.settings)
    }

    /// The initializer's output: where data and results are, and each rank's job.
    public struct Plan: Sendable {
        public let payload: Payload
        public let data: StorageLocation
        public let results: StorageLocation
        public let dataMap: DataMap
        public let jobs: [RankJob]
        let prepareResults: ResultsPreparation
    }

    /// The initializer without its writes: list the partitions under the
    /// prefix, split the first `file_limit` of them over `world_size` ranks,
    /// check every assigned partition, load the weights, check the result
    /// location. Throws the first problem; nothing is written.
    public func plan(_ payload: Payload) throws -> Plan {
        // Typed payloads skip `Payload(data:path:)`; their names are checked here.
        let data = try StorageLocation(bucket: payload.dataBucket, prefix: payload.dataPrefix, key: "data_prefix",
                                       bucketKey: "data_bucket", source: "payload")
        let results = try StorageLocation(bucket: payload.bucket, prefix: payload.resultPath, key: "result_path",
                                          bucketKey: "bucket", source: "payload")
        let prefixName = storage.displayName(bucket: data.bucket, key: data.prefix)
        let names = try PartitionStore.select(try storage.listNames(bucket: data.bucket, prefix: data.prefix),
                                              path: prefixName).map(\.name)
        let dataMap = try DataMap(files: names, fileLimit: payload.fileLimit, worldSize: payload.worldSize,
                                  prefix: prefixName)
        for name in dataMap.assignments.joined() {
            try storage.checkPartition(bucket: data.bucket, key: ObjectKey.join(data.prefix, name))
        }
        if let weights = settings.weightsPath {
            _ = try ModelWeights.load(contentsOf: URL(fileURLWithPath: weights))
        }
        let preparation = try storage.prepareResults(results, data: data, replace: settings.replace)
        return Plan(payload: payload, data: data, results: results, dataMap: dataMap,
                    jobs: Self.jobs(dataMap: dataMap, data: data, results: results, batchSize: payload.batchSize,
                                    settings: settings),
                    prepareResults: preparation)
    }

    /// Each rank's job for a data map: the same jobs whether a local child,
    /// a Lambda or a test runs them.
    public static func jobs(dataMap: DataMap, data: StorageLocation, results: StorageLocation, batchSize: Int,
                            settings: Settings) -> [RankJob] {
        dataMap.assignments.enumerated().map { rank, names in
            RankJob(rank: rank, worldSize: dataMap.worldSize, dataBucket: data.bucket,
                    dataKeys: names.map { ObjectKey.join(data.prefix, $0) }, resultBucket: results.bucket,
                    resultPath: results.prefix, batchSize: batchSize, threads: settings.threads,
                    weightsPath: settings.weightsPath, seed: settings.seed, savePredictions: settings.savePredictions)
        }
    }

    /// CAI's initializer: validate everything (`plan`), then write
    /// `payload.json` (the payload plus its `data_map`) beside the results.
    public func initialize(_ payload: Payload) throws -> Plan {
        let plan = try plan(payload)
        try plan.prepareResults.run()
        try storage.write(payload.encoded(with: plan.dataMap), bucket: plan.results.bucket,
                          key: ObjectKey.join(plan.results.prefix, "payload.json"))
        return plan
    }

    /// Runs the whole execution and returns every rank's result and the summary.
    public func run(_ payload: Payload, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws
        -> (results: [RankResult], summary: PipelineSummary)
    {
        let plan = try initialize(payload)
        let start = MonotonicClock.now()
        let results = try executor.run(plan.jobs, progress: progress)
        let wall = MonotonicClock.now() - start
        let summary = try summarize(results, into: plan.results, wallSeconds: wall)
        return (results, summary)
    }

    /// CAI's summarizer: every rank's JSON, ordered by rank, as one array in
    /// `combined_data.json`.
    @discardableResult
    public func summarize(_ results: [RankResult], into location: StorageLocation, wallSeconds: Double) throws
        -> PipelineSummary
    {
        let ordered = results.sorted { $0.rank < $1.rank }
        let key = ObjectKey.join(location.prefix, "combined_data.json")
        try storage.write(try RankResult.encoder.encode(ordered), bucket: location.bucket, key: key)
        return PipelineSummary(results: ordered, wallSeconds: wallSeconds,
                               resultDirectory: storage.displayName(bucket: location.bucket, key: location.prefix))
    }

    // The local default as one call each.

    /// `Pipeline(local:).plan`.
    public static func plan(payload: Payload, options: Options) throws -> Plan {
        try Pipeline(local: options).plan(payload)
    }

    /// `Pipeline(local:).initialize`.
    public static func initialize(payload: Payload, options: Options) throws -> Plan {
        try Pipeline(local: options).initialize(payload)
    }

    /// `Pipeline(local:).run`.
    public static func run(payload: Payload, options: Options,
                           progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws
        -> (results: [RankResult], summary: PipelineSummary)
    {
        try Pipeline(local: options).run(payload, progress: progress)
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
