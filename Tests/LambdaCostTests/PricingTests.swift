import Foundation
import XCTest
import LambdaCost

final class PricingTests: XCTestCase {
    let x86 = LambdaPrices.usEast1.x86DurationTiers
    let arm = LambdaPrices.usEast1.arm64DurationTiers

    func testDefaultRates() {
        let p = LambdaPrices.usEast1
        XCTAssertEqual(p.region, "us-east-1")
        XCTAssertEqual(x86.map(\.pricePerGBSecond), [0.0000166667, 0.000015, 0.0000133334])
        XCTAssertEqual(x86.map(\.upToGBSeconds), [6e9, 15e9, nil])
        XCTAssertEqual(arm.map(\.pricePerGBSecond), [0.0000133334, 0.0000120001, 0.0000106667])
        XCTAssertEqual(arm.map(\.upToGBSeconds), [7.5e9, 18.75e9, nil])
        XCTAssertEqual(p.requestsPerMillion, 0.20)
        XCTAssertEqual(p.ephemeralStoragePerGBSecond, 0.0000000309)
        XCTAssertEqual(p.stepFunctionsStandardPerThousandTransitions, 0.025)
        XCTAssertEqual(p.s3GetPerThousand, 0.0004)
        XCTAssertEqual(p.s3PutPerThousand, 0.005)
        XCTAssertEqual(p.s3ListPerThousand, 0.005)
        XCTAssertEqual(p.billingGranularityMs, 1)
        XCTAssertNoThrow(try p.validate())
    }

    func testFirstTierOnly() throws {
        XCTAssertEqual(try tieredDurationCost(gbSeconds: 1000, tiers: x86), 1000 * 0.0000166667, accuracy: 1e-15)
        XCTAssertEqual(try tieredDurationCost(gbSeconds: 0, tiers: x86), 0)
    }

    func testVolumeCrossingSixBillion() throws {
        // 7 B GB-s from a fresh month: 6 B at tier 1, 1 B at tier 2.
        let expected = 6e9 * 0.0000166667 + 1e9 * 0.000015
        XCTAssertEqual(try tieredDurationCost(gbSeconds: 7e9, tiers: x86), expected, accuracy: 1e-3)
        // 3,000 GB-s starting 1,000 GB-s below the bound: 1,000 + 2,000.
        let straddle = try tieredDurationCost(gbSeconds: 3000, priorMonthlyGBSeconds: 6e9 - 1000, tiers: x86)
        XCTAssertEqual(straddle, 1000 * 0.0000166667 + 2000 * 0.000015, accuracy: 1e-9)
        // Entirely inside tier 2.
        let inTwo = try tieredDurationCost(gbSeconds: 500, priorMonthlyGBSeconds: 7e9, tiers: x86)
        XCTAssertEqual(inTwo, 500 * 0.000015, accuracy: 1e-9)
    }

    func testVolumeCrossingAllTiers() throws {
        let all = try tieredDurationCost(gbSeconds: 20e9, tiers: x86)
        XCTAssertEqual(all, 6e9 * 0.0000166667 + 9e9 * 0.000015 + 5e9 * 0.0000133334, accuracy: 1e-2)
        let armAll = try tieredDurationCost(gbSeconds: 20e9, tiers: arm)
        XCTAssertEqual(armAll, 7.5e9 * 0.0000133334 + 11.25e9 * 0.0000120001 + 1.25e9 * 0.0000106667, accuracy: 1e-2)
    }

    func testBillingRoundsUpToOneMillisecond() throws {
        XCTAssertEqual(try billedMilliseconds(seconds: 1.0), 1000)
        XCTAssertEqual(try billedMilliseconds(seconds: 1.0001), 1001)
        XCTAssertEqual(try billedMilliseconds(seconds: 1.0009), 1001)
        XCTAssertEqual(try billedMilliseconds(seconds: 0.0000001), 1)
        XCTAssertEqual(try billedMilliseconds(seconds: 0), 0)
        XCTAssertEqual(try billedMilliseconds(seconds: 0.1 + 0.2), 300)
        XCTAssertEqual(try billedMilliseconds(seconds: 6.55), 6550)
        XCTAssertEqual(try billedMilliseconds(seconds: 29.539734), 29540)
        XCTAssertEqual(try billedMilliseconds(seconds: 1.234, granularityMs: 100), 1300)
        XCTAssertEqual(try billedMilliseconds(seconds: 1.2, granularityMs: 100), 1200)
        XCTAssertThrowsError(try billedMilliseconds(seconds: -1))
        XCTAssertThrowsError(try billedMilliseconds(seconds: .nan))
        XCTAssertThrowsError(try billedMilliseconds(seconds: 1, granularityMs: 0))
    }

    func testPartialJSONOverridesOnlyNamedPrices() throws {
        let json = #"{"requestsPerMillion": 0.25, "x86DurationTiers": [{"pricePerGBSecond": 0.00002}]}"#
        let p = try JSONDecoder().decode(LambdaPrices.self, from: Data(json.utf8))
        XCTAssertEqual(p.requestsPerMillion, 0.25)
        XCTAssertEqual(p.x86DurationTiers, [PriceTier(upToGBSeconds: nil, pricePerGBSecond: 0.00002)])
        XCTAssertEqual(p.arm64DurationTiers, LambdaPrices.usEast1.arm64DurationTiers)
        XCTAssertEqual(p.s3GetPerThousand, 0.0004)
        XCTAssertNoThrow(try p.validate())

        let roundTrip = try JSONDecoder().decode(LambdaPrices.self, from: JSONEncoder().encode(LambdaPrices.usEast1))
        XCTAssertEqual(roundTrip, LambdaPrices.usEast1)
    }

    func testValidateRejectsBadTables() {
        var p = LambdaPrices()
        p.x86DurationTiers = [PriceTier(upToGBSeconds: 6e9, pricePerGBSecond: 1e-5)]
        XCTAssertThrowsError(try p.validate()) { XCTAssertTrue(String(describing: $0).contains("x86DurationTiers")) }
        p = LambdaPrices()
        p.arm64DurationTiers = [
            PriceTier(upToGBSeconds: 9e9, pricePerGBSecond: 1e-5),
            PriceTier(upToGBSeconds: 8e9, pricePerGBSecond: 1e-5),
            PriceTier(upToGBSeconds: nil, pricePerGBSecond: 1e-5),
        ]
        XCTAssertThrowsError(try p.validate()) { XCTAssertTrue(String(describing: $0).contains("arm64DurationTiers[1]")) }
        p = LambdaPrices()
        p.s3PutPerThousand = -1
        XCTAssertThrowsError(try p.validate()) { XCTAssertTrue(String(describing: $0).contains("s3PutPerThousand")) }
        p = LambdaPrices()
        p.billingGranularityMs = 0
        XCTAssertThrowsError(try p.validate()) { XCTAssertTrue(String(describing: $0).contains("billingGranularityMs")) }
    }
}
