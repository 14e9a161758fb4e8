import Foundation
import TorchPickle
import XCTest

/// Real torch.save files must read back value for value as PyTorch wrote them.
final class FixtureTests: XCTestCase {
    func testManifestListsTheFixtures() throws {
        let manifest = try Fixtures.manifest()
        XCTAssertFalse(manifest.torch_version.isEmpty)
        XCTAssertEqual(Set(manifest.valid.keys),
                       ["ds3.pt", "ds2_legacy.pt", "views.pt", "proto4.pt", "deflated.pt", "mixed_dtypes.pt"])
        XCTAssertEqual(manifest.malformed.count, 6)
    }

    func testEveryValidFixtureMatchesPyTorchBitForBit() throws {
        let manifest = try Fixtures.manifest()
        for (name, info) in manifest.valid.sorted(by: { $0.key < $1.key }) {
            let expected = Array(try Fixtures.data(info.expected))
            let fromFile = try TorchArchive.loadTensorDataset(at: Fixtures.url(name))
            let fromMemory = try TorchArchive.loadTensorDataset(data: Fixtures.data(name), name: name, verifyChecksums: true)
            for tensors in [fromFile, fromMemory] {
                XCTAssertEqual(tensors.count, info.tensors.count, name)
                for (index, (tensor, meta)) in zip(tensors, info.tensors).enumerated() {
                    let label = "\(name) tensors[\(index)]"
                    XCTAssertEqual(tensor.dtype.rawValue, meta.dtype, label)
                    XCTAssertEqual(tensor.shape, meta.shape, label)
                    XCTAssertEqual(tensor.strides, meta.strides, label)
                    XCTAssertEqual(tensor.storageOffset, meta.storage_offset, label)
                    let want = Array(expected[meta.expected_offset..<(meta.expected_offset + meta.expected_bytes)])
                    let got = try tensor.withContiguousBytes { Array($0) }
                    XCTAssertEqual(got, want, "\(label): bytes differ from PyTorch's")
                }
            }
        }
    }

    func testFloatAndDoubleConversionsMatchReferenceValues() throws {
        let tensors = try TorchArchive.loadTensorDataset(at: Fixtures.url("ds3.pt"))
        let expected = try Fixtures.data("ds3.expected.bin")
        let images = try tensors[0].contiguousFloats()
        let magnitudes = try tensors[1].contiguousDoubles()
        let redshift = try tensors[2].contiguousFloats()
        XCTAssertEqual(images.count, 3 * 5 * 32 * 32)
        let referenceImages: [Float] = expected.withUnsafeBytes { raw in
            (0..<images.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        let referenceMagnitudes: [Double] = expected.withUnsafeBytes { raw in
            (0..<15).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 61_440 + $0 * 8, as: UInt64.self))) }
        }
        XCTAssertEqual(images, referenceImages)
        XCTAssertEqual(magnitudes, referenceMagnitudes)
        XCTAssertEqual(redshift.count, 3)
        XCTAssertTrue(magnitudes.allSatisfy { $0 >= 15 && $0 <= 20 }, "magnitudes were generated in [15, 20]")
        XCTAssertTrue(redshift.allSatisfy { $0 >= 0 && $0 <= 0.4 }, "redshift was generated in [0, 0.4]")
        // Widening float32 → double and narrowing double → float agree with the stored values.
        XCTAssertEqual(try tensors[0].contiguousDoubles().map(Float.init), images)
        XCTAssertEqual(try tensors[1].contiguousFloats(), magnitudes.map(Float.init))
    }

    func testStoredEntriesAreMappedAndReadWithoutCopying() throws {
        let tensors = try TorchArchive.loadTensorDataset(at: Fixtures.url("ds3.pt"))
        let images = tensors[0]
        XCTAssertTrue(images.storage.isMapped)
        XCTAssertTrue(images.isContiguous)
        let storageBase = images.storage.withUnsafeBytes { $0.baseAddress }
        let viewBase = try images.withContiguousBytes { $0.baseAddress }
        XCTAssertEqual(viewBase, storageBase, "a contiguous mapped tensor must be handed out in place")
        XCTAssertEqual(Int(bitPattern: storageBase) % 64, 0, "torch aligns storage entries to 64 bytes")
        XCTAssertEqual(images.storage.byteCount, 61_440)
    }

    func testViewsKeepOffsetsAndStridesOfTheirFullStorage() throws {
        let tensors = try TorchArchive.loadTensorDataset(at: Fixtures.url("views.pt"))
        let (images, magnitudes, redshift) = (tensors[0], tensors[1], tensors[2])
        XCTAssertEqual(images.storage.elementCount, 2 * 5 * 32 * 32, "the whole 2-sample storage is saved")
        XCTAssertEqual(images.storageOffset, 5120)
        XCTAssertTrue(images.isContiguous)
        XCTAssertFalse(magnitudes.isContiguous)
        XCTAssertEqual(magnitudes.storage.elementCount, 20)
        // magnitude_base = arange(20).reshape(5, 4) * 0.5 + 14; view = base.t()[1:2] → column 1.
        XCTAssertEqual(try magnitudes.contiguousDoubles(), [14.5, 16.5, 18.5, 20.5, 22.5])
        XCTAssertEqual(redshift.strides, [2])
        XCTAssertEqual(try redshift.contiguousFloats().first ?? 0, 0.1, accuracy: 1e-7)
        let viewBase = try images.withContiguousBytes { $0.baseAddress }
        let storageBase = images.storage.withUnsafeBytes { $0.baseAddress }
        XCTAssertEqual(viewBase, storageBase.map { $0 + 5120 * 4 }, "an offset contiguous view is still zero-copy")
    }

    func testDeflatedEntriesAreInflatedIntoMemory() throws {
        let tensors = try TorchArchive.loadTensorDataset(at: Fixtures.url("deflated.pt"))
        XCTAssertFalse(tensors[0].storage.isMapped)
        let dataset = try AstroTensorDataset(tensors: tensors, file: "deflated.pt")
        XCTAssertEqual(dataset.sampleCount, 1)
    }

    func testOtherDTypesConvert() throws {
        let tensors = try TorchArchive.loadTensorDataset(at: Fixtures.url("mixed_dtypes.pt"))
        XCTAssertEqual(tensors.map(\.dtype), [.float16, .bfloat16, .int64, .uint8, .bool])
        XCTAssertEqual(try tensors[0].contiguousFloats(), [1.5, -2.25, 65504, 0])
        XCTAssertEqual(try tensors[1].contiguousDoubles(), [1.0, -3.5, 0.15625, 256])
        XCTAssertEqual(try tensors[2].contiguousDoubles(), [-7, 1_099_511_627_776])
        XCTAssertEqual(try tensors[3].contiguousFloats(), [0, 255])
        XCTAssertEqual(try tensors[4].contiguousFloats(), [1, 0])
        XCTAssertEqual(TorchDType.allCases.map(\.byteSize), [4, 8, 2, 2, 8, 4, 2, 1, 1, 1])
    }

    func testLegacyFormatIsReadFromItsMappedStream() throws {
        let url = Fixtures.url("ds2_legacy.pt")
        let head = try [UInt8](Fixtures.data("ds2_legacy.pt").prefix(2))
        XCTAssertEqual(head, [0x80, 0x02], "the fixture must really be the legacy (non-zip) format")
        let dataset = try TorchArchive.loadAstroDataset(at: url)
        XCTAssertEqual(dataset.sampleCount, 2)
        XCTAssertTrue(dataset.images.storage.isMapped)
        XCTAssertEqual(try dataset.redshift.contiguousFloats().count, 2)
    }

    func testAstroDatasetAcceptsTheSpecShapes() throws {
        for name in ["ds3.pt", "ds2_legacy.pt", "views.pt", "deflated.pt"] {
            let dataset = try TorchArchive.loadAstroDataset(at: Fixtures.url(name))
            XCTAssertEqual(dataset.images.shape, [dataset.sampleCount, 5, 32, 32], name)
            XCTAssertEqual(dataset.magnitudes.shape, [dataset.sampleCount, 5], name)
        }
    }
}
