import Foundation
import TorchPickle
import XCTest

/// Seeded random corruption of whole-module pickles: the checkpoint reader must
/// throw a TorchPickleError or return tensors it can read, never crash or hang.
final class CheckpointFuzzTests: XCTestCase {
    func testModulePickleCorruptionsNeverCrash() throws {
        var archives: [(pickle: [UInt8], storages: [(key: String, bytes: [UInt8])])] = []
        for name in ["mini_full.pt", "mini_full_proto4.pt", "mini_nested_state_dict.pt"] {
            let bytes = try [UInt8](Fixtures.data("checkpoints/\(name)"))
            let entries = Fixtures.zipEntries(bytes)
            let storages = entries.compactMap { entry -> (key: String, bytes: [UInt8])? in
                guard let range = entry.name.range(of: "/data/") else { return nil }
                return (String(entry.name[range.upperBound...]), Array(bytes[entry.dataOffset..<(entry.dataOffset + entry.size)]))
            }
            archives.append((Fixtures.pickleBytes(ofZip: bytes).bytes, storages))
        }
        var generator = SplitMix64(state: 0x4d6f_6475_6c65_5472)
        var parsed = 0
        var rejected = 0
        let iterations = 400
        for iteration in 0..<iterations {
            let (pickle, storages) = archives[iteration % archives.count]
            var mutated = pickle
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let position = Int.random(in: 0..<mutated.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: mutated[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
                case 1: mutated[position] = UInt8.random(in: 0...255, using: &generator)
                case 2: mutated.removeSubrange(position...)
                default: mutated.insert(contentsOf: mutated[position..<min(mutated.count, position + 9)], at: position)
                }
                if mutated.isEmpty { mutated = [0x80] }
            }
            let archive = ZipWriter.torchArchive(pickle: mutated, storages: storages, prefix: "fuzz")
            do {
                let checkpoint = try TorchCheckpoint.load(data: Data(archive), name: "fuzz-\(iteration)")
                for entry in checkpoint.entries {
                    _ = try entry.tensor.withContiguousBytes { raw in raw.isEmpty ? 0 : raw[0] ^ raw[raw.count - 1] }
                }
                parsed += 1
            } catch is TorchPickleError {
                rejected += 1
            }
        }
        print("TorchPickle checkpoint fuzz: \(iterations) module-pickle corruptions, \(parsed) parsed, \(rejected) rejected")
        XCTAssertEqual(parsed + rejected, iterations)
        XCTAssertGreaterThan(rejected, iterations / 3)
    }
}
