/// The spec's seeded weight generator ("Seeded weights" in ASTROMAE.md).
///
/// Every tensor gets its own SplitMix64 stream keyed by the seed and an
/// FNV-1a hash of its name, so any implementation produces the same bits for
/// the same tensor regardless of the order tensors are generated in.
public enum SeededWeights {
    /// The fixtures' seed and the default everywhere in CosmicBench.
    public static let defaultSeed: UInt64 = 20_250_108

    /// FNV-1a 64 over the UTF-8 bytes of `text`.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The i-th (1-based) uniform draw in [0, 1) of the stream starting at `s0`.
    @inline(__always)
    public static func uniform(_ s0: UInt64, _ i: UInt64) -> Double {
        var z = s0 &+ i &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 40) / 16_777_216.0
    }

    /// Fills `out` with the values of tensor `name` under `rule`.
    public static func fill(
        _ out: UnsafeMutableBufferPointer<Float>, name: String, rule: InitRule, seed: UInt64
    ) {
        let s0 = seed ^ fnv1a64(name)
        for index in 0..<out.count {
            let u = uniform(s0, UInt64(index + 1))
            let value: Double
            switch rule.kind {
            case .symmetric: value = rule.a + rule.b * (2 * u - 1)
            case .unit: value = rule.a + rule.b * u
            }
            out[index] = Float(value)
        }
    }

    /// The values of tensor `name` with `count` elements.
    public static func values(name: String, count: Int, rule: InitRule, seed: UInt64) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer, name: name, rule: rule, seed: seed)
            initialized = count
        }
    }
}

/// How the spec fills one tensor: `a + b·(2u−1)` (symmetric) or `a + b·u` (unit).
public struct InitRule: Sendable, Equatable {
    public enum Kind: String, Sendable { case symmetric = "sym", unit }
    public var kind: Kind
    public var a: Double
    public var b: Double

    public static func sym(_ a: Double, _ b: Double) -> InitRule { InitRule(kind: .symmetric, a: a, b: b) }
    public static func unit(_ a: Double, _ b: Double) -> InitRule { InitRule(kind: .unit, a: a, b: b) }
}
