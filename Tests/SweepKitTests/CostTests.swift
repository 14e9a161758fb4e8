import LambdaCost
import SweepKit
import XCTest

final class CostTests: XCTestCase {
    /// The CAI paper's table, published to cents.
    func testPaperTable() throws {
        let cases: [(Int, Double, String, Double)] = [
            (517, 6.55, "2.8GB", 0.16), (259, 11.8, "4.0GB", 0.20), (173, 17.6, "5.9GB", 0.30), (130, 25, "7.0GB", 0.38),
            (10018, 2.64, "1.4GB", 0.62), (5008, 2.86, "1.8GB", 0.43), (3327, 1.87, "1.9GB", 0.20),
        ]
        for (requests, duration, memory, dollars) in cases {
            let quote = try CostQuote(requests: requests, durationSeconds: duration, memory: memory)
            XCTAssertEqual((quote.dollars * 100).rounded() / 100, dollars, accuracy: 1e-9, "\(requests) \(duration) \(memory)")
            XCTAssertEqual(quote.dollars, simpleCost(requests: requests, durationSeconds: duration,
                                                     memoryGB: try parseMemory(memory)))
        }
    }

    /// Seed 004 gave memory in MB and four decimals: MB / 1,024 = GB.
    func testMegabyteMemory() throws {
        let cases: [(Int, Double, String, Double)] = [
            (516, 6.403065, "1782.90438MB", 0.0959), (129, 29.539734, "4387.226472MB", 0.2722),
            (82, 30.074467, "4371.040873MB", 0.1755),
        ]
        for (requests, duration, memory, dollars) in cases {
            let quote = try CostQuote(requests: requests, durationSeconds: duration, memory: memory)
            XCTAssertEqual(quote.dollars, dollars, accuracy: 0.0001, "\(requests) \(duration) \(memory)")
        }
        let quote = try CostQuote(requests: 516, durationSeconds: 6.403065, memory: "1782.90438MB")
        XCTAssertEqual(quote.memoryGB, 1782.90438 / 1024, accuracy: 1e-12)
        XCTAssertTrue(quote.rendered.hasSuffix("= $0.0959"), quote.rendered)
    }

    func testRendered() throws {
        let quote = try CostQuote(requests: 517, durationSeconds: 6.55, memory: "2.8GB")
        let dollars = NumberFormat.fixed(517 * 6.55 * 2.8 * paperPricePerGBSecond, 4)
        XCTAssertEqual(quote.rendered,
                       "517 requests × 6.55 s × 2.8 GB × $\(NumberFormat.trimmed(paperPricePerGBSecond, 12))/GB-s = $\(dollars)")
        let custom = try CostQuote(requests: 10, durationSeconds: 1, memory: "1GB", pricePerGBSecond: 0.0000166667)
        XCTAssertEqual(custom.dollars, 10 * 0.0000166667, accuracy: 1e-15)
    }

    func testBadInputs() {
        XCTAssertThrowsError(try CostQuote(requests: 1, durationSeconds: 1, memory: "2.8TB")) { error in
            XCTAssertTrue("\(error)".contains("--memory") && "\(error)".contains("2.8TB"), "\(error)")
        }
        XCTAssertThrowsError(try CostQuote(requests: -1, durationSeconds: 1, memory: "1GB"))
        XCTAssertThrowsError(try CostQuote(requests: 1, durationSeconds: -1, memory: "1GB"))
    }
}
