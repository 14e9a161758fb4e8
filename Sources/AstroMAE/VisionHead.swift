/// ASTROMAE.md "ViT encoder", last bullet: mean of the 16 patch tokens (the
/// class token is dropped, there is no final encoder norm) → `fc_norm` →
/// `head` → `vit_block.0` → ReLU → `vit_block.2`, giving 1096 features.
struct VisionHead {
    let fcNorm: LayerNorm
    let head: Linear
    let expand: Linear
    let mix: Linear

    init(_ weights: ModelWeights) {
        let d = WeightManifest.embedDim, f = WeightManifest.featureWidth
        fcNorm = LayerNorm(weights, "fc_norm")
        head = Linear(weights, "head", in: d, out: d)
        expand = Linear(weights, "vit_block.0", in: d, out: f)
        mix = Linear(weights, "vit_block.2", in: f, out: f)
    }

    /// Mean over patch tokens of x [count × 17 × 192] into `pooled` [count × 192].
    static func pool(_ x: UnsafePointer<Float>, count: Int, into pooled: UnsafeMutablePointer<Float>) {
        let d = WeightManifest.embedDim
        for b in 0..<count {
            let dst = pooled + b * d
            for j in 0..<d { dst[j] = 0 }
            for t in 1..<Geometry.tokens {
                let src = x + (b * Geometry.tokens + t) * d
                for j in 0..<d { dst[j] += src[j] }
            }
            for j in 0..<d { dst[j] *= 1 / Float(PatchEmbedding.tokens) }
        }
    }

    /// Writes the 1096 ViT features of each sample to `out` (row stride `ldOut`).
    /// The fixtures' `trace.pooled` is the fc_norm output.
    func forward(pooled: UnsafeMutablePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>,
                 wide: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, ldOut: Int,
                 trace: TraceRecorder? = nil) {
        fcNorm.forward(pooled, into: scratch, rows: count)
        trace?.record("trace.pooled", scratch, count * WeightManifest.embedDim)
        head.forward(scratch, rows: count, into: pooled)
        expand.forward(pooled, rows: count, into: wide, activation: .relu)
        mix.forward(wide, rows: count, into: out, ldy: ldOut)
    }
}

/// ASTROMAE.md "Magnitude branch": five Linear layers 5→1024→…→1024 with
/// ReLU between them (none after the last), on magnitudes cast to float32.
struct MagnitudeMLP {
    let layers: [Linear]

    init(_ weights: ModelWeights) {
        let w = WeightManifest.magnitudeWidth
        layers = [0, 2, 4, 6, 8].map { index in
            Linear(weights, "inception_model.magnitude_block.\(index)", in: index == 0 ? 5 : w, out: w)
        }
    }

    func forward(magnitudes: UnsafePointer<Double>, count: Int, input: UnsafeMutablePointer<Float>,
                 ping: UnsafeMutablePointer<Float>, pong: UnsafeMutablePointer<Float>,
                 into out: UnsafeMutablePointer<Float>, ldOut: Int) {
        for i in 0..<(count * Geometry.magnitudes) { input[i] = Float(magnitudes[i]) }
        layers[0].forward(input, rows: count, into: ping, activation: .relu)
        layers[1].forward(ping, rows: count, into: pong, activation: .relu)
        layers[2].forward(pong, rows: count, into: ping, activation: .relu)
        layers[3].forward(ping, rows: count, into: pong, activation: .relu)
        layers[4].forward(pong, rows: count, into: out, ldy: ldOut)
    }
}

/// ASTROMAE.md "Head": concat(vit, inception, magnitude) = 3216 →
/// `concat_block.0` → ReLU → `concat_block.2` → one redshift per sample.
struct RedshiftHead {
    let hidden: Linear
    let output: Linear

    init(_ weights: ModelWeights) {
        hidden = Linear(weights, "concat_block.0", in: WeightManifest.concatWidth, out: 1024)
        output = Linear(weights, "concat_block.2", in: 1024, out: 1)
    }

    func forward(concat: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>,
                 into out: UnsafeMutablePointer<Float>) {
        hidden.forward(concat, rows: count, into: scratch, activation: .relu)
        output.forward(scratch, rows: count, into: out)
    }
}
