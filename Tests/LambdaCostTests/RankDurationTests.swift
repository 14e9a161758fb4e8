import Foundation
import XCTest
import LambdaCost

final class RankDurationTests: XCTestCase {
    /// t1 = 20 s, t2 = 12.5 s -> e = 20 / 25 = 0.8. Model 45 MB and data 90 MB
    /// (10^6 bytes) take 0.5 s and 1.0 s at the default 90 MB/s.
    let measured = LocalRankMeasurement(
        modelLoadSeconds: 2.0, dataLoadSeconds: 0.5,
        inferenceSeconds1Thread: 20, inferenceSeconds2Threads: 12.5,
        dataBytes: 90_000_000, modelBytes: 45_000_000)

    func testTwoVCPUsWithMeasuredEfficiency() throws {
        XCTAssertEqual(measured.parallelEfficiency!, 0.8, accuracy: 1e-15)
        let r = try lambdaRankDuration(measured: measured, memoryMB: 3538)
        XCTAssertEqual(r.vcpu, 2.0)
        XCTAssertEqual(r.effectiveCores, 1.8, accuracy: 1e-12)
        XCTAssertEqual(r.initSeconds, 1.0)
        XCTAssertEqual(r.modelLoadSeconds, 2.5, accuracy: 1e-12)
        XCTAssertEqual(r.dataReadSeconds, 1.5, accuracy: 1e-12)
        XCTAssertEqual(r.s3TransferSeconds, 1.5, accuracy: 1e-12)
        XCTAssertEqual(r.inferenceSeconds, 20 / 1.8, accuracy: 1e-12)
        XCTAssertEqual(r.totalSeconds, 5 + 20 / 1.8, accuracy: 1e-12)
        XCTAssertEqual(r.billedMilliseconds, 16112)  // 16,111.1 ms rounded up
        XCTAssertEqual(r.billedSeconds, 16.112, accuracy: 1e-12)
        XCTAssertFalse(r.exceedsTimeout)
    }

    func testOneVCPUIsTheSingleThreadTime() throws {
        let r = try lambdaRankDuration(measured: measured, memoryMB: 1769)
        XCTAssertEqual(r.effectiveCores, 1.0)
        XCTAssertEqual(r.inferenceSeconds, 20, accuracy: 1e-12)
        XCTAssertEqual(r.billedMilliseconds, 25000)
    }

    func testFractionalShareSlowsEverythingCPUBound() throws {
        let r = try lambdaRankDuration(measured: measured, memoryMB: 442)
        let share = 442.0 / 1769.0
        XCTAssertEqual(r.effectiveCores, share, accuracy: 1e-15)
        XCTAssertEqual(r.inferenceSeconds, 20 / share, accuracy: 1e-9)
        XCTAssertEqual(r.modelLoadSeconds, 0.5 + 2.0 / share, accuracy: 1e-9)
        XCTAssertEqual(r.dataReadSeconds, 1.0 + 0.5 / share, accuracy: 1e-9)
        XCTAssertEqual(r.s3TransferSeconds, 1.5, accuracy: 1e-12)
    }

    func testMaximumMemory() throws {
        let r = try lambdaRankDuration(measured: measured, memoryMB: 10240)
        let vcpu = 10240.0 / 1769.0
        XCTAssertEqual(r.effectiveCores, 1 + (vcpu - 1) * 0.8, accuracy: 1e-12)
        XCTAssertEqual(r.inferenceSeconds, 20 / (1 + (vcpu - 1) * 0.8), accuracy: 1e-12)
    }

    func testAssumptionsChangeTheResult() throws {
        let fast = LambdaAssumptions(coldStartSeconds: 0.25, s3ReadMegabytesPerSecond: 180, cpuSpeedFactor: 2)
        let r = try lambdaRankDuration(measured: measured, memoryMB: 1769, assumptions: fast)
        XCTAssertEqual(r.initSeconds, 0.25)
        XCTAssertEqual(r.inferenceSeconds, 10, accuracy: 1e-12)
        XCTAssertEqual(r.modelLoadSeconds, 0.25 + 1.0, accuracy: 1e-12)
        XCTAssertEqual(r.dataReadSeconds, 0.5 + 0.25, accuracy: 1e-12)
        XCTAssertEqual(r.billedMilliseconds, 12250)
    }

    func testUnmeasuredEfficiencyUsesTheAssumption() throws {
        var oneThread = measured
        oneThread.inferenceSeconds2Threads = nil
        XCTAssertNil(oneThread.parallelEfficiency)
        let none = try lambdaRankDuration(measured: oneThread, memoryMB: 3538)
        XCTAssertEqual(none.parallelEfficiency, 0)
        XCTAssertEqual(none.inferenceSeconds, 20, accuracy: 1e-12)
        let perfect = try lambdaRankDuration(
            measured: oneThread, memoryMB: 3538, assumptions: LambdaAssumptions(parallelEfficiencyWhenUnmeasured: 1))
        XCTAssertEqual(perfect.inferenceSeconds, 10, accuracy: 1e-12)
    }

    func testSuperlinearEfficiencyIsClamped() throws {
        var lucky = measured
        lucky.inferenceSeconds2Threads = 8  // 20 / 16 = 1.25
        XCTAssertEqual(lucky.parallelEfficiency, 1)
        XCTAssertEqual(try lambdaRankDuration(measured: lucky, memoryMB: 3538).inferenceSeconds, 10, accuracy: 1e-12)
    }

    func testTimeoutFlag() throws {
        var slow = measured
        slow.inferenceSeconds1Thread = 1000
        XCTAssertTrue(try lambdaRankDuration(measured: slow, memoryMB: 1769).exceedsTimeout)
    }

    func testRejectsBadInputs() {
        XCTAssertThrowsError(try lambdaRankDuration(measured: measured, memoryMB: 100)) { error in
            XCTAssertEqual(error as? LambdaCostError, .memoryOutOfRange(parameter: "memoryMB", megabytes: 100))
        }
        var bad = measured
        bad.dataLoadSeconds = -1
        XCTAssertThrowsError(try lambdaRankDuration(measured: bad, memoryMB: 2048)) {
            XCTAssertTrue(String(describing: $0).contains("dataLoadSeconds = -1.0"), String(describing: $0))
        }
        bad = measured
        bad.inferenceSeconds2Threads = 0
        XCTAssertThrowsError(try lambdaRankDuration(measured: bad, memoryMB: 2048))
        XCTAssertThrowsError(try lambdaRankDuration(
            measured: measured, memoryMB: 2048, assumptions: LambdaAssumptions(s3ReadMegabytesPerSecond: 0)))
        XCTAssertThrowsError(try lambdaRankDuration(
            measured: measured, memoryMB: 2048, assumptions: LambdaAssumptions(cpuSpeedFactor: -1)))
    }

    func testAssumptionsDecodeWithDefaults() throws {
        let a = try JSONDecoder().decode(LambdaAssumptions.self, from: Data(#"{"coldStartSeconds": 0.4}"#.utf8))
        XCTAssertEqual(a, LambdaAssumptions(coldStartSeconds: 0.4))
        XCTAssertEqual(a.s3ReadMegabytesPerSecond, 90)
    }
}
