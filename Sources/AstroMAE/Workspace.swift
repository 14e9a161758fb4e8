/// Every activation buffer of one forward pass, allocated once for a fixed
/// number of samples and reused by every call and every layer: the forward
/// pass itself allocates nothing.
///
/// Two sizes: the encoder and the Inception convolutions run on slices of
/// `capacity` samples (their activations are 17–256 rows per sample and
/// should stay in cache), while the per-sample feature layers (vision head,
/// magnitude MLP, redshift head) run on up to `featureCapacity` samples at
/// once, so OpenBLAS packs their 1–3 M-parameter weight matrices once per
/// `featureCapacity` samples instead of once per slice.
public final class Workspace: @unchecked Sendable {
    /// Samples per encoder/Inception slice.
    public let capacity: Int
    /// Samples per pass of the feature layers (a multiple of `capacity`).
    public let featureCapacity: Int
    /// The default number of samples the feature layers run on together.
    public static let defaultFeatureBatch = 256

    // Encoder, sized per token (count · 17 rows).
    let tokens: UnsafeMutablePointer<Float>
    let normed: UnsafeMutablePointer<Float>
    let qkv: UnsafeMutablePointer<Float>
    let attended: UnsafeMutablePointer<Float>
    let hidden: UnsafeMutablePointer<Float>
    let pcm: UnsafeMutablePointer<Float>
    let scores: UnsafeMutablePointer<Float>
    // Inception, channels-last at 16×16 (the largest stage).
    let inceptionA: UnsafeMutablePointer<Float>
    let inceptionB: UnsafeMutablePointer<Float>
    let inceptionPool: UnsafeMutablePointer<Float>
    /// One sample's 3×3/5×5 conv input with its zero border (16×16 plus margins, 32 channels).
    let inceptionPadded: UnsafeMutablePointer<Float>
    // Heads.
    let pooled: UnsafeMutablePointer<Float>
    let small: UnsafeMutablePointer<Float>
    let wide: UnsafeMutablePointer<Float>
    let magnitudeIn: UnsafeMutablePointer<Float>
    let ping: UnsafeMutablePointer<Float>
    let pong: UnsafeMutablePointer<Float>
    let concat: UnsafeMutablePointer<Float>

    private var allocations: [(UnsafeMutablePointer<Float>, Int)] = []

    /// Bytes held by the buffers.
    public private(set) var byteCount = 0

    /// - Parameters:
    ///   - capacity: samples per encoder/Inception slice (the micro-batch).
    ///   - featureBatch: samples the feature layers take at once; rounded up
    ///     to a multiple of `capacity`.
    public init(capacity: Int, featureBatch: Int = Workspace.defaultFeatureBatch) {
        precondition(capacity >= 1, "workspace capacity must be at least 1")
        self.capacity = capacity
        let features = max(1, (featureBatch + capacity - 1) / capacity) * capacity
        featureCapacity = features
        let d = WeightManifest.embedDim, rows = capacity * Geometry.tokens
        let patchRows = capacity * PatchEmbedding.tokens

        var list: [(UnsafeMutablePointer<Float>, Int)] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            list.append((p, count))
            return p
        }
        tokens = make(rows * d)
        normed = make(rows * d)
        qkv = make(rows * 3 * d)
        attended = make(rows * d)
        // `hidden` also holds the patch im2col (16·320 < 17·768 per sample).
        hidden = make(max(rows * WeightManifest.mlpHidden, patchRows * PatchEmbedding.patchLength))
        pcm = make(patchRows * d)
        scores = make(EncoderBlock.attentionScratch)
        inceptionA = make(capacity * 256 * 64)
        inceptionB = make(capacity * 256 * 64)
        inceptionPool = make(capacity * 256 * 64)
        let paddedSide = 16 + 2 * InceptionBranch.margin
        inceptionPadded = make(paddedSide * paddedSide * 32)
        pooled = make(features * d)
        small = make(features * max(d, 1024))
        wide = make(features * WeightManifest.featureWidth)
        magnitudeIn = make(features * Geometry.magnitudes)
        ping = make(features * WeightManifest.magnitudeWidth)
        pong = make(features * WeightManifest.magnitudeWidth)
        concat = make(features * WeightManifest.concatWidth)
        allocations = list
        byteCount = list.reduce(0) { $0 + $1.1 * MemoryLayout<Float>.stride }
    }

    deinit {
        for (pointer, count) in allocations {
            pointer.deinitialize(count: count)
            pointer.deallocate()
        }
    }
}
