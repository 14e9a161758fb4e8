import Foundation

/// Element-wise kernels of the network: the parts that are not GEMMs.
///
/// They run over SIMD8 lanes so the exp/erf inside SiLU, GELU and softmax do
/// not fall back to scalar libm calls; `Reference` keeps the libm versions the
/// tests compare against.
public enum Kernels {
    public typealias V = SIMD8<Float>

    // MARK: exp and erf

    /// a·b + c in one rounding. Swift does not contract `a * b + c` into an
    /// FMA by itself, and the separate multiply and add double both the
    /// instruction count and the dependency chain of every polynomial here.
    @inline(__always)
    static func fma(_ a: V, _ b: V, _ c: V) -> V { c.addingProduct(a, b) }

    /// Lane-wise maximum. (The standard library's generic `pointwiseMax` is
    /// not inlined here and costs a call per vector.)
    @inline(__always)
    static func maximum(_ a: V, _ b: V) -> V { a.replacing(with: b, where: a .< b) }

    /// e^x for SIMD8 lanes: range reduction to r in [-ln2/2, ln2/2] and the
    /// Cephes single-precision polynomial; about 1 ulp over [-87, 88].
    /// Inputs are clamped to that range (exp saturates to ~0 or ~2e38).
    @inline(__always)
    public static func exp(_ input: V) -> V {
        var x = input.replacing(with: V(repeating: -87.3), where: input .< -87.3)
        x = x.replacing(with: V(repeating: 88.3), where: x .> 88.3)
        // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer n and leaves
        // n in the low mantissa bits, with no (scalarised) rounding or
        // float→int conversion calls.
        let shifted = fma(x, V(repeating: 1.442_695_04), V(repeating: 12_582_912))
        let n = shifted - 12_582_912
        var r = fma(n, V(repeating: -0.693_359_375), x)
        r = fma(n, V(repeating: 2.121_944_4e-4), r)
        var p = V(repeating: 1.987_569_15e-4)
        p = fma(p, r, V(repeating: 1.398_199_95e-3))
        p = fma(p, r, V(repeating: 8.333_451_9e-3))
        p = fma(p, r, V(repeating: 4.166_579_59e-2))
        p = fma(p, r, V(repeating: 1.666_666_55e-1))
        p = fma(p, r, V(repeating: 5.000_000_12e-1))
        p = fma(p, r * r, r) + 1
        let k = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        return p * unsafeBitCast((k &+ 127) &<< 23, to: V.self)
    }

    /// erf(x) for SIMD8 lanes: x·P(x²)/Q(x²), a (6,4) rational fitted to
    /// erf on [0, 3.92] (beyond it erf is 1 to within 6e-8); |error| < 4e-7
    /// in float arithmetic, within the fixtures' 1e-4 after twelve blocks.
    /// One divide, ten FMAs and no exp: about a third fewer vector
    /// operations than the Abramowitz–Stegun form, and GELU runs over 13 k
    /// values per sample and block. The coefficients come from
    /// `scripts/fit_rational.py`.
    @inline(__always)
    public static func erf(_ x: V) -> V {
        let a = abs(x)
        let c = a.replacing(with: V(repeating: 3.92), where: a .> 3.92)
        let t = c * c
        var p = V(repeating: 1.992_094_3e-8)
        p = fma(p, t, V(repeating: -1.994_294_3e-6))
        p = fma(p, t, V(repeating: 1.489_907_2e-4))
        p = fma(p, t, V(repeating: 3.973_087_3e-3))
        p = fma(p, t, V(repeating: 5.139_790_1e-2))
        p = fma(p, t, V(repeating: 2.061_190_2e-1))
        p = fma(p, t, V(repeating: 1.128_378_7))
        var q = V(repeating: 1.024_168_9e-3)
        q = fma(q, t, V(repeating: 1.488_961_7e-2))
        q = fma(q, t, V(repeating: 1.175_665_3e-1))
        q = fma(q, t, V(repeating: 5.159_969_3e-1))
        q = fma(q, t, V(repeating: 1))
        let y = c * p / q
        return copySign(of: x, to: y.replacing(with: 1, where: y .> 1))
    }

    /// y with the sign bit of x (y ≥ 0).
    @inline(__always)
    private static func copySign(of x: V, to y: V) -> V {
        let sign = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
        return unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt32>.self) | sign, to: V.self)
    }

    @inline(__always)
    private static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
    }

    // MARK: activations

    /// In place x ← x·Φ(x) with Φ from the exact erf (PyTorch's default GELU).
    public static func geluInPlace(_ data: UnsafeMutablePointer<Float>, count: Int) {
        mapInPlace(data, count: count) { gelu($0) }
    }

    /// In place x ← x·σ(x).
    public static func siluInPlace(_ data: UnsafeMutablePointer<Float>, count: Int) {
        mapInPlace(data, count: count) { silu($0) }
    }

    @inline(__always)
    private static func mapInPlace(_ data: UnsafeMutablePointer<Float>, count: Int, _ f: (V) -> V) {
        var i = 0
        let raw = UnsafeMutableRawPointer(data)
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            raw.storeBytes(of: f(v), toByteOffset: i * 4, as: V.self)
            i += 8
        }
        if i < count {
            var tail = V(repeating: 0)
            for j in 0..<(count - i) { tail[j] = data[i + j] }
            let out = f(tail)
            for j in 0..<(count - i) { data[i + j] = out[j] }
        }
    }

    // MARK: rows

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// Adds `bias[0..<n]` to each of `rows` rows (stride `ld`), then applies
    /// `activation`: the epilogue of every Linear/conv GEMM.
    public static func addBias(
        _ c: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int,
        bias: UnsafePointer<Float>, activation: Activation = .none
    ) {
        switch activation {
        case .none: addBias(c, rows: rows, n: n, ld: ld, bias: bias) { $0 }
        case .relu: addBias(c, rows: rows, n: n, ld: ld, bias: bias) { $0.replacing(with: 0, where: $0 .< 0) }
        case .gelu: addBias(c, rows: rows, n: n, ld: ld, bias: bias) { gelu($0) }
        }
    }

    @inline(__always)
    private static func addBias(_ c: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int,
                                bias: UnsafePointer<Float>, _ f: (V) -> V) {
        for r in 0..<rows {
            let row = c + r * ld
            var j = 0
            while j + 8 <= n {
                store(f(load(row + j) + load(bias + j)), row + j)
                j += 8
            }
            if j < n {
                var tail = V(repeating: 0)
                for t in 0..<(n - j) { tail[t] = row[j + t] + bias[j + t] }
                let out = f(tail)
                for t in 0..<(n - j) { row[j + t] = out[t] }
            }
        }
    }

    /// Applies `activation` in place to `rows` rows of width `n` (stride `ld`).
    public static func apply(_ activation: Activation, _ c: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int) {
        switch activation {
        case .none: return
        case .relu: map(c, rows: rows, n: n, ld: ld) { $0.replacing(with: 0, where: $0 .< 0) }
        case .gelu: map(c, rows: rows, n: n, ld: ld) { gelu($0) }
        }
    }

    @inline(__always)
    private static func map(_ c: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int, _ f: (V) -> V) {
        if ld == n {
            mapInPlace(c, count: rows * n, f)
        } else {
            for r in 0..<rows { mapInPlace(c + r * ld, count: n, f) }
        }
    }

    /// The activation fused into a GEMM epilogue.
    public enum Activation: Sendable { case none, relu, gelu }

    @inline(__always)
    static func gelu(_ x: V) -> V {
        let half = 0.5 * x
        return fma(half, erf(x * 0.707_106_781_186_547_5), half)
    }

    @inline(__always)
    static func silu(_ x: V) -> V { x / (1 + exp(-x)) }

    /// LayerNorm over `rows` rows of width `n`: (x − mean)/√(var + eps)·γ + β,
    /// with the biased variance PyTorch uses, computed in two passes (mean,
    /// then centred squares) so it stays accurate when |mean| ≫ std.
    /// `n` must be a multiple of 8 (192 here).
    public static func layerNorm(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float
    ) {
        precondition(n % 8 == 0, "layerNorm width must be a multiple of 8")
        for r in 0..<rows {
            let src = x + r * n
            let dst = y + r * n
            var acc = V(repeating: 0)
            for j in stride(from: 0, to: n, by: 8) { acc += load(src + j) }
            let mean = V(repeating: acc.sum() / Float(n))
            var sq = V(repeating: 0)
            for j in stride(from: 0, to: n, by: 8) {
                let d = load(src + j) - mean
                sq = fma(d, d, sq)
            }
            let inv = V(repeating: 1 / (sq.sum() / Float(n) + eps).squareRoot())
            for j in stride(from: 0, to: n, by: 8) {
                store(fma((load(src + j) - mean) * inv, load(gamma + j), load(beta + j)), dst + j)
            }
        }
    }

    /// Added to the last 8 lanes of an attention score row: keeps lane 16
    /// (the 17th key) and pushes the padding lanes out of the max and the sum.
    public static let scorePadding = V(0, -.infinity, -.infinity, -.infinity,
                                       -.infinity, -.infinity, -.infinity, -.infinity)

    /// Numerically stable softmax in place over the 17 scores of one
    /// attention row padded to 24 floats, in registers. Lanes 17–23 are
    /// padding: they end up ~1e-38 and are not meant to be read. Pass
    /// `scorePadding` as `padding` (hoisted by callers in hot loops).
    @inline(__always)
    public static func softmaxScoreRow(_ row: UnsafeMutablePointer<Float>, padding: V) {
        let x0 = load(row), x1 = load(row + 8), x2 = load(row + 16) + padding
        let m = V(repeating: maximum(maximum(x0, x1), x2).max())
        let e0 = exp(x0 - m), e1 = exp(x1 - m), e2 = exp(x2 - m)
        let inv = V(repeating: 1 / (e0 + e1 + e2).sum())
        store(e0 * inv, row)
        store(e1 * inv, row + 8)
        store(e2 * inv, row + 16)
    }

    /// Scalar libm versions, for tests and for checking the SIMD kernels.
    public enum Reference {
        public static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot())) }
        public static func silu(_ x: Float) -> Float { x / (1 + Foundation.exp(-x)) }
    }
}
