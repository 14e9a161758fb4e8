import Foundation

/// Where a row of `ranks.csv` was measured: on this machine, or on AWS
/// Lambda. (Modelled figures live only in the summaries, never in ranks.csv.)
public enum MeasurementSource: String, Codable, Sendable, CaseIterable {
    case local, lambda

    /// Reads the `source` cell; files written before Lambda runs say `measured`.
    init?(cell: String) {
        if cell == "measured" { self = .local } else { self.init(rawValue: cell) }
    }
}

/// What AWS said about one rank's invocation, beside the worker's own timings.
///
/// Duration, billed duration, max memory used and init duration come from
/// the function's `REPORT` log line matched by request id (`figures` =
/// `reportLog`); when no line matched, from the worker's own timings
/// (`workerTimings`: duration = the rank's process seconds, billed = that
/// rounded up to 1 ms, memory = its VmHWM, init unknown); `none` when the
/// rank left neither.
public struct LambdaFigures: Codable, Equatable, Sendable {
    public enum Origin: String, Codable, Sendable {
        case reportLog = "REPORT log", workerTimings = "worker timings"
        /// The rank never reported (crashed, throttled out, execution failed first).
        case none
    }

    /// The function's configured memory (MB).
    public var memoryMB: Int
    public var durationMs: Double
    public var billedMs: Int
    public var maxMemoryUsedMB: Int
    /// Init Duration of a cold start; nil on a warm invocation or when unknown.
    public var initMs: Double?
    public var coldStart: Bool
    public var figures: Origin
    public var requestID: String
    /// The Step Functions execution the rank ran in, and its wall seconds
    /// (start to stop: Initialize, the ranks and Summarize).
    public var execution: String
    public var executionSeconds: Double

    public init(memoryMB: Int, durationMs: Double, billedMs: Int, maxMemoryUsedMB: Int, initMs: Double?,
                coldStart: Bool, figures: Origin, requestID: String, execution: String, executionSeconds: Double) {
        self.memoryMB = memoryMB
        self.durationMs = durationMs
        self.billedMs = billedMs
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.initMs = initMs
        self.coldStart = coldStart
        self.figures = figures
        self.requestID = requestID
        self.execution = execution
        self.executionSeconds = executionSeconds
    }

    /// Seconds the invocation took, its init included (what the model's rank duration predicts).
    public var totalSeconds: Double { (durationMs + (initMs ?? 0)) / 1_000 }
}
