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
    /// PCM.3 stored for group pairs, [pair][in 16][8 lanes]: lanes 0–3 are
    /// group 2p's four outputs, lanes 4–7 group 2p+1's.
    let pcmReduce: [Float]
    let pcmReduceBias: [Float]

    init(_ weights: ModelWeights, index: Int) {
        let p = "blocks.\(index)"
        let d = WeightManifest.embedDim, hidden = WeightManifest.mlpHidden
        norm1 = LayerNorm(weights, "\(p).norm1")
        norm2 = LayerNorm(weights, "\(p).norm2")
        let qkvBias = Array(weights.tensor("\(p).attn.q_bias")) + [Float](repeating: 0, count: d)
            + Array(weights.tensor("\(p).attn.v_bias"))
        qkv = Linear(weight: weights.tensor("\(p).attn.qkv.weight"), bias: qkvBias[...], in: d, out: 3 * d)
        proj = Linear(weights, "\(p).attn.proj", in: d, out: d)
        fc1 = Linear(weights, "\(p).mlp.fc1", in: d, out: hidden)
        fc2 = Linear(weights, "\(p).mlp.fc2", in: hidden, out: d)

        let bn = BatchNormFold(weights, "\(p).PCM.1")
        let expand = bn.fold(weight: Array(weights.tensor("\(p).PCM.0.weight")),
                             bias: Array(weights.tensor("\(p).PCM.0.bias")))
        pcmExpand = Self.groupMajor(expand.weight, groups: Self.groups, inPerGroup: 4, outPerGroup: 16)
        pcmExpandBias = expand.bias
        let reduce = Self.groupMajor(Array(weights.tensor("\(p).PCM.3.weight")), groups: Self.groups,
                                     inPerGroup: 16, outPerGroup: 4)
        var paired = [Float](repeating: 0, count: reduce.count)
        for pair in 0..<(Self.groups / 2) {
            for i in 0..<16 {
                for lane in 0..<8 {
                    let g = 2 * pair + lane / 4
                    paired[(pair * 16 + i) * 8 + lane] = reduce[(g * 16 + i) * 4 + lane % 4]
                }
            }
        }
        pcmReduce = paired
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
        fc1.forward(ws.normed, rows: rows, into: ws.hidden, activation: .gelu)
        fc2.forward(ws.hidden, rows: rows, into: x, accumulate: true)
    }

    /// PCM on the 16 patch tokens of each sample (a 4×4 image with 192
    /// channels; a 1×1 conv is the same per token, so spatial layout does not
    /// matter): 192 →(groups 48)→ 768, BN, SiLU, 768 →(groups 48)→ 192.
    /// Each group is a tiny dense product (4→16, then 16→4) done in registers.
    private func pcm(_ x: UnsafePointer<Float>, count: Int, hidden: UnsafeMutablePointer<Float>,
                     out: UnsafeMutablePointer<Float>) {
        typealias V = Kernels.V
        let d = WeightManifest.embedDim, wide = WeightManifest.mlpHidden
        let tokens = count * PatchEmbedding.tokens
        pcmExpand.withUnsafeBufferPointer { we in
            pcmExpandBias.withUnsafeBufferPointer { be in
                pcmReduce.withUnsafeBufferPointer { wr in
                    pcmReduceBias.withUnsafeBufferPointer { br in
                        let we = we.baseAddress!, be = be.baseAddress!, wr = wr.baseAddress!, br = br.baseAddress!
                        for n in 0..<tokens {
                            let b = n / PatchEmbedding.tokens, t = n % PatchEmbedding.tokens
                            let src = x + (b * Geometry.tokens + 1 + t) * d
                            let h = hidden + n * wide
                            for g in 0..<Self.groups {
                                var lo = Kernels.load(be + g * 16), hi = Kernels.load(be + g * 16 + 8)
                                for i in 0..<4 {
                                    let v = V(repeating: src[g * 4 + i])
                                    let w = we + (g * 4 + i) * 16
                                    lo = Kernels.fma(Kernels.load(w), v, lo)
                                    hi = Kernels.fma(Kernels.load(w + 8), v, hi)
                                }
                                Kernels.store(lo, h + g * 16)
                                Kernels.store(hi, h + g * 16 + 8)
                            }
                            // SiLU as its own pass over the token's 768 values (in L1):
                            // independent vectors overlap, where SiLU inside the group
                            // loop left each exp-and-divide chain waiting on the last.
                            Kernels.siluInPlace(h, count: wide)
                            let dst = out + n * d
                            for pair in 0..<(Self.groups / 2) {
                                // Two groups (4 outputs each) share one 8-lane accumulator.
                                let g0 = 2 * pair, g1 = g0 + 1
                                // Four partial sums: one chain of 16 FMAs would wait on
                                // each FMA's latency.
                                var acc0 = Kernels.load(br + g0 * 4)
                                var acc1 = V(repeating: 0), acc2 = acc1, acc3 = acc1
                                let w = wr + pair * 16 * 8, h0 = h + g0 * 16, h1 = h + g1 * 16
                                for i in stride(from: 0, to: 16, by: 4) {
                                    acc0 = Kernels.fma(Kernels.load(w + i * 8), Self.pairBroadcast(h0[i], h1[i]), acc0)
                                    acc1 = Kernels.fma(Kernels.load(w + i * 8 + 8), Self.pairBroadcast(h0[i + 1], h1[i + 1]), acc1)
                                    acc2 = Kernels.fma(Kernels.load(w + i * 8 + 16), Self.pairBroadcast(h0[i + 2], h1[i + 2]), acc2)
                                    acc3 = Kernels.fma(Kernels.load(w + i * 8 + 24), Self.pairBroadcast(h0[i + 3], h1[i + 3]), acc3)
                                }
                                Kernels.store((acc0 + acc1) + (acc2 + acc3), dst + g0 * 4)
                            }
                        }
                    }
                }
            }
        }
    }

    /// (a, a, a, a, b, b, b, b): one input of two groups against their four outputs each.
    @inline(__always)
    private static func pairBroadcast(_ a: Float, _ b: Float) -> Kernels.V {
        Kernels.V(lowHalf: SIMD4(repeating: a), highHalf: SIMD4(repeating: b))
    }

    /// Key rows padded to a multiple of 8 lanes.
    static let paddedTokens = 24
    /// Queries scored together: three rows of three 8-lane accumulators keep
    /// the FMA pipes busy (one query alone is a chain bound by FMA latency).
    static let queryTile = 3
    /// Floats of attention scratch: Kᵀ [64][24], then the score rows [18][24]
    /// (17 queries rounded up to whole tiles; the last tile repeats a row).
    static let attentionScratch =
        headDim * paddedTokens + (Geometry.tokens + queryTile - 1) / queryTile * queryTile * paddedTokens

    /// Multi-head self-attention core per sample: softmax(q·kᵀ/8)·v for each
    /// of the 3 heads, heads re-joined in order into `out` [count·17 × 192].
    /// (Scaling the scores by 1/8 equals scaling q first: a power of two.)
    ///
    /// K is transposed per head into `scratch` ([64][24], zero-padded) so a
    /// query's 17 scores come out of 64 broadcast multiply-adds over three
    /// 8-lane vectors, with no horizontal sums; the softmax then runs on
    /// whole rows of scores in registers.
    private func attention(_ qkv: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>,
                           scores scratch: UnsafeMutablePointer<Float>) {
        typealias V = Kernels.V
        let d = WeightManifest.embedDim, n = Geometry.tokens, hd = Self.headDim, np = Self.paddedTokens
        let stride = 3 * d
        let scale = V(repeating: 1 / Float(hd).squareRoot())
        let kt = scratch, scores = scratch + hd * np
        let padding = Kernels.scorePadding
        for e in 0..<(hd * np) { kt[e] = 0 }
        for b in 0..<count {
            let base = qkv + b * n * stride
            for h in 0..<Self.heads {
                let q = base + h * hd, k = base + d + h * hd, v = base + 2 * d + h * hd
                for j in 0..<n {
                    let kj = k + j * stride
                    for e in 0..<hd { kt[e * np + j] = kj[e] }
                }
                var i = 0
                while i < n {
                    Self.scoreTile(q: q, stride: stride, rows: (i, min(i + 1, n - 1), min(i + 2, n - 1)),
                                   kt: kt, scale: scale, into: scores + i * np)
                    i += Self.queryTile
                }
                // All rows' softmax first: independent rows overlap, where a
                // softmax followed by its own weighted sum waited on the exp chain.
                for i in 0..<n { Kernels.softmaxScoreRow(scores + i * np, padding: padding) }
                for i in 0..<n {
                    let row = scores + i * np
                    let o = out + (b * n + i) * d + h * hd
                    let z = V(repeating: 0)
                    var a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z
                    for j in 0..<n {
                        let a = V(repeating: row[j])
                        let vj = v + j * stride
                        a0 = Kernels.fma(a, Kernels.load(vj), a0)
                        a1 = Kernels.fma(a, Kernels.load(vj + 8), a1)
                        a2 = Kernels.fma(a, Kernels.load(vj + 16), a2)
                        a3 = Kernels.fma(a, Kernels.load(vj + 24), a3)
                        a4 = Kernels.fma(a, Kernels.load(vj + 32), a4)
                        a5 = Kernels.fma(a, Kernels.load(vj + 40), a5)
                        a6 = Kernels.fma(a, Kernels.load(vj + 48), a6)
                        a7 = Kernels.fma(a, Kernels.load(vj + 56), a7)
                    }
                    Kernels.store(a0, o)
                    Kernels.store(a1, o + 8)
                    Kernels.store(a2, o + 16)
                    Kernels.store(a3, o + 24)
                    Kernels.store(a4, o + 32)
                    Kernels.store(a5, o + 40)
                    Kernels.store(a6, o + 48)
                    Kernels.store(a7, o + 56)
                }
            }
        }
    }

    /// Scaled scores of three query rows (which may repeat at the end of a
    /// sample) against all keys, written to three consecutive score rows.
    @inline(__always)
    private static func scoreTile(q: UnsafePointer<Float>, stride: Int, rows: (Int, Int, Int),
                                  kt: UnsafePointer<Float>, scale: Kernels.V, into dst: UnsafeMutablePointer<Float>) {
        typealias V = Kernels.V
        let np = paddedTokens
        let q0 = q + rows.0 * stride, q1 = q + rows.1 * stride, q2 = q + rows.2 * stride
        let z = V(repeating: 0)
        var s00 = z, s01 = z, s02 = z, s10 = z, s11 = z, s12 = z, s20 = z, s21 = z, s22 = z
        for e in 0..<headDim {
            let t = kt + e * np
            let k0 = Kernels.load(t), k1 = Kernels.load(t + 8), k2 = Kernels.load(t + 16)
            let a = V(repeating: q0[e]), b = V(repeating: q1[e]), c = V(repeating: q2[e])
            s00 = Kernels.fma(a, k0, s00); s01 = Kernels.fma(a, k1, s01); s02 = Kernels.fma(a, k2, s02)
            s10 = Kernels.fma(b, k0, s10); s11 = Kernels.fma(b, k1, s11); s12 = Kernels.fma(b, k2, s12)
            s20 = Kernels.fma(c, k0, s20); s21 = Kernels.fma(c, k1, s21); s22 = Kernels.fma(c, k2, s22)
        }
        Kernels.store(s00 * scale, dst); Kernels.store(s01 * scale, dst + 8); Kernels.store(s02 * scale, dst + 16)
        Kernels.store(s10 * scale, dst + np); Kernels.store(s11 * scale, dst + np + 8)
        Kernels.store(s12 * scale, dst + np + 16)
        Kernels.store(s20 * scale, dst + 2 * np); Kernels.store(s21 * scale, dst + 2 * np + 8)
        Kernels.store(s22 * scale, dst + 2 * np + 16)
    }
}
