/// A PyTorch `nn.Linear`: y = x·Wᵀ + b with W stored [out × in], as one GEMM
/// over all rows of the batch.
///
/// Weights used as they are stay slices of the checkpoint's buffer (no
/// copy), so a built model holds one copy of its parameters.
struct Linear {
    let inFeatures: Int
    let outFeatures: Int
    let weight: ArraySlice<Float>
    let bias: ArraySlice<Float>

    init(_ weights: ModelWeights, _ name: String, in inFeatures: Int, out outFeatures: Int) {
        self.init(weight: weights.tensor("\(name).weight"), bias: weights.tensor("\(name).bias"),
                  in: inFeatures, out: outFeatures)
    }

    init(weight: ArraySlice<Float>, bias: ArraySlice<Float>, in inFeatures: Int, out outFeatures: Int) {
        precondition(weight.count == inFeatures * outFeatures && bias.count == outFeatures)
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias
    }

    init(weight: [Float], bias: [Float], in inFeatures: Int, out outFeatures: Int) {
        self.init(weight: weight[...], bias: bias[...], in: inFeatures, out: outFeatures)
    }

    /// y[rows × out] (row stride `ldy`) = x[rows × in] (stride `ldx`) · Wᵀ + b,
    /// then `activation`. With `accumulate`, adds into y instead (the
    /// residual connections of the encoder).
    ///
    /// Without `accumulate` the bias is written into y first and the GEMM
    /// runs with β = 1: OpenBLAS would otherwise clear y in a separate pass
    /// before multiplying, and the bias would need another.
    func forward(
        _ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int? = nil,
        activation: Kernels.Activation = .none, accumulate: Bool = false
    ) {
        let ldy = ldy ?? outFeatures
        bias.withUnsafeBufferPointer { b in
            if !accumulate {
                for r in 0..<rows { (y + r * ldy).update(from: b.baseAddress!, count: outFeatures) }
            }
        }
        weight.withUnsafeBufferPointer { w in
            BLAS.gemm(m: rows, n: outFeatures, k: inFeatures,
                      a: x, lda: ldx ?? inFeatures, b: w.baseAddress!, ldb: inFeatures, transB: true,
                      c: y, ldc: ldy, beta: 1)
        }
        bias.withUnsafeBufferPointer { b in
            if accumulate {
                Kernels.addBias(y, rows: rows, n: outFeatures, ld: ldy, bias: b.baseAddress!, activation: activation)
            } else if activation != .none {
                Kernels.apply(activation, y, rows: rows, n: outFeatures, ld: ldy)
            }
        }
    }
}

/// A LayerNorm's affine parameters.
struct LayerNorm {
    let gamma: [Float]
    let beta: [Float]
    let eps: Float

    init(_ weights: ModelWeights, _ name: String, eps: Float = 1e-6) {
        gamma = Array(weights.tensor("\(name).weight"))
        beta = Array(weights.tensor("\(name).bias"))
        self.eps = eps
    }

    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int) {
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                Kernels.layerNorm(x, y, rows: rows, n: g.count, gamma: g.baseAddress!, beta: b.baseAddress!, eps: eps)
            }
        }
    }
}

/// BatchNorm in eval mode, reduced to a per-channel scale and shift so it can
/// be folded into the convolution before it.
struct BatchNormFold {
    let scale: [Float]
    let shift: [Float]

    init(_ weights: ModelWeights, _ name: String, eps: Double = 1e-5) {
        let gamma = weights.tensor("\(name).weight"), beta = weights.tensor("\(name).bias")
        let mean = weights.tensor("\(name).running_mean"), variance = weights.tensor("\(name).running_var")
        var scale = [Float](), shift = [Float]()
        for c in 0..<gamma.count {
            let s = Double(gamma[gamma.startIndex + c]) / (Double(variance[variance.startIndex + c]) + eps).squareRoot()
            scale.append(Float(s))
            shift.append(Float(Double(beta[beta.startIndex + c]) - Double(mean[mean.startIndex + c]) * s))
        }
        self.scale = scale
        self.shift = shift
    }

    /// Folds into a conv with `weight` [out × fanIn] and `bias` [out]:
    /// BN(conv(x)) = (s·W)x + (s·b + t).
    func fold(weight: [Float], bias: [Float]) -> (weight: [Float], bias: [Float]) {
        let fanIn = weight.count / scale.count
        var w = weight, b = bias
        for o in 0..<scale.count {
            for i in 0..<fanIn { w[o * fanIn + i] *= scale[o] }
            b[o] = bias[o] * scale[o] + shift[o]
        }
        return (w, b)
    }
}
