/// ASTROMAE.md "Inception branch" (`inception_model.vis_inception`).
///
/// Activations are kept channels-last ([sample][y][x][channel]). A 1×1 conv
/// is one GEMM over every pixel of the batch. The 3×3 and 5×5 convs are only
/// 4–16 channels wide, where an im2col + GEMM spends most of its time copying
/// columns, so they run as direct SIMD loops instead. BatchNorm is folded
/// into each conv at load time.
struct InceptionBranch {
    /// Zero border around the input of the 3×3 and 5×5 convs: the 5×5's padding.
    static let margin = 2

    /// A Conv2d with its BatchNorm folded in: weights in PyTorch's
    /// [out][in][ky][kx] order (for a 1×1 conv, a Linear's [out × in]) and bias.
    static func foldedConv(_ weights: ModelWeights, _ name: String) -> (weight: [Float], bias: [Float]) {
        BatchNormFold(weights, "\(name).bn").fold(weight: Array(weights.tensor("\(name).conv.weight")),
                                                  bias: Array(weights.tensor("\(name).conv.bias")))
    }

    /// A k×k Conv2d + BatchNorm (folded) + ReLU, stride 1, "same" padding,
    /// computed directly: each output pixel's channels are one or two SIMD8
    /// accumulators, and a tile of four pixels along x shares every weight load.
    /// `addingProduct` is spelled out because `a + x * w` compiles to a
    /// separate multiply and add, not an FMA.
    struct SpatialConv {
        let kernel: Int
        let cin: Int
        let cout: Int
        /// `cout` rounded up to whole SIMD8 vectors (8 or 16).
        let lanes: Int
        /// [ky][kx][in][lanes], zero in the lanes past `cout`.
        let weight: [Float]
        /// [lanes], zero past `cout`.
        let bias: [Float]

        init(_ weights: ModelWeights, _ name: String, channels: Int, kernel: Int) {
            let folded = foldedConv(weights, name)
            let lanes = (channels + 7) / 8 * 8
            precondition(lanes <= 16, "direct conv holds at most 16 output channels")
            var packed = [Float](repeating: 0, count: kernel * kernel * channels * lanes)
            for o in 0..<channels {
                for c in 0..<channels {
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            packed[((ky * kernel + kx) * channels + c) * lanes + o] =
                                folded.weight[((o * channels + c) * kernel + ky) * kernel + kx]
                        }
                    }
                }
            }
            self.kernel = kernel
            cin = channels
            cout = channels
            self.lanes = lanes
            weight = packed
            bias = folded.bias + [Float](repeating: 0, count: lanes - channels)
        }

        /// One sample. `padded` is its input with a `margin`-pixel zero border
        /// (pixel stride `ld`); writes ReLU(conv) to `y` (pixel stride `ldy`).
        func forward(_ padded: UnsafePointer<Float>, ld: Int, side: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
            precondition(lanes == 16 ? side >= 6 : side % 4 == 0, "direct conv tiles: 6 pixels (16 lanes) or 4 (8 lanes)")
            let rowStride = (side + 2 * margin) * ld
            let origin = padded + (margin - kernel / 2) * (rowStride + ld)
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    for oy in 0..<side {
                        let row = origin + oy * rowStride, outRow = y + oy * side * ldy
                        if lanes == 16 {
                            // Six pixels at a time: 12 accumulators hide the FMA
                            // latency (8 do not). A row that is not a multiple of six
                            // ends with a tile overlapping the one before it, which
                            // writes the same values again.
                            var ox = 0
                            while ox < side {
                                let start = min(ox, side - 6)
                                tile16x6(row + start * ld, ld: ld, rowStride: rowStride, w.baseAddress!,
                                         b.baseAddress!, outRow + start * ldy, ldy: ldy)
                                ox += 6
                            }
                        } else {
                            for ox in stride(from: 0, to: side, by: 4) {
                                tile8(row + ox * ld, ld: ld, rowStride: rowStride, w.baseAddress!,
                                      b.baseAddress!, outRow + ox * ldy, ldy: ldy)
                            }
                        }
                    }
                }
            }
        }

        /// Six output pixels × 16 channels: twelve accumulators.
        @inline(__always)
        private func tile16x6(_ x: UnsafePointer<Float>, ld: Int, rowStride: Int, _ w: UnsafePointer<Float>,
                              _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, ldy: Int) {
            let lo = Kernels.load(b), hi = Kernels.load(b + 8)
            var a0 = lo, a1 = hi, b0 = lo, b1 = hi, c0 = lo, c1 = hi
            var d0 = lo, d1 = hi, e0 = lo, e1 = hi, f0 = lo, f1 = hi
            var wp = w
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let pa = x + ky * rowStride + kx * ld
                    let pb = pa + ld, pc = pb + ld, pd = pc + ld, pe = pd + ld, pf = pe + ld
                    for c in 0..<cin {
                        let w0 = Kernels.load(wp), w1 = Kernels.load(wp + 8)
                        a0 = a0.addingProduct(pa[c], w0); a1 = a1.addingProduct(pa[c], w1)
                        b0 = b0.addingProduct(pb[c], w0); b1 = b1.addingProduct(pb[c], w1)
                        c0 = c0.addingProduct(pc[c], w0); c1 = c1.addingProduct(pc[c], w1)
                        d0 = d0.addingProduct(pd[c], w0); d1 = d1.addingProduct(pd[c], w1)
                        e0 = e0.addingProduct(pe[c], w0); e1 = e1.addingProduct(pe[c], w1)
                        f0 = f0.addingProduct(pf[c], w0); f1 = f1.addingProduct(pf[c], w1)
                        wp += 16
                    }
                }
            }
            Kernels.store(relu(a0), out); Kernels.store(relu(a1), out + 8)
            Kernels.store(relu(b0), out + ldy); Kernels.store(relu(b1), out + ldy + 8)
            Kernels.store(relu(c0), out + 2 * ldy); Kernels.store(relu(c1), out + 2 * ldy + 8)
            Kernels.store(relu(d0), out + 3 * ldy); Kernels.store(relu(d1), out + 3 * ldy + 8)
            Kernels.store(relu(e0), out + 4 * ldy); Kernels.store(relu(e1), out + 4 * ldy + 8)
            Kernels.store(relu(f0), out + 5 * ldy); Kernels.store(relu(f1), out + 5 * ldy + 8)
        }

        /// Four output pixels × up to 8 channels: four accumulators.
        @inline(__always)
        private func tile8(_ x: UnsafePointer<Float>, ld: Int, rowStride: Int, _ w: UnsafePointer<Float>,
                           _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, ldy: Int) {
            var a = Kernels.load(b), bb = a, c = a, d = a
            var wp = w
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let pa = x + ky * rowStride + kx * ld
                    let pb = pa + ld, pc = pb + ld, pd = pc + ld
                    for i in 0..<cin {
                        let wv = Kernels.load(wp)
                        a = a.addingProduct(pa[i], wv)
                        bb = bb.addingProduct(pb[i], wv)
                        c = c.addingProduct(pc[i], wv)
                        d = d.addingProduct(pd[i], wv)
                        wp += 8
                    }
                }
            }
            store(relu(a), out); store(relu(bb), out + ldy)
            store(relu(c), out + 2 * ldy); store(relu(d), out + 3 * ldy)
        }

        /// Stores the first `cout` lanes: a 4-wide conv must not overwrite the next branch's columns.
        @inline(__always)
        private func store(_ v: V, _ out: UnsafeMutablePointer<Float>) {
            if cout == 8 {
                Kernels.store(v, out)
            } else {
                for j in 0..<cout { out[j] = v[j] }
            }
        }

        @inline(__always)
        private func relu(_ v: V) -> V { v.replacing(with: 0, where: v .< 0) }
    }

    typealias V = Kernels.V

    /// Four parallel branches concatenated along channels: 1×1 | 1×1→3×3 |
    /// 1×1→5×5 | maxpool 3×3→1×1. A custom block drops the 5×5 branch.
    struct Block {
        let cin: Int
        let width: Int
        let custom: Bool
        /// branch1, branch2.0 and (unless custom) branch3.0 as one GEMM: they
        /// read the same input, and their outputs sit side by side in `y`.
        let entry: Linear
        let branch2: SpatialConv
        let branch3: SpatialConv?
        let branch4: Linear

        var cout: Int { (custom ? 3 : 4) * width }

        init(_ weights: ModelWeights, index: Int, cin: Int, width: Int, custom: Bool) {
            let p = "inception_model.vis_inception.\(index)"
            self.cin = cin
            self.width = width
            self.custom = custom
            var parts = [foldedConv(weights, "\(p).branch1"), foldedConv(weights, "\(p).branch2.0")]
            if !custom { parts.append(foldedConv(weights, "\(p).branch3.0")) }
            entry = Linear(weight: parts.flatMap(\.weight), bias: parts.flatMap(\.bias), in: cin, out: parts.count * width)
            branch2 = SpatialConv(weights, "\(p).branch2.1", channels: width, kernel: 3)
            branch3 = custom ? nil : SpatialConv(weights, "\(p).branch3.1", channels: width, kernel: 5)
            let b4 = foldedConv(weights, "\(p).branch4.1")
            branch4 = Linear(weight: b4.weight, bias: b4.bias, in: cin, out: width)
        }

        /// x [count·side² × cin] → y [count·side² × cout].
        ///
        /// The entry GEMM leaves the 3×3 and 5×5 inputs in those branches'
        /// own output columns; each sample's are copied into the padded tile
        /// before its convs overwrite them.
        func forward(_ x: UnsafePointer<Float>, count: Int, side: Int, into y: UnsafeMutablePointer<Float>,
                     workspace ws: Workspace) {
            let pixels = side * side, w = width
            let reduced = entry.outFeatures - w
            entry.forward(x, rows: count * pixels, into: y, ldy: cout, activation: .relu)
            for s in 0..<count {
                let sample = y + s * pixels * cout
                InceptionBranch.pad(sample + w, ld: cout, side: side, channels: reduced, into: ws.inceptionPadded)
                branch2.forward(ws.inceptionPadded, ld: reduced, side: side, into: sample + w, ldy: cout)
                branch3?.forward(ws.inceptionPadded + w, ld: reduced, side: side, into: sample + 2 * w, ldy: cout)
            }
            InceptionBranch.maxPool3x3(x, count: count, side: side, channels: cin, into: ws.inceptionPool)
            branch4.forward(ws.inceptionPool, rows: count * pixels, into: y + cout - w, ldy: cout, activation: .relu)
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
        let flat = ws.inceptionPool
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
                    let dst = out + (s * 16 + y) * 16 * 5 + c
                    for x in stride(from: 0, to: 16, by: 4) {
                        let pairs = Kernels.load(r0 + 2 * x) + Kernels.load(r1 + 2 * x)
                        let means = (pairs.evenHalf + pairs.oddHalf) * 0.25
                        for i in 0..<4 { dst[(x + i) * 5] = means[i] }
                    }
                }
            }
        }
    }

    /// Channels-last 2×2 average pool, stride 2; `channels` a multiple of 8.
    static func averagePool2x2(_ x: UnsafePointer<Float>, count: Int, side: Int, channels: Int,
                               into out: UnsafeMutablePointer<Float>) {
        precondition(channels % 8 == 0, "pooling works on whole SIMD8 vectors")
        let half = side / 2
        for s in 0..<count {
            for y in 0..<half {
                for xx in 0..<half {
                    let p00 = x + ((s * side + 2 * y) * side + 2 * xx) * channels
                    let p01 = p00 + channels, p10 = p00 + side * channels, p11 = p10 + channels
                    let dst = out + ((s * half + y) * half + xx) * channels
                    for c in stride(from: 0, to: channels, by: 8) {
                        let sum = Kernels.load(p00 + c) + Kernels.load(p01 + c) + Kernels.load(p10 + c) + Kernels.load(p11 + c)
                        Kernels.store(sum * 0.25, dst + c)
                    }
                }
            }
        }
    }

    /// Channels-last 3×3 max pool, stride 1, padding 1; `channels` a
    /// multiple of 8. Padded cells never win, so at an edge the window may
    /// repeat the edge row or column instead (max is idempotent), which keeps
    /// the loops free of bounds tests. Along x the window slides: each column
    /// max over three rows is computed once and used by three outputs.
    static func maxPool3x3(_ x: UnsafePointer<Float>, count: Int, side: Int, channels: Int,
                           into out: UnsafeMutablePointer<Float>) {
        precondition(channels % 8 == 0, "pooling works on whole SIMD8 vectors")
        let rowFloats = side * channels
        for s in 0..<count {
            let image = x + s * side * rowFloats
            for y in 0..<side {
                let above = image + max(0, y - 1) * rowFloats, row = image + y * rowFloats
                let below = image + min(side - 1, y + 1) * rowFloats
                let dst = out + (s * side + y) * rowFloats
                for c in stride(from: 0, to: channels, by: 8) {
                    @inline(__always) func column(_ i: Int) -> V {
                        let o = i * channels + c
                        let top = Kernels.maximum(Kernels.load(above + o), Kernels.load(row + o))
                        return Kernels.maximum(top, Kernels.load(below + o))
                    }
                    var previous = column(0), current = previous
                    for i in 0..<side {
                        let next = i + 1 < side ? column(i + 1) : current
                        Kernels.store(Kernels.maximum(Kernels.maximum(previous, current), next), dst + i * channels + c)
                        previous = current
                        current = next
                    }
                }
            }
        }
    }

    /// Copies one sample's `channels` channels (pixel stride `ld`) into
    /// `padded` with a `margin`-pixel zero border, so the direct convs never
    /// test bounds.
    static func pad(_ x: UnsafePointer<Float>, ld: Int, side: Int, channels: Int,
                    into padded: UnsafeMutablePointer<Float>) {
        let border = margin * channels
        let rowFloats = (side + 2 * margin) * channels
        padded.update(repeating: 0, count: margin * rowFloats)
        for y in 0..<side {
            let row = padded + (margin + y) * rowFloats
            row.update(repeating: 0, count: border)
            for xx in 0..<side {
                let src = x + (y * side + xx) * ld, dst = row + border + xx * channels
                var c = 0
                while c + 8 <= channels {
                    Kernels.store(Kernels.load(src + c), dst + c)
                    c += 8
                }
                while c < channels {
                    dst[c] = src[c]
                    c += 1
                }
            }
            (row + rowFloats - border).update(repeating: 0, count: border)
        }
        (padded + (margin + side) * rowFloats).update(repeating: 0, count: margin * rowFloats)
    }
}
