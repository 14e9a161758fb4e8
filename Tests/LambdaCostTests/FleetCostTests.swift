import Foundation
import XCTest
import LambdaCost

/// Fleet costs worked by hand component by component.
final class FleetCostTests: XCTestCase {
    // Two ranks billed 1,000 ms and 2,000 ms at 2,048 MB (2 GB): 6 GB-s.
    // Ephemeral 1,024 MB: 0.5 GB above the free 512 MB for 3 s = 1.5 GB-s.
    // Standard children: 3 + 2 x 2 = 7 transitions.
    // S3 for 4 files: GET 4 + 2 model + 2 rank JSONs = 8; PUT 2 + 2 = 4; LIST 1.
    func testStandardChildrenBreakdown() throws {
        let s3 = try S3Requests.caiPipeline(partitionFiles: 4, ranks: 2)
        XCTAssertEqual(s3, S3Requests(gets: 8, puts: 4, lists: 1))
        let c = try fleetCost(rankBilledMilliseconds: [1000, 2000], memoryMB: 2048, ephemeralStorageMB: 1024, s3: s3)
        XCTAssertEqual(c.lambdaGBSeconds, 6, accuracy: 1e-12)
        XCTAssertEqual(c.lambdaDurationDollars, 6 * 0.0000166667, accuracy: 1e-15)
        XCTAssertEqual(c.lambdaRequests, 2)
        XCTAssertEqual(c.lambdaRequestDollars, 2 * 0.20 / 1e6, accuracy: 1e-15)
        XCTAssertEqual(c.ephemeralStorageGBSeconds, 1.5, accuracy: 1e-12)
        XCTAssertEqual(c.ephemeralStorageDollars, 1.5 * 0.0000000309, accuracy: 1e-18)
        XCTAssertEqual(c.stepFunctionsTransitions, 7)
        XCTAssertEqual(c.stepFunctionsTransitionDollars, 7 * 0.000025, accuracy: 1e-15)
        XCTAssertEqual(c.stepFunctionsExpressRequests, 0)
        XCTAssertEqual(c.stepFunctionsExpressDurationDollars, 0)
        XCTAssertEqual(c.s3GetDollars, 8 * 0.0000004, accuracy: 1e-15)
        XCTAssertEqual(c.s3PutDollars, 4 * 0.000005, accuracy: 1e-15)
        XCTAssertEqual(c.s3ListDollars, 0.000005, accuracy: 1e-15)
        let expected = 6 * 0.0000166667 + 0.0000004 + 1.5 * 0.0000000309 + 0.000175 + 0.0000032 + 0.00002 + 0.000005
        XCTAssertEqual(c.totalDollars, expected, accuracy: 1e-15)
    }

    // Express children: 3 + 2 x 1 = 5 transitions; 2 Express requests; durations
    // 1,234 ms -> 1.3 s and 2,000 ms -> 2.0 s at 64 MB (0.0625 GB) = 0.20625 GB-s.
    func testExpressChildren() throws {
        let sfn = StepFunctionsModel(childType: .express)
        let c = try fleetCost(
            rankBilledMilliseconds: [1234, 2000], memoryMB: 1024, stepFunctions: sfn,
            s3: S3Requests(gets: 0, puts: 0, lists: 0))
        XCTAssertEqual(c.stepFunctionsTransitions, 5)
        XCTAssertEqual(c.stepFunctionsExpressRequests, 2)
        XCTAssertEqual(c.stepFunctionsExpressRequestDollars, 2e-6, accuracy: 1e-18)
        XCTAssertEqual(c.stepFunctionsExpressGBSeconds, 0.0625 * 3.3, accuracy: 1e-12)
        XCTAssertEqual(c.stepFunctionsExpressDurationDollars, 0.0625 * 3.3 * 0.00001667, accuracy: 1e-15)
        XCTAssertEqual(c.lambdaGBSeconds, 3.234, accuracy: 1e-12)
        XCTAssertEqual(c.ephemeralStorageDollars, 0)
        // 65 MB of child memory bills two chunks (128 MB).
        let bigger = try fleetCost(
            rankBilledMilliseconds: [2000], memoryMB: 1024,
            stepFunctions: StepFunctionsModel(childType: .express, expressChildMemoryMB: 65),
            s3: S3Requests(gets: 0, puts: 0, lists: 0))
        XCTAssertEqual(bigger.stepFunctionsExpressGBSeconds, 0.125 * 2, accuracy: 1e-12)
    }

    // A run that crosses the 6 B GB-s bound because of prior usage this month.
    func testPriorMonthlyUsageCrossesTier() throws {
        // 1,000 ranks x 3,000 ms at 1,024 MB = 3,000 GB-s; 1,000 below the bound.
        let c = try fleetCost(
            rankBilledMilliseconds: [Int](repeating: 3000, count: 1000), memoryMB: 1024,
            s3: S3Requests(gets: 0, puts: 0, lists: 0), priorMonthlyGBSeconds: 6e9 - 1000)
        XCTAssertEqual(c.lambdaGBSeconds, 3000, accuracy: 1e-9)
        XCTAssertEqual(c.lambdaDurationDollars, 1000 * 0.0000166667 + 2000 * 0.000015, accuracy: 1e-9)
        let arm = try fleetCost(
            rankBilledMilliseconds: [3000], memoryMB: 1024, architecture: .arm64,
            s3: S3Requests(gets: 0, puts: 0, lists: 0))
        XCTAssertEqual(arm.lambdaDurationDollars, 3 * 0.0000133334, accuracy: 1e-15)
    }

    // The paper's 25 MB row as a fleet: same GB-s as the formula when memory is
    // 2,867 MB (2.8 GB x 1,024 = 2,867.2, rounded down to a configurable size)
    // and durations are whole ms; the rest of the bill is small but not zero.
    func testPaperRowAsFleetIsCloseToFormula() throws {
        let c = try fleetCost(
            rankBilledMilliseconds: [Int](repeating: 6550, count: 517), memoryMB: 2867,
            s3: try S3Requests.caiPipeline(partitionFiles: 517, ranks: 517))
        let formula = simpleCost(requests: 517, durationSeconds: 6.55, memoryGB: 2867.0 / 1024)
        XCTAssertEqual(c.lambdaDurationDollars, formula, accuracy: 1e-12)
        XCTAssertGreaterThan(c.totalDollars, formula)
        XCTAssertEqual(c.stepFunctionsTransitions, 3 + 2 * 517)
    }

    func testAuxiliaryInvocations() throws {
        let aux = [LambdaInvocation(memoryMB: 512, billedMilliseconds: 400),
                   LambdaInvocation(memoryMB: 512, billedMilliseconds: 600, ephemeralStorageMB: 2560)]
        let c = try fleetCost(
            rankBilledMilliseconds: [1000], memoryMB: 1024, auxiliaryInvocations: aux,
            s3: S3Requests(gets: 0, puts: 0, lists: 0))
        XCTAssertEqual(c.lambdaRequests, 3)
        XCTAssertEqual(c.lambdaGBSeconds, 1 + 0.5 * 0.4 + 0.5 * 0.6, accuracy: 1e-12)
        XCTAssertEqual(c.ephemeralStorageGBSeconds, 2 * 0.6, accuracy: 1e-12)
        XCTAssertEqual(c.stepFunctionsTransitions, 5)
    }

    func testS3ListPagination() throws {
        XCTAssertEqual(try S3Requests.caiPipeline(partitionFiles: 10, ranks: 5, listedObjects: 2500).lists, 3)
        XCTAssertEqual(try S3Requests.caiPipeline(partitionFiles: 0, ranks: 0).lists, 1)
        XCTAssertEqual(try S3Requests.caiPipeline(partitionFiles: 1000, ranks: 1).lists, 1)
        let noModel = try S3Requests.caiPipeline(
            partitionFiles: 10, ranks: 5, modelGetsPerRank: 0, summarizerReadsRankResults: false)
        XCTAssertEqual(noModel, S3Requests(gets: 10, puts: 7, lists: 1))
        XCTAssertThrowsError(try S3Requests.caiPipeline(partitionFiles: -1, ranks: 1))
    }

    func testRejectsBadInputs() {
        let none = S3Requests(gets: 0, puts: 0, lists: 0)
        XCTAssertThrowsError(try fleetCost(rankBilledMilliseconds: [1], memoryMB: 64, s3: none)) {
            XCTAssertEqual($0 as? LambdaCostError, .memoryOutOfRange(parameter: "memoryMB", megabytes: 64))
        }
        XCTAssertThrowsError(try fleetCost(rankBilledMilliseconds: [1], memoryMB: 1024, ephemeralStorageMB: 20000, s3: none))
        XCTAssertThrowsError(try fleetCost(rankBilledMilliseconds: [1, -1], memoryMB: 1024, s3: none)) {
            XCTAssertTrue(String(describing: $0).contains("rankBilledMilliseconds[1]"))
        }
        XCTAssertThrowsError(try fleetCost(
            rankBilledMilliseconds: [1], memoryMB: 1024,
            auxiliaryInvocations: [LambdaInvocation(memoryMB: 20, billedMilliseconds: 1)], s3: none)) {
            XCTAssertTrue(String(describing: $0).contains("auxiliaryInvocations[0].memoryMB"))
        }
        XCTAssertThrowsError(try fleetCost(
            rankBilledMilliseconds: [1], memoryMB: 1024, s3: S3Requests(gets: -1, puts: 0, lists: 0)))
        XCTAssertThrowsError(try fleetCost(
            rankBilledMilliseconds: [1], memoryMB: 1024, stepFunctions: StepFunctionsModel(parentTransitions: -1),
            s3: none))
    }

    func testModelDecodesWithDefaults() throws {
        let m = try JSONDecoder().decode(StepFunctionsModel.self, from: Data(#"{"childType": "express"}"#.utf8))
        XCTAssertEqual(m, StepFunctionsModel(childType: .express))
        XCTAssertEqual(m.transitions(items: 10), 13)
        XCTAssertEqual(StepFunctionsModel().transitions(items: 10), 23)
    }
}
