import ArgumentParser
import AWSDeploy
import CosmicSupport
import Foundation

/// `cosmicbench aws ...`: deploying and driving the CAI pipeline on AWS.
struct AWS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "Deploy the CAI pipeline to AWS and drive it there.",
        subcommands: [AWSTemplate.self, AWSDefinition.self]
    )
}

/// The template options; each one left out keeps `TemplateOptions`' default.
struct TemplateArguments: ParsableArguments {
    @Option(help: "Stack the template is for (names derive from the deployed stack's name; this checks they fit).")
    var stackName: String?
    @Option(help: "Bucket holding the partitions (the payload's data_bucket).")
    var dataBucket: String?
    @Option(help: "Key prefix the functions may read: empty or ending in '/'.")
    var dataPrefix: String?
    @Option(help: "Bucket the results go to (the payload's bucket).")
    var resultsBucket: String?
    @Option(help: "Key prefix the functions may write: empty or ending in '/'.")
    var resultsPrefix: String?
    @Option(help: "Default ECR image URI of the worker (otherwise the deploy must pass ImageUri).")
    var imageUri: String?
    @Option(help: "Memory of the rank function, MB.")
    var rankMemory: Int?
    @Option(help: "Ephemeral storage of the rank function, MB.")
    var rankEphemeralStorage: Int?
    @Option(help: "Ranks running at once (0: no explicit limit).")
    var maxConcurrency: Int?
    @Option(help: "Percentage of ranks that may fail before the run fails.")
    var toleratedFailurePercentage: Int?
    @Option(help: "Days the functions' logs are kept.")
    var logRetentionDays: Int?

    var options: TemplateOptions {
        var options = TemplateOptions()
        if let stackName { options.stackName = stackName }
        if let dataBucket { options.dataBucket = dataBucket }
        if let dataPrefix { options.dataPrefix = dataPrefix }
        if let resultsBucket { options.resultsBucket = resultsBucket }
        if let resultsPrefix { options.resultsPrefix = resultsPrefix }
        if let imageUri { options.imageURI = imageUri }
        if let rankMemory { options.rankMemoryMB = rankMemory }
        if let rankEphemeralStorage { options.rankEphemeralStorageMB = rankEphemeralStorage }
        if let maxConcurrency { options.maxConcurrency = maxConcurrency }
        if let toleratedFailurePercentage { options.toleratedFailurePercentage = toleratedFailurePercentage }
        if let logRetentionDays { options.logRetentionDays = logRetentionDays }
        return options
    }
}

/// Writes JSON text to `--out` atomically, or to stdout.
private func emit(_ json: JSON, to out: String?) throws {
    let data = Data(json.rendered().utf8)
    if let out {
        try AtomicFile.write(data, to: URL(fileURLWithPath: out))
    } else {
        FileHandle.standardOutput.write(data)
    }
}

/// `cosmicbench aws template`: the CloudFormation template.
struct AWSTemplate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Write the CloudFormation template (JSON) of the pipeline.")

    @OptionGroup var template: TemplateArguments
    @Option(help: "Output file (default: stdout).")
    var out: String?

    func run() throws {
        try emit(CloudFormationTemplate.make(template.options), to: out)
    }
}

/// `cosmicbench aws definition`: the state machine's ASL alone.
struct AWSDefinition: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "definition",
        abstract: "Write the state machine definition (ASL) alone.",
        discussion: "Without --region/--account: the template's Definition, with its ${...} placeholders. With both: the definition of --stack-name in that account, function ARNs and Map limits filled in.")

    @OptionGroup var template: TemplateArguments
    @Option(help: "Region of the functions (with --account).")
    var region: String?
    @Option(help: "Account ID of the functions (with --region).")
    var account: String?
    @Option(help: "Output file (default: stdout).")
    var out: String?

    func validate() throws {
        if (region == nil) != (account == nil) { throw ValidationError("--region and --account go together") }
    }

    func run() throws {
        if let region, let account {
            try emit(CloudFormationTemplate.standaloneDefinition(template.options, region: region, account: account), to: out)
        } else {
            try template.options.validate()
            try emit(CloudFormationTemplate.stateMachineDefinition(), to: out)
        }
    }
}
