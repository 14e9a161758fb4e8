import Crypto
import Foundation
import SafeTensors

/// SplitMix64: a tiny, fast generator whose state can be derived from a key,
/// so every sample has its own independent, reproducible stream.
struct SplitMix64 {
    var state: UInt64

    init(state: UInt64) {
        self.state = state
    }

    /// The SplitMix64 output function, a bijective 64-bit mixer.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The stream of sample `sample` of the dataset generated with `seed`.
    init(seed: UInt64, sample: UInt64) {
        let keyed = Self.mix(seed &+ 0x9E37_79B9_7F4A_7C15) ^ (sample &* 0xD1B5_4A32_D192_ED03)
        state = Self.mix(keyed)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// Standard normal (Box–Muller; only used a few times per sample).
    mutating func normal() -> Double {
        let u1 = max(uniform(), 0x1p-53)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Why synthetic partitions could not be generated.
public enum GeneratorError: Error, CustomStringConvertible, Equatable {
    case invalidFileIndex(Int)
    case invalidSampleCount(fileIndex: Int, count: Int)
    case invalidFileCount(Int)
    case tooManyFiles(requested: Int, available: Int, dataSize: String, partition: String)
    case notADirectory(path: String)
    /// The output folder holds partition files of another dataset; each
    /// entry is "name: what it holds".
    case conflictingFiles(directory: String, wanted: String, conflicts: [String])

    public var description: String {
        switch self {
        case let .invalidFileIndex(index):
            return "partition file index \(index) is invalid; files are numbered from 1"
        case let .invalidSampleCount(fileIndex, count):
            return "partition file \(fileIndex): sample count \(count) is invalid; it must be >= 1"
        case let .invalidFileCount(count):
            return "file count \(count) is invalid; it must be >= 1"
        case let .tooManyFiles(requested, available, dataSize, partition):
            return "\(requested) files requested but \(dataSize) splits into only \(available) files of \(partition)"
        case let .notADirectory(path):
            return "cannot generate into \(path): it exists and is not a directory"
        case let .conflictingFiles(directory, wanted, conflicts):
            let shown = conflicts.prefix(8).map { "  - " + $0 }.joined(separator: "\n")
                + (conflicts.count > 8 ? "\n  - ... and \(conflicts.count - 8) more" : "")
            return "cannot generate \(wanted) into \(directory): \(conflicts.count) partition file"
                + "\(conflicts.count == 1 ? "" : "s") there belong to another dataset and would be mixed with the new ones "
                + "(remove them, choose another folder, or replace them):\n" + shown
        }
    }
}

/// Deterministic synthetic stand-ins for SDSS galaxy cut-outs, so the CAI
/// pipeline can run (and a model could be trained) without the real data.
///
/// Sample i of the dataset (i counts from 0 across all files:
/// (file − 1) × samplesPerFile + position) is drawn from its own SplitMix64
/// stream keyed by (seed, i), so any file can be generated alone, and the
/// same seed gives the same samples whatever the partition size.
///
/// The model behind a sample:
/// - redshift z = 0.02 + 0.78·u^1.5 (u uniform), so 0.02 ≤ z ≤ 0.8, median ≈ 0.3;
/// - type t = v^(1 + 2z) (v uniform; 0 = red early-type, 1 = blue late-type),
///   so distant galaxies are mostly red ones, as in a flux-limited survey;
/// - absolute magnitude M_r = −18.9 − 3.6·sqrt(z/0.8) − 0.5(1 − t) + 0.4·N(0,1)
///   (N clipped at ±3; brighter with z, the survey's Malmquist bias);
/// - r magnitude m_r = M_r + 5 log10(D_L / Mpc) + 25 + 0.5z(1 − 0.5t), with
///   D_L = 4282.7 Mpc × z(1 + 0.775z) (low-z expansion of ΛCDM, H0 = 70);
/// - colours rising with z and redness, each with 0.08 mag Gaussian scatter:
///   u−g = 0.7 + 0.5(1−t) + 0.3z, g−r = 0.3 + 0.3(1−t) + z(0.9 − 0.5t),
///   r−i = 0.12 + 0.2(1−t) + 0.45z, i−z = 0.05 + 0.15(1−t) + 0.25z;
///   every magnitude is clipped to [14, 24] (about 1.6% of u and 0.2% of z
///   magnitudes hit a limit); a linear fit of z on the five magnitudes
///   already reaches R² ≈ 0.86;
/// - band flux in nanomaggies f = 10^((22.5 − m) / 2.5), i.e. m = 22.5 − 2.5 log10 f,
///   spread over the 32×32 stamp by a Sérsic profile (n = 4 for t < 0.3,
///   n = 2 for t < 0.55, else exponential n = 1) normalised to sum to f;
///   half-light radius Re = 1…6 px shrinking with z, axis ratio q, random
///   position angle, centre 15.5 ± 0.75 px, a 0.6 px core softening (seeing);
/// - per-pixel Gaussian sky noise (σ = 0.06, 0.05, 0.05, 0.11, 0.24 nanomaggies
///   in u, g, r, i, z, roughly SDSS depth), sky-subtracted (zero mean).
/// The stored magnitudes are the noiseless ones, so z is learnable from the
/// magnitudes (distance modulus and colours) and from the image (size, colour).
public struct GalaxySynthesizer: Sendable {
    public static let zeroPoint = 22.5
    public static let skySigma: [Float] = [0.06, 0.05, 0.05, 0.11, 0.24]
    public static let magnitudeRange = 14.0...24.0
    public static let redshiftRange = 0.02...0.8

    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
    }

    /// 4,096 equiprobable standard-normal quantiles, rescaled to unit
    /// variance: one 64-bit draw yields five noise values by table lookup,
    /// which keeps the ~5,000 noise values per sample cheap.
    public static let noiseTable: [Float] = {
        let count = 4096
        var values = (0..<count).map { inverseNormalCDF((Double($0) + 0.5) / Double(count)) }
        let variance = values.reduce(0) { $0 + $1 * $1 } / Double(count)
        let scale = 1 / variance.squareRoot()
        values = values.map { $0 * scale }
        return values.map { Float($0) }
    }()

    /// Acklam's rational approximation of the standard normal quantile
    /// (relative error below 1.2e-9), enough for a noise table.
    public static func inverseNormalCDF(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low {
            let q = (-2 * log(1 - p)).squareRoot()
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }

    /// Writes samples `first ..< first + count` (global sample numbers) into
    /// the given buffers: images [count, 5, 32, 32], magnitudes [count, 5],
    /// redshift [count]. `profile` is scratch space of 1,024 floats.
    func generate(first: Int, count: Int,
                  images: UnsafeMutablePointer<Float>,
                  magnitudes: UnsafeMutablePointer<Double>,
                  redshift: UnsafeMutablePointer<Float>) {
        let table = Self.noiseTable
        let sky = Self.skySigma
        let profile = UnsafeMutablePointer<Float>.allocate(capacity: SampleFormat.pixelsPerBand)
        defer { profile.deallocate() }
        table.withUnsafeBufferPointer { noise in
            let noise = noise.baseAddress!
            for offset in 0..<count {
                generateSample(number: first + offset,
                               image: images + offset * SampleFormat.pixelsPerSample,
                               magnitudes: magnitudes + offset * SampleFormat.bandCount,
                               redshift: redshift + offset,
                               profile: profile, noise: noise, sky: sky)
            }
        }
    }

    @inline(__always)
    private func generateSample(number: Int, image: UnsafeMutablePointer<Float>,
                                magnitudes: UnsafeMutablePointer<Double>, redshift: UnsafeMutablePointer<Float>,
                                profile: UnsafeMutablePointer<Float>, noise: UnsafePointer<Float>, sky: [Float]) {
        var rng = SplitMix64(seed: seed, sample: UInt64(number))
        let u = rng.uniform()
        let z = Self.redshiftRange.lowerBound + (Self.redshiftRange.upperBound - Self.redshiftRange.lowerBound) * u * u.squareRoot()
        let t = pow(rng.uniform(), 1 + 2 * z)
        let red = 1 - t
        let absolute = -18.9 - 3.6 * (z / 0.8).squareRoot() - 0.5 * red + 0.4 * min(max(rng.normal(), -3), 3)
        let luminosityDistance = 4282.7 * z * (1 + 0.775 * z)
        let mR = absolute + 5 * log10(luminosityDistance) + 25 + 0.5 * z * (1 - 0.5 * t)
        let scatter = 0.08
        let ug = 0.7 + 0.5 * red + 0.3 * z + scatter * rng.normal()
        let gr = 0.3 + 0.3 * red + z * (0.9 - 0.5 * t) + scatter * rng.normal()
        let ri = 0.12 + 0.2 * red + 0.45 * z + scatter * rng.normal()
        let iz = 0.05 + 0.15 * red + 0.25 * z + scatter * rng.normal()
        let mG = mR + gr
        let lowest = Self.magnitudeRange.lowerBound, highest = Self.magnitudeRange.upperBound
        magnitudes[0] = min(max(mG + ug, lowest), highest)
        magnitudes[1] = min(max(mG, lowest), highest)
        magnitudes[2] = min(max(mR, lowest), highest)
        magnitudes[3] = min(max(mR - ri, lowest), highest)
        magnitudes[4] = min(max(mR - ri - iz, lowest), highest)

        // Morphology: Sérsic index by type, size shrinking with distance.
        let sersic: (index: Int, b: Float) = t < 0.3 ? (4, 7.6692) : (t < 0.55 ? (2, 3.6721) : (1, 1.6783))
        let size = (1 + 5 * pow(0.06 / (z + 0.06), 0.8)) * (0.8 + 0.4 * t) * exp(0.25 * rng.normal())
        let halfLight = min(max(size, 1), 6)
        let axisRatio = t < 0.3 ? rng.uniform(0.55, 1) : rng.uniform(0.2, 1)
        let angle = rng.uniform(0, Double.pi)
        let centreX = Float(15.5 + rng.uniform(-0.75, 0.75))
        let centreY = Float(15.5 + rng.uniform(-0.75, 0.75))

        let cosA = Float(cos(angle)), sinA = Float(sin(angle))
        let inverseRe2 = Float(1 / (halfLight * halfLight))
        let qa = Float(axisRatio), invQ = Float(1 / axisRatio)
        let softening: Float = 0.36
        let b = sersic.b
        var total: Float = 0
        for y in 0..<SampleFormat.height {
            let dy = Float(y) - centreY
            let row = profile + y * SampleFormat.width
            for x in 0..<SampleFormat.width {
                let dx = Float(x) - centreX
                let major = dx * cosA + dy * sinA
                let minor = dy * cosA - dx * sinA
                let r2 = (qa * major * major + invQ * minor * minor + softening) * inverseRe2
                let scaled: Float
                switch sersic.index {
                case 1: scaled = r2.squareRoot()
                case 2: scaled = r2.squareRoot().squareRoot()
                default: scaled = r2.squareRoot().squareRoot().squareRoot()
                }
                let value = Foundation.exp(-b * scaled)
                row[x] = value
                total += value
            }
        }

        var pixel = image
        for band in 0..<SampleFormat.bandCount {
            let flux = Float(pow(10, (Self.zeroPoint - magnitudes[band]) / 2.5))
            let amplitude = flux / total
            let sigma = sky[band]
            var index = 0
            while index < SampleFormat.pixelsPerBand {
                var bits = rng.next()
                let end = min(index + 5, SampleFormat.pixelsPerBand)
                while index < end {
                    pixel[index] = amplitude * profile[index] + sigma * noise[Int(bits & 0xFFF)]
                    bits >>= 12
                    index += 1
                }
            }
            pixel += SampleFormat.pixelsPerBand
        }
        redshift.pointee = Float(z)
    }
}

/// Samples generated in memory, laid out as in a partition file.
public struct GeneratedSamples: Sendable {
    public let count: Int
    /// [count, 5, 32, 32] float32.
    public let images: [Float]
    /// [count, 5] float64.
    public let magnitudes: [Double]
    /// [count] float32.
    public let redshift: [Float]
}

/// Writes synthetic partition files in the native format: safetensors with
/// `images` F32 [n,5,32,32], `magnitudes` F64 [n,5], `redshift` F32 [n]
/// (in that order, so every tensor is naturally aligned for zero-copy reads)
/// and `__metadata__` naming the generator, seed, partition and file.
public struct PartitionGenerator: Sendable {
    /// Generator name written to `__metadata__["generator"]`.
    public static let name = "CosmicBench.SyntheticGalaxies"
    /// Bumped whenever the samples for a given seed change.
    public static let version = "1"

    public let partition: PartitionSize
    public let seed: UInt64
    private let synthesizer: GalaxySynthesizer

    public init(partition: PartitionSize, seed: UInt64) {
        self.partition = partition
        self.seed = seed
        self.synthesizer = GalaxySynthesizer(seed: seed)
    }

    /// Global number of the first sample of 1-based file `index`.
    public func firstSample(ofFile index: Int) -> Int {
        (index - 1) * partition.samplesPerFile
    }

    /// The first `sampleCount` samples of 1-based file `index`, in memory.
    public func samples(fileIndex index: Int, sampleCount: Int) throws -> GeneratedSamples {
        try validate(index: index, sampleCount: sampleCount)
        var images = [Float](repeating: 0, count: sampleCount * SampleFormat.pixelsPerSample)
        var magnitudes = [Double](repeating: 0, count: sampleCount * SampleFormat.bandCount)
        var redshift = [Float](repeating: 0, count: sampleCount)
        images.withUnsafeMutableBufferPointer { imageBuffer in
            magnitudes.withUnsafeMutableBufferPointer { magnitudeBuffer in
                redshift.withUnsafeMutableBufferPointer { redshiftBuffer in
                    synthesizer.generate(first: firstSample(ofFile: index), count: sampleCount,
                                         images: imageBuffer.baseAddress!, magnitudes: magnitudeBuffer.baseAddress!,
                                         redshift: redshiftBuffer.baseAddress!)
                }
            }
        }
        return GeneratedSamples(count: sampleCount, images: images, magnitudes: magnitudes, redshift: redshift)
    }

    /// The `__metadata__` a file generated with these parameters carries.
    public func metadata(fileIndex index: Int, sampleCount: Int) -> [String: String] {
        [
            "generator": Self.name,
            "generator_version": Self.version,
            "seed": String(seed),
            "partition": partition.rawValue,
            "file_index": String(index),
            "samples": String(sampleCount),
            "first_sample": String(firstSample(ofFile: index)),
            "bands": SampleFormat.bands.joined(separator: ","),
            "image_units": "nanomaggies",
            "magnitude_zeropoint": String(GalaxySynthesizer.zeroPoint),
        ]
    }

    /// Generates 1-based file `index` holding `sampleCount` samples and writes
    /// it atomically to `url`. Only this file's tensors are held in memory.
    public func generateFile(index: Int, sampleCount: Int, to url: URL) throws {
        try validate(index: index, sampleCount: sampleCount)
        var images = Data(count: sampleCount * SampleFormat.imageBytesPerSample)
        var magnitudes = Data(count: sampleCount * SampleFormat.magnitudeBytesPerSample)
        var redshift = Data(count: sampleCount * MemoryLayout<Float>.size)
        images.withUnsafeMutableBytes { imageBytes in
            magnitudes.withUnsafeMutableBytes { magnitudeBytes in
                redshift.withUnsafeMutableBytes { redshiftBytes in
                    synthesizer.generate(first: firstSample(ofFile: index), count: sampleCount,
                                         images: imageBytes.bindMemory(to: Float.self).baseAddress!,
                                         magnitudes: magnitudeBytes.bindMemory(to: Double.self).baseAddress!,
                                         redshift: redshiftBytes.bindMemory(to: Float.self).baseAddress!)
                }
            }
        }
        var digest = SHA256()
        for bytes in [images, magnitudes, redshift] { digest.update(data: bytes) }
        var metadata = metadata(fileIndex: index, sampleCount: sampleCount)
        metadata[Self.contentDigestKey] = Self.hex(digest.finalize())
        var writer = SafeTensorsWriter(metadata: metadata)
        try writer.add("images", dtype: .f32, shape: [sampleCount, SampleFormat.bandCount, SampleFormat.height, SampleFormat.width], bytes: images)
        try writer.add("magnitudes", dtype: .f64, shape: [sampleCount, SampleFormat.bandCount], bytes: magnitudes)
        try writer.add("redshift", dtype: .f32, shape: [sampleCount], bytes: redshift)
        try writer.write(to: url)
    }

    /// Metadata key of the SHA-256 of the file's tensor bytes (images,
    /// magnitudes, redshift, in that order), written at generation.
    public static let contentDigestKey = "content_sha256"

    /// Whether `url` already holds exactly the file `generateFile` would write:
    /// its header (generator, version, seed, partition, index, count, tensor
    /// shapes) and its content, whose SHA-256 must match the digest recorded
    /// at generation, so a cache file damaged since is regenerated, never
    /// reused, and an interrupted generation resumes.
    public func isComplete(fileIndex index: Int, sampleCount: Int, at url: URL) -> Bool {
        guard let file = try? SafeTensorsFile(contentsOf: url) else { return false }
        var identity = file.metadata
        guard let recorded = identity.removeValue(forKey: Self.contentDigestKey),
              identity == metadata(fileIndex: index, sampleCount: sampleCount) else { return false }
        let expected: [(String, DType, [Int])] = [
            ("images", .f32, [sampleCount, SampleFormat.bandCount, SampleFormat.height, SampleFormat.width]),
            ("magnitudes", .f64, [sampleCount, SampleFormat.bandCount]),
            ("redshift", .f32, [sampleCount]),
        ]
        var digest = SHA256()
        for (name, dtype, shape) in expected {
            guard let info = try? file.info(name), info.dtype == dtype, info.shape == shape,
                  (try? file.withUnsafeBytes(of: name, { digest.update(bufferPointer: $0) })) != nil else { return false }
        }
        return Self.hex(digest.finalize()) == recorded
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    private func validate(index: Int, sampleCount: Int) throws {
        guard index >= 1 else { throw GeneratorError.invalidFileIndex(index) }
        guard sampleCount >= 1 else { throw GeneratorError.invalidSampleCount(fileIndex: index, count: sampleCount) }
    }
}
