import ArgumentParser
import CAIWorkload
import Foundation

/// The child side of `RankLauncher`: one rank, one process.
struct Rank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one rank from a job file (used internally by run and sweep).",
        shouldDisplay: false)

    @Argument(help: "Rank job JSON written by the launcher.")
    var job: String

    func run() throws {
        let url = URL(fileURLWithPath: job)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ValidationError("cannot read rank job \(job): \(error.localizedDescription)")
        }
        let decoded: RankJob
        do { decoded = try JSONDecoder().decode(RankJob.self, from: data) } catch {
            throw ValidationError("\(job) is not a rank job: \(error)")
        }
        _ = try RankWorker.run(decoded)
    }
}
