import ArgumentParser

/// `cosmicbench aws ...`: deploying and driving the CAI pipeline on AWS.
struct AWS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "Deploy the CAI pipeline to AWS and drive it there.",
        subcommands: []
    )
}
