import Foundation
import XCTest
import LambdaCost

final class ResourceTests: XCTestCase {
    func testVCPUMapping() {
        XCTAssertEqual(vcpuShare(memoryMB: 1769), 1.0)
        XCTAssertEqual(vcpuShare(memoryMB: 3538), 2.0)
        XCTAssertEqual(vcpuShare(memoryMB: 10240), 5.79, accuracy: 0.005)
        XCTAssertEqual(vcpuShare(memoryMB: 10240), 10240.0 / 1769.0)
        XCTAssertEqual(vcpuShare(memoryMB: 128), 128.0 / 1769.0)
        // The cap: with a denser mapping 10,240 MB would be 10.24 vCPUs.
        XCTAssertEqual(vcpuShare(memoryMB: 10240, megabytesPerVCPU: 1000), 6.0)
        XCTAssertEqual(vcpuShare(memoryMB: 20000), 6.0)
    }

    func testMemoryValidation() throws {
        XCTAssertEqual(try validateMemoryMB(128), 128)
        XCTAssertEqual(try validateMemoryMB(10240), 10240)
        for bad in [0, 127, 10241, -5] {
            XCTAssertThrowsError(try validateMemoryMB(bad, parameter: "sweep.memory")) { error in
                XCTAssertEqual(error as? LambdaCostError, .memoryOutOfRange(parameter: "sweep.memory", megabytes: bad))
                let text = String(describing: error)
                XCTAssertTrue(text.contains("sweep.memory = \(bad) MB"), text)
                XCTAssertTrue(text.contains("128...10240"), text)
            }
        }
        XCTAssertThrowsError(try validateEphemeralStorageMB(511))
        XCTAssertEqual(try validateEphemeralStorageMB(512), 512)
    }

    func testAutoMemoryUsesMinimumHeadroomForSmallPeaks() throws {
        // 300 MiB peak: 15% is 45 MB, below the 64 MB minimum.
        let choice = try autoMemory(peakRSSBytes: 300 * 1_048_576)
        XCTAssertEqual(choice.headroomMB, 64)
        XCTAssertEqual(choice.memoryMB, 364)
        XCTAssertFalse(choice.wasClamped)
    }

    func testAutoMemoryUsesFractionForLargePeaksAndRoundsUp() throws {
        // 1,000.5 MiB peak: 15% = 150.075 MB, total 1,150.575 -> 1,151.
        let choice = try autoMemory(peakRSSBytes: 1_000 * 1_048_576 + 524_288)
        XCTAssertEqual(choice.headroomMB, 150.075, accuracy: 1e-9)
        XCTAssertEqual(choice.memoryMB, 1151)
        // A whole-MB total is not bumped: 1,000 MiB x 1.2 = 1,200 exactly.
        XCTAssertEqual(try autoMemory(peakRSSBytes: 1_000 * 1_048_576, headroomFraction: 0.2).memoryMB, 1200)
    }

    func testAutoMemoryClamps() throws {
        let tiny = try autoMemory(peakRSSBytes: 10 * 1_048_576)
        XCTAssertEqual(tiny.requiredMB, 74)
        XCTAssertEqual(tiny.memoryMB, 128)
        XCTAssertTrue(tiny.wasClamped)
        XCTAssertTrue(tiny.fits)
        let huge = try autoMemory(peakRSSBytes: 10_000 * 1_048_576)
        XCTAssertEqual(huge.requiredMB, 11500)
        XCTAssertEqual(huge.memoryMB, 10240)
        XCTAssertFalse(huge.fits)
        XCTAssertThrowsError(try autoMemory(peakRSSBytes: -1))
        XCTAssertThrowsError(try autoMemory(peakRSSBytes: 1, headroomFraction: -0.1))
    }

    func testMemorySetting() throws {
        XCTAssertEqual(try MemorySetting(parsing: "auto"), .auto)
        XCTAssertEqual(try MemorySetting(parsing: "AUTO"), .auto)
        XCTAssertEqual(try MemorySetting(parsing: "2048"), .fixed(megabytes: 2048))
        XCTAssertEqual(try MemorySetting(parsing: "2048MB"), .fixed(megabytes: 2048))
        XCTAssertThrowsError(try MemorySetting(parsing: "64"))
        XCTAssertThrowsError(try MemorySetting(parsing: "lots"))
        XCTAssertEqual(try MemorySetting.auto.resolve(peakRSSBytes: 300 * 1_048_576), 364)
        XCTAssertEqual(try MemorySetting.fixed(megabytes: 3008).resolve(peakRSSBytes: nil), 3008)
        XCTAssertThrowsError(try MemorySetting.auto.resolve(peakRSSBytes: nil))

        let decoded = try JSONDecoder().decode([MemorySetting].self, from: Data(#"["auto", 1769, "512"]"#.utf8))
        XCTAssertEqual(decoded, [.auto, .fixed(megabytes: 1769), .fixed(megabytes: 512)])
        XCTAssertEqual(String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self), #"["auto",1769,512]"#)
        XCTAssertThrowsError(try JSONDecoder().decode([MemorySetting].self, from: Data("[99999]".utf8)))
    }
}
