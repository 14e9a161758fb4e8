import ArgumentParser

/// `cosmicbench weights ...`: inspecting and converting checkpoints.
struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Inspect and convert model checkpoints.",
        subcommands: []
    )
}
