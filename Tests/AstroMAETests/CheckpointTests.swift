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
    private func loadError(_ edit: (inout [(String, [Int], [Float])]) -> Void) throws -> ModelWeightsError? {
        let seeded = ModelWeights.seeded()
        var tensors = WeightManifest.all.map { ($0.name, $0.shape, Array(seeded.tensor($0.name))) }
        edit(&tensors)
        var writer = SafeTensorsWriter()
        for (name, shape, values) in tensors { try writer.add(name, shape: shape, floats: values) }
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("bad.safetensors")
        try writer.write(to: url)
        do {
            _ = try ModelWeights.load(contentsOf: url)
            return nil
        } catch let error as ModelWeightsError {
            return error
        }
    }

    func testMissingTensorIsNamed() throws {
        let error = try loadError { $0.removeAll { $0.0 == "blocks.3.mlp.fc1.bias" } }
        guard case let .missingTensor(_, name) = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(name, "blocks.3.mlp.fc1.bias")
    }

    func testUnexpectedTensorIsNamed() throws {
        let error = try loadError { $0.append(("decoder.weight", [2], [1, 2])) }
        guard case let .unexpectedTensor(_, name) = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(name, "decoder.weight")
    }

    func testWrongShapeIsNamed() throws {
        let error = try loadError { tensors in
            let i = tensors.firstIndex { $0.0 == "head.weight" }!
            tensors[i].1 = [96, 384]
        }
        guard case let .wrongShape(_, name, expected, actual) = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(name, "head.weight")
        XCTAssertEqual(expected, [192, 192])
        XCTAssertEqual(actual, [96, 384])
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
