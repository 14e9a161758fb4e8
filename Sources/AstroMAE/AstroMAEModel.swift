import Foundation

/// The AstroMAE redshift network of ASTROMAE.md, built once from a
/// checkpoint and then run on batches of any size.
///
/// Three branches read the same sample — the ViT encoder on the image, the
/// Inception CNN on the image, the magnitude MLP on the photometry — and a
/// small head maps their concatenated 3216 features to one redshift.
public final class AstroMAEModel: @unchecked Sendable {
    /// Multiply-adds per sample counted from the layer shapes (GEMMs,
    /// convolutions and the attention products), ≈ 110.8 M as the spec says.
    public static let multiplyAddsPerSample: Int = FlopCount.multiplyAdds
    /// 2 × multiply-adds, in GFLOP: the unit of `gflops` in every report.
    public static var gflopPerSample: Double { Double(2 * multiplyAddsPerSample) / 1e9 }

    let patchEmbed: PatchEmbedding
    let blocks: [EncoderBlock]
    let vision: VisionHead
    let inception: InceptionBranch
    let magnitude: MagnitudeMLP
    let head: RedshiftHead
    /// Where the weights came from.
    public let weightsSource: String
    /// SHA-256 of the weights file, nil for seeded weights.
    public let weightsSHA256: String?

    public init(weights: ModelWeights) {
        patchEmbed = PatchEmbedding(weights)
        blocks = (0..<WeightManifest.depth).map { EncoderBlock(weights, index: $0) }
        vision = VisionHead(weights)
        inception = InceptionBranch(weights)
        magnitude = MagnitudeMLP(weights)
        head = RedshiftHead(weights)
        weightsSource = weights.source
        weightsSHA256 = weights.sha256
    }

    /// Predicts one redshift per sample.
    ///
    /// - Parameters:
    ///   - images: `count × 5 × 32 × 32` float32, NCHW, bands u g r i z.
    ///   - magnitudes: `count × 5` float64.
    ///   - output: `count` predictions.
    ///   - workspace: scratch; batches larger than its feature capacity are
    ///     run in consecutive passes of that size (each sample's result does
    ///     not depend on which pass or slice it is in).
    public func predict(images: UnsafePointer<Float>, magnitudes: UnsafePointer<Double>, count: Int,
                        output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        var first = 0
        while first < count {
            let n = min(workspace.featureCapacity, count - first)
            forward(images: images + first * Geometry.imageFloats,
                    magnitudes: magnitudes + first * Geometry.magnitudes,
                    count: n, output: output + first, workspace: workspace, trace: nil)
            first += n
        }
    }

    /// Convenience for small inputs held in arrays.
    public func predict(images: [Float], magnitudes: [Double]) -> [Float] {
        let count = magnitudes.count / Geometry.magnitudes
        precondition(images.count == count * Geometry.imageFloats, "images and magnitudes disagree on the batch")
        let ws = Workspace(capacity: max(1, min(count, 64)), featureBatch: count)
        var out = [Float](repeating: 0, count: count)
        images.withUnsafeBufferPointer { im in
            magnitudes.withUnsafeBufferPointer { mg in
                out.withUnsafeMutableBufferPointer { o in
                    predict(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: count,
                            output: o.baseAddress!, workspace: ws)
                }
            }
        }
        return out
    }

    /// Runs the model and keeps the intermediate tensors the golden fixtures
    /// record (`trace.*` names), for `verify`.
    public func trace(images: [Float], magnitudes: [Double]) -> [String: [Float]] {
        let count = magnitudes.count / Geometry.magnitudes
        precondition(images.count == count * Geometry.imageFloats, "images and magnitudes disagree on the batch")
        let ws = Workspace(capacity: max(1, count), featureBatch: count)
        let recorder = TraceRecorder()
        var out = [Float](repeating: 0, count: count)
        images.withUnsafeBufferPointer { im in
            magnitudes.withUnsafeBufferPointer { mg in
                out.withUnsafeMutableBufferPointer { o in
                    forward(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: count,
                            output: o.baseAddress!, workspace: ws, trace: recorder)
                }
            }
        }
        recorder.values["output.redshift"] = out
        return recorder.values
    }

    /// One pass over at most `workspace.featureCapacity` samples: the
    /// encoder and the Inception branch slice by slice (`workspace.capacity`
    /// samples each), then the feature layers over the whole pass. A traced
    /// pass must fit in one slice.
    func forward(images: UnsafePointer<Float>, magnitudes: UnsafePointer<Double>, count: Int,
                 output: UnsafeMutablePointer<Float>, workspace ws: Workspace, trace: TraceRecorder?) {
        precondition(count <= ws.featureCapacity && (trace == nil || count <= ws.capacity))
        let d = WeightManifest.embedDim, f = WeightManifest.featureWidth, cw = WeightManifest.concatWidth
        let x = ws.tokens

        var first = 0
        while first < count {
            let n = min(ws.capacity, count - first)
            let slice = images + first * Geometry.imageFloats
            // ViT encoder.
            patchEmbed.forward(images: slice, count: n, patches: ws.hidden, embedded: ws.pcm, tokens: x)
            trace?.record("trace.patch_embed", ws.pcm, n * PatchEmbedding.tokens * d)
            for (index, block) in blocks.enumerated() {
                block.forward(x, count: n, workspace: ws)
                if index == 0 { trace?.record("trace.block0", x, n * Geometry.tokens * d) }
                if index == blocks.count - 1 { trace?.record("trace.block11", x, n * Geometry.tokens * d) }
            }
            VisionHead.pool(x, count: n, into: ws.pooled + first * d)
            // The Inception branch writes straight into its concat columns.
            inception.forward(images: slice, count: n, into: ws.concat + first * cw + f, ldOut: cw, workspace: ws)
            first += n
        }
        vision.forward(pooled: ws.pooled, count: count, scratch: ws.small, wide: ws.wide, into: ws.concat, ldOut: cw, trace: trace)
        magnitude.forward(magnitudes: magnitudes, count: count, input: ws.magnitudeIn, ping: ws.ping, pong: ws.pong,
                          into: ws.concat + 2 * f, ldOut: cw)
        if let trace {
            trace.recordColumns("trace.vit_features", ws.concat, rows: count, ld: cw, from: 0, width: f)
            trace.recordColumns("trace.inception_features", ws.concat, rows: count, ld: cw, from: f, width: f)
            trace.recordColumns("trace.magnitude_features", ws.concat, rows: count, ld: cw, from: 2 * f,
                                width: WeightManifest.magnitudeWidth)
        }
        head.forward(concat: ws.concat, count: count, scratch: ws.small, into: output)
    }
}

/// Collects named intermediate tensors during a traced forward pass.
final class TraceRecorder {
    var values: [String: [Float]] = [:]

    func record(_ name: String, _ pointer: UnsafePointer<Float>, _ count: Int) {
        values[name] = Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    func recordColumns(_ name: String, _ pointer: UnsafePointer<Float>, rows: Int, ld: Int, from: Int, width: Int) {
        var out: [Float] = []
        out.reserveCapacity(rows * width)
        for r in 0..<rows { out.append(contentsOf: UnsafeBufferPointer(start: pointer + r * ld + from, count: width)) }
        values[name] = out
    }
}

/// The model's arithmetic, counted layer by layer from its shapes.
enum FlopCount {
    static let multiplyAdds: Int = {
        let d = WeightManifest.embedDim, n = Geometry.tokens, h = WeightManifest.mlpHidden
        let f = WeightManifest.featureWidth, m = WeightManifest.magnitudeWidth
        var total = 16 * 320 * d
        let block = n * d * 3 * d + 2 * n * n * d + n * d * d + 2 * n * d * h + 16 * (h * 4 + d * 16)
        total += WeightManifest.depth * block
        total += d * d + d * f + f * f
        total += 256 * 5 * 32
        var side = 16
        for spec in WeightManifest.inceptionBlocks {
            if spec.index == 5 || spec.index == 8 { side /= 2 }
            let w = spec.width, px = side * side
            let branches = spec.custom ? 3 : 4
            var per = px * spec.cin * w * (branches == 4 ? 4 : 3)
            per += px * w * w * 9
            if !spec.custom { per += px * w * w * 25 }
            total += per
        }
        total += 192 * f + f * f
        total += 5 * m + 4 * m * m
        total += WeightManifest.concatWidth * 1024 + 1024
        return total
    }()
}
