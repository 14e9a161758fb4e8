import Foundation
import XCTest
import SafeTensors

/// Reads the repository's golden AstroMAE trace (written by the Python
/// reference) and checks values computed independently with Python's struct.
final class GoldenFileTests: XCTestCase {
    private static var fixture: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden/astromae-seed20250108-b3.safetensors")
    }

    func testHeader() throws {
        let file = try SafeTensorsFile(contentsOf: Self.fixture)
        XCTAssertEqual(file.metadata, ["seed": "20250108", "batch": "3"])
        let expected: [(String, DType, [Int])] = [
            ("input.magnitudes", .f64, [3, 5]),
            ("input.images", .f32, [3, 5, 32, 32]),
            ("output.redshift", .f32, [3, 1]),
            ("trace.block0", .f32, [3, 17, 192]),
            ("trace.block11", .f32, [3, 17, 192]),
            ("trace.inception_features", .f32, [3, 1096]),
            ("trace.magnitude_features", .f32, [3, 1024]),
            ("trace.patch_embed", .f32, [3, 16, 192]),
            ("trace.pooled", .f32, [3, 192]),
            ("trace.vit_features", .f32, [3, 1096]),
        ]
        XCTAssertEqual(file.tensors.map(\.name), expected.map(\.0), "sorted by data offset")
        for (name, dtype, shape) in expected {
            let info = try file.info(name)
            XCTAssertEqual(info.dtype, dtype, name)
            XCTAssertEqual(info.shape, shape, name)
        }
        XCTAssertEqual(try file.info("input.images").byteRange, 120..<61560)
        XCTAssertEqual(file.tensors.last?.byteRange.upperBound, 217_668)
    }

    func testValues() throws {
        let file = try SafeTensorsFile(contentsOf: Self.fixture)
        let magnitudes = try file.doubles("input.magnitudes")
        XCTAssertEqual(Array(magnitudes.prefix(3)), [17.355940580368042, 22.507471084594727, 21.074316143989563])
        XCTAssertEqual(magnitudes.last, 18.239733815193176)
        XCTAssertEqual(magnitudes.reduce(0, +), 287.052566409111, accuracy: 1e-9)

        let images = try file.floats("input.images")
        XCTAssertEqual(images.count, 15360)
        XCTAssertEqual(Array(images.prefix(3)), [0.11955994367599487, 0.011282682418823242, 0.22976946830749512])
        XCTAssertEqual(images.last, 0.6944366693496704)
        XCTAssertEqual(images.reduce(0.0) { $0 + Double($1) }, 7648.6567953825, accuracy: 1e-6)

        XCTAssertEqual(try file.floats("output.redshift"), [0.030235283076763153, 0.034412283450365067, 0.03425455093383789])
        let pooledSum = try file.withFloats("trace.pooled") { $0.reduce(0.0) { $0 + Double($1) } }
        XCTAssertEqual(pooledSum, 7.147163896588609, accuracy: 1e-9)
        let block11 = try XCTUnwrap(try file.mappedFloats("trace.block11"))
        XCTAssertEqual(block11.count, 3 * 17 * 192)
        XCTAssertEqual(block11.first, -0.2590973377227783)
        XCTAssertEqual(block11.last, -1.0699292421340942)
        let mappedMagnitudes = try XCTUnwrap(try file.mappedDoubles("input.magnitudes"))
        XCTAssertEqual(Array(mappedMagnitudes), magnitudes)
    }

    func testRewriteReproducesTensors() throws {
        let original = try SafeTensorsFile(contentsOf: Self.fixture)
        var writer = SafeTensorsWriter(metadata: original.metadata)
        for info in original.tensors {
            let bytes = try original.withUnsafeBytes(of: info.name) { Data($0) }
            try writer.add(info.name, dtype: info.dtype, shape: info.shape, bytes: bytes)
        }
        let copy = try SafeTensorsFile(data: writer.serialized())
        XCTAssertEqual(copy.tensors, original.tensors)
        XCTAssertEqual(copy.metadata, original.metadata)
        XCTAssertEqual(try copy.floats("trace.vit_features"), try original.floats("trace.vit_features"))
    }
}
