/// The network's parts, runnable one at a time so benchmarks and profiles
/// can say where the time goes. Each runs on whatever the workspace holds;
/// values do not matter for timing.
public enum Stage: String, CaseIterable, Sendable {
    case patchEmbed = "patch_embed"
    /// One NormalCell (blocks.0); the encoder is 12 of them.
    case encoderBlock = "encoder_block"
    case visionHead = "vision_head"
    case inception
    case magnitude
    case head
}

extension AstroMAEModel {
    /// Runs one stage on `count` samples (≤ workspace capacity) of `images`
    /// and `magnitudes`.
    public func run(_ stage: Stage, images: UnsafePointer<Float>, magnitudes: UnsafePointer<Double>, count: Int,
                    workspace ws: Workspace) {
        precondition(count <= ws.capacity, "count exceeds the workspace capacity")
        let cw = WeightManifest.concatWidth, f = WeightManifest.featureWidth
        switch stage {
        case .patchEmbed:
            patchEmbed.forward(images: images, count: count, patches: ws.hidden, embedded: ws.pcm, tokens: ws.tokens)
        case .encoderBlock:
            blocks[0].forward(ws.tokens, count: count, workspace: ws)
        case .visionHead:
            VisionHead.pool(ws.tokens, count: count, into: ws.pooled)
            vision.forward(pooled: ws.pooled, count: count, scratch: ws.small, wide: ws.wide, into: ws.concat, ldOut: cw)
        case .inception:
            inception.forward(images: images, count: count, into: ws.concat + f, ldOut: cw, workspace: ws)
        case .magnitude:
            magnitude.forward(magnitudes: magnitudes, count: count, input: ws.magnitudeIn, ping: ws.ping, pong: ws.pong,
                              into: ws.concat + 2 * f, ldOut: cw)
        case .head:
            head.forward(concat: ws.concat, count: count, scratch: ws.small, into: ws.magnitudeIn)
        }
    }
}
