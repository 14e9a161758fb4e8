import Foundation
import XCTest
@testable import LambdaRuntime

/// Many invocations through one warm loop: all must be answered correctly.
/// It also prints the per-invoke round trip (fake → worker → fake) for the
/// report; timings are printed, not asserted.
final class LambdaRuntimeOverheadTests: XCTestCase {
    static let invocations = 300

    func testManyWarmInvocationsRoundTrip() async throws {
        try await withFakeRuntimeAPI { fake in
            let inits = Counter()
            let loop = try startLoop(fake, maxInvocations: Self.invocations, makeHandler: echoFactory(inits: inits))
            var fakeSide: [Double] = []
            var wake: [Double] = []
            var handle: [Double] = []
            var clientSide: [Double] = []
            let clock = ContinuousClock()
            for index in 0..<Self.invocations {
                let started = clock.now
                let result = try await fake.invoke("{\"i\":\(index)}")
                clientSide.append(Self.milliseconds(clock.now - started))
                XCTAssertEqual(result.status, "response")
                let echo = try ContextEcho.decode(result.body)
                XCTAssertEqual(echo.event, "{\"i\":\(index)}")
                XCTAssertEqual(echo.isColdStart, index == 0)
                if let timing = result.timing, index > 0 {
                    fakeSide.append(timing.totalMs ?? .nan)
                    wake.append(timing.enqueueToNextMs ?? .nan)
                    handle.append(timing.nextToAnswerMs ?? .nan)
                }
            }
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .invocationLimitReached(count: Self.invocations))
            XCTAssertEqual(inits.count, 1)
            print("LambdaRuntime overhead over \(Self.invocations) warm invokes: "
                + "fake enqueue→answer \(Self.summary(fakeSide)) [parked next wakes: \(Self.summary(wake)); "
                + "next→answer: \(Self.summary(handle))]; control round trip \(Self.summary(clientSide))")
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    static func summary(_ values: [Double]) -> String {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return "n/a" }
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        return String(format: "mean %.3f ms, median %.3f ms, p90 %.3f ms, max %.3f ms", mean, at(0.5), at(0.9), sorted.last!)
    }
}
