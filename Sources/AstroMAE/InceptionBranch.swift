/// ASTROMAE.md "Inception branch" (`inception_model.vis_inception`).
///
/// Activations are kept channels-last ([sample][y][x][channel]) so that a 1×1
/// conv is one GEMM over every pixel of the batch and a k×k conv is an
/// im2col (rows = pixels, columns = ky·k·C + kx·C + c) followed by one GEMM.
/// BatchNorm is folded into each conv at load time.
struct InceptionBranch {
    /// Conv2d + BatchNorm (folded) + ReLU with its weight reordered to
    /// [out][ky][kx][in], the column order of the channels-last im2col.
    struct ConvBlock {
        let kernel: Int
        let cin: Int
        let cout: Int
        let linear: Linear

        init(_ weights: ModelWeights, _ name: String, cin: Int, cout: Int, kernel: Int) {
            let bn = BatchNormFold(weights, "\(name).bn")
            let folded = bn.fold(weight: Array(weights.tensor("\(name).conv.weight")),
                                 bias: Array(weights.tensor("\(name).conv.bias")))
            var reordered = [Float](repeating: 0, count: folded.weight.count)
            for o in 0..<cout {
                for c in 0..<cin {
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            reordered[((o * kernel + ky) * kernel + kx) * cin + c] =
                                folded.weight[((o * cin + c) * kernel + ky) * kernel + kx]
                        }
                    }
                }
            }
            self.kernel = kernel
            self.cin = cin
            self.cout = cout
            linear = Linear(weight: reordered, bias: folded.bias, in: cin * kernel * kernel, out: cout)
        }
    }

    /// Four parallel branches concatenated along channels: 1×1 | 1×1→3×3 |
    /// 1×1→5×5 | maxpool 3×3→1×1. A custom block drops the 5×5 branch.
    struct Block {
        let cin: Int
        let width: Int
        let custom: Bool
        let branch1: ConvBlock
        /// branch2.0 and (unless custom) branch3.0 as one GEMM: they read the same input.
        let reduce: Linear
        let branch2: ConvBlock
        let branch3: ConvBlock?
        let branch4: ConvBlock

        var cout: Int { (custom ? 3 : 4) * width }

        init(_ weights: ModelWeights, index: Int, cin: Int, width: Int, custom: Bool) {
            let p = "inception_model.vis_inception.\(index)"
            self.cin = cin
            self.width = width
            self.custom = custom
            branch1 = ConvBlock(weights, "\(p).branch1", cin: cin, cout: width, kernel: 1)
            let r2 = ConvBlock(weights, "\(p).branch2.0", cin: cin, cout: width, kernel: 1)
            branch2 = ConvBlock(weights, "\(p).branch2.1", cin: width, cout: width, kernel: 3)
            branch4 = ConvBlock(weights, "\(p).branch4.1", cin: cin, cout: width, kernel: 1)
            if custom {
                reduce = r2.linear
                branch3 = nil
            } else {
                let r3 = ConvBlock(weights, "\(p).branch3.0", cin: cin, cout: width, kernel: 1)
                reduce = Linear(weight: r2.linear.weight + r3.linear.weight, bias: r2.linear.bias + r3.linear.bias,
                                in: cin, out: 2 * width)
                branch3 = ConvBlock(weights, "\(p).branch3.1", cin: width, cout: width, kernel: 5)
            }
        }

        /// x [count·side² × cin] → y [count·side² × cout].
        func forward(_ x: UnsafePointer<Float>, count: Int, side: Int, into y: UnsafeMutablePointer<Float>,
                     workspace ws: Workspace) {
            let rows = count * side * side
            let w = width, reduced = reduce.outFeatures
            branch1.linear.forward(x, rows: rows, into: y, ldy: cout, activation: .relu)
            reduce.forward(x, rows: rows, into: ws.inceptionReduce, activation: .relu)
            InceptionBranch.conv(branch2, ws.inceptionReduce, ld: reduced, count: count, side: side,
                                 into: y + w, ldy: cout, workspace: ws)
            if let branch3 {
                InceptionBranch.conv(branch3, ws.inceptionReduce + w, ld: reduced, count: count, side: side,
                                     into: y + 2 * w, ldy: cout, workspace: ws)
            }
            InceptionBranch.maxPool3x3(x, count: count, side: side, channels: cin, into: ws.inceptionPool)
            branch4.linear.forward(ws.inceptionPool, rows: rows, into: y + cout - w, ldy: cout, activation: .relu)
        }
    }

    let stem: Linear
    let blocks: [Block]
    let dense: Linear
    let mix: Linear

    init(_ weights: ModelWeights) {
        stem = Linear(weights, "inception_model.conv2d_init", in: 5, out: 32)
        blocks = WeightManifest.inceptionBlocks.map {
            Block(weights, index: $0.index, cin: $0.cin, width: $0.width, custom: $0.custom)
        }
        let f = WeightManifest.featureWidth
        dense = Linear(weights, "inception_model.vis_inception.10", in: 192, out: f)
        mix = Linear(weights, "inception_model.vis_inception.12", in: f, out: f)
    }

    /// Writes 1096 features per sample to `out` (row stride `ldOut`).
    ///
    /// Steps 0 and 1 (1×1 conv 5→32, then 2×2 average pool) are both linear
    /// and per-pixel, so they commute: pooling the 5-band image first gives
    /// the same result with a quarter of the work and memory.
    func forward(images: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>, ldOut: Int,
                 workspace ws: Workspace) {
        let a = ws.inceptionA, b = ws.inceptionB
        Self.averagePoolPlanar(images, count: count, into: ws.inceptionPool)
        stem.forward(ws.inceptionPool, rows: count * 256, into: a)
        blocks[0].forward(a, count: count, side: 16, into: b, workspace: ws)
        blocks[1].forward(b, count: count, side: 16, into: a, workspace: ws)
        Self.averagePool2x2(a, count: count, side: 16, channels: blocks[1].cout, into: b)
        blocks[2].forward(b, count: count, side: 8, into: a, workspace: ws)
        blocks[3].forward(a, count: count, side: 8, into: b, workspace: ws)
        Self.averagePool2x2(b, count: count, side: 8, channels: blocks[3].cout, into: a)
        blocks[4].forward(a, count: count, side: 4, into: b, workspace: ws)
        let channels = blocks[4].cout
        let flat = ws.inceptionReduce
        for s in 0..<count {
            for p in 0..<16 {
                for c in 0..<channels {
                    flat[s * 192 + c * 16 + p] = b[(s * 16 + p) * channels + c]
                }
            }
        }
        dense.forward(flat, rows: count, into: ws.wide, activation: .relu)
        mix.forward(ws.wide, rows: count, into: out, ldy: ldOut)
    }

    /// NCHW images [count × 5 × 32 × 32] → channels-last 2×2 means [count × 16 × 16 × 5].
    static func averagePoolPlanar(_ images: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        for s in 0..<count {
            let image = images + s * Geometry.imageFloats
            for c in 0..<5 {
                let plane = image + c * 1024
                for y in 0..<16 {
                    let r0 = plane + 2 * y * 32, r1 = r0 + 32
                    for x in 0..<16 {
                        let sum = r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]
                        out[((s * 16 + y) * 16 + x) * 5 + c] = sum * 0.25
                    }
                }
            }
        }
    }

    /// Channels-last 2×2 average pool, stride 2.
    static func averagePool2x2(_ x: UnsafePointer<Float>, count: Int, side: Int, channels: Int,
                               into out: UnsafeMutablePointer<Float>) {
        let half = side / 2
        for s in 0..<count {
            for y in 0..<half {
                for xx in 0..<half {
                    let p00 = x + ((s * side + 2 * y) * side + 2 * xx) * channels
                    let p01 = p00 + channels, p10 = p00 + side * channels, p11 = p10 + channels
                    let dst = out + ((s * half + y) * half + xx) * channels
                    for c in 0..<channels { dst[c] = (p00[c] + p01[c] + p10[c] + p11[c]) * 0.25 }
                }
            }
        }
    }

    /// Channels-last 3×3 max pool, stride 1, padding 1; padded cells never win.
    static func maxPool3x3(_ x: UnsafePointer<Float>, count: Int, side: Int, channels: Int,
                           into out: UnsafeMutablePointer<Float>) {
        for s in 0..<count {
            for y in 0..<side {
                for xx in 0..<side {
                    let dst = out + ((s * side + y) * side + xx) * channels
                    dst.update(from: x + ((s * side + y) * side + xx) * channels, count: channels)
                    for ny in max(0, y - 1)...min(side - 1, y + 1) {
                        for nx in max(0, xx - 1)...min(side - 1, xx + 1) {
                            let src = x + ((s * side + ny) * side + nx) * channels
                            for c in 0..<channels { dst[c] = max(dst[c], src[c]) }
                        }
                    }
                }
            }
        }
    }

    /// k×k conv, stride 1, "same" padding, on a channels-last input whose
    /// rows have stride `ld`; im2col and GEMM in chunks of whole samples so
    /// the column buffer stays a fixed size whatever the batch.
    static func conv(_ block: ConvBlock, _ x: UnsafePointer<Float>, ld: Int, count: Int, side: Int,
                     into y: UnsafeMutablePointer<Float>, ldy: Int, workspace ws: Workspace) {
        let k = block.kernel, c = block.cin, pad = k / 2
        let columns = k * k * c
        let pixels = side * side
        let perChunk = max(1, ws.columnCapacity / (pixels * columns))
        var first = 0
        while first < count {
            let n = min(perChunk, count - first)
            let col = ws.columns
            for s in 0..<n {
                for oy in 0..<side {
                    for ox in 0..<side {
                        var dst = col + ((s * side + oy) * side + ox) * columns
                        for ky in 0..<k {
                            let iy = oy + ky - pad
                            for kx in 0..<k {
                                let ix = ox + kx - pad
                                if iy >= 0, iy < side, ix >= 0, ix < side {
                                    let src = x + (((first + s) * side + iy) * side + ix) * ld
                                    for j in 0..<c { dst[j] = src[j] }
                                } else {
                                    for j in 0..<c { dst[j] = 0 }
                                }
                                dst += c
                            }
                        }
                    }
                }
            }
            block.linear.forward(col, rows: n * pixels, into: y + first * pixels * ldy, ldy: ldy, activation: .relu)
            first += n
        }
    }
}
