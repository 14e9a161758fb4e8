import AstroMAE
import AWSDeploy
import CAIWorkload
import CosmicSupport
import Foundation
import LambdaRuntime

/// Initializer: the CAI payload verbatim → `{"payload", "data_map"}`, and
/// `{result_path}/payload.json` written as the local initializer writes it.
struct InitializeHandler: LambdaHandler {
    let storage: S3Storage
    let scope: PipelineLambda.Scope

    func handle(_ event: Data, context: InvocationContext) async throws -> Data {
        let payload = try PipelineLambda.decodeInitializeEvent(event, scope: scope)
        let storage = self.storage
        let plan = try await context.withDeadlineBlocking(margin: PipelineLambda.deadlineMargin) {
            try Pipeline(storage: storage, executor: PipelineLambda.noExecutor, settings: .init()).initialize(payload)
        }
        return try PipelineLambda.initializeResult(payload: payload, dataMap: plan.dataMap)
    }
}

/// One rank: `{"rank", "files", "payload"}` → runs the model over the files
/// read from S3, writes `{result_path}/{rank}.json`, returns
/// `{"rank", "status"}`. The model is built once per process (the init
/// phase) and reused by warm invocations.
final class RankHandler: LambdaHandler, @unchecked Sendable {
    let storage: S3Storage
    let scope: PipelineLambda.Scope
    let model: AstroMAEModel
    let weightsDigest: String?
    let weightsPath: String?
    let seed: UInt64
    let threads: Int
    let memoryMB: Int?
    let savePredictions: Bool
    /// Serialises invocations (Lambda sends one at a time; tests may not).
    private let lock = NSLock()

    init(storage: S3Storage, scope: PipelineLambda.Scope, environment: [String: String]) throws {
        self.storage = storage
        self.scope = scope
        weightsPath = environment[PipelineLambda.weightsVariable].flatMap { $0.isEmpty ? nil : $0 }
        seed = try environment[PipelineLambda.seedVariable].map {
            guard let value = UInt64($0) else {
                throw LambdaError(errorType: "Configuration",
                                  errorMessage: "\(PipelineLambda.seedVariable)=\($0) is not an unsigned integer")
            }
            return value
        } ?? SeededWeights.defaultSeed
        threads = try environment[PipelineLambda.threadsVariable].map {
            guard let value = Int($0), value >= 0 else {
                throw LambdaError(errorType: "Configuration",
                                  errorMessage: "\(PipelineLambda.threadsVariable)=\($0) is not a thread count (0 = every CPU)")
            }
            return value
        } ?? 0
        memoryMB = environment[PipelineLambda.memoryVariable].flatMap(Int.init)
        savePredictions = environment[PipelineLambda.savePredictionsVariable] == "1"
        let weights = try weightsPath.map { try ModelWeights.load(contentsOf: URL(fileURLWithPath: $0)) }
            ?? ModelWeights.seeded(seed)
        model = AstroMAEModel(weights: weights)
        weightsDigest = weights.sha256
    }

    func handle(_ event: Data, context: InvocationContext) async throws -> Data {
        let started = MonotonicClock.now(), cpuAtStart = ProcessStats.cpuSeconds()
        let job = try PipelineLambda.decodeRankEvent(event, scope: scope, threads: threads, weightsPath: weightsPath,
                                                     seed: seed, savePredictions: savePredictions)
        let host = RankWorker.Host(runtime: "lambda", started: started, cpuAtStart: cpuAtStart,
                                   lambdaMemoryMB: memoryMB, coldStart: context.isColdStart,
                                   lambdaRequestID: context.requestID)
        let result = try await context.withDeadlineBlocking(margin: PipelineLambda.deadlineMargin) {
            try self.lock.withLock {
                try RankWorker.run(job, storage: self.storage, host: host, model: self.model,
                                   weightsDigest: self.weightsDigest)
            }
        }
        return try PipelineLambda.json([PipelineEvents.rankKey: job.rank, PipelineEvents.statusKey: result.status.rawValue])
    }
}

/// Summarizer: `{"payload", "data_map"}` → reads every `{rank}.json`,
/// writes `combined_data.json`, returns `{"combined_key", "ranks", "ok"}`.
/// A rank whose JSON is missing (its Lambda failed) is recorded as failed.
struct SummarizeHandler: LambdaHandler {
    let storage: S3Storage
    let scope: PipelineLambda.Scope

    func handle(_ event: Data, context: InvocationContext) async throws -> Data {
        let (payload, dataMap) = try PipelineLambda.decodeSummarizeEvent(event, scope: scope)
        let storage = self.storage
        let summary = try await context.withDeadlineBlocking(margin: PipelineLambda.deadlineMargin) {
            try Self.summarize(payload: payload, dataMap: dataMap, storage: storage)
        }
        return try PipelineLambda.json([
            "combined_key": ObjectKey.join(payload.resultPath, "combined_data.json"), "ranks": summary.ranks,
            "ok": summary.ranksOK,
        ])
    }

    static func summarize(payload: Payload, dataMap: DataMap, storage: ObjectStorage) throws -> PipelineSummary {
        let data = try StorageLocation(bucket: payload.dataBucket, prefix: payload.dataPrefix, key: "data_prefix",
                                       bucketKey: "data_bucket", source: "summarize event payload")
        let results = try StorageLocation(bucket: payload.bucket, prefix: payload.resultPath, key: "result_path",
                                          bucketKey: "bucket", source: "summarize event payload")
        let jobs = Pipeline.jobs(dataMap: dataMap, data: data, results: results, batchSize: payload.batchSize,
                                 settings: .init())
        let collected = jobs.map { job -> RankResult in
            do {
                let bytes = try storage.read(bucket: job.resultBucket, key: job.resultKey)
                return try JSONDecoder().decode(RankResult.self, from: bytes)
            } catch {
                return .failed(job, status: .failed, exitStatus: nil,
                               reason: "no readable result at \(storage.displayName(bucket: job.resultBucket, key: job.resultKey)): \(error)",
                               processSeconds: 0)
            }
        }
        let pipeline = Pipeline(storage: storage, executor: PipelineLambda.noExecutor, settings: .init())
        return try pipeline.summarize(collected, into: results, wallSeconds: 0)
    }
}
