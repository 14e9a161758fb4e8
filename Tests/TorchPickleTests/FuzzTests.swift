import Foundation
import TorchPickle
import XCTest

/// Seeded random corruption: the reader must throw a TorchPickleError or return
/// tensors whose every element it can read, and never crash or hang.
final class FuzzTests: XCTestCase {
    private enum Outcome { case returned, threw }

    /// TORCHPICKLE_FUZZ_MULTIPLIER=N runs N times the iterations (deeper local runs).
    private static let multiplier = max(1, Int(ProcessInfo.processInfo.environment["TORCHPICKLE_FUZZ_MULTIPLIER"] ?? "") ?? 1)

    /// One to four random edits: bit flips, byte writes (often of opcode bytes),
    /// truncation, insertion, deletion and duplication of a span.
    private static func mutate(_ input: [UInt8], using generator: inout SplitMix64, keepLength: Bool) -> [UInt8] {
        var bytes = input
        let interesting: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x28, 0x29, 0x2e, 0x4e, 0x51, 0x52, 0x58, 0x5d,
                                    0x61, 0x62, 0x63, 0x65, 0x68, 0x6a, 0x71, 0x72, 0x73, 0x74, 0x75, 0x7d, 0x81,
                                    0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x93, 0x94, 0x95]
        for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<(keepLength ? 3 : 7), using: &generator) {
            case 0: bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            case 1: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 2: bytes[position] = interesting.randomElement(using: &generator)!
            case 3: bytes.removeSubrange(position...)
            case 4: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
            case 5: bytes.remove(at: position)
            default:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &generator))
            }
        }
        return bytes
    }

    /// Reads every byte a returned tensor addresses (touching the first and last
    /// element keeps the debug-build cost low while still exercising the bounds).
    private static func touch(_ tensors: [TorchTensor]) throws {
        for tensor in tensors {
            _ = try tensor.withContiguousBytes { raw -> UInt8 in
                raw.isEmpty ? 0 : raw[0] ^ raw[raw.count - 1]
            }
        }
    }

    func testPickleCorruptionsNeverCrash() throws {
        let seeds = [
            Fixtures.pickleBytes(ofZip: try [UInt8](Fixtures.data("ds3.pt"))).bytes,
            Fixtures.pickleBytes(ofZip: try [UInt8](Fixtures.data("proto4.pt"))).bytes,
            Fixtures.pickleBytes(ofZip: try [UInt8](Fixtures.data("mixed_dtypes.pt"))).bytes,
            PickleBuilder.dataset([PickleBuilder.Tensor(), PickleBuilder.Tensor(key: "1", shape: [2, 2], strides: [2, 1])]),
        ]
        XCTAssertTrue(seeds.allSatisfy { !$0.isEmpty })
        var generator = SplitMix64(state: 0x7041_7265_6164_6572)
        var counts: [Outcome: Int] = [.returned: 0, .threw: 0]
        let iterations = 24_000 * Self.multiplier
        for iteration in 0..<iterations {
            let seed = seeds[iteration % seeds.count]
            let mutated = Self.mutate(seed, using: &generator, keepLength: false)
            do {
                _ = try TorchArchive.tensorRecords(fromPickle: mutated, file: "fuzz-\(iteration)")
                counts[.returned, default: 0] += 1
            } catch is TorchPickleError {
                counts[.threw, default: 0] += 1
            }
        }
        print("TorchPickle fuzz: \(iterations) data.pkl corruptions, \(counts[.returned]!) parsed, \(counts[.threw]!) rejected")
        XCTAssertEqual(counts[.returned]! + counts[.threw]!, iterations)
        XCTAssertGreaterThan(counts[.threw]!, iterations / 2, "most corruptions must be rejected")
        XCTAssertGreaterThan(counts[.returned]!, 0, "some corruptions (e.g. in numbers) still parse")
    }

    func testArchiveCorruptionsNeverCrash() throws {
        let names = ["proto4.pt", "mixed_dtypes.pt", "views.pt", "ds2_legacy.pt", "deflated.pt"]
        let archives = try names.map { try [UInt8](Fixtures.data($0)) }
        var generator = SplitMix64(state: 0x5a49_5046_757a_7a21)
        var returned = 0
        var threw = 0
        let iterations = 5_000 * Self.multiplier
        for iteration in 0..<iterations {
            let index = iteration % archives.count
            let mutated = Self.mutate(archives[index], using: &generator, keepLength: false)
            do {
                let tensors = try TorchArchive.loadTensorDataset(data: Data(mutated), name: names[index],
                                                                 verifyChecksums: iteration % 2 == 0)
                try Self.touch(tensors)
                returned += 1
            } catch is TorchPickleError {
                threw += 1
            }
        }
        print("TorchPickle fuzz: \(iterations) whole-archive corruptions, \(returned) loaded, \(threw) rejected")
        XCTAssertEqual(returned + threw, iterations)
        XCTAssertGreaterThan(threw, 0)
    }

    /// Corrupts data.pkl inside real archives and fixes up its CRC so the edits reach
    /// the pickle machine and the storage checks, not just the checksum.
    func testPickleCorruptionsWithValidChecksumsNeverCrash() throws {
        let names = ["proto4.pt", "mixed_dtypes.pt", "views.pt", "ds3.pt"]
        let archives = try names.map { try [UInt8](Fixtures.data($0)) }
        var generator = SplitMix64(state: 0x4352_4346_6978_6564)
        var returned = 0
        var threw = 0
        var reachedPastChecksum = 0
        let iterations = 4_000 * Self.multiplier
        for iteration in 0..<iterations {
            let index = iteration % archives.count
            var archive = archives[index]
            let pickle = Fixtures.pickleBytes(ofZip: archive)
            let mutated = Self.mutate(pickle.bytes, using: &generator, keepLength: true)
            archive.replaceSubrange(pickle.offset..<(pickle.offset + mutated.count), with: mutated)
            Fixtures.patchPickleCRC(&archive, crc: referenceCRC32(mutated))
            do {
                let tensors = try TorchArchive.loadTensorDataset(data: Data(archive), name: names[index])
                try Self.touch(tensors)
                returned += 1
                reachedPastChecksum += 1
            } catch let error as TorchPickleError {
                threw += 1
                if case .checksumMismatch = error {} else { reachedPastChecksum += 1 }
            }
        }
        print("TorchPickle fuzz: \(iterations) CRC-fixed data.pkl corruptions, \(returned) loaded, \(threw) rejected")
        XCTAssertEqual(returned + threw, iterations)
        XCTAssertEqual(reachedPastChecksum, iterations, "with fixed CRCs every corruption must reach the pickle machine")
    }
}
