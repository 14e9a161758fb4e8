import AstroMAE
import Benchmark

/// One `BLAS.gemm` shape: C[m×n] = A[m×k] · B[n×k]ᵀ, B stored out × in as
/// every weight of the model is.
struct GEMMShape {
    var label: String
    var m: Int, n: Int, k: Int

    var name: String { "sgemm_\(label)_\(m)x\(n)x\(k)" }
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// The matrices of one shape, filled with small seeded values (not zeros,
/// so no kernel can shortcut on them).
final class GEMMOperands: @unchecked Sendable {
    let shape: GEMMShape
    let a: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let c: UnsafeMutablePointer<Float>

    init(_ shape: GEMMShape) {
        self.shape = shape
        a = Self.filled(shape.m * shape.k, seed: 1)
        b = Self.filled(shape.n * shape.k, seed: 2)
        c = Self.filled(shape.m * shape.n, seed: 3)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        c.deallocate()
    }

    func run() {
        BLAS.gemm(m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.k, b: b, ldb: shape.k, transB: true,
                  c: c, ldc: shape.n)
    }

    private static func filled(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        for i in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            p[i] = Float(Int(state >> 40) % 2001 - 1000) / 4000
        }
        return p
    }
}

/// The GEMMs one forward pass makes at the engine's micro-batch of 64
/// (encoder rows = 64 samples × 17 tokens = 1088), and the 1536³ square the
/// roofline in `bench` is measured on.
let gemmShapes: [GEMMShape] = [
    GEMMShape(label: "qkv", m: 1088, n: 576, k: 192),
    GEMMShape(label: "proj", m: 1088, n: 192, k: 192),
    GEMMShape(label: "fc1", m: 1088, n: 768, k: 192),
    GEMMShape(label: "fc2", m: 1088, n: 192, k: 768),
    GEMMShape(label: "magnitude", m: 64, n: 1024, k: 1024),
    GEMMShape(label: "concat", m: 64, n: 1024, k: 3216),
    GEMMShape(label: "square", m: 1536, n: 1536, k: 1536),
]

func registerGEMMBenchmarks() {
    for shape in gemmShapes {
        let rate = GateConfiguration.Rate.flops(shape.flops)
        let configuration = GateConfiguration.make(rate, maxDuration: .milliseconds(1500), maxIterations: 200,
                                                   mallocAllowance: 0)
        Benchmark(shape.name, configuration: configuration) { (benchmark: Benchmark, operands: GEMMOperands) in
            GateConfiguration.measure(benchmark, rate) { operands.run() }
            blackHole(operands.c.pointee)
        } setup: {
            BLAS.threads = 1
            return GEMMOperands(shape)
        }
    }
}
