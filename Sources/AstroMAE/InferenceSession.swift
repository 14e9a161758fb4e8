import Foundation

/// How a session uses more than one core.
public enum Parallelism: String, Sendable, Codable, CaseIterable {
    /// Each thread runs whole micro-batches on its own workspace with a
    /// single-threaded BLAS: every stage, not just the GEMMs, runs in parallel.
    case splitBatch = "split"
    /// One micro-batch at a time; OpenBLAS threads each GEMM.
    case blas
}

/// The model plus the workspaces and threading to run it: what a rank and
/// the benchmarks call. `predict` allocates nothing.
public final class InferenceSession: @unchecked Sendable {
    public let model: AstroMAEModel
    public let threads: Int
    public let parallelism: Parallelism
    /// Samples per pass of one workspace.
    public let microBatch: Int
    private let workspaces: [Workspace]

    public init(model: AstroMAEModel, microBatch: Int, threads: Int = 1, parallelism: Parallelism = .splitBatch) {
        precondition(microBatch >= 1 && threads >= 1)
        self.model = model
        self.threads = threads
        self.parallelism = threads == 1 ? .blas : parallelism
        self.microBatch = microBatch
        switch self.parallelism {
        case .splitBatch:
            BLAS.threads = 1
            workspaces = (0..<threads).map { _ in Workspace(capacity: microBatch) }
        case .blas:
            BLAS.threads = threads
            workspaces = [Workspace(capacity: microBatch)]
        }
    }

    /// Bytes of activation memory held.
    public var workspaceBytes: Int { workspaces.reduce(0) { $0 + $1.byteCount } }

    /// One prediction per sample; see `AstroMAEModel.predict`.
    public func predict(images: UnsafePointer<Float>, magnitudes: UnsafePointer<Double>, count: Int,
                        output: UnsafeMutablePointer<Float>) {
        guard workspaces.count > 1, count > microBatch else {
            model.predict(images: images, magnitudes: magnitudes, count: count, output: output, workspace: workspaces[0])
            return
        }
        // Contiguous shares, each a whole number of micro-batches where possible.
        let passes = (count + microBatch - 1) / microBatch
        let perWorker = (passes + workspaces.count - 1) / workspaces.count * microBatch
        nonisolated(unsafe) let images = images, magnitudes = magnitudes, output = output
        DispatchQueue.concurrentPerform(iterations: workspaces.count) { worker in
            let first = worker * perWorker
            let n = min(perWorker, count - first)
            guard n > 0 else { return }
            model.predict(images: images + first * Geometry.imageFloats,
                          magnitudes: magnitudes + first * Geometry.magnitudes, count: n,
                          output: output + first, workspace: workspaces[worker])
        }
    }
}
