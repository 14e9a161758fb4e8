import AstroMAE
import Foundation
import SafeTensors
import TorchPickle
import XCTest

/// The real AstroMAE architecture saved by PyTorch as CAI did (the whole
/// `nn.DataParallel` model object) and as a half-precision state_dict, loaded
/// without executing anything and run: predictions must match PyTorch's.
final class CheckpointPickleTests: XCTestCase {
    private func goldenInputs() throws -> (images: [Float], magnitudes: [Double]) {
        let golden = try SafeTensorsFile(contentsOf: TestPaths.goldenFixture)
        return (try golden.floats("input.images"), try golden.doubles("input.magnitudes"))
    }

    private func assertClose(_ got: [Float], _ want: [Double], relative: Double = 1e-4, absolute: Double = 1e-5,
                             _ label: String, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, label, line: line)
        for (g, w) in zip(got, want) {
            XCTAssertLessThanOrEqual(abs(Double(g) - w), absolute + relative * abs(w), "\(label): \(g) vs PyTorch \(w)", line: line)
        }
    }

    func testCAIStyleWholeModelPickleLoadsAndPredictsLikePyTorch() throws {
        let manifest = try CheckpointFixtures.manifest()
        let variant = try XCTUnwrap(manifest.variants["astromae_full"])
        let url = try CheckpointFixtures.archive("astromae_full")

        let (file, report) = try ModelWeights.inspect(contentsOf: url)
        XCTAssertEqual(file.format, "torch full module (torch.nn.parallel.data_parallel.DataParallel)")
        XCTAssertEqual(report.strippedPrefix, "module.")
        XCTAssertTrue(report.isClean, report.description)
        XCTAssertEqual(report.resolved.count, WeightManifest.all.count)

        let weights = try ModelWeights.load(contentsOf: url)
        XCTAssertEqual(weights.sha256, file.sha256)
        XCTAssertEqual(weights.sha256?.count, 64)
        let seeded = ModelWeights.seeded()
        for spec in WeightManifest.all {
            XCTAssertEqual(Array(weights.tensor(spec.name)), Array(seeded.tensor(spec.name)), spec.name)
        }
        let (images, magnitudes) = try goldenInputs()
        let predictions = AstroMAEModel(weights: weights).predict(images: images, magnitudes: magnitudes)
        assertClose(predictions, variant.predictions, "whole-module pickle")
        assertClose(predictions, manifest.golden_predictions, "golden fixture")
        XCTAssertTrue(try Verifier.verify(fixture: TestPaths.goldenFixture, weights: weights).passed)
    }

    func testHalfPrecisionStateDictWithDataParallelNamesPredictsLikePyTorch() throws {
        let manifest = try CheckpointFixtures.manifest()
        let variant = try XCTUnwrap(manifest.variants["astromae_fp16_state_dict"])
        let url = try CheckpointFixtures.archive("astromae_fp16_state_dict")

        let (file, report) = try ModelWeights.inspect(contentsOf: url)
        XCTAssertEqual(file.format, "torch state_dict")
        XCTAssertEqual(Set(file.tensors.map(\.dtype)), ["float16", "int64"])
        XCTAssertEqual(report.strippedPrefix, "module.")
        let weights = try ModelWeights.load(contentsOf: url)
        let (images, magnitudes) = try goldenInputs()
        let predictions = AstroMAEModel(weights: weights).predict(images: images, magnitudes: magnitudes)
        assertClose(predictions, variant.predictions, "fp16 state_dict")
    }

    func testConvertedCheckpointRoundTripsThroughSafetensors() throws {
        let loaded = try ModelWeights.load(contentsOf: CheckpointFixtures.archive("astromae_full"))
        let out = try TestPaths.temporaryDirectory().appendingPathComponent("model.safetensors")
        try loaded.write(to: out)
        let converted = try SafeTensorsFile(contentsOf: out)
        XCTAssertEqual(converted.metadata["source_sha256"], loaded.sha256)
        XCTAssertEqual(converted.tensors.map(\.name), WeightManifest.all.map(\.name))
        let reloaded = try ModelWeights.load(contentsOf: out)
        XCTAssertNotEqual(reloaded.sha256, loaded.sha256, "the safetensors file has its own hash")
        for spec in WeightManifest.all.prefix(40) {
            XCTAssertEqual(Array(reloaded.tensor(spec.name)), Array(loaded.tensor(spec.name)), spec.name)
        }
    }

    func testHostileCheckpointIsRefusedByNameThroughTheWeightsLoader() {
        let url = CheckpointFixtures.directory.appendingPathComponent("hostile_os_system.pt")
        XCTAssertThrowsError(try ModelWeights.load(contentsOf: url)) { error in
            guard case let .forbiddenGlobal(file, _, _, global) = error as? TorchPickleError else { return XCTFail("\(error)") }
            XCTAssertEqual(global, "posix.system")
            XCTAssertEqual(file, url.path)
        }
    }

    func testHalfConversionMatchesTorchRounding() {
        // Values whose binary16 rounding is known: ties to even, subnormals, overflow.
        XCTAssertEqual(CheckpointFixtures.halfBits(1), 0x3c00)
        XCTAssertEqual(CheckpointFixtures.halfBits(-2), 0xc000)
        XCTAssertEqual(CheckpointFixtures.halfBits(65504), 0x7bff)
        XCTAssertEqual(CheckpointFixtures.halfBits(70000), 0x7c00)
        XCTAssertEqual(CheckpointFixtures.halfBits(Float(bitPattern: 0x3f80_1000)), 0x3c00, "tie rounds to even")
        XCTAssertEqual(CheckpointFixtures.halfBits(Float(bitPattern: 0x3f80_3000)), 0x3c02, "tie rounds to even (up)")
        XCTAssertEqual(CheckpointFixtures.halfBits(5.960_464_5e-8), 0x0001, "smallest subnormal")
        XCTAssertEqual(TestSHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
