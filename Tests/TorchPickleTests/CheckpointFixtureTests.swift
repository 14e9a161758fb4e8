import Foundation
import TorchPickle
import XCTest

/// Model checkpoints written by scripts/make_checkpoint_fixtures.py with real
/// PyTorch: a small model of CAI's classes as a whole pickled module and as
/// state_dicts, plus hostile pickles that must be refused by name.
final class CheckpointFixtureTests: XCTestCase {
    struct MiniManifest: Decodable {
        struct Tensor: Decodable {
            let name: String
            let dtype: String
            let shape: [Int]
            let offset: Int
            let bytes: Int
        }

        struct File: Decodable {
            let expected: String
            let tensors: [Tensor]
            let full_module: Bool
        }

        let torch_version: String
        let files: [String: File]
    }

    struct HostileManifest: Decodable {
        let refuse: [String: String]
    }

    private func url(_ name: String) -> URL { Fixtures.url("checkpoints/\(name)") }

    private func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }

    func testEveryMiniCheckpointMatchesPyTorchStateDict() throws {
        let manifest = try decode(MiniManifest.self, "mini.json")
        XCTAssertEqual(manifest.files.count, 11)
        for (file, info) in manifest.files.sorted(by: { $0.key < $1.key }) {
            let checkpoint = try TorchCheckpoint.load(at: url(file), verifyChecksums: true)
            let expected = Array(try Data(contentsOf: url(info.expected)))
            XCTAssertEqual(checkpoint.entries.map(\.name), info.tensors.map(\.name), "\(file): state_dict names and order")
            for (entry, meta) in zip(checkpoint.entries, info.tensors) {
                let label = "\(file) \(meta.name)"
                XCTAssertEqual(entry.tensor.dtype.rawValue, meta.dtype, label)
                XCTAssertEqual(entry.tensor.shape, meta.shape, label)
                let got = try entry.tensor.withContiguousBytes { Array($0) }
                XCTAssertEqual(got, Array(expected[meta.offset..<(meta.offset + meta.bytes)]), "\(label): bytes differ from PyTorch's")
            }
            if case .fullModule = checkpoint.layout {
                XCTAssertTrue(info.full_module, file)
            } else {
                XCTAssertFalse(info.full_module, file)
            }
        }
    }

    func testWholeModuleKeepsCAIClassNamesAsInertRecords() throws {
        for file in ["mini_full.pt", "mini_full_proto4.pt", "mini_full_legacy.pt", "mini_full_fp16.pt"] {
            let checkpoint = try TorchCheckpoint.load(at: url(file))
            XCTAssertEqual(checkpoint.layout, .fullModule(rootClass: "torch.nn.parallel.data_parallel.DataParallel", keyPath: []), file)
            let classes = Dictionary(checkpoint.modules.map { ($0.path, $0.className) }, uniquingKeysWith: { first, _ in first })
            XCTAssertEqual(classes["module"], "blocks.model_vit_inception.ViT_Astro", file)
            XCTAssertEqual(classes["module.blocks.0"], "vitae.NormalCell.NormalCell", file)
            XCTAssertEqual(classes["module.inception_model"], "blocks.photoz.Input_Mix_Model", file)
            XCTAssertEqual(classes["module.inception_model.vis_inception.2"], "blocks.photoz.InceptionBlock", file)
            XCTAssertEqual(classes["module.patch_embed"], "timm.models.layers.patch_embed.PatchEmbed", file)
            // The shared first conv is one module under two names, one storage for both.
            let byName = Dictionary(uniqueKeysWithValues: checkpoint.entries.map { ($0.name, $0.tensor) })
            let shared = try XCTUnwrap(byName["module.inception_model.vis_inception.0.weight"])
            XCTAssertTrue(shared.storage === byName["module.inception_model.conv2d_init.weight"]?.storage, file)
            // Linear(bias=False) has a None bias; a non-persistent buffer is not in the state_dict.
            XCTAssertNil(byName["module.blocks.0.attn.qkv.bias"], file)
            XCTAssertNil(byName["module.scratch"], file)
            XCTAssertEqual(byName["module.blocks.0.PCM.1.num_batches_tracked"]?.dtype, .int64, file)
        }
    }

    func testNestedAndPrefixedStateDictsReportWhereTheyWereFound() throws {
        let cases: [(String, TorchCheckpoint.Layout, String)] = [
            ("mini_state_dict.pt", .stateDict(keyPath: []), "cls_token"),
            ("mini_dp_state_dict.pt", .stateDict(keyPath: []), "module.cls_token"),
            ("mini_nested_model.pt", .stateDict(keyPath: ["model"]), "cls_token"),
            ("mini_nested_state_dict.pt", .stateDict(keyPath: ["state_dict"]), "module.cls_token"),
        ]
        for (file, layout, first) in cases {
            let checkpoint = try TorchCheckpoint.load(at: url(file))
            XCTAssertEqual(checkpoint.layout, layout, file)
            XCTAssertEqual(checkpoint.entries.first?.name, first, file)
            XCTAssertTrue(checkpoint.modules.isEmpty, file)
        }
    }

    func testReducedPrecisionConvertsToFloat() throws {
        let reference = try TorchCheckpoint.load(at: url("mini_state_dict.pt"))
        let weight = try XCTUnwrap(reference.entries.first { $0.name == "head.weight" }).tensor
        let exact = try weight.contiguousFloats()
        for (file, dtype, tolerance) in [("mini_fp16.pt", TorchDType.float16, Float(1e-3)), ("mini_bf16.pt", .bfloat16, 8e-3),
                                         ("mini_fp64.pt", .float64, 0)] {
            let checkpoint = try TorchCheckpoint.load(at: url(file))
            let tensor = try XCTUnwrap(checkpoint.entries.first { $0.name == "head.weight" }).tensor
            XCTAssertEqual(tensor.dtype, dtype, file)
            let values = try tensor.contiguousFloats()
            XCTAssertEqual(values.count, exact.count, file)
            for (got, want) in zip(values, exact) {
                XCTAssertLessThanOrEqual(abs(got - want), tolerance * max(1, abs(want)), file)
            }
        }
    }

    func testHostilePicklesAreRefusedByNameBeforeAnyStorageIsRead() throws {
        let manifest = try decode(HostileManifest.self, "hostile.json")
        XCTAssertGreaterThanOrEqual(manifest.refuse.count, 13)
        for (file, global) in manifest.refuse.sorted(by: { $0.key < $1.key }) {
            // The archives carry no storages: touching a tensor first would fail as a missing entry.
            assertTorchError(try TorchCheckpoint.load(at: url(file)), file) { error in
                switch error {
                case let .forbiddenGlobal(_, _, _, name), let .forbiddenCall(_, _, _, name, _):
                    return name == global && error.description.contains(global)
                default:
                    return false
                }
            }
        }
    }

    func testTensorDatasetReaderStaysStrictAboutCheckpointGlobals() {
        // A module pickle is not a partition file: the dataset reader refuses its first class.
        assertTorchError(try TorchArchive.loadTensorDataset(at: url("mini_full.pt"))) {
            if case let .forbiddenGlobal(_, _, _, global) = $0 { return global == "torch.nn.parallel.data_parallel.DataParallel" }
            return false
        }
    }
}
