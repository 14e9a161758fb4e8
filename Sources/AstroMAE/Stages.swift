import CosmicSupport

/// The network's parts, runnable one at a time so benchmarks and profiles
/// can say where the time goes. Each runs on whatever the workspace holds;
/// values do not matter for timing.
public enum Stage: String, CaseIterable, Sendable {
    case patchEmbed = "patch_embed"
    /// One NormalCell (blocks.0); the encoder is 12 of them.
    case encoderBlock = "encoder_block"
    case visionHead = "vision_head"
    case inception
    case magnitude
    case head

    /// Stages that run on a whole feature pass (`Workspace.featureCapacity`
    /// samples) rather than on one encoder/Inception slice.
    public var runsOnFeaturePass: Bool { self == .visionHead || self == .magnitude || self == .head }
}

extension AstroMAEModel {
    /// Runs one stage on `count` samples of `images` and `magnitudes`: at
    /// most the workspace's capacity, or its feature capacity for the stages
    /// that run on a feature pass.
    public func run(_ stage: Stage, images: UnsafePointer<Float>, magnitudes: UnsafePointer<Double>, count: Int,
                    workspace ws: Workspace) {
        precondition(count <= (stage.runsOnFeaturePass ? ws.featureCapacity : ws.capacity),
                     "count exceeds the workspace capacity")
        let cw = WeightManifest.concatWidth, f = WeightManifest.featureWidth, d = WeightManifest.embedDim
        switch stage {
        case .patchEmbed:
            patchEmbed.forward(images: images, count: count, patches: ws.hidden, embedded: ws.pcm, tokens: ws.tokens)
        case .encoderBlock:
            blocks[0].forward(ws.tokens, count: count, workspace: ws)
        case .visionHead:
            var first = 0
            while first < count {
                let n = min(ws.capacity, count - first)
                VisionHead.pool(ws.tokens, count: n, into: ws.pooled + first * d)
                first += n
            }
            vision.forward(pooled: ws.pooled, count: count, scratch: ws.small, wide: ws.wide, into: ws.concat, ldOut: cw)
        case .inception:
            inception.forward(images: images, count: count, into: ws.concat + f, ldOut: cw, workspace: ws)
        case .magnitude:
            magnitude.forward(magnitudes: magnitudes, count: count, input: ws.magnitudeIn, ping: ws.ping, pong: ws.pong,
                              into: ws.concat + 2 * f, ldOut: cw)
        case .head:
            head.forward(concat: ws.concat, count: count, scratch: ws.small, into: ws.magnitudeIn)
        }
    }
}

/// Time per sample of each stage, measured by running it alone.
public struct StageTiming: Codable, Sendable {
    public let stage: String
    /// How many times the stage runs in one forward pass (12 for an encoder block).
    public let repeats: Int
    /// Median seconds per sample for all `repeats` runs of the stage.
    public let secondsPerSample: Double
    /// Share of the sum over stages.
    public let share: Double

    enum CodingKeys: String, CodingKey {
        case stage, repeats, secondsPerSample = "seconds_per_sample", share
    }

    /// Runs every stage `iterations` times on synthetic samples: slices of
    /// `count` samples, feature passes of `featureBatch` (as `predict` does).
    public static func measure(model: AstroMAEModel, count: Int, featureBatch: Int = Workspace.defaultFeatureBatch,
                               iterations: Int = 9) -> [StageTiming] {
        let ws = Workspace(capacity: count, featureBatch: featureBatch)
        let passCount = ws.featureCapacity
        let (images, magnitudes) = ThroughputBenchmark.syntheticInputs(count: passCount)
        var raw: [(Stage, Int, Double)] = []
        images.withUnsafeBufferPointer { im in
            magnitudes.withUnsafeBufferPointer { mg in
                // Fill the workspace with real activations first.
                model.predict(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: passCount,
                              output: ws.magnitudeIn, workspace: ws)
                for stage in Stage.allCases {
                    let n = stage.runsOnFeaturePass ? passCount : count
                    var times: [Double] = []
                    for _ in 0..<iterations {
                        let t0 = MonotonicClock.now()
                        model.run(stage, images: im.baseAddress!, magnitudes: mg.baseAddress!, count: n, workspace: ws)
                        times.append(MonotonicClock.now() - t0)
                    }
                    let repeats = stage == .encoderBlock ? WeightManifest.depth : 1
                    raw.append((stage, repeats, times.sorted()[times.count / 2] * Double(repeats) / Double(n)))
                }
            }
        }
        let total = raw.reduce(0) { $0 + $1.2 }
        return raw.map { StageTiming(stage: $0.0.rawValue, repeats: $0.1, secondsPerSample: $0.2, share: $0.2 / total) }
    }
}
