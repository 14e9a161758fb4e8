import ArgumentParser
import BuildInfo

/// `cosmicbench`: the command-line front of the CosmicBench libraries. Each
/// subcommand parses its options and calls one library entry point.
@main
struct CosmicBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cosmicbench",
        abstract: "Benchmark AstroMAE redshift inference as the CAI serverless pipeline runs it.",
        version: BuildInfo.versionLine,
        subcommands: [Verify.self, Bench.self, ExportWeights.self, Weights.self, Data_.self, Run.self, Rank.self, LambdaCommand.self, Sweep.self, ReportCommand.self, Calibrate.self, Cost.self, Compare.self, AWS.self]
    )
}
