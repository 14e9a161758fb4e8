import ArgumentParser
import AstroMAE
import CosmicSupport
import Foundation

/// Where the model's weights come from: `--weights FILE` or the seeded generator.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint: safetensors or a torch.save .pt (state_dict or whole model), PyTorch names (default: seeded weights).")
    var weights: String?

    @Option(name: .long, help: "Seed of the generated weights when no --weights is given.")
    var seed: UInt64 = SeededWeights.defaultSeed

    func load() throws -> ModelWeights {
        if let weights { return try ModelWeights.load(contentsOf: URL(fileURLWithPath: weights)) }
        return ModelWeights.seeded(seed)
    }
}

/// OpenBLAS threading.
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: "OpenBLAS threads of the traced pass; the session check splits the batch over this many single-threaded workers, as ranks do (default: OpenBLAS's choice; session 1).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func apply() {
        if let threads { BLAS.threads = threads }
    }
}

/// Encodes a value as the project's JSON (stable output for diffs), without the final newline.
func prettyJSON<T: Encodable>(_ value: T) throws -> String {
    String(try JSONFormat.string(value).dropLast())
}

/// A runtime failure (not a command-line mistake): printed as `Error: ...`
/// without the usage text, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
