/// One ViTAE NormalCell, `blocks.{i}` (ASTROMAE.md "ViT encoder", steps 1–4):
///
///     conv = PCM(x[:, 1:])              grouped 1×1 convs, BatchNorm folded, SiLU
///     x    = x + proj(attn(norm1(x)))   3 heads of 64, q/v bias, k without
///     x[:, 1:] += conv
///     x    = x + fc2(GELU(fc1(norm2(x))))
struct EncoderBlock {
    static let heads = 3
    static let headDim = 64
    static let groups = 48

    let norm1: LayerNorm
    let norm2: LayerNorm
    let qkv: Linear
    let proj: Linear
    let fc1: Linear
    let fc2: Linear
    /// PCM.0 with PCM.1 folded, stored [group][in 4][out 16] so the inner loop runs over outputs.
    let pcmExpand: [Float]
    let pcmExpandBias: [Float]
    /// PCM.3 stored [group][in 16][out 4].
    let pcmReduce: [Float]
    let pcmReduceBias: [Float]

    init(_ weights: ModelWeights, index: Int) {
        let p = "blocks.\(index)"
        let d = WeightManifest.embedDim, hidden = WeightManifest.mlpHidden
        norm1 = LayerNorm(weights, "\(p).norm1")
        norm2 = LayerNorm(weights, "\(p).norm2")
        let qkvBias = Array(weights.tensor("\(p).attn.q_bias")) + [Float](repeating: 0, count: d)
            + Array(weights.tensor("\(p).attn.v_bias"))
        qkv = Linear(weight: Array(weights.tensor("\(p).attn.qkv.weight")), bias: qkvBias, in: d, out: 3 * d)
        proj = Linear(weights, "\(p).attn.proj", in: d, out: d)
        fc1 = Linear(weights, "\(p).mlp.fc1", in: d, out: hidden)
        fc2 = Linear(weights, "\(p).mlp.fc2", in: hidden, out: d)

        let bn = BatchNormFold(weights, "\(p).PCM.1")
        let expand = bn.fold(weight: Array(weights.tensor("\(p).PCM.0.weight")),
                             bias: Array(weights.tensor("\(p).PCM.0.bias")))
        pcmExpand = Self.groupMajor(expand.weight, groups: Self.groups, inPerGroup: 4, outPerGroup: 16)
        pcmExpandBias = expand.bias
        pcmReduce = Self.groupMajor(Array(weights.tensor("\(p).PCM.3.weight")), groups: Self.groups,
                                    inPerGroup: 16, outPerGroup: 4)
        pcmReduceBias = Array(weights.tensor("\(p).PCM.3.bias"))
    }

    /// Reorders a grouped 1×1 conv weight [out][inPerGroup] into [group][in][outPerGroup].
    private static func groupMajor(_ w: [Float], groups: Int, inPerGroup: Int, outPerGroup: Int) -> [Float] {
        var out = [Float](repeating: 0, count: w.count)
        for g in 0..<groups {
            for o in 0..<outPerGroup {
                for i in 0..<inPerGroup {
                    out[(g * inPerGroup + i) * outPerGroup + o] = w[(g * outPerGroup + o) * inPerGroup + i]
                }
            }
        }
        return out
    }

    /// Runs the block in place on x [count × 17 × 192].
    func forward(_ x: UnsafeMutablePointer<Float>, count: Int, workspace ws: Workspace) {
        let d = WeightManifest.embedDim
        let rows = count * Geometry.tokens
        pcm(x, count: count, hidden: ws.hidden, out: ws.pcm)

        norm1.forward(x, into: ws.normed, rows: rows)
        qkv.forward(ws.normed, rows: rows, into: ws.qkv)
        attention(ws.qkv, count: count, into: ws.attended, scores: ws.scores)
        proj.forward(ws.attended, rows: rows, into: x, accumulate: true)

        for b in 0..<count {
            let dst = x + (b * Geometry.tokens + 1) * d
            let src = ws.pcm + b * PatchEmbedding.tokens * d
            for j in 0..<(PatchEmbedding.tokens * d) { dst[j] += src[j] }
        }

        norm2.forward(x, into: ws.normed, rows: rows)
        fc1.forward(ws.normed, rows: rows, into: ws.hidden)
        Kernels.geluInPlace(ws.hidden, count: rows * WeightManifest.mlpHidden)
        fc2.forward(ws.hidden, rows: rows, into: x, accumulate: true)
    }

    /// PCM on the 16 patch tokens of each sample (a 4×4 image with 192
    /// channels; a 1×1 conv is the same per token, so spatial layout does not
    /// matter): 192 →(groups 48)→ 768, BN, SiLU, 768 →(groups 48)→ 192.
    private func pcm(_ x: UnsafePointer<Float>, count: Int, hidden: UnsafeMutablePointer<Float>,
                     out: UnsafeMutablePointer<Float>) {
        let d = WeightManifest.embedDim, wide = WeightManifest.mlpHidden
        let tokens = count * PatchEmbedding.tokens
        pcmExpand.withUnsafeBufferPointer { we in
            pcmExpandBias.withUnsafeBufferPointer { be in
                for n in 0..<tokens {
                    let b = n / PatchEmbedding.tokens, t = n % PatchEmbedding.tokens
                    let src = x + (b * Geometry.tokens + 1 + t) * d
                    let h = hidden + n * wide
                    for g in 0..<Self.groups {
                        let hg = h + g * 16
                        for o in 0..<16 { hg[o] = be[g * 16 + o] }
                        for i in 0..<4 {
                            let v = src[g * 4 + i]
                            let w = we.baseAddress! + (g * 4 + i) * 16
                            for o in 0..<16 { hg[o] += w[o] * v }
                        }
                    }
                }
            }
        }
        Kernels.siluInPlace(hidden, count: tokens * wide)
        pcmReduce.withUnsafeBufferPointer { wr in
            pcmReduceBias.withUnsafeBufferPointer { br in
                for n in 0..<tokens {
                    let h = hidden + n * wide
                    let dst = out + n * d
                    for g in 0..<Self.groups {
                        let og = dst + g * 4
                        for o in 0..<4 { og[o] = br[g * 4 + o] }
                        for i in 0..<16 {
                            let v = h[g * 16 + i]
                            let w = wr.baseAddress! + (g * 16 + i) * 4
                            for o in 0..<4 { og[o] += w[o] * v }
                        }
                    }
                }
            }
        }
    }

    /// Multi-head self-attention core per sample: softmax(q·kᵀ/8)·v for each
    /// of the 3 heads, heads re-joined in order into `out` [count·17 × 192].
    private func attention(_ qkv: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>,
                           scores: UnsafeMutablePointer<Float>) {
        let d = WeightManifest.embedDim, n = Geometry.tokens, hd = Self.headDim
        let stride = 3 * d
        let scale = 1 / Float(hd).squareRoot()
        for b in 0..<count {
            let base = qkv + b * n * stride
            for h in 0..<Self.heads {
                let q = base + h * hd, k = base + d + h * hd, v = base + 2 * d + h * hd
                for i in 0..<n {
                    let row = scores + i * n
                    let qi = q + i * stride
                    for j in 0..<n {
                        let kj = k + j * stride
                        var s: Float = 0
                        for e in 0..<hd { s += qi[e] * kj[e] }
                        row[j] = s * scale
                    }
                    Kernels.softmaxInPlace(row, count: n)
                    let o = out + (b * n + i) * d + h * hd
                    for e in 0..<hd { o[e] = 0 }
                    for j in 0..<n {
                        let a = row[j]
                        let vj = v + j * stride
                        for e in 0..<hd { o[e] += a * vj[e] }
                    }
                }
            }
        }
    }
}
