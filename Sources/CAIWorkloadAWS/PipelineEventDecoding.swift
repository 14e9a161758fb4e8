import AWSDeploy
import CAIWorkload
import Foundation
import LambdaRuntime

/// What the three handlers make of their events before they touch S3 or the
/// model: pure functions (no network, no storage), so the handlers and the
/// fuzz-lambda-event harness (Fuzz/Sources/fuzz-lambda-event) run the same
/// decoding. Events are untrusted: every rejection is a thrown
/// `PayloadError` or `LambdaError`, which the handler reports to Lambda.
extension PipelineLambda {
    /// The initialize event: the CAI payload verbatim, inside the function's scope.
    public static func decodeInitializeEvent(_ event: Data, scope: Scope) throws -> Payload {
        let payload = try Payload(data: event, path: "initialize event")
        try scope.check(payload)
        return payload
    }

    /// The initializer's answer: the payload echoed (as it was validated, its
    /// values verbatim) beside the data map. Not the event parsed again: two
    /// JSON readers disagree on some events (JSONDecoder keeps the first of
    /// two equal keys and passes over a raw control character in the second,
    /// JSONSerialization keeps the last or refuses), so the ranks could get
    /// another payload than the one mapped, or the initializer fail after its
    /// work (found by fuzz-lambda-event).
    public static func initializeResult(payload: Payload, dataMap: DataMap) throws -> Data {
        let echoed = try JSONSerialization.jsonObject(with: JSONEncoder().encode(payload.raw))
        return try json([PipelineEvents.payloadKey: echoed, PipelineEvents.dataMapKey: dataMap.assignments])
    }

    /// The rank event `{"rank", "files", "payload"}` as the rank's job (the
    /// files are keys under the payload's `data_prefix`), validated; the
    /// other settings are the function's own.
    public static func decodeRankEvent(_ event: Data, scope: Scope, threads: Int, weightsPath: String?, seed: UInt64,
                                       savePredictions: Bool) throws -> RankJob {
        let object = try object(event, handler: "rank")
        guard let rank = object[PipelineEvents.rankKey] as? Int else {
            throw LambdaError(errorType: "InvalidEvent", errorMessage: "the rank event needs an integer \"rank\"")
        }
        guard let files = object[PipelineEvents.filesKey] as? [String] else {
            throw LambdaError(errorType: "InvalidEvent", errorMessage: "the rank event needs \"files\": an array of names")
        }
        guard let value = object[PipelineEvents.payloadKey] else {
            throw LambdaError(errorType: "InvalidEvent", errorMessage: "the rank event needs the CAI \"payload\"")
        }
        let payload = try payload(value, source: "rank event payload")
        try scope.check(payload)
        let job = RankJob(
            rank: rank, worldSize: payload.worldSize, dataBucket: payload.dataBucket,
            dataKeys: files.map { ObjectKey.join(payload.dataPrefix, $0) }, resultBucket: payload.bucket,
            resultPath: payload.resultPath, batchSize: payload.batchSize, threads: threads, weightsPath: weightsPath,
            seed: seed, savePredictions: savePredictions)
        try job.validate(source: "rank event")
        return job
    }

    /// The summarize event `{"payload", "data_map"}`, the payload inside the function's scope.
    public static func decodeSummarizeEvent(_ event: Data, scope: Scope) throws -> (payload: Payload, dataMap: DataMap) {
        let object = try object(event, handler: "summarize")
        guard let value = object[PipelineEvents.payloadKey] else {
            throw LambdaError(errorType: "InvalidEvent", errorMessage: "the summarize event needs the CAI \"payload\"")
        }
        guard let assignments = object[PipelineEvents.dataMapKey] as? [[String]] else {
            throw LambdaError(errorType: "InvalidEvent", errorMessage: "the summarize event needs \"data_map\": arrays of names")
        }
        let payload = try payload(value, source: "summarize event payload")
        try scope.check(payload)
        return (payload, DataMap(assignments: assignments))
    }
}
