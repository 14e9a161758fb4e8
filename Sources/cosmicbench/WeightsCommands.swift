import ArgumentParser
import AstroMAE
import Foundation

/// `cosmicbench weights ...`: inspecting and converting checkpoints.
struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Inspect and convert model checkpoints.",
        subcommands: [WeightsInspect.self, WeightsConvert.self]
    )
}

/// The optional `--rename-map FILE` of both subcommands.
struct RenameMapOption: ParsableArguments {
    @Option(name: .customLong("rename-map"),
            help: "JSON object of name rules: {\"old.name\": \"new.name\", \"old.prefix.*\": \"new.prefix.*\", \"unused.*\": null}.")
    var renameMap: String?

    func load() throws -> WeightRenameMap? {
        try renameMap.map { try WeightRenameMap.load(contentsOf: URL(fileURLWithPath: $0)) }
    }
}

struct WeightsInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a checkpoint's format, tensors, dtypes and SHA-256, and how its names match AstroMAE (exit 1 on a mismatch).")

    @Argument(help: "Checkpoint: safetensors, or a torch.save .pt (whole model or state_dict; nothing in it is executed).")
    var file: String

    @OptionGroup var rename: RenameMapOption

    func run() throws {
        let (checkpoint, report) = try ModelWeights.inspect(contentsOf: URL(fileURLWithPath: file), renameMap: rename.load())
        var dtypes: [String: Int] = [:]
        for tensor in checkpoint.tensors { dtypes[tensor.dtype, default: 0] += 1 }
        print("file:    \(checkpoint.path)")
        print("format:  \(checkpoint.format)")
        print("sha256:  \(checkpoint.sha256)")
        print("tensors: \(checkpoint.tensors.count) (" + dtypes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")")
        if let prefix = report.strippedPrefix { print("names:   DataParallel prefix '\(prefix)' removed") }
        print("ignored: \(report.ignored.count) (num_batches_tracked, shared-conv alias, dropped by the map)")
        print("model:   \(report.resolved.count) of \(WeightManifest.all.count) AstroMAE tensors matched")
        print(report)
        if !report.isClean { throw ExitCode(1) }
    }
}

struct WeightsConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a checkpoint (e.g. CAI's whole-model .pt) to a float32 safetensors file with ASTROMAE.md names.")

    @Argument(help: "Input checkpoint: torch.save .pt (whole model or state_dict) or safetensors.")
    var input: String

    @Option(name: .long, help: "Output safetensors file (written atomically).")
    var out: String

    @OptionGroup var rename: RenameMapOption

    func run() throws {
        let weights = try ModelWeights.load(contentsOf: URL(fileURLWithPath: input), renameMap: rename.load())
        try weights.write(to: URL(fileURLWithPath: out))
        print("wrote \(WeightManifest.all.count) tensors (\(WeightManifest.parameterCount) parameters) to \(out); "
            + "source sha256 \(weights.sha256 ?? "-")")
    }
}
