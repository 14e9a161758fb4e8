import AstroMAE
import Benchmark

/// The seeded model and `count` seeded samples, as raw buffers the engine's
/// pointer API reads.
final class ModelFixture: @unchecked Sendable {
    let model: AstroMAEModel
    let count: Int
    let images: UnsafeMutableBufferPointer<Float>
    let magnitudes: UnsafeMutableBufferPointer<Double>
    let output: UnsafeMutableBufferPointer<Float>

    init(count: Int) {
        BLAS.threads = 1
        model = AstroMAEModel(weights: .seeded())
        self.count = count
        let inputs = ThroughputBenchmark.syntheticInputs(count: count)
        images = .allocate(capacity: inputs.images.count)
        _ = images.initialize(from: inputs.images)
        magnitudes = .allocate(capacity: inputs.magnitudes.count)
        _ = magnitudes.initialize(from: inputs.magnitudes)
        output = .allocate(capacity: count)
        output.initialize(repeating: 0)
    }

    deinit {
        images.deallocate()
        magnitudes.deallocate()
        output.deallocate()
    }

    func run(_ stage: Stage, workspace: Workspace) {
        model.run(stage, images: images.baseAddress!, magnitudes: magnitudes.baseAddress!, count: count,
                  workspace: workspace)
    }
}

/// Samples per stage call: the engine's micro-batch, the workspace size a rank uses.
let stageBatch = 64

func registerStageBenchmarks() {
    let rate = GateConfiguration.Rate.samples(stageBatch, slow: false)
    let configuration = GateConfiguration.make(rate, maxDuration: .milliseconds(1500), maxIterations: 200,
                                                   mallocAllowance: 0)
    for stage in Stage.allCases {
        Benchmark("stage_\(stage.rawValue)_b\(stageBatch)", configuration: configuration) {
            (benchmark: Benchmark, state: (ModelFixture, Workspace)) in
            let (fixture, workspace) = state
            // A block updates its tokens in place; restart from the patch
            // embedding before each call (outside the measured region) so every
            // call sees the activations block 0 sees in a real pass.
            if stage == .encoderBlock { fixture.run(.patchEmbed, workspace: workspace) }
            GateConfiguration.measure(benchmark, rate) { fixture.run(stage, workspace: workspace) }
        } setup: {
            let fixture = ModelFixture(count: stageBatch)
            let workspace = Workspace(capacity: stageBatch)
            // One full pass leaves real activations in every buffer a stage reads.
            fixture.model.predict(images: fixture.images.baseAddress!, magnitudes: fixture.magnitudes.baseAddress!,
                                  count: stageBatch, output: fixture.output.baseAddress!, workspace: workspace)
            return (fixture, workspace)
        }
    }
}

/// The whole forward pass as a rank runs it: an `InferenceSession` with the
/// default micro-batch of 64 and one thread, at the batch sizes CAI users sweep.
func registerForwardBenchmarks() {
    for batch in [32, 128, 512] {
        // b512 takes ~1.6 s a pass single-threaded: a few passes are enough.
        let rate = GateConfiguration.Rate.samples(batch, slow: true)
        let configuration = GateConfiguration.make(rate, maxDuration: .seconds(batch >= 512 ? 10 : 4),
                                                   maxIterations: batch >= 512 ? 5 : 20, mallocAllowance: 0)
        Benchmark("forward_b\(batch)", configuration: configuration) {
            (benchmark: Benchmark, state: (ModelFixture, InferenceSession)) in
            let (fixture, session) = state
            GateConfiguration.measure(benchmark, rate) {
                session.predict(images: fixture.images.baseAddress!, magnitudes: fixture.magnitudes.baseAddress!,
                                count: batch, output: fixture.output.baseAddress!)
            }
            blackHole(fixture.output[0])
        } setup: {
            let fixture = ModelFixture(count: batch)
            let session = InferenceSession(model: fixture.model, microBatch: 64, threads: 1)
            return (fixture, session)
        }
    }
}
