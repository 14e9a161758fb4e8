import Foundation
import XCTest
import LambdaCost

/// Hand-worked fleets; each expected schedule is derived in the comment above it.
final class FleetScheduleTests: XCTestCase {
    // MaxConcurrency 2: ranks 0,1 at 0 s; 2,3 at 10 s; 4 at 20 s; ends at 30 s.
    func testMaxConcurrencyLimited() throws {
        let s = try simulateFleet(ranks: 5, durationSeconds: 10, scaling: ScalingModel(mapMaxConcurrency: 2))
        XCTAssertEqual(s.makespanSeconds, 30)
        XCTAssertEqual(s.peakConcurrency, 2)
        XCTAssertEqual(s.startTimes, [0, 0, 10, 10, 20])
        XCTAssertEqual(s.endTimes, [10, 10, 20, 20, 30])
    }

    // Account concurrency 3, 7 ranks of 5 s: 3 at 0, 3 at 5, 1 at 10; ends 15.
    func testAccountConcurrencyLimited() throws {
        let s = try simulateFleet(ranks: 7, durationSeconds: 5, scaling: ScalingModel(accountConcurrency: 3, burst: 3))
        XCTAssertEqual(s.startTimes, [0, 0, 0, 5, 5, 5, 10])
        XCTAssertEqual(s.makespanSeconds, 15)
        XCTAssertEqual(s.peakConcurrency, 3)
    }

    // Burst above the account limit is capped by the account limit.
    func testBurstCappedByAccount() throws {
        let s = try simulateFleet(ranks: 4, durationSeconds: 2, scaling: ScalingModel(accountConcurrency: 2))
        XCTAssertEqual(s.startTimes, [0, 0, 2, 2])
        XCTAssertEqual(s.makespanSeconds, 4)
    }

    // Defaults: 500 ranks all start at once (1,000 burst, 1,000 account).
    func testDefaultsStartAPaperSizedFleetAtOnce() throws {
        let s = try simulateFleet(ranks: 517, durationSeconds: 6.55)
        XCTAssertEqual(s.makespanSeconds, 6.55)
        XCTAssertEqual(s.peakConcurrency, 517)
        XCTAssertTrue(s.startTimes.allSatisfy { $0 == 0 })
    }

    // Scaling rate: burst 2, +2 every 10 s, account 10; 8 ranks of 25 s.
    // t=0 limit 2: r0,r1 (end 25). t=10 limit 4: r2,r3 (end 35).
    // t=20 limit 6: r4,r5 (end 45). t=25 r0,r1 end, 4 running < 6: r6,r7 (end 50).
    func testScalingRateLimited() throws {
        let scaling = ScalingModel(accountConcurrency: 10, burst: 2, scalingIncrement: 2, scalingIntervalSeconds: 10)
        let s = try simulateFleet(ranks: 8, durationSeconds: 25, scaling: scaling)
        XCTAssertEqual(s.startTimes, [0, 0, 10, 10, 20, 20, 25, 25])
        XCTAssertEqual(s.makespanSeconds, 50)
        XCTAssertEqual(s.peakConcurrency, 6)
        XCTAssertEqual(scaling.concurrencyLimit(at: 0), 2)
        XCTAssertEqual(scaling.concurrencyLimit(at: 9.99), 2)
        XCTAssertEqual(scaling.concurrencyLimit(at: 10), 4)
        XCTAssertEqual(scaling.concurrencyLimit(at: 1000), 10)
    }

    // Scaling and MaxConcurrency together: burst 1, +1 every 4 s, MaxConcurrency 2;
    // 4 ranks of 3 s. t=0: r0 (end 3). t=3: r0 ends, limit still 1: r1 (end 6).
    // t=4: limit 2: r2 (end 7). t=6: r1 ends: r3 (end 9). Limit never passes 2.
    func testScalingThenMaxConcurrency() throws {
        let scaling = ScalingModel(
            accountConcurrency: 100, burst: 1, scalingIncrement: 1, scalingIntervalSeconds: 4, mapMaxConcurrency: 2)
        let s = try simulateFleet(ranks: 4, durationSeconds: 3, scaling: scaling)
        XCTAssertEqual(s.startTimes, [0, 3, 4, 6])
        XCTAssertEqual(s.makespanSeconds, 9)
        XCTAssertEqual(s.peakConcurrency, 2)
    }

    // Zero burst: nothing runs until the first step at 5 s.
    func testZeroBurstWaitsForFirstStep() throws {
        let scaling = ScalingModel(accountConcurrency: 3, burst: 0, scalingIncrement: 3, scalingIntervalSeconds: 5)
        let s = try simulateFleet(ranks: 2, durationSeconds: 1, scaling: scaling)
        XCTAssertEqual(s.startTimes, [5, 5])
        XCTAssertEqual(s.makespanSeconds, 6)
    }

    // Per-rank durations, MaxConcurrency 2: r0 (30 s) and r1 (10 s) at 0;
    // r2 at 10 (ends 20); r3 at 20 (ends 30). Makespan 30.
    func testPerRankDurations() throws {
        let s = try simulateFleet(durations: [30, 10, 10, 10], scaling: ScalingModel(mapMaxConcurrency: 2))
        XCTAssertEqual(s.startTimes, [0, 0, 10, 20])
        XCTAssertEqual(s.endTimes, [30, 10, 20, 30])
        XCTAssertEqual(s.makespanSeconds, 30)
        XCTAssertEqual(s.peakConcurrency, 2)
    }

    func testEmptyAndZeroDurationFleets() throws {
        let empty = try simulateFleet(durations: [])
        XCTAssertEqual(empty.makespanSeconds, 0)
        XCTAssertEqual(empty.peakConcurrency, 0)
        XCTAssertEqual(empty.startTimes, [])
        let instant = try simulateFleet(ranks: 3, durationSeconds: 0, scaling: ScalingModel(mapMaxConcurrency: 1))
        XCTAssertEqual(instant.startTimes, [0, 0, 0])
        XCTAssertEqual(instant.makespanSeconds, 0)
        XCTAssertEqual(instant.peakConcurrency, 1)
    }

    func testRejectsBadInputs() {
        XCTAssertThrowsError(try simulateFleet(durations: [1, -2])) {
            XCTAssertTrue(String(describing: $0).contains("durations[1]"), String(describing: $0))
        }
        XCTAssertThrowsError(try simulateFleet(ranks: 2, durationSeconds: .infinity))
        XCTAssertThrowsError(try simulateFleet(ranks: -1, durationSeconds: 1))
        XCTAssertThrowsError(try simulateFleet(ranks: 1, durationSeconds: 1, scaling: ScalingModel(accountConcurrency: 0)))
        XCTAssertThrowsError(try simulateFleet(
            ranks: 1, durationSeconds: 1, scaling: ScalingModel(burst: 0, scalingIncrement: 0)))
        XCTAssertThrowsError(try simulateFleet(
            ranks: 1, durationSeconds: 1, scaling: ScalingModel(scalingIntervalSeconds: 0)))
        XCTAssertThrowsError(try simulateFleet(ranks: 1, durationSeconds: 1, scaling: ScalingModel(mapMaxConcurrency: -1)))
    }

    func testScalingModelDecodesWithDefaults() throws {
        let m = try JSONDecoder().decode(ScalingModel.self, from: Data(#"{"mapMaxConcurrency": 5}"#.utf8))
        XCTAssertEqual(m, ScalingModel(mapMaxConcurrency: 5))
        XCTAssertEqual(m.ceiling, 5)
    }
}
