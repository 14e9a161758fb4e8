import Foundation
import XCTest
@testable import LambdaRuntime

/// Timeouts: reported through `/error` before the deadline, even while the
/// handler's work is still running, after which the loop stops.
final class LambdaRuntimeDeadlineTests: XCTestCase {
    func testBlockingWorkPastTheDeadlineReportsTimeoutBeforeIt() async throws {
        try await withFakeRuntimeAPI { fake in
            let finished = Counter()
            let loop = try startLoop(fake, maxInvocations: 5) { _ in
                ClosureHandler { _, context in
                    try await context.withDeadlineBlocking(margin: .milliseconds(600)) {
                        Thread.sleep(forTimeInterval: 3)
                        finished.increment()
                        return Data("\"late\"".utf8)
                    }
                }
            }
            let result = try await fake.invoke("{}", timeoutMs: 1_500)
            XCTAssertEqual(result.status, "error", "\(result)")
            XCTAssertEqual(result.errorType, LambdaError.timeoutErrorType)
            XCTAssertEqual(result.errorBody?.errorType, "Timeout")
            let before = try XCTUnwrap(result.msBeforeDeadline)
            XCTAssertGreaterThan(before, 0, "the timeout must arrive before the deadline")
            XCTAssertLessThanOrEqual(before, 600, "and not before deadline - margin")
            XCTAssertEqual(finished.count, 0, "the blocking work was still running when the error went out")
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .abandonedWork(requestID: try XCTUnwrap(result.requestId)))
        }
    }

    func testLoopBackstopTimesOutAHandlerThatIgnoresItsDeadline() async throws {
        try await withFakeRuntimeAPI { fake in
            let loop = try startLoop(fake, maxInvocations: 5, deadlineMargin: .milliseconds(300)) { _ in
                ClosureHandler { _, _ in
                    try await Task.sleep(for: .seconds(5))
                    return Data()
                }
            }
            let result = try await fake.invoke("{}", timeoutMs: 1_000)
            XCTAssertEqual(result.status, "error", "\(result)")
            XCTAssertEqual(result.errorType, "Timeout")
            XCTAssertGreaterThan(try XCTUnwrap(result.msBeforeDeadline), 0)
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .abandonedWork(requestID: try XCTUnwrap(result.requestId)))
        }
    }

    func testWorkThatFinishesInTimeKeepsTheLoopRunning() async throws {
        try await withFakeRuntimeAPI { fake in
            let loop = try startLoop(fake, maxInvocations: 2) { _ in
                ClosureHandler { event, context in
                    let blocking = try await context.withDeadlineBlocking(margin: .milliseconds(500)) {
                        Thread.sleep(forTimeInterval: 0.05)
                        return event.count
                    }
                    let async = try await context.withDeadline(margin: .milliseconds(500)) {
                        try await Task.sleep(for: .milliseconds(20))
                        return blocking * 2
                    }
                    return Data("\(async)".utf8)
                }
            }
            for _ in 0..<2 {
                let result = try await fake.invoke("12345", timeoutMs: 5_000)
                XCTAssertEqual(result.status, "response", "\(result)")
                XCTAssertEqual(result.body, "10")
            }
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .invocationLimitReached(count: 2))
        }
    }

    func testErrorsThrownInsideWithDeadlinePassThrough() async throws {
        let context = InvocationContext(
            requestID: "r-1", deadlineMs: InvocationContext.nowMs() + 10_000,
            invokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f", isColdStart: true)
        do {
            _ = try await context.withDeadlineBlocking(margin: .seconds(1)) { () throws -> Int in
                throw PartitionUnreadable(key: "k")
            }
            XCTFail("the work's error must propagate")
        } catch let error as PartitionUnreadable {
            XCTAssertEqual(error.key, "k")
        }
        XCTAssertFalse(context.lifecycle.isAbandoned)
    }

    func testDeadlineAlreadyWithinTheMarginTimesOutAtOnce() async throws {
        let context = InvocationContext(
            requestID: "r-2", deadlineMs: InvocationContext.nowMs() + 100,
            invokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f", isColdStart: false)
        let started = ContinuousClock.now
        do {
            _ = try await context.withDeadline(margin: .seconds(1)) {
                try await Task.sleep(for: .seconds(5))
                return 1
            }
            XCTFail("a deadline inside the margin must time out")
        } catch let error as LambdaError {
            XCTAssertEqual(error.errorType, "Timeout")
            XCTAssertTrue(error.errorMessage.contains("r-2"), error.errorMessage)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "it must not wait for the 5 s operation")
        XCTAssertTrue(context.lifecycle.isAbandoned)
        XCTAssertLessThan(context.remainingTime(), .milliseconds(101))
    }
}
