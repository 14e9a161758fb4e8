import ArgumentParser
import AstroMAE
import Foundation

/// Where the model's weights come from: `--weights FILE` or the seeded generator.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Safetensors checkpoint with PyTorch state_dict names (default: seeded weights).")
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
    @Option(name: .long, help: "OpenBLAS threads (default: what OpenBLAS chose, usually one per core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func apply() {
        if let threads { BLAS.threads = threads }
    }
}

/// Encodes a value as pretty JSON with sorted keys (stable output for diffs).
func prettyJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
