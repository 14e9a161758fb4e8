import AstroMAE
import Foundation

/// The forward pass for `valgrind --tool=callgrind`: the instruction count
/// the gate checks where perf events (package-benchmark's `instructions`
/// metric) are not available, as on this VM.
///
///     AstroMAEInstructionCount --write-weights FILE    seeded weights to FILE, natively
///     AstroMAEInstructionCount [--batch N] [--weights FILE]
///
/// Seeding the 15.9 M weights costs more under valgrind than the pass
/// itself, so the gate writes them once natively and loads the file.
/// A one-sample pass first (OpenBLAS's buffers, lazy runtime state; one
/// sample keeps it cheap under valgrind), then exactly one pass inside
/// `measuredForward`, the only function callgrind collects
/// (`--collect-atstart=no --toggle-collect='*measuredForward*'`): the count
/// covers one forward pass and nothing of the set-up.
@inline(never)
func measuredForward(_ session: InferenceSession, _ images: UnsafePointer<Float>, _ magnitudes: UnsafePointer<Double>,
                     _ count: Int, _ output: UnsafeMutablePointer<Float>) {
    session.predict(images: images, magnitudes: magnitudes, count: count, output: output)
}

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

do {
    if let path = option("--write-weights") {
        try ModelWeights.seeded().write(to: URL(fileURLWithPath: path))
        exit(0)
    }
    let batch = option("--batch").flatMap { Int($0) } ?? 4
    let weights = try option("--weights").map { try ModelWeights.load(contentsOf: URL(fileURLWithPath: $0)) } ?? .seeded()
    BLAS.threads = 1
    let session = InferenceSession(model: AstroMAEModel(weights: weights), microBatch: 64, threads: 1)
    let (images, magnitudes) = ThroughputBenchmark.syntheticInputs(count: batch)
    var output = [Float](repeating: 0, count: batch)
    images.withUnsafeBufferPointer { im in
        magnitudes.withUnsafeBufferPointer { mg in
            output.withUnsafeMutableBufferPointer { out in
                session.predict(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: 1, output: out.baseAddress!)
                measuredForward(session, im.baseAddress!, mg.baseAddress!, batch, out.baseAddress!)
            }
        }
    }
    print("batch \(batch) core \(BLAS.coreName) blas_threads \(BLAS.threads) first prediction \(output[0])")
} catch {
    FileHandle.standardError.write(Data("AstroMAEInstructionCount: \(error)\n".utf8))
    exit(1)
}
