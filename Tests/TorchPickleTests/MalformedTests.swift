import Foundation
import TorchPickle
import XCTest

/// Each malformed input must fail with its own specific error, never execute
/// anything and never crash.
final class MalformedFixtureTests: XCTestCase {
    func testForeignGlobalIsRefusedByName() throws {
        let url = Fixtures.url("evil_global.pt")
        assertTorchError(try TorchArchive.loadTensorDataset(at: url)) { error in
            guard case let .forbiddenGlobal(file, entry, offset, global) = error else { return false }
            return file == url.path && entry == "evil/data.pkl" && offset == 2 && global == "os.system"
                && error.description.contains("os.system") && error.description.contains("evil_global.pt")
        }
    }

    func testWrongImageDTypeIsReportedForImages() throws {
        let url = Fixtures.url("wrong_dtype.pt")
        XCTAssertEqual(try TorchArchive.loadTensorDataset(at: url).first?.dtype, .float64, "a generic TensorDataset still loads")
        assertTorchError(try TorchArchive.loadAstroDataset(at: url)) { error in
            guard case let .wrongDType(_, tensor, expected, actual) = error else { return false }
            return tensor == "images" && expected == [.float32] && actual == .float64
        }
    }

    func testWrongImageShapeIsReportedForImages() throws {
        assertTorchError(try TorchArchive.loadAstroDataset(at: Fixtures.url("wrong_shape.pt"))) { error in
            guard case let .wrongShape(_, tensor, _, actual) = error else { return false }
            return tensor == "images" && actual == [1, 5, 16, 16]
        }
    }

    func testDifferentSampleCountsAreRefused() throws {
        assertTorchError(try TorchArchive.loadTensorDataset(at: Fixtures.url("mismatched_counts.pt"))) { error in
            guard case let .sampleCountMismatch(_, counts) = error else { return false }
            return counts == [2, 1, 2]
        }
    }

    func testBigEndianArchivesAreRefused() throws {
        assertTorchError(try TorchArchive.loadTensorDataset(at: Fixtures.url("big_endian.pt"))) { error in
            guard case let .unsupportedByteOrder(_, entry, value) = error else { return false }
            return entry == "big_endian/byteorder" && value == "big"
        }
    }

    func testTruncatedArchiveIsRefused() throws {
        assertTorchError(try TorchArchive.loadTensorDataset(at: Fixtures.url("truncated.pt"))) { error in
            guard case let .malformedZip(_, reason) = error else { return false }
            return reason.contains("end of central directory")
        }
    }

    func testAstroDatasetNeedsThreeTensors() throws {
        let tensors = try TorchArchive.loadTensorDataset(at: Fixtures.url("mixed_dtypes.pt"))
        assertTorchError(try AstroTensorDataset(tensors: tensors, file: "mixed")) { error in
            if case .wrongTensorCount(_, 3, 5) = error { return true }
            return false
        }
    }

    func testMissingAndEmptyFilesAreReported() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("torchpickle-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.pt")
        try Data().write(to: empty)
        assertTorchError(try TorchArchive.loadTensorDataset(at: directory.appendingPathComponent("absent.pt"))) {
            if case .unreadableFile = $0 { return true }
            return false
        }
        assertTorchError(try TorchArchive.loadTensorDataset(at: empty)) {
            if case .notATorchFile = $0 { return true }
            return false
        }
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data("hello world".utf8), name: "text")) {
            if case let .notATorchFile(file, reason) = $0 { return file == "text" && reason.contains("0x68") }
            return false
        }
    }
}

/// Checksum and compression handling on real archives edited in memory.
final class ChecksumTests: XCTestCase {
    func testCorruptPickleIsCaughtByItsCRC() throws {
        var bytes = try [UInt8](Fixtures.data("ds3.pt"))
        let pickle = Fixtures.pickleBytes(ofZip: bytes)
        bytes[pickle.offset + 60] ^= 0x01
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data(bytes), name: "ds3.pt")) { error in
            guard case let .checksumMismatch(_, entry, _, _) = error else { return false }
            return entry == "ds3/data.pkl"
        }
    }

    func testStorageCRCIsCheckedOnlyOnRequest() throws {
        var bytes = try [UInt8](Fixtures.data("ds3.pt"))
        let pickle = Fixtures.pickleBytes(ofZip: bytes)
        // Flip a byte of images element 160 inside the first storage entry.
        let original = try TorchArchive.loadTensorDataset(data: Data(bytes), name: "ds3.pt")[0].contiguousFloats()
        let offset = try XCTUnwrap(Fixtures.entryDataOffset(bytes, name: "ds3/data/0"))
        XCTAssertGreaterThan(offset, pickle.offset)
        XCTAssertEqual(offset % 64, 0, "torch aligns storage data to 64 bytes")
        bytes[offset + 160 * 4 + 3] ^= 0x40
        let edited = try TorchArchive.loadTensorDataset(data: Data(bytes), name: "ds3.pt")[0].contiguousFloats()
        XCTAssertNotEqual(edited[160], original[160])
        XCTAssertEqual(edited[161], original[161])
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data(bytes), name: "ds3.pt", verifyChecksums: true)) { error in
            guard case let .checksumMismatch(_, entry, _, _) = error else { return false }
            return entry == "ds3/data/0"
        }
    }

    func testCorruptDeflateStreamFailsCleanly() throws {
        let bytes = try [UInt8](Fixtures.data("deflated.pt"))
        var generator = SplitMix64(state: 11)
        var failures = 0
        for _ in 0..<50 {
            var edited = bytes
            let position = Int.random(in: 600..<(bytes.count - 400), using: &generator)
            edited[position] ^= UInt8.random(in: 1...255, using: &generator)
            do {
                _ = try TorchArchive.loadTensorDataset(data: Data(edited), name: "deflated.pt")
            } catch let error as TorchPickleError {
                switch error {
                case .checksumMismatch, .corruptEntry, .malformedZip, .truncatedPickle, .unknownOpcode,
                     .unsupportedOpcode, .malformedPickle, .unsupportedCompression, .storageSizeMismatch:
                    failures += 1
                default:
                    XCTFail("unexpected error \(error)")
                }
            }
        }
        XCTAssertGreaterThan(failures, 40, "edits inside deflated data must be caught by the CRC or the inflater")
    }
}

/// Archives crafted byte by byte for cases torch would never write.
final class CraftedArchiveTests: XCTestCase {
    private let values: [Float] = [1, 2, 3, 4]

    private func load(_ bytes: [UInt8]) throws -> [TorchTensor] {
        try TorchArchive.loadTensorDataset(data: Data(bytes), name: "crafted.pt")
    }

    func testHandMadeArchiveLoads() throws {
        let pickle = PickleBuilder.dataset([PickleBuilder.Tensor()])
        let tensors = try load(ZipWriter.torchArchive(pickle: pickle, storages: [("0", floatBytes(values))]))
        XCTAssertEqual(try tensors[0].contiguousFloats(), values)
    }

    func testZip64DirectoryRecordsAreFollowed() throws {
        let pickle = PickleBuilder.dataset([PickleBuilder.Tensor()])
        let archive = ZipWriter.torchArchive(pickle: pickle, storages: [("0", floatBytes(values))], zip64: true)
        XCTAssertEqual(Array(archive.suffix(22).prefix(4)), [0x50, 0x4b, 0x05, 0x06])
        XCTAssertEqual(try load(archive)[0].contiguousFloats(), values)
        var brokenLocator = archive
        brokenLocator[brokenLocator.count - 22 - 20] ^= 0xff
        assertTorchError(try load(brokenLocator)) {
            if case let .malformedZip(_, reason) = $0 { return reason.contains("ZIP64") }
            return false
        }
    }

    func testMisalignedStorageIsCopiedNotMisread() throws {
        // ZipWriter does not pad, so this storage starts at an odd file offset.
        let pickle = PickleBuilder.dataset([PickleBuilder.Tensor()])
        let archive = ZipWriter.torchArchive(pickle: pickle, storages: [("0", floatBytes(values))], prefix: "odd")
        let tensor = try load(archive)[0]
        let storageAddress = tensor.storage.withUnsafeBytes { Int(bitPattern: $0.baseAddress) }
        XCTAssertNotEqual(storageAddress % 4, 0, "the crafted storage should be misaligned")
        let viewAddress = try tensor.withContiguousBytes { Int(bitPattern: $0.baseAddress) }
        XCTAssertEqual(viewAddress % 4, 0, "misaligned storages are handed out as an aligned copy")
        XCTAssertEqual(try tensor.contiguousFloats(), values)
    }

    func testMissingStorageEntry() throws {
        let pickle = PickleBuilder.dataset([PickleBuilder.Tensor(key: "7")])
        assertTorchError(try load(ZipWriter.torchArchive(pickle: pickle, storages: [("0", floatBytes(values))]))) {
            if case let .missingEntry(_, entry) = $0 { return entry == "a/data/7" }
            return false
        }
    }

    func testStorageSizeMustMatchDeclaredElementCount() throws {
        let pickle = PickleBuilder.dataset([PickleBuilder.Tensor(storageCount: 5, shape: [5])])
        assertTorchError(try load(ZipWriter.torchArchive(pickle: pickle, storages: [("0", floatBytes(values))]))) {
            if case let .storageSizeMismatch(_, entry, 20, 16) = $0 { return entry == "a/data/0" }
            return false
        }
    }

    func testSharedStorageWithConflictingTypesIsRefused() throws {
        let pickle = PickleBuilder.dataset([
            PickleBuilder.Tensor(),
            PickleBuilder.Tensor(storageClass: "IntStorage"),
        ])
        assertTorchError(try load(ZipWriter.torchArchive(pickle: pickle, storages: [("0", floatBytes(values))]))) {
            if case let .invalidTensor(_, tensor, reason) = $0 { return tensor.hasPrefix("tensors[1]") && reason.contains("int32") }
            return false
        }
    }

    func testSharedStorageIsOneObject() throws {
        let pickle = PickleBuilder.dataset([
            PickleBuilder.Tensor(shape: [2], strides: [1]),
            PickleBuilder.Tensor(offset: 2, shape: [2], strides: [1]),
        ])
        let tensors = try load(ZipWriter.torchArchive(pickle: pickle, storages: [("0", floatBytes(values))]))
        XCTAssertTrue(tensors[0].storage === tensors[1].storage)
        XCTAssertEqual(try tensors[1].contiguousFloats(), [3, 4])
    }

    func testZipStructureErrors() throws {
        let pickle = PickleBuilder.dataset([PickleBuilder.Tensor()])
        let storage = floatBytes(values)
        let cases: [(String, [ZipWriter.Entry], (TorchPickleError) -> Bool)] = [
            ("no folder", [.init(name: "data.pkl", data: pickle)], {
                if case let .malformedZip(_, reason) = $0 { return reason.contains("archive folder") }
                return false
            }),
            ("bzip2", [.init(name: "a/data.pkl", data: pickle, method: 12)], {
                if case let .unsupportedCompression(_, entry, 12) = $0 { return entry == "a/data.pkl" }
                return false
            }),
            ("encrypted", [.init(name: "a/data.pkl", data: pickle, flags: 1)], {
                if case let .malformedZip(_, reason) = $0 { return reason.contains("encrypted") }
                return false
            }),
            ("duplicate", [.init(name: "a/data.pkl", data: pickle), .init(name: "a/data.pkl", data: pickle)], {
                if case let .malformedZip(_, reason) = $0 { return reason.contains("duplicate") }
                return false
            }),
            ("no pickle", [.init(name: "a/data/0", data: storage)], {
                if case let .missingEntry(_, entry) = $0 { return entry == "a/data.pkl" }
                return false
            }),
        ]
        for (label, entries, matches) in cases {
            assertTorchError(try load(ZipWriter.archive(entries)), label, matches)
        }
        var noDirectory = ZipWriter.torchArchive(pickle: pickle, storages: [("0", storage)])
        let end = noDirectory.count - 22
        writeUInt32(&noDirectory, end + 16, UInt32(noDirectory.count))
        assertTorchError(try load(noDirectory)) {
            if case let .malformedZip(_, reason) = $0 { return reason.contains("outside") }
            return false
        }
    }
}

/// The legacy (non-zip) format: supported, so its damage must be reported precisely.
final class LegacyFormatTests: XCTestCase {
    private func legacyBytes() throws -> [UInt8] { try [UInt8](Fixtures.data("ds2_legacy.pt")) }

    func testTruncatedStorageDataIsReported() throws {
        let bytes = try legacyBytes()
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data(bytes.dropLast(100)), name: "legacy")) {
            if case let .storageSizeMismatch(file, entry, _, _) = $0 { return file == "legacy" && entry.hasPrefix("storage '") }
            return false
        }
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data(bytes.prefix(300)), name: "legacy")) {
            if case .truncatedPickle = $0 { return true }
            return false
        }
    }

    func testUnknownProtocolVersionIsRefused() throws {
        var bytes = try legacyBytes()
        // Pickle 2 is `\x80\x02 M <1001 little-endian> .` right after the 15-byte magic pickle.
        XCTAssertEqual(Array(bytes[15..<21]), [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e])
        bytes[18] = 0xe8
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data(bytes), name: "legacy")) { error in
            guard case .unsupportedLegacyFormat = error else { return false }
            return error.description.contains("legacy torch.save format not supported, re-save with torch>=1.6")
        }
    }

    func testBigEndianSysInfoIsRefused() throws {
        var bytes = try legacyBytes()
        let marker = Array("little_endian".utf8)
        let start = try XCTUnwrap((0..<200).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        let flag = start + marker.count + 2 // BINPUT n, then NEWTRUE
        XCTAssertEqual(bytes[flag], 0x88)
        bytes[flag] = 0x89
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data(bytes), name: "legacy")) {
            if case let .unsupportedByteOrder(_, entry, _) = $0 { return entry == "sys_info" }
            return false
        }
    }

    func testWrongMagicAndTarFormats() throws {
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data([0x80, 0x02, 0x4b, 0x01, 0x2e]), name: "plain")) {
            if case .notATorchFile = $0 { return true }
            return false
        }
        var tar = [UInt8](repeating: 0, count: 1024)
        tar[0] = 0x61
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        assertTorchError(try TorchArchive.loadTensorDataset(data: Data(tar), name: "old.tar")) { error in
            guard case .unsupportedLegacyFormat = error else { return false }
            return error.description.contains("re-save with torch>=1.6")
        }
    }
}
