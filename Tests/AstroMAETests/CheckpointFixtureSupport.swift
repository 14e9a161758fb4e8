import AstroMAE
import Foundation

/// Rebuilds the real-architecture torch.save archives that
/// scripts/make_checkpoint_fixtures.py wrote with PyTorch. Their 61 MB of
/// storages are not committed: the skeleton zip holds every other entry
/// verbatim (data.pkl included) and astromae.json names the seeded tensor in
/// each storage with the SHA-256 of PyTorch's bytes, so the rebuilt archive
/// is checked to carry exactly PyTorch's bytes before it is used.
enum CheckpointFixtures {
    static let directory = TestPaths.repository.appendingPathComponent("Tests/TorchPickleTests/Fixtures/checkpoints")

    struct Manifest: Decodable {
        struct Storage: Decodable {
            let entry: String
            let bytes: Int
            let sha256: String
            let dtype: String
            let tensor: String?
            let fill: String?
        }

        struct Variant: Decodable {
            let skeleton: String
            let entries: [String]
            let storages: [Storage]
            let predictions: [Double]
        }

        let torch_version: String
        let variants: [String: Variant]
        let golden_predictions: [Double]
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: directory.appendingPathComponent("astromae.json")))
    }

    enum Failure: Error, CustomStringConvertible {
        case bad(String)
        var description: String {
            switch self {
            case .bad(let text): return text
            }
        }
    }

    private static var assembled: [String: URL] = [:]

    /// Variant `name` rebuilt from the seeded weights, once per test process (it is 61 MB).
    static func archive(_ name: String) throws -> URL {
        if let url = assembled[name] { return url }
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("\(name).pt")
        try assemble(name, weights: .seeded(), into: url)
        assembled[name] = url
        return url
    }

    /// Writes variant `name` as a torch-layout zip (entries in PyTorch's order, data 64-byte aligned).
    static func assemble(_ name: String, weights: ModelWeights, into url: URL) throws {
        let manifest = try manifest()
        guard let variant = manifest.variants[name] else { throw Failure.bad("no variant \(name)") }
        let skeleton = try TestZip.read(Array(Data(contentsOf: directory.appendingPathComponent(variant.skeleton))))
        let storages = Dictionary(uniqueKeysWithValues: variant.storages.map { ($0.entry, $0) })
        var entries: [(String, [UInt8])] = []
        for entry in variant.entries {
            if let storage = storages[entry] {
                let bytes = try storageBytes(storage, weights: weights)
                guard bytes.count == storage.bytes, TestSHA256.hex(bytes) == storage.sha256 else {
                    throw Failure.bad("\(entry) (\(storage.tensor ?? "zeros"), \(storage.dtype)) differs from PyTorch's bytes")
                }
                entries.append((entry, bytes))
            } else if let bytes = skeleton[entry] {
                entries.append((entry, bytes))
            } else {
                throw Failure.bad("skeleton lacks \(entry)")
            }
        }
        try Data(TestZip.write(entries, alignment: 64)).write(to: url)
    }

    private static func storageBytes(_ storage: Manifest.Storage, weights: ModelWeights) throws -> [UInt8] {
        if storage.fill == "zeros" { return [UInt8](repeating: 0, count: storage.bytes) }
        guard let name = storage.tensor else { throw Failure.bad("\(storage.entry) names no tensor") }
        let values = weights.tensor(name)
        var bytes: [UInt8] = []
        switch storage.dtype {
        case "float32":
            bytes.reserveCapacity(values.count * 4)
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        case "float16":
            bytes.reserveCapacity(values.count * 2)
            for value in values { withUnsafeBytes(of: halfBits(value).littleEndian) { bytes += $0 } }
        default:
            throw Failure.bad("\(storage.entry): dtype \(storage.dtype) not handled by the test")
        }
        return bytes
    }

    /// float32 → IEEE binary16 bits, round to nearest even (what torch's `.half()` does).
    static func halfBits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xff)
        var mantissa = bits & 0x7f_ffff
        if exponent == 0xff { return sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0) }
        var halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1f { return sign | 0x7c00 }
        if halfExponent <= 0 {
            if halfExponent < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - halfExponent)
            var half = mantissa >> shift
            let remainder = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = mantissa >> 13
        let remainder = mantissa & 0x1fff
        if remainder > 0x1000 || (remainder == 0x1000 && half & 1 == 1) {
            half += 1
            if half == 0x400 {
                half = 0
                halfExponent += 1
                if halfExponent >= 0x1f { return sign | 0x7c00 }
            }
        }
        return sign | UInt16(halfExponent << 10) | UInt16(half)
    }
}

/// Stored-only zip reading and writing for the fixtures (independent of the reader under test).
enum TestZip {
    static func read(_ bytes: [UInt8]) throws -> [String: [UInt8]] {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard let end = stride(from: bytes.count - 22, through: 0, by: -1).first(where: { u32($0) == 0x0605_4b50 }) else {
            throw CheckpointFixtures.Failure.bad("no end of central directory")
        }
        var cursor = u32(end + 16)
        var result: [String: [UInt8]] = [:]
        for _ in 0..<u16(end + 10) {
            guard u16(cursor + 10) == 0 else { throw CheckpointFixtures.Failure.bad("skeleton entry is compressed") }
            let size = u32(cursor + 24)
            let nameLength = u16(cursor + 28)
            let name = String(decoding: bytes[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self)
            let local = u32(cursor + 42)
            let data = local + 30 + u16(local + 26) + u16(local + 28)
            result[name] = Array(bytes[data..<(data + size)])
            cursor += 46 + nameLength + u16(cursor + 30) + u16(cursor + 32)
        }
        return result
    }

    static func write(_ entries: [(String, [UInt8])], alignment: Int) -> [UInt8] {
        var output: [UInt8] = []
        var directory: [UInt8] = []
        func u16(_ value: Int, _ into: inout [UInt8]) { into += [UInt8(value & 0xff), UInt8((value >> 8) & 0xff)] }
        func u32(_ value: Int, _ into: inout [UInt8]) { for shift in [0, 8, 16, 24] { into.append(UInt8((value >> shift) & 0xff)) } }
        for (name, data) in entries {
            let offset = output.count
            let nameBytes = Array(name.utf8)
            let headerEnd = offset + 30 + nameBytes.count + 4
            let padding = (alignment - headerEnd % alignment) % alignment
            let crc = Int(TestCRC32.checksum(data))
            u32(0x0403_4b50, &output); u16(20, &output); u16(0, &output); u16(0, &output); u16(0, &output); u16(0, &output)
            u32(crc, &output); u32(data.count, &output); u32(data.count, &output)
            u16(nameBytes.count, &output); u16(4 + padding, &output)
            output += nameBytes
            u16(0x4246, &output); u16(padding, &output)
            output += [UInt8](repeating: 0, count: padding) + data
            u32(0x0201_4b50, &directory); u16(20, &directory); u16(20, &directory); u16(0, &directory); u16(0, &directory)
            u16(0, &directory); u16(0, &directory); u32(crc, &directory); u32(data.count, &directory); u32(data.count, &directory)
            u16(nameBytes.count, &directory); u16(0, &directory); u16(0, &directory); u16(0, &directory); u16(0, &directory)
            u32(0, &directory); u32(offset, &directory)
            directory += nameBytes
        }
        let directoryOffset = output.count
        output += directory
        u32(0x0605_4b50, &output); u16(0, &output); u16(0, &output); u16(entries.count, &output); u16(entries.count, &output)
        u32(directory.count, &output); u32(directoryOffset, &output); u16(0, &output)
        return output
    }
}

enum TestCRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in (crc >> 1) ^ (0xedb8_8320 & (0 &- (crc & 1))) }
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        ~bytes.reduce(UInt32.max) { crc, byte in (crc >> 8) ^ table[Int((crc ^ UInt32(byte)) & 0xff)] }
    }
}

/// FIPS 180-4 SHA-256, written out so the test does not trust the code it checks.
enum TestSHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { padded.append(UInt8((bitLength >> UInt64(shift)) & 0xff)) }
        var w = [UInt32](repeating: 0, count: 64)
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        for chunk in stride(from: 0, to: padded.count, by: 64) {
            for i in 0..<16 {
                w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(padded[chunk + 4 * i + $1]) }
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (index, value) in [a, b, c, d, e, f, g, hh].enumerated() { h[index] = h[index] &+ value }
        }
        return h.map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 8 - digits.count) + digits
        }.joined()
    }
}
