import ArgumentParser
import CAIWorkload
import Foundation

/// The child side of `RankLauncher`: one rank, one process. A missing or
/// malformed job file is a runtime failure (exit 1, plain message), not a
/// command-line mistake.
struct Rank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one rank from a job file (used internally by run and sweep).",
        shouldDisplay: false)

    @Argument(help: "Rank job JSON written by the launcher.")
    var job: String

    func run() throws {
        _ = try RankWorker.run(try RankJob.load(contentsOf: URL(fileURLWithPath: job)))
    }
}
