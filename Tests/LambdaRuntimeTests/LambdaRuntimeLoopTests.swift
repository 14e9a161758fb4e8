import Foundation
import XCTest
@testable import LambdaRuntime

/// The loop against the Python fake Runtime API: the happy path, handler
/// errors, init errors and malformed or vanishing Runtime APIs.
final class LambdaRuntimeLoopTests: XCTestCase {
    func testColdThenWarmInvocationsReuseTheHandlerAndSeeTheirHeaders() async throws {
        try await withFakeRuntimeAPI { fake in
            let inits = Counter()
            let loop = try startLoop(fake, maxInvocations: 3, makeHandler: echoFactory(inits: inits))
            let headers = [
                "Lambda-Runtime-Trace-Id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
                "Lambda-Runtime-Client-Context": "{\"client\":{}}",
                "Lambda-Runtime-Cognito-Identity": "{\"cognitoIdentityId\":\"id\"}",
            ]
            var echoes: [ContextEcho] = []
            for index in 0..<3 {
                let result = try await fake.invoke("{\"rank\":\(index)}", headers: headers)
                XCTAssertEqual(result.status, "response", "invocation \(index): \(result)")
                let echo = try ContextEcho.decode(result.body)
                XCTAssertEqual(echo.requestID, result.requestId)
                XCTAssertEqual(echo.deadlineMs, result.deadlineMs)
                XCTAssertEqual(echo.event, "{\"rank\":\(index)}")
                echoes.append(echo)
            }
            XCTAssertEqual(echoes.map(\.isColdStart), [true, false, false])
            XCTAssertEqual(Set(echoes.map(\.requestID)).count, 3)
            XCTAssertEqual(echoes[1].invokedFunctionARN, "arn:aws:lambda:us-east-1:000000000000:function:fake")
            XCTAssertEqual(echoes[1].traceID, headers["Lambda-Runtime-Trace-Id"])
            XCTAssertEqual(echoes[1].clientContext, headers["Lambda-Runtime-Client-Context"])
            XCTAssertEqual(echoes[1].cognitoIdentity, headers["Lambda-Runtime-Cognito-Identity"])
            XCTAssertEqual(ProcessInfo.processInfo.environment["_X_AMZN_TRACE_ID"], headers["Lambda-Runtime-Trace-Id"])
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .invocationLimitReached(count: 3))
            XCTAssertEqual(inits.count, 1, "the factory must run once per loop, not per invocation")
        }
    }

    func testHandlerErrorsAreReportedWithTheirTypeAndTheLoopGoesOn() async throws {
        try await withFakeRuntimeAPI { fake in
            let loop = try startLoop(fake, maxInvocations: 3) { _ in
                ClosureHandler { event, _ in
                    switch String(decoding: event, as: UTF8.self) {
                    case "\"lambda\"":
                        throw LambdaError(errorType: "InvalidPayload", errorMessage: "batch_size must be positive")
                    case "\"swift\"":
                        throw PartitionUnreadable(key: "100MB/3.pt")
                    default:
                        return Data("\"ok\"".utf8)
                    }
                }
            }
            let chosen = try await fake.invoke("\"lambda\"")
            XCTAssertEqual(chosen.status, "error")
            XCTAssertEqual(chosen.errorType, "InvalidPayload")
            XCTAssertEqual(
                chosen.errorBody,
                .init(errorMessage: "batch_size must be positive", errorType: "InvalidPayload", stackTrace: []))
            let mapped = try await fake.invoke("\"swift\"")
            XCTAssertEqual(mapped.status, "error")
            XCTAssertEqual(mapped.errorType, "PartitionUnreadable")
            XCTAssertEqual(mapped.errorBody?.errorType, "PartitionUnreadable")
            XCTAssertEqual(mapped.errorBody?.errorMessage, "cannot read partition 100MB/3.pt")
            let fine = try await fake.invoke("\"fine\"")
            XCTAssertEqual(fine.status, "response")
            XCTAssertEqual(fine.body, "\"ok\"")
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .invocationLimitReached(count: 3))
        }
    }

    func testInitErrorIsPostedAndRunThrows() async throws {
        try await withFakeRuntimeAPI { fake in
            let loop = try startLoop(fake, maxInvocations: 1) { _ in
                throw LambdaError(errorType: "ModelLoadFailed", errorMessage: "weights file model.safetensors is missing")
            }
            do {
                _ = try await finish(loop)
                XCTFail("run must throw after an init error")
            } catch let error as LambdaRuntimeError {
                XCTAssertEqual(
                    error,
                    .initializationFailed(errorType: "ModelLoadFailed", errorMessage: "weights file model.safetensors is missing"))
            }
            let initError = try await fake.initError()
            XCTAssertEqual(initError.status, "init_error")
            XCTAssertEqual(initError.errorType, "ModelLoadFailed")
            XCTAssertEqual(
                initError.errorBody,
                .init(errorMessage: "weights file model.safetensors is missing", errorType: "ModelLoadFailed", stackTrace: []))
            let later = try await fake.invoke("{}", timeoutMs: 2_000)
            XCTAssertEqual(later.status, "init_error", "Lambda hands the init error to the next invoke")
        }
    }

    func testNextWithoutRequestIDStopsTheLoopNamingTheHeader() async throws {
        try await withFakeRuntimeAPI { fake in
            let inits = Counter()
            let loop = try startLoop(fake, maxInvocations: 5, makeHandler: echoFactory(inits: inits))
            async let unanswered = fake.invoke("{}", timeoutMs: 800, omitHeaders: ["Lambda-Runtime-Aws-Request-Id"])
            do {
                _ = try await finish(loop)
                XCTFail("a next without a request id cannot be answered; run must throw")
            } catch let error as LambdaRuntimeError {
                XCTAssertEqual(error, .missingRequestID(header: "Lambda-Runtime-Aws-Request-Id"))
                XCTAssertTrue(error.description.contains("Lambda-Runtime-Aws-Request-Id"), error.description)
            }
            let result = try await unanswered
            XCTAssertEqual(result.status, "timeout")
        }
    }

    func testMalformedDeadlineFailsOnlyThatInvocation() async throws {
        try await withFakeRuntimeAPI { fake in
            let inits = Counter()
            let loop = try startLoop(fake, maxInvocations: 3, makeHandler: echoFactory(inits: inits))
            let bad = try await fake.invoke("{}", headers: ["Lambda-Runtime-Deadline-Ms": "soon"])
            XCTAssertEqual(bad.status, "error")
            XCTAssertEqual(bad.errorType, "Runtime.MalformedInvocation")
            XCTAssertEqual(
                bad.errorBody?.errorMessage,
                "Lambda-Runtime-Deadline-Ms \"soon\" is not a positive integer of milliseconds")
            let noARN = try await fake.invoke("{}", omitHeaders: ["Lambda-Runtime-Invoked-Function-Arn"])
            XCTAssertEqual(noARN.errorBody?.errorMessage, "Lambda-Runtime-Invoked-Function-Arn header is missing")
            let good = try await fake.invoke("{}")
            XCTAssertEqual(good.status, "response")
            XCTAssertTrue(try ContextEcho.decode(good.body).isColdStart, "the first invocation the handler sees is cold")
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .invocationLimitReached(count: 3))
        }
    }

    func testOversizedResponseIsRejectedAndTheLoopGoesOn() async throws {
        try await withFakeRuntimeAPI { fake in
            let loop = try startLoop(fake, maxInvocations: 2) { _ in
                ClosureHandler { event, _ in
                    event == Data("\"big\"".utf8)
                        ? Data(repeating: UInt8(ascii: "x"), count: RuntimeAPIClient.maxPayloadBytes + 1) : event
                }
            }
            let big = try await fake.invoke("\"big\"")
            XCTAssertEqual(big.status, "error")
            XCTAssertEqual(big.errorType, "Function.ResponseSizeTooLarge")
            let small = try await fake.invoke("\"small\"")
            XCTAssertEqual(small.status, "response")
            XCTAssertEqual(small.body, "\"small\"")
            let stop = try await finish(loop)
            XCTAssertEqual(stop, .invocationLimitReached(count: 2))
        }
    }

    func testLoopThrowsWhenTheRuntimeAPIGoesAway() async throws {
        let fake = try FakeRuntimeAPIProcess.start()
        let inits = Counter()
        let loop = try startLoop(fake, maxInvocations: nil, makeHandler: echoFactory(inits: inits))
        let result = try await fake.invoke("{}")
        XCTAssertEqual(result.status, "response")
        await fake.stop()
        do {
            let stop = try await finish(loop)
            XCTFail("the loop must fail once its Runtime API is gone, returned \(stop)")
        } catch {
            XCTAssertFalse(error is LambdaError, "a transport failure, not a handler error: \(error)")
        }
    }
}
