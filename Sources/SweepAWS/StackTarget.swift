import AWSDeploy
import CAIWorkload
import Foundation

/// A deployed CosmicBench stack and the bucket prefixes its functions are
/// scoped to: where a sweep puts partitions and where the ranks write.
public struct StackTarget: Sendable {
    public var stack: String
    public var dataBucket: String
    /// Key prefix without a trailing slash ("" for the bucket's root).
    public var dataPrefix: String
    public var resultsBucket: String
    public var resultsPrefix: String

    /// Prefixes may be given as the template takes them ("data/") or without the slash.
    public init(stack: String, dataBucket: String, dataPrefix: String = "", resultsBucket: String,
                resultsPrefix: String = "") throws {
        self.stack = stack
        self.dataBucket = dataBucket
        self.resultsBucket = resultsBucket
        self.dataPrefix = try Self.normalized(dataPrefix, key: "--data-prefix")
        self.resultsPrefix = try Self.normalized(resultsPrefix, key: "--results-prefix")
        guard !stack.isEmpty, stack.count <= PipelineNames.maximumStackNameLength else {
            throw AWSSweepError.invalidTarget("stack name \"\(stack)\" must have 1 to "
                + "\(PipelineNames.maximumStackNameLength) characters")
        }
    }

    static func normalized(_ prefix: String, key: String) throws -> String {
        var trimmed = prefix
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if !trimmed.isEmpty {
            do { try ObjectKey.validate(trimmed, source: key) } catch {
                throw AWSSweepError.invalidTarget("\(error)")
            }
        }
        return trimmed
    }

    public var rankFunction: String { PipelineNames.functionName(.rank, stack: stack) }
    public var rankLogGroup: String { PipelineNames.logGroupName(.rank, stack: stack) }
    public var stateMachineName: String { PipelineNames.stateMachineName(stack: stack) }
}

/// Why a sweep on AWS stopped.
public enum AWSSweepError: Error, CustomStringConvertible {
    case invalidTarget(String)
    /// `lambda.memory` holds `auto`, which only a local measurement resolves.
    case memoryNotFixed(configuration: String)
    /// Ctrl-C while executions ran: they go on on AWS and a re-run picks them up.
    case interrupted(execution: String, finished: Int)
    case executionTimeout(execution: String, seconds: Double)
    case upload(path: String, bucket: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidTarget(reason):
            return "invalid AWS target: \(reason)"
        case let .memoryNotFixed(configuration):
            return "\(configuration): lambda.memory \"auto\" is resolved from a local peak RSS; give Lambda memory "
                + "sizes in MB for --executor aws (e.g. --memory 1769,3008)"
        case let .interrupted(execution, finished):
            return "interrupted after \(finished) execution(s) finished in this run; \(execution) is still running "
                + "on AWS and will be picked up, not started again: run the same command again to resume"
        case let .executionTimeout(execution, seconds):
            return "execution \(execution) still running after \(Int(seconds)) s; run the same command again to "
                + "resume polling it"
        case let .upload(path, bucket, key, reason):
            return "cannot upload \(path) to s3://\(bucket)/\(key): \(reason)"
        }
    }
}
