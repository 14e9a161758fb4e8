import AstroMAE
import Foundation
import SafeTensors
import XCTest

final class ModelTests: XCTestCase {
    func testGoldenFixtureEveryStageWithinTolerance() throws {
        let report = try Verifier.verify(fixture: TestPaths.goldenFixture)
        XCTAssertEqual(report.seed, 20_250_108)
        XCTAssertEqual(report.batch, 3)
        XCTAssertEqual(Set(report.stages.map(\.name)), Set(Verifier.stages))
        for stage in report.stages {
            XCTAssertEqual(stage.failures, 0, "\(stage.name): max abs \(stage.maxAbsoluteError), max rel \(stage.maxRelativeError)")
        }
        XCTAssertTrue(report.passed, report.rendered())
    }

    func testVerifierCatchesAWrongOutput() throws {
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.goldenFixture)
        var writer = SafeTensorsWriter(metadata: fixture.metadata)
        for info in fixture.tensors {
            switch info.dtype {
            case .f64: try writer.add(info.name, shape: info.shape, doubles: try fixture.doubles(info.name))
            default:
                var values = try fixture.floats(info.name)
                if info.name == "output.redshift" { values[1] *= 1.001 }
                try writer.add(info.name, shape: info.shape, floats: values)
            }
        }
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("perturbed.safetensors")
        try writer.write(to: url)
        let report = try Verifier.verify(fixture: url)
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.stages.first { $0.name == "output.redshift" }?.failures, 1)
        XCTAssertEqual(report.stages.filter { !$0.passed }.count, 1)
    }

    func testVerifierRejectsMissingSeed() throws {
        var writer = SafeTensorsWriter(metadata: ["batch": "1"])
        try writer.add("input.images", shape: [1, 5, 32, 32], floats: [Float](repeating: 0, count: 5120))
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("noseed.safetensors")
        try writer.write(to: url)
        XCTAssertThrowsError(try Verifier.verify(fixture: url)) { error in
            XCTAssertTrue("\(error)".contains("seed"), "\(error)")
        }
    }

    /// A sample's prediction must not depend on the batch it is run in: the
    /// first samples of a 512-sample batch, re-run in slices of 1, 3 and 37
    /// (including a short last slice) and in feature passes that span
    /// several slices (and end short), give the same numbers.
    func testOutputsIndependentOfBatchSize() {
        let model = AstroMAEModel(weights: .seeded())
        let (images, magnitudes) = ThroughputBenchmark.syntheticInputs(count: 512, seed: 7)
        func run(batch: Int, samples: Int, featureBatch: Int = Workspace.defaultFeatureBatch) -> [Float] {
            let ws = Workspace(capacity: batch, featureBatch: featureBatch)
            var out = [Float](repeating: .nan, count: samples)
            images.withUnsafeBufferPointer { im in
                magnitudes.withUnsafeBufferPointer { mg in
                    out.withUnsafeMutableBufferPointer { o in
                        model.predict(images: im.baseAddress!, magnitudes: mg.baseAddress!, count: samples,
                                      output: o.baseAddress!, workspace: ws)
                    }
                }
            }
            return out
        }
        let reference = run(batch: 512, samples: 512)
        XCTAssertTrue(reference.allSatisfy(\.isFinite))
        XCTAssertGreaterThan(Set(reference).count, 256, "predictions should differ between samples")
        for (batch, samples, features) in [(1, 16, 1), (3, 47, 256), (37, 100, 256), (16, 300, 40), (64, 512, 256)] {
            let got = run(batch: batch, samples: samples, featureBatch: features)
            for i in 0..<samples {
                XCTAssertEqual(got[i], reference[i], accuracy: 1e-5,
                               "sample \(i) at slices of \(batch), feature passes of \(features)")
            }
        }
    }

    func testFlopCountNearSpec() {
        XCTAssertEqual(Double(AstroMAEModel.multiplyAddsPerSample), 110.8e6, accuracy: 0.5e6)
    }
}
