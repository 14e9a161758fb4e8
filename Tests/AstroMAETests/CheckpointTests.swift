import AstroMAE
import Foundation
import SafeTensors
import XCTest

final class CheckpointTests: XCTestCase {
    func testExportedWeightsRoundTrip() throws {
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("w.safetensors")
        let seeded = ModelWeights.seeded(99)
        try seeded.write(to: url)
        let loaded = try ModelWeights.load(contentsOf: url)
        XCTAssertEqual(loaded.seed, 99)
        for spec in WeightManifest.all {
            XCTAssertEqual(Array(loaded.tensor(spec.name)), Array(seeded.tensor(spec.name)), spec.name)
        }
    }

    /// Writes the seeded checkpoint with one edit and returns the load error.
    private func loadError(renameMap: WeightRenameMap? = nil,
                           _ edit: (inout [(String, [Int], [Float])]) -> Void) throws -> ModelWeightsError? {
        let url = try writeSeeded(edit)
        do {
            _ = try ModelWeights.load(contentsOf: url, renameMap: renameMap)
            return nil
        } catch let error as ModelWeightsError {
            return error
        }
    }

    private func writeSeeded(_ edit: (inout [(String, [Int], [Float])]) -> Void) throws -> URL {
        let seeded = ModelWeights.seeded()
        var tensors = WeightManifest.all.map { ($0.name, $0.shape, Array(seeded.tensor($0.name))) }
        edit(&tensors)
        var writer = SafeTensorsWriter()
        for (name, shape, values) in tensors { try writer.add(name, shape: shape, floats: values) }
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("edited.safetensors")
        try writer.write(to: url)
        return url
    }

    private func report(_ error: ModelWeightsError?, line: UInt = #line) -> CheckpointNameReport? {
        guard case let .nameMismatch(_, report) = error else {
            XCTFail("expected a name mismatch, got \(String(describing: error))", line: line)
            return nil
        }
        return report
    }

    func testMissingTensorIsNamed() throws {
        let found = report(try loadError { $0.removeAll { $0.0 == "blocks.3.mlp.fc1.bias" } })
        XCTAssertEqual(found?.missing.map(\.name), ["blocks.3.mlp.fc1.bias"])
        XCTAssertEqual(found?.unexpected.count, 0)
    }

    func testUnexpectedTensorIsNamed() throws {
        let found = report(try loadError { $0.append(("decoder.weight", [2], [1, 2])) })
        XCTAssertEqual(found?.unexpected.map(\.name), ["decoder.weight"])
        XCTAssertNotNil(found?.unexpected.first?.nearestExpected)
    }

    func testWrongShapeIsNamed() throws {
        let found = report(try loadError { tensors in
            let i = tensors.firstIndex { $0.0 == "head.weight" }!
            tensors[i].1 = [96, 384]
        })
        XCTAssertEqual(found?.wrongShape.map(\.name), ["head.weight"])
        XCTAssertEqual(found?.wrongShape.first?.expected, [192, 192])
        XCTAssertEqual(found?.wrongShape.first?.actual, [96, 384])
    }

    func testEveryProblemIsReportedAtOnceWithTheNearestName() throws {
        let error = try loadError { tensors in
            for index in tensors.indices where tensors[index].0.hasPrefix("blocks.7.") {
                tensors[index].0 = tensors[index].0.replacingOccurrences(of: "blocks.7.", with: "block.7.")
            }
            tensors.removeAll { $0.0 == "cls_token" }
            let i = tensors.firstIndex { $0.0 == "concat_block.2.weight" }!
            tensors[i].1 = [1, 512, 2]
        }
        let found = try XCTUnwrap(report(error))
        let renamed = WeightManifest.all.map(\.name).filter { $0.hasPrefix("blocks.7.") }
        XCTAssertEqual(Set(found.missing.map(\.name)), Set(renamed + ["cls_token"]))
        XCTAssertEqual(found.unexpected.count, renamed.count)
        for item in found.unexpected {
            XCTAssertEqual(item.nearestExpected, item.name.replacingOccurrences(of: "block.7.", with: "blocks.7."), item.name)
        }
        XCTAssertEqual(found.missing.first { $0.name == "blocks.7.norm1.weight" }?.nearestInFile, "block.7.norm1.weight")
        XCTAssertEqual(found.wrongShape.map(\.name), ["concat_block.2.weight"])
        let text = "\(error!)"
        XCTAssertTrue(text.contains("block.7.attn.qkv.weight (nearest expected: blocks.7.attn.qkv.weight)"), text)
        XCTAssertTrue(text.contains("cls_token"), text)
    }

    func testRenameMapFixesARenamedCheckpoint() throws {
        let url = try writeSeeded { tensors in
            for index in tensors.indices where tensors[index].0.hasPrefix("blocks.") {
                tensors[index].0 = "encoder.layer" + tensors[index].0.dropFirst("blocks".count)
            }
            let i = tensors.firstIndex { $0.0 == "head.weight" }!
            tensors[i].0 = "classifier.w"
            tensors.append(("decoder.pred.weight", [3], [1, 2, 3]))
            tensors = tensors.map { ("module." + $0.0, $0.1, $0.2) }
        }
        XCTAssertThrowsError(try ModelWeights.load(contentsOf: url))
        let map = try WeightRenameMap.parse(Data(#"""
            {"encoder.layer.*": "blocks.*", "classifier.w": "head.weight", "decoder.*": null, "never.*": "used.*"}
            """#.utf8), path: "map.json")
        let (_, found) = try ModelWeights.inspect(contentsOf: url, renameMap: map)
        XCTAssertTrue(found.isClean, found.description)
        XCTAssertEqual(found.strippedPrefix, "module.")
        XCTAssertEqual(found.unusedRules, ["never.*"])
        XCTAssertTrue(found.ignored.contains("module.decoder.pred.weight"))
        let loaded = try ModelWeights.load(contentsOf: url, renameMap: map)
        XCTAssertEqual(Array(loaded.tensor("blocks.11.mlp.fc2.bias")), Array(ModelWeights.seeded().tensor("blocks.11.mlp.fc2.bias")))
        XCTAssertEqual(Array(loaded.tensor("head.weight")), Array(ModelWeights.seeded().tensor("head.weight")))
    }

    func testRenameMapsThatCollideOrAreMalformedAreRefused() throws {
        let collide = try WeightRenameMap.parse(Data(#"{"fc_norm.bias": "head.bias"}"#.utf8), path: "m.json")
        let found = report(try loadError(renameMap: collide) { _ in })
        XCTAssertEqual(found?.duplicates["head.bias"]?.sorted(), ["fc_norm.bias", "head.bias"])
        XCTAssertEqual(found?.missing.map(\.name), ["fc_norm.bias"])
        for bad in [#"["a"]"#, #"{"a.*": "b"}"#, #"{"a*b": "c"}"#, #"{"a": 3}"#, #"{"a": "b.*"}"#] {
            XCTAssertThrowsError(try WeightRenameMap.parse(Data(bad.utf8), path: "bad.json"), bad) { error in
                guard case let .badRenameMap(path, _) = error as? ModelWeightsError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, "bad.json")
            }
        }
    }

    func testSHA256OfTheFileIsRecordedAndSeededWeightsHaveNone() throws {
        XCTAssertNil(ModelWeights.seeded().sha256)
        var writer = SafeTensorsWriter(metadata: ["note": "small"])
        try writer.add("head.bias", shape: [3], floats: [1, 2, 3])
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("small.safetensors")
        try writer.write(to: url)
        let (file, report) = try ModelWeights.inspect(contentsOf: url)
        XCTAssertEqual(file.sha256, TestSHA256.hex(Array(try Data(contentsOf: url))))
        XCTAssertEqual(file.format, "safetensors")
        XCTAssertEqual(report.wrongShape.map(\.name), ["head.bias"])
        XCTAssertEqual(report.missing.count, WeightManifest.all.count - 1)
    }

    func testNearestNameUsesEditDistance() {
        XCTAssertEqual(ModelWeights.nearestName(to: "blocks.0.attn.qkv.weigth", among: ["blocks.0.attn.proj.weight", "blocks.0.attn.qkv.weight"]),
                       "blocks.0.attn.qkv.weight")
        XCTAssertNil(ModelWeights.nearestName(to: "x", among: []))
    }

    func testNonFiniteWeightIsNamed() throws {
        let error = try loadError { tensors in
            let i = tensors.firstIndex { $0.0 == "fc_norm.bias" }!
            tensors[i].2[5] = .nan
        }
        guard case let .nonFinite(_, name, index) = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(name, "fc_norm.bias")
        XCTAssertEqual(index, 5)
    }

    func testStateDictExtrasAreAccepted() throws {
        XCTAssertNil(try loadError { tensors in
            tensors.append(("blocks.0.PCM.1.num_batches_tracked", [], [0]))
            tensors.append(("inception_model.vis_inception.0.bias", [32], [Float](repeating: 0, count: 32)))
        })
    }
}
