/// One tensor of the AstroMAE checkpoint: its PyTorch `state_dict` name, its
/// shape, and the spec's seeding rule for it.
public struct TensorSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let rule: InitRule
    /// False for BatchNorm running statistics (`named_buffers()`).
    public let isParameter: Bool

    public var elementCount: Int { shape.reduce(1, *) }
}

/// Every tensor of the model in `named_parameters()` then `named_buffers()`
/// order, exactly as ASTROMAE.md lists them (15,902,889 parameters plus
/// BatchNorm buffers). Loading from safetensors checks a file against this.
public enum WeightManifest {
    public static let embedDim = 192
    public static let depth = 12
    public static let mlpHidden = 768
    public static let featureWidth = 1096
    public static let magnitudeWidth = 1024
    public static let concatWidth = 1096 + 1096 + 1024

    /// Inception blocks of `vis_inception`: index, input channels, branch width, custom (no branch3 output).
    public static let inceptionBlocks: [(index: Int, cin: Int, width: Int, custom: Bool)] = [
        (2, 32, 16, false), (3, 64, 16, false), (5, 64, 8, false), (6, 32, 8, false), (8, 32, 4, true),
    ]

    public static let all: [TensorSpec] = build()

    /// Tensors keyed by name.
    public static let byName: [String: TensorSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Trainable parameter count (the spec's 15,902,889).
    public static var parameterCount: Int { all.filter(\.isParameter).reduce(0) { $0 + $1.elementCount } }

    private static func build() -> [TensorSpec] {
        var params: [TensorSpec] = []
        var buffers: [TensorSpec] = []
        func add(_ name: String, _ shape: [Int], _ rule: InitRule) {
            params.append(TensorSpec(name: name, shape: shape, rule: rule, isParameter: true))
        }
        func linear(_ name: String, out: Int, in fanIn: Int) {
            let bound = 1 / Double(fanIn).squareRoot()
            add("\(name).weight", [out, fanIn], .sym(0, bound))
            add("\(name).bias", [out], .sym(0, bound))
        }
        func conv(_ name: String, out: Int, inPerGroup: Int, kernel: Int) {
            let bound = 1 / Double(inPerGroup * kernel * kernel).squareRoot()
            add("\(name).weight", [out, inPerGroup, kernel, kernel], .sym(0, bound))
            add("\(name).bias", [out], .sym(0, bound))
        }
        func layerNorm(_ name: String, _ dim: Int) {
            add("\(name).weight", [dim], .sym(1, 0.1))
            add("\(name).bias", [dim], .sym(0, 0.1))
        }
        func batchNorm(_ name: String, _ channels: Int) {
            add("\(name).weight", [channels], .sym(1, 0.1))
            add("\(name).bias", [channels], .sym(0, 0.1))
            buffers.append(TensorSpec(name: "\(name).running_mean", shape: [channels], rule: .sym(0, 0.1), isParameter: false))
            buffers.append(TensorSpec(name: "\(name).running_var", shape: [channels], rule: .unit(1, 0.5), isParameter: false))
        }
        func convBlock(_ name: String, cin: Int, cout: Int, kernel: Int) {
            conv("\(name).conv", out: cout, inPerGroup: cin, kernel: kernel)
            batchNorm("\(name).bn", cout)
        }

        let d = embedDim
        add("cls_token", [1, 1, d], .sym(0, 0.02))
        add("pos_embed", [1, 17, d], .sym(0, 0.02))
        layerNorm("fc_norm", d)
        linear("head", out: d, in: d)

        conv("inception_model.conv2d_init", out: 32, inPerGroup: 5, kernel: 1)
        linear("inception_model.magnitude_block.0", out: magnitudeWidth, in: 5)
        for index in [2, 4, 6, 8] {
            linear("inception_model.magnitude_block.\(index)", out: magnitudeWidth, in: magnitudeWidth)
        }
        for block in inceptionBlocks {
            let p = "inception_model.vis_inception.\(block.index)"
            convBlock("\(p).branch1", cin: block.cin, cout: block.width, kernel: 1)
            convBlock("\(p).branch2.0", cin: block.cin, cout: block.width, kernel: 1)
            convBlock("\(p).branch2.1", cin: block.width, cout: block.width, kernel: 3)
            convBlock("\(p).branch3.0", cin: block.cin, cout: block.width, kernel: 1)
            convBlock("\(p).branch3.1", cin: block.width, cout: block.width, kernel: 5)
            convBlock("\(p).branch4.1", cin: block.cin, cout: block.width, kernel: 1)
        }
        linear("inception_model.vis_inception.10", out: featureWidth, in: 192)
        linear("inception_model.vis_inception.12", out: featureWidth, in: featureWidth)

        for i in 0..<depth {
            let p = "blocks.\(i)"
            layerNorm("\(p).norm1", d)
            let qvBound = 1 / Double(d).squareRoot()
            add("\(p).attn.q_bias", [d], .sym(0, qvBound))
            add("\(p).attn.v_bias", [d], .sym(0, qvBound))
            add("\(p).attn.qkv.weight", [3 * d, d], .sym(0, qvBound))
            linear("\(p).attn.proj", out: d, in: d)
            layerNorm("\(p).norm2", d)
            linear("\(p).mlp.fc1", out: mlpHidden, in: d)
            linear("\(p).mlp.fc2", out: d, in: mlpHidden)
            conv("\(p).PCM.0", out: mlpHidden, inPerGroup: 4, kernel: 1)
            batchNorm("\(p).PCM.1", mlpHidden)
            conv("\(p).PCM.3", out: d, inPerGroup: 16, kernel: 1)
        }
        conv("patch_embed.proj", out: d, inPerGroup: 5, kernel: 8)
        linear("vit_block.0", out: featureWidth, in: d)
        linear("vit_block.2", out: featureWidth, in: featureWidth)
        linear("concat_block.0", out: 1024, in: concatWidth)
        linear("concat_block.2", out: 1, in: 1024)
        return params + buffers
    }
}
