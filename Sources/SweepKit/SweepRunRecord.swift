import BuildInfo
import CosmicSupport
import Foundation

/// One invocation of a sweep on a results folder, a row of `runs.csv`,
/// appended when the run ends (complete, interrupted or failed) so the
/// folder keeps the wall time of the work that made it. Measured by the
/// sweep itself: the monotonic clock from start to end of `SweepRunner.run`.
public struct SweepRunRecord: Codable, Equatable, Sendable {
    /// UTC start, ISO 8601.
    public var started: String
    public var wallSeconds: Double
    /// "complete", "complete with failed ranks", "interrupted" or "failed: REASON".
    public var outcome: String
    /// `local` or `lambda`.
    public var source: String
    /// Rank runs made (local) or ranks measured on Lambda in this run.
    public var measuredRankRuns: Int
    /// Rows filled from a measurement of the same work instead of a run of their own.
    public var reusedRows: Int
    public var configurationsMeasured: Int
    public var configurationsSkipped: Int
    /// Cores the local ranks could use at once (spec `concurrency`).
    public var concurrency: Int
    /// The binary's version line (commit).
    public var binary: String

    enum CodingKeys: String, CodingKey {
        case started, wallSeconds = "wall_s", outcome, source, measuredRankRuns = "measured_rank_runs"
        case reusedRows = "reused_rows", configurationsMeasured = "configurations_measured"
        case configurationsSkipped = "configurations_skipped", concurrency, binary
    }

    /// Appends `record` to `runs.csv` in `files` (rewritten whole, atomically).
    public static func append(_ record: SweepRunRecord, to files: SweepFiles) throws {
        var records = try read(files)
        records.append(record)
        try CSVRecordCoder.table(records).write(to: files.runs)
    }

    /// The rows of `runs.csv`, none when the folder has no such file.
    public static func read(_ files: SweepFiles) throws -> [SweepRunRecord] {
        guard FileManager.default.fileExists(atPath: files.runs.path) else { return [] }
        return try CSVRecordCoder.records(SweepRunRecord.self, from: try CSVTable.read(files.runs), path: files.runs.path)
    }

    static func utcNow() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
