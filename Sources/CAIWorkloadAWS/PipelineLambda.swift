import AstroMAE
import AWSDeploy
import CAIWorkload
import CosmicSupport
import Foundation
import LambdaRuntime

/// The three Lambda functions of CAI's state machine in one binary:
/// `COSMICBENCH_HANDLER` (set per function by the template) picks the
/// initializer, the rank or the summarizer. Events are
/// `AWSDeploy.PipelineEvents`'. All read and write S3 through `S3Storage`.
public enum PipelineLambda {
    /// Weights file inside the image; seeded weights when unset.
    public static let weightsVariable = "COSMICBENCH_WEIGHTS"
    /// Seed of the seeded weights (default: ASTROMAE.md's).
    public static let seedVariable = "COSMICBENCH_SEED"
    /// Threads per rank; default every CPU the function sees.
    public static let threadsVariable = "COSMICBENCH_THREADS"
    /// `1`: ranks also write `{rank}.predictions.csv`.
    public static let savePredictionsVariable = "COSMICBENCH_SAVE_PREDICTIONS"
    /// Lambda's own variable: the function's configured memory, MB.
    public static let memoryVariable = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
    /// Seconds kept in hand before the deadline to report a timeout.
    public static let deadlineMargin: Duration = .milliseconds(500)

    /// The loop's handler factory: runs once per process (the init phase).
    public static func makeHandler(_ configuration: LambdaRuntimeConfiguration) async throws -> any LambdaHandler {
        let environment = configuration.environment
        guard let name = environment[PipelineEvents.handlerVariable] ?? configuration.handlerName else {
            throw LambdaError(errorType: "Configuration", errorMessage:
                "\(PipelineEvents.handlerVariable) is not set; expected one of "
                    + PipelineEvents.Handler.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let handler = PipelineEvents.Handler(rawValue: name) else {
            throw LambdaError(errorType: "Configuration", errorMessage:
                "\(PipelineEvents.handlerVariable)=\(name) is not a handler; expected one of "
                    + PipelineEvents.Handler.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let storage = try S3Storage.fromEnvironment(environment)
        let scope = Scope(environment: environment)
        switch handler {
        case .initialize: return InitializeHandler(storage: storage, scope: scope)
        case .rank: return try RankHandler(storage: storage, scope: scope, environment: environment)
        case .summarize: return SummarizeHandler(storage: storage, scope: scope)
        }
    }

    /// Where the function's role lets it read and write; a payload pointing
    /// elsewhere is refused by name instead of failing with AccessDenied.
    public struct Scope: Sendable {
        var dataBucket: String?, dataPrefix: String?, resultsBucket: String?, resultsPrefix: String?

        public init(environment: [String: String]) {
            dataBucket = environment[PipelineEvents.dataBucketVariable].flatMap { $0.isEmpty ? nil : $0 }
            dataPrefix = environment[PipelineEvents.dataPrefixVariable]
            resultsBucket = environment[PipelineEvents.resultsBucketVariable].flatMap { $0.isEmpty ? nil : $0 }
            resultsPrefix = environment[PipelineEvents.resultsPrefixVariable]
        }

        public func check(_ payload: Payload) throws {
            func inside(_ prefix: String, _ scope: String?) -> Bool {
                guard let scope, !scope.isEmpty else { return true }
                return (prefix + "/").hasPrefix(scope.hasSuffix("/") ? scope : scope + "/")
            }
            var problems: [String] = []
            if let dataBucket, payload.dataBucket != dataBucket {
                problems.append("data_bucket \"\(payload.dataBucket)\" is not this stack's data bucket \"\(dataBucket)\"")
            }
            if !inside(payload.dataPrefix, dataPrefix) {
                problems.append("data_prefix \"\(payload.dataPrefix)\" is outside the readable prefix \"\(dataPrefix ?? "")\"")
            }
            if let resultsBucket, payload.bucket != resultsBucket {
                problems.append("bucket \"\(payload.bucket)\" is not this stack's results bucket \"\(resultsBucket)\"")
            }
            if !inside(payload.resultPath, resultsPrefix) {
                problems.append("result_path \"\(payload.resultPath)\" is outside the writable prefix \"\(resultsPrefix ?? "")\"")
            }
            if !problems.isEmpty {
                throw LambdaError(errorType: "PayloadOutOfScope", errorMessage: problems.joined(separator: "; "))
            }
        }
    }

    /// Decodes a CAI payload from an event value with the payload's own
    /// diagnostics (unknown keys with suggestions, types, ranges). The value
    /// may be any JSON (`"payload": 5` is the payload's "not an object"):
    /// without `.fragmentsAllowed` JSONSerialization traps on a non-container
    /// (inputs under Fuzz/Crashes/fuzz-lambda-event).
    static func payload(_ value: Any, source: String) throws -> Payload {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
        return try Payload(data: data, path: source)
    }

    /// The event as a JSON object, or a clear error.
    static func object(_ event: Data, handler: String) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: event)) as? [String: Any] else {
            throw LambdaError(errorType: "InvalidEvent", errorMessage: "the \(handler) event must be a JSON object")
        }
        return object
    }

    static func json(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// The executor of a function that does not run ranks itself.
    static let noExecutor = ClosureRankExecutor { _ in
        throw LambdaError(errorType: "Configuration", errorMessage: "ranks run in the Map state, not here")
    }
}
