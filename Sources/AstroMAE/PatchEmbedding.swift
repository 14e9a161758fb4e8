/// ASTROMAE.md "ViT encoder", first two bullets: `patch_embed.proj`
/// (Conv2d 5→192, kernel 8, stride 8) as one GEMM over all patches of the
/// batch, then the class token and learned positions.
struct PatchEmbedding {
    static let patchSide = 8
    static let patchesPerSide = 4
    static let tokens = 16
    static let patchLength = 5 * 8 * 8

    let proj: Linear
    let classToken: [Float]
    let positions: [Float]

    init(_ weights: ModelWeights) {
        let d = WeightManifest.embedDim
        proj = Linear(weights, "patch_embed.proj", in: Self.patchLength, out: d)
        classToken = Array(weights.tensor("cls_token"))
        positions = Array(weights.tensor("pos_embed"))
    }

    /// Unfolds NCHW images [count × 5 × 32 × 32] into patch rows
    /// [count·16 × 320]; row b·16 + (py·4 + px), column c·64 + ky·8 + kx, the
    /// flattening of the conv weight [192, 5, 8, 8].
    static func im2col(_ images: UnsafePointer<Float>, count: Int, into patches: UnsafeMutablePointer<Float>) {
        for b in 0..<count {
            let image = images + b * Geometry.imageFloats
            for py in 0..<patchesPerSide {
                for px in 0..<patchesPerSide {
                    var dst = patches + (b * tokens + py * patchesPerSide + px) * patchLength
                    for c in 0..<5 {
                        for ky in 0..<patchSide {
                            let src = image + c * 1024 + (py * patchSide + ky) * 32 + px * patchSide
                            dst.update(from: src, count: patchSide)
                            dst += patchSide
                        }
                    }
                }
            }
        }
    }

    /// Writes tokens [count × 17 × 192]: cls + pos[0], then patch t + pos[1+t].
    /// `patches` and `embedded` are scratch of count·16·320 and count·16·192.
    func forward(
        images: UnsafePointer<Float>, count: Int,
        patches: UnsafeMutablePointer<Float>, embedded: UnsafeMutablePointer<Float>,
        tokens x: UnsafeMutablePointer<Float>
    ) {
        let d = WeightManifest.embedDim
        Self.im2col(images, count: count, into: patches)
        proj.forward(patches, rows: count * Self.tokens, into: embedded)
        classToken.withUnsafeBufferPointer { cls in
            positions.withUnsafeBufferPointer { pos in
                for b in 0..<count {
                    let sample = x + b * Geometry.tokens * d
                    for j in 0..<d { sample[j] = cls[j] + pos[j] }
                    for t in 0..<Self.tokens {
                        let src = embedded + (b * Self.tokens + t) * d
                        let dst = sample + (1 + t) * d
                        let p = pos.baseAddress! + (1 + t) * d
                        for j in 0..<d { dst[j] = src[j] + p[j] }
                    }
                }
            }
        }
    }
}

/// Sizes shared by every stage.
public enum Geometry {
    /// Floats in one 5×32×32 image.
    public static let imageFloats = 5 * 32 * 32
    /// Magnitudes per sample (u, g, r, i, z).
    public static let magnitudes = 5
    /// Tokens per sample in the encoder (cls + 16 patches).
    public static let tokens = 17
}
