import AWSDeploy
import CAIWorkload
import CAIWorkloadAWS
import Foundation
// NextInvocation, the Runtime API response, ErrorReport and the request id's
// path segment are internal to LambdaRuntime; the module is compiled with
// -enable-testing (root Package.swift), which is what lets a release build
// reach them, as its tests do.
@testable import LambdaRuntime

/// libFuzzer entry point for what a `cosmicbench lambda` worker makes of
/// untrusted input: a Runtime API `next` response (its headers, then its
/// body, the event), and the event as each of the three handlers decodes it.
///
/// Input layout, as a `next` response reads: header lines `Name: value`, a
/// blank line, then the event. An input without a blank line is all event
/// and no headers. Every input goes through:
/// - `NextInvocation(response:)` and what the loop does next (the context,
///   the malformed-invocation report, the request id in the answer's URL);
/// - the initialize handler: `decodeInitializeEvent`, then the initializer
///   itself (`Pipeline.initialize` on an in-memory bucket holding a few
///   partitions) and `initializeResult`;
/// - the rank handler: `decodeRankEvent` (the validated `RankJob`);
/// - the summarize handler: `decodeSummarizeEvent`, then the summarizer's
///   jobs (its locations and `Pipeline.jobs`, as `SummarizeHandler` does);
/// each under an unrestricted scope and under a stack's scope.
/// Rejection must be one of the worker's own errors, reported as Lambda
/// would see it; an accepted event must yield keys inside their prefixes
/// (and inside the scope), never a `.`/`..`/empty segment.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Data(bytes: data, count: size)
    let (headers, event) = splitResponse(input)
    checkNextInvocation(headers: headers, body: event)
    for scope in scopes {
        checkInitialize(event, scope: scope)
        checkRank(event, scope: scope)
        checkSummarize(event, scope: scope)
    }
    return 0
}

// MARK: - Failing with the reason

/// `precondition` drops its message in optimised builds; a harness failure
/// must say what broke (libFuzzer prints it with the input).
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fail(message()) }
}

func fail(_ message: String) -> Never {
    fatalError("fuzz-lambda-event: \(message)")
}

// MARK: - Scopes

/// A function's scope, as the template sets its environment.
struct FuzzScope {
    var scope: PipelineLambda.Scope
    var dataBucket: String?, dataPrefix: String, resultsBucket: String?, resultsPrefix: String

    init(dataBucket: String?, dataPrefix: String, resultsBucket: String?, resultsPrefix: String) {
        var environment: [String: String] = [:]
        environment[PipelineEvents.dataBucketVariable] = dataBucket
        environment[PipelineEvents.dataPrefixVariable] = dataPrefix
        environment[PipelineEvents.resultsBucketVariable] = resultsBucket
        environment[PipelineEvents.resultsPrefixVariable] = resultsPrefix
        scope = PipelineLambda.Scope(environment: environment)
        self.dataBucket = dataBucket
        self.dataPrefix = dataPrefix
        self.resultsBucket = resultsBucket
        self.resultsPrefix = resultsPrefix
    }

    /// True when `key` is inside `prefix` ("" or ending in "/": anything).
    static func inside(_ key: String, _ prefix: String) -> Bool {
        prefix.isEmpty || key.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")
    }
}

let scopes = [
    // No scope variables: every payload the CAI rules accept.
    FuzzScope(dataBucket: nil, dataPrefix: "", resultsBucket: nil, resultsPrefix: ""),
    // A deployed stack's: one data bucket and prefix, one results bucket and prefix.
    FuzzScope(dataBucket: "cosmicai-data", dataPrefix: "100MB/", resultsBucket: "cosmicai-results",
              resultsPrefix: "result-partition-100MB/"),
]

// MARK: - The Runtime API response

/// Header lines up to the first blank line (`\n\n` or `\r\n\r\n`), then the body.
func splitResponse(_ input: Data) -> (headers: [(name: String, value: String)], body: Data) {
    let bytes = [UInt8](input)
    var end: Int?, bodyStart = 0
    var index = 0
    while index + 1 < bytes.count {
        if bytes[index] == 0x0A && bytes[index + 1] == 0x0A {
            end = index; bodyStart = index + 2; break
        }
        if index + 3 < bytes.count, bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D,
           bytes[index + 3] == 0x0A {
            end = index; bodyStart = index + 4; break
        }
        index += 1
    }
    guard let end else { return ([], input) }
    // Lines split as bytes: in a Swift String "\r\n" is one Character.
    var headers: [(name: String, value: String)] = []
    for var line in bytes[..<end].split(separator: 0x0A) {
        if line.last == 0x0D { line = line.dropLast() }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
        headers.append((String(decoding: line[..<colon], as: UTF8.self),
                        String(decoding: line[(colon + 1)...], as: UTF8.self)))
    }
    return (headers, Data(bytes[bodyStart...]))
}

let runtimeBase = "http://127.0.0.1:9001/2018-06-01/runtime/invocation/"

func checkNextInvocation(headers: [(name: String, value: String)], body: Data) {
    let response = RuntimeHTTPTransport.Response(status: 200, headers: headers, body: body)
    let invocation: NextInvocation
    do {
        invocation = try NextInvocation(response: response)
    } catch let error as LambdaRuntimeError {
        // Unanswerable: no request id, or one that is a dot segment.
        let id = response.header(NextInvocation.requestIDHeader) ?? ""
        switch error {
        case .missingRequestID(NextInvocation.requestIDHeader):
            require(id.isEmpty, "a response with request id \(id.debugDescription) was refused as without one")
        case .invalidRequestID(NextInvocation.requestIDHeader, id):
            require(id == "." || id == "..", "request id \(id.debugDescription) was refused")
        default:
            fail("NextInvocation threw \(error)")
        }
        require(!"\(error)".isEmpty, "an empty runtime error")
        return
    } catch {
        fail("NextInvocation threw a non-LambdaRuntimeError: \(error)")
    }
    require(!invocation.requestID.isEmpty, "accepted an empty request id")
    require(invocation.event == body, "the event is not the response body")
    // Both answers (response and error) are posted under the request id.
    let segment = RuntimeAPIClient.pathSegment(invocation.requestID)
    require(segment.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._~%".unicodeScalars.contains($0)) },
                 "request id \(invocation.requestID.debugDescription) → path segment \(segment.debugDescription) is not unreserved characters")
    require(segment.removingPercentEncoding == invocation.requestID,
                 "path segment \(segment.debugDescription) does not decode to the request id")
    for answer in ["response", "error"] {
        let text = runtimeBase + segment + "/" + answer
        guard let url = URL(string: text) else { fail("answer URL \(text.debugDescription) does not parse") }
        require(url.standardized.absoluteString == text,
                     "request id \(invocation.requestID.debugDescription) steers the answer to \(url.standardized.absoluteString)")
    }
    if let problem = invocation.problem {
        // The loop reports it as this invocation's error.
        let report = ErrorReport(errorType: NextInvocation.malformedErrorType, errorMessage: problem)
        checkReport(report)
        return
    }
    require(invocation.deadlineMs > 0, "accepted a deadline of \(invocation.deadlineMs) ms")
    require(!invocation.invokedFunctionARN.isEmpty, "accepted an empty function ARN")
    let context = InvocationContext(
        requestID: invocation.requestID, deadlineMs: invocation.deadlineMs,
        invokedFunctionARN: invocation.invokedFunctionARN, traceID: invocation.traceID,
        clientContext: invocation.clientContext, cognitoIdentity: invocation.cognitoIdentity, isColdStart: true)
    require(context.deadline.timeIntervalSince1970 > 0, "deadline before the epoch")
    _ = context.remainingTime()
}

/// What the loop posts: it must be JSON that reads back as the same report.
func checkReport(_ report: ErrorReport) {
    let body = report.encoded()
    require(!body.isEmpty, "error report \(report) did not encode")
    guard let again = try? JSONDecoder().decode(ErrorReport.self, from: body) else {
        fail("error report body does not decode: \(String(decoding: body, as: UTF8.self))")
    }
    require(again == report, "error report changed in encoding")
}

/// A handler's rejection: one of the worker's own errors, reported to Lambda
/// with a type and a message.
func checkRejection(_ error: any Error, handler: String) {
    switch error {
    case is LambdaError, is PayloadError, is DataMapError, is PartitionStoreError, is PipelineError:
        break
    default:
        fail("the \(handler) handler threw \(type(of: error)): \(error)")
    }
    let report = ErrorReport(error)
    require(!report.errorType.isEmpty && !report.errorMessage.isEmpty, "empty error report for \(error)")
    checkReport(report)
}

// MARK: - Keys

/// A key the worker reads or writes: a valid object key inside `prefix`
/// (the payload's, then the scope's).
func checkKey(_ key: String, inside prefixes: [String], what: String) {
    do {
        try ObjectKey.validate(key, source: "fuzz")
    } catch {
        fail("\(what) key \(key.debugDescription) is not a valid object key: \(error)")
    }
    let segments = key.split(separator: "/", omittingEmptySubsequences: false)
    require(!segments.contains { $0.isEmpty || $0 == "." || $0 == ".." }, "\(what) key \(key.debugDescription) has a bad segment")
    for prefix in prefixes {
        require(FuzzScope.inside(key, prefix), "\(what) key \(key.debugDescription) escapes its prefix \(prefix.debugDescription)")
    }
}

func checkPayload(_ payload: Payload, scope: FuzzScope) {
    require(payload.fileLimit >= 1 && payload.batchSize >= 1 && payload.worldSize >= 1,
                 "accepted a payload with a non-positive count")
    require(!payload.resultPath.isEmpty, "accepted an empty result_path")
    if let bucket = scope.dataBucket { require(payload.dataBucket == bucket, "data bucket out of scope") }
    if let bucket = scope.resultsBucket { require(payload.bucket == bucket, "results bucket out of scope") }
    require(FuzzScope.inside(payload.resultPath + "/", scope.resultsPrefix), "result_path out of scope")
    require(FuzzScope.inside(payload.dataPrefix + "/", scope.dataPrefix), "data_prefix out of scope")
}

// MARK: - initialize

/// A data bucket holding a few partitions (and a stray file), and a results
/// bucket: enough for the initializer's listing, checks and write.
final class MemoryStorage: ObjectStorage, @unchecked Sendable {
    static let names = ["1.safetensors", "2.safetensors", "3.pt", "4.safetensors", "10.safetensors", "notes.txt"]
    let payload: Payload
    let scope: FuzzScope
    var written: [String: Data] = [:]

    init(payload: Payload, scope: FuzzScope) {
        self.payload = payload
        self.scope = scope
    }

    func listNames(bucket: String, prefix: String) throws -> [String] {
        require(bucket == payload.dataBucket, "listed bucket \(bucket), not the payload's data bucket")
        require(prefix == payload.dataPrefix, "listed prefix \(prefix), not the payload's data_prefix")
        return Self.names
    }

    func openPartition(bucket: String, key: String) throws -> StoredPartition {
        fail("the initializer opened a partition")
    }

    func read(bucket: String, key: String) throws -> Data {
        throw PipelineError.rootMissing(path: key)
    }

    func write(_ data: Data, bucket: String, key: String) throws {
        require(bucket == payload.bucket, "wrote to bucket \(bucket), not the payload's results bucket")
        checkKey(key, inside: [payload.resultPath, scope.resultsPrefix], what: "written")
        written[key] = data
    }

    func remove(bucket: String, key: String) throws {
        fail("the initializer removed \(key)")
    }

    func checkPartition(bucket: String, key: String) throws {
        require(bucket == payload.dataBucket, "checked bucket \(bucket), not the payload's data bucket")
        checkKey(key, inside: [payload.dataPrefix, scope.dataPrefix], what: "partition")
    }

    func prepareResults(_ results: StorageLocation, data: StorageLocation, replace: Bool) throws -> ResultsPreparation {
        .none
    }

    var description: String { "fuzz memory storage" }

    func displayName(bucket: String, key: String) -> String { "mem://\(bucket)/\(key)" }
}

let noExecutor = ClosureRankExecutor { _ in fail("the initializer ran ranks") }

func checkInitialize(_ event: Data, scope: FuzzScope) {
    let payload: Payload
    do {
        payload = try PipelineLambda.decodeInitializeEvent(event, scope: scope.scope)
    } catch {
        checkRejection(error, handler: "initialize")
        return
    }
    checkPayload(payload, scope: scope)
    let storage = MemoryStorage(payload: payload, scope: scope)
    let plan: Pipeline.Plan
    let result: Data
    do {
        plan = try Pipeline(storage: storage, executor: noExecutor, settings: .init()).initialize(payload)
        result = try PipelineLambda.initializeResult(payload: payload, dataMap: plan.dataMap)
    } catch {
        checkRejection(error, handler: "initialize")
        return
    }
    require(plan.dataMap.worldSize == payload.worldSize, "data_map has \(plan.dataMap.worldSize) ranks, world_size is \(payload.worldSize)")
    require(plan.dataMap.worldSize <= DataMap.maxWorldSize, "the initializer mapped \(plan.dataMap.worldSize) ranks")
    require(plan.dataMap.assignments.joined().count == min(payload.fileLimit, 5), "data_map does not hold file_limit files")
    require(storage.written.keys.sorted() == [ObjectKey.join(payload.resultPath, "payload.json")],
                 "the initializer wrote \(storage.written.keys.sorted())")
    for job in plan.jobs { checkJob(job, payload: payload, scope: scope) }
    guard let object = (try? JSONSerialization.jsonObject(with: result)) as? [String: Any] else {
        fail("the initialize result is not a JSON object")
    }
    require(object[PipelineEvents.dataMapKey] as? [[String]] == plan.dataMap.assignments,
                 "the initialize result's data_map is not the plan's")
    // The ranks and the summarizer get the echoed payload: it must be the one mapped.
    guard let echoed = object[PipelineEvents.payloadKey],
          let again = try? Payload(data: JSONSerialization.data(withJSONObject: echoed), path: "fuzz") else {
        fail("the initialize result's payload does not decode")
    }
    require(again.bucket == payload.bucket && again.resultPath == payload.resultPath
                && again.dataBucket == payload.dataBucket && again.dataPrefix == payload.dataPrefix
                && again.fileLimit == payload.fileLimit && again.batchSize == payload.batchSize
                && again.worldSize == payload.worldSize,
            "the initialize result echoes another payload than the one mapped")
}

// MARK: - rank

func checkJob(_ job: RankJob, payload: Payload, scope: FuzzScope) {
    require(job.rank >= 0 && job.rank < job.worldSize, "rank \(job.rank) outside world_size \(job.worldSize)")
    require(job.worldSize == payload.worldSize && job.batchSize == payload.batchSize, "job does not match its payload")
    require(job.dataBucket == payload.dataBucket && job.resultBucket == payload.bucket, "job buckets are not the payload's")
    for key in job.dataKeys {
        checkKey(key, inside: [payload.dataPrefix, scope.dataPrefix], what: "data")
    }
    checkKey(job.resultKey, inside: [payload.resultPath, scope.resultsPrefix], what: "result")
    checkKey(job.predictionsKey, inside: [payload.resultPath, scope.resultsPrefix], what: "predictions")
}

func checkRank(_ event: Data, scope: FuzzScope) {
    let job: RankJob
    do {
        job = try PipelineLambda.decodeRankEvent(event, scope: scope.scope, threads: 0, weightsPath: nil, seed: 1,
                                                 savePredictions: true)
    } catch {
        checkRejection(error, handler: "rank")
        return
    }
    let payload: Payload
    do {
        // The payload the job came from, as the handler decoded it.
        let object = try JSONSerialization.jsonObject(with: event) as! [String: Any]
        payload = try Payload(data: JSONSerialization.data(withJSONObject: object[PipelineEvents.payloadKey]!), path: "fuzz")
        require(object[PipelineEvents.rankKey] as? Int == job.rank, "job rank is not the event's")
        require((object[PipelineEvents.filesKey] as? [String])?.count == job.dataKeys.count, "job keys are not the event's files")
    } catch {
        fail("an accepted rank event does not decode again: \(error)")
    }
    checkPayload(payload, scope: scope)
    checkJob(job, payload: payload, scope: scope)
    require(job.threads == 0 && job.seed == 1 && job.savePredictions && job.weightsPath == nil,
                 "the function's settings did not reach the job")
    do {
        let again = try JSONDecoder().decode(RankJob.self, from: JSONEncoder().encode(job))
        require(again == job, "the job changed in a JSON round trip")
    } catch {
        fail("the job does not survive a JSON round trip: \(error)")
    }
}

// MARK: - summarize

func checkSummarize(_ event: Data, scope: FuzzScope) {
    let decoded: (payload: Payload, dataMap: DataMap)
    do {
        decoded = try PipelineLambda.decodeSummarizeEvent(event, scope: scope.scope)
    } catch {
        checkRejection(error, handler: "summarize")
        return
    }
    let payload = decoded.payload
    checkPayload(payload, scope: scope)
    // What SummarizeHandler.summarize does before it reads the ranks' results.
    let jobs: [RankJob]
    do {
        let data = try StorageLocation(bucket: payload.dataBucket, prefix: payload.dataPrefix, key: "data_prefix",
                                       bucketKey: "data_bucket", source: "summarize event payload")
        let results = try StorageLocation(bucket: payload.bucket, prefix: payload.resultPath, key: "result_path",
                                          bucketKey: "bucket", source: "summarize event payload")
        jobs = Pipeline.jobs(dataMap: decoded.dataMap, data: data, results: results, batchSize: payload.batchSize,
                             settings: .init())
        checkKey(ObjectKey.join(results.prefix, "combined_data.json"), inside: [payload.resultPath, scope.resultsPrefix],
                 what: "combined")
    } catch {
        fail("an accepted summarize payload has invalid locations: \(error)")
    }
    require(jobs.count == decoded.dataMap.assignments.count, "one job per data_map entry")
    // The summarizer reads only `{rank}.json`: those keys must stay inside.
    // (Data keys are not read; data_map names are not validated here.)
    for job in jobs {
        checkKey(job.resultKey, inside: [payload.resultPath, scope.resultsPrefix], what: "rank result")
    }
}
