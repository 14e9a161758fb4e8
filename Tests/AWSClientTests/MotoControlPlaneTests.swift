@testable import AWSClient
import Foundation
import XCTest

/// The Step Functions, Lambda and CloudWatch Logs clients against moto
/// (scripts/aws-harness/moto_control.py) with signatures and IAM checked,
/// some calls through fault_proxy.py to count requests and inject faults.
final class MotoControlPlaneTests: XCTestCase {
    nonisolated(unsafe) static var moto: HarnessProcess?
    nonisolated(unsafe) static var proxy: HarnessProcess?
    nonisolated(unsafe) static var startError: Error?

    override class func setUp() {
        super.setUp()
        do {
            let moto = try HarnessProcess(script: "moto_control.py", arguments: [])
            self.moto = moto
            proxy = try HarnessProcess(script: "fault_proxy.py", arguments: ["--upstream", moto.string("endpoint")])
        } catch {
            startError = error
        }
    }

    override class func tearDown() {
        proxy?.stop()
        moto?.stop()
        super.tearDown()
    }

    override func setUp() async throws {
        _ = try? Self.proxy?.command("clear")  // no fault left over from a failed test
    }

    private var harness: HarnessProcess {
        get throws {
            if let error = Self.startError { throw error }
            return try XCTUnwrap(Self.moto)
        }
    }

    /// A configuration built the way a sweep builds it: from the standard
    /// variables, each service's own endpoint variable set.
    private func configuration(
        _ service: AWSServiceDescriptor, viaProxy: Bool = false, user: String = "", secret: String? = nil
    ) throws -> AWSServiceConfiguration {
        let moto = try harness
        let endpoint = viaProxy ? try XCTUnwrap(Self.proxy).string("endpoint") : moto.string("endpoint")
        var configuration = try AWSServiceConfiguration.fromEnvironment(service: service, [
            "AWS_ACCESS_KEY_ID": moto.string(user + "access_key_id"),
            "AWS_SECRET_ACCESS_KEY": secret ?? moto.string(user + "secret_access_key"),
            "AWS_REGION": moto.string("region"),
            "AWS_ENDPOINT_URL_SFN": endpoint, "AWS_ENDPOINT_URL_LAMBDA": endpoint, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": endpoint,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  // must lose to the service-specific variables
        ])
        configuration.retry = MotoTestSupport.fastRetry
        return configuration
    }

    private func stepFunctions(_ body: (StepFunctionsClient) async throws -> Void) async throws {
        try await withAWSClient(StepFunctionsClient(configuration: try configuration(.stepFunctions)), body)
    }

    private func lambda(_ body: (LambdaControlClient) async throws -> Void) async throws {
        try await withAWSClient(LambdaControlClient(configuration: try configuration(.lambda)), body)
    }

    private func requestsThroughProxy(_ body: () async throws -> Void) async throws -> Int {
        let proxy = try XCTUnwrap(Self.proxy)
        let before = try proxy.command("stats")["requests"] as? Int ?? 0
        try await body()
        return (try proxy.command("stats")["requests"] as? Int ?? 0) - before
    }

    func testExecutionsRunToSuccessOneAfterAnother() async throws {
        let machine = try harness.string("pass_state_machine_arn")
        try await stepFunctions { client in
            for run in 0..<3 {  // moto 5.2.1 fails every StartExecution after the first without the harness's fix
                let name = "pass-\(run)-\(UUID().uuidString.prefix(8))"
                let started = try await client.startExecution(stateMachineARN: machine, name: name, input: #"{"rank":\#(run)}"#)
                XCTAssertEqual(started.executionARN, try StepFunctionsClient.executionARN(stateMachineARN: machine, name: name))
                let done = try await client.waitForExecution(executionARN: started.executionARN, timeout: .seconds(30), pollInterval: .milliseconds(50))
                XCTAssertEqual(done.status, .succeeded)
                XCTAssertEqual(done.name, name)
                XCTAssertEqual(done.stateMachineARN, machine)
                XCTAssertEqual(done.input, #"{"rank":\#(run)}"#)
                let output = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(done.output).utf8)) as? [String: Any]
                XCTAssertEqual((output?["plan"] as? [String: Any])?["ranks"] as? Int, 2)
                XCTAssertEqual(done.startDate.timeIntervalSince1970, started.startDate.timeIntervalSince1970, accuracy: 0.001)
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(done.stopDate), done.startDate)
                XCTAssertLessThan(abs(done.startDate.timeIntervalSinceNow), 600)
                XCTAssertNil(done.error)
            }
        }
    }

    func testFailedExecutionReportsErrorCauseAndHistory() async throws {
        let moto = try harness
        try await stepFunctions { client in
            let started = try await client.startExecution(stateMachineARN: moto.string("fail_state_machine_arn"), name: "fail-\(UUID().uuidString)")
            let done = try await client.waitForExecution(executionARN: started.executionARN, timeout: .seconds(30), pollInterval: .milliseconds(50))
            XCTAssertEqual(done.status, .failed)
            XCTAssertEqual(done.error, moto.string("fail_error"))
            XCTAssertEqual(done.cause, moto.string("fail_cause"))
            XCTAssertNil(done.output)

            let history = try await client.getExecutionHistory(executionARN: started.executionARN)
            XCTAssertEqual(history.first?.type, "ExecutionStarted")
            XCTAssertEqual(history.map(\.id), Array(1...history.count))
            XCTAssertTrue(history.contains { $0.type == "PassStateEntered" && $0.stateName == "Prepare" })
            let failure = try XCTUnwrap(history.last { $0.type == "ExecutionFailed" })
            XCTAssertEqual(failure.error, moto.string("fail_error"))
            XCTAssertEqual(failure.cause, moto.string("fail_cause"))
            let summary = try XCTUnwrap(StepFunctionsClient.failureSummary(history))
            XCTAssertTrue(summary.contains(moto.string("fail_cause")), summary)
            // (moto ignores reverseOrder, so newest-first is not checked here.)
        }
    }

    func testRetriedStartAfterLostAnswerFindsTheEarlierExecution() async throws {
        let proxy = try XCTUnwrap(Self.proxy)
        let machine = try harness.string("pass_state_machine_arn")
        let name = "lost-answer-\(UUID().uuidString.prefix(8))"
        try await withAWSClient(StepFunctionsClient(configuration: try configuration(.stepFunctions, viaProxy: true))) { client in
            let first = try await client.startExecution(stateMachineARN: machine, name: name, input: #"{"a":1}"#)
            _ = try await client.waitForExecution(executionARN: first.executionARN, timeout: .seconds(30), pollInterval: .milliseconds(20))
            // Asked again on a first attempt, the name is taken: the caller must hear it.
            await assertServiceError(code: "ExecutionAlreadyExists", naming: ["StartExecution", machine]) {
                _ = try await client.startExecution(stateMachineARN: machine, name: name, input: #"{"a":1}"#)
            }
            // On a retry it means an earlier attempt got through: the same input is that execution...
            _ = try proxy.command("fault error500 1")
            var again: StepFunctionsClient.StartedExecution?
            let requests = try await requestsThroughProxy {
                again = try await client.startExecution(stateMachineARN: machine, name: name, input: #"{"a":1}"#)
            }
            XCTAssertEqual(again, first)
            XCTAssertEqual(requests, 3, "500, ExecutionAlreadyExists, DescribeExecution")
            // ...and another input is not.
            _ = try proxy.command("fault error500 1")
            await assertServiceError(code: "ExecutionAlreadyExists", naming: ["StartExecution"]) {
                _ = try await client.startExecution(stateMachineARN: machine, name: name, input: #"{"a":2}"#)
            }
        }
    }

    func testListStateMachinesFindsBoth() async throws {
        let moto = try harness
        try await stepFunctions { client in
            let machines = try await client.listStateMachines()
            XCTAssertTrue(machines.contains(.init(name: "cosmicbench-pass", arn: moto.string("pass_state_machine_arn"))), "\(machines)")
            XCTAssertTrue(machines.contains { $0.arn == moto.string("fail_state_machine_arn") }, "\(machines)")
        }
        var capped = try configuration(.stepFunctions)
        capped.maxResponseBytes = 64  // answers are untrusted: a body over the cap is refused, not buffered
        try await withAWSClient(StepFunctionsClient(configuration: capped)) { client in
            await assertServiceError(code: "ResponseTooLarge", naming: ["ListStateMachines", "64-byte limit"]) {
                _ = try await client.listStateMachines()
            }
        }
    }

    func testMissingExecutionIsNotFound() async throws {
        let arn = try StepFunctionsClient.executionARN(stateMachineARN: try harness.string("pass_state_machine_arn"), name: "never-started")
        try await stepFunctions { client in
            do {
                _ = try await client.describeExecution(executionARN: arn)
                XCTFail("expected ExecutionDoesNotExist")
            } catch let error as AWSServiceError {
                XCTAssertTrue(error.isNotFound, "\(error)")
                XCTAssertEqual(error.code, "ExecutionDoesNotExist")
                XCTAssertEqual(error.status, 400)
                let text = String(describing: error)
                XCTAssertTrue(text.contains("DescribeExecution") && text.contains(arn), text)
            }
        }
    }

    func testUpdateMemoryWaitAndReadBack() async throws {
        let moto = try harness
        let name = moto.string("function_name"), arn = moto.string("function_arn")
        try await lambda { client in
            let before = try await client.getFunctionConfiguration(name: name)
            XCTAssertEqual(before.functionName, name)
            XCTAssertEqual(before.functionARN, arn)
            XCTAssertEqual(before.memorySize, 1769)
            XCTAssertEqual(before.timeout, 900)
            XCTAssertEqual(before.ephemeralStorageSize, 512)
            XCTAssertEqual(before.state, "Active")
            // By ARN: `:` goes on the wire as %3A and is signed as %253A.
            try await client.updateFunctionConfiguration(name: arn, memorySize: 3008)
            let updated = try await client.waitUntilUpdated(name: arn, timeout: .seconds(30), pollInterval: .milliseconds(50))
            XCTAssertEqual(updated.lastUpdateStatus, "Successful")
            XCTAssertEqual(updated.memorySize, 3008)
            let readBack = try await client.getFunctionConfiguration(name: name)
            XCTAssertEqual(readBack.memorySize, 3008)
            try await client.updateFunctionConfiguration(name: name, memorySize: 1769)
            let restored = try await client.waitUntilUpdated(name: name, pollInterval: .milliseconds(50))
            XCTAssertEqual(restored.memorySize, 1769)
        }
    }

    func testLambdaRefusalsAreClear() async throws {
        try await lambda { client in
            await assertServiceError(code: "ResourceNotFoundException", naming: ["GetFunctionConfiguration", "no-such-function"]) {
                _ = try await client.getFunctionConfiguration(name: "no-such-function")
            }
            await assertServiceError(code: "InvalidParameterValue", naming: ["UpdateFunctionConfiguration", "x"]) {
                try await client.updateFunctionConfiguration(name: "x", memorySize: 64)
            }
        }
        let reader = LambdaControlClient(configuration: try configuration(.lambda, user: "reader_"))
        try await withAWSClient(reader) { client in
            let name = try harness.string("function_name")
            let visible = try await client.getFunctionConfiguration(name: name)
            XCTAssertEqual(visible.functionName, name)
            await assertServiceError(code: "AccessDenied", naming: ["UpdateFunctionConfiguration", name, "policy"]) {
                try await client.updateFunctionConfiguration(name: name, memorySize: 2048)
            }
        }
    }

    func testFilterLogEventsReturnsParsableReportLines() async throws {
        let moto = try harness
        let group = moto.string("log_group")
        try await withAWSClient(CloudWatchLogsClient(configuration: try configuration(.cloudWatchLogs))) { client in
            let reports = try await client.filterLogEvents(logGroupName: group, filterPattern: "REPORT")
            XCTAssertEqual(reports.map(\.message), [moto.string("cold_report"), moto.string("warm_report")])
            XCTAssertEqual(Set(reports.compactMap(\.logStreamName)), [moto.string("log_stream")])
            let parsed = try reports.map { try XCTUnwrap(try LambdaReportLine.parse($0.message)) }
            XCTAssertEqual(parsed[0], LambdaReportLine(
                requestID: "0f3a7c2e-1111-4a4a-9b9b-000000000001", durationMs: 12.34, billedDurationMs: 13,
                memorySizeMB: 1769, maxMemoryUsedMB: 210, initDurationMs: 301.2
            ))
            XCTAssertEqual(parsed[1].billedDurationMs, 1002)
            XCTAssertNil(parsed[1].initDurationMs)

            let all = try await client.filterLogEvents(logGroupName: group)
            XCTAssertEqual(all.count, 5)
            XCTAssertEqual(all.compactMap { try? LambdaReportLine.parse($0.message) }.count, 2)
            let cold = try await client.filterLogEvents(logGroupName: group, filterPattern: #""Init Duration""#)
            XCTAssertEqual(cold.map(\.message), [moto.string("cold_report")])
            let first = Int64(try XCTUnwrap(moto.info["first_event_ms"] as? Int))
            let window = try await client.filterLogEvents(logGroupName: group, startTimeMs: first + 3, endTimeMs: first + 10)
            XCTAssertEqual(window.map(\.timestamp), [first + 3, first + 4])
            await assertServiceError(code: "ResourceNotFoundException", naming: ["FilterLogEvents", "/aws/lambda/missing"]) {
                _ = try await client.filterLogEvents(logGroupName: "/aws/lambda/missing")
            }
        }
    }

    func testWrongSecretIsClearAndNotRetried() async throws {
        let machine = try harness.string("pass_state_machine_arn")
        let function = try harness.string("function_arn")
        let calls: [(AWSServiceDescriptor, String, String, (AWSServiceConfiguration) async throws -> Void)] = [
            (.stepFunctions, "StartExecution", machine, { configuration in
                try await withAWSClient(StepFunctionsClient(configuration: configuration)) { _ = try await $0.startExecution(stateMachineARN: machine) }
            }),
            (.lambda, "GetFunctionConfiguration", function, { configuration in
                try await withAWSClient(LambdaControlClient(configuration: configuration)) { _ = try await $0.getFunctionConfiguration(name: function) }
            }),
            (.cloudWatchLogs, "FilterLogEvents", "/aws/lambda/x", { configuration in
                try await withAWSClient(CloudWatchLogsClient(configuration: configuration)) { _ = try await $0.filterLogEvents(logGroupName: "/aws/lambda/x") }
            }),
        ]
        for (service, operation, resource, call) in calls {
            let wrong = try configuration(service, viaProxy: true, secret: "wrong-secret")
            let requests = try await requestsThroughProxy {
                await assertServiceError(code: "SignatureDoesNotMatch", naming: [operation, resource, "AWS_SECRET_ACCESS_KEY", "HTTP 403"]) {
                    try await call(wrong)
                }
            }
            XCTAssertEqual(requests, 1, "\(operation) must not be retried")
        }
    }

    func testThrottlingServerErrorsAndResetsAreRetriedExpiredTokenIsNot() async throws {
        let proxy = try XCTUnwrap(Self.proxy)
        let machine = try harness.string("pass_state_machine_arn")
        try await withAWSClient(StepFunctionsClient(configuration: try configuration(.stepFunctions, viaProxy: true))) { client in
            _ = try proxy.command("fault throttle 2")
            let throttled = try await requestsThroughProxy { _ = try await client.listStateMachines() }
            XCTAssertEqual(throttled, 3)
            _ = try proxy.command("fault error500 1")
            _ = try proxy.command("fault reset 1")
            _ = try proxy.command("fault short 1")
            // The cut answer came after moto started the execution: the 4th
            // attempt meets the same name, either still running (the same
            // execution back) or finished (ExecutionAlreadyExists, then one
            // DescribeExecution to see it is ours).
            let name = "retried-\(UUID().uuidString)"
            var started: StepFunctionsClient.StartedExecution?
            let recovered = try await requestsThroughProxy { started = try await client.startExecution(stateMachineARN: machine, name: name) }
            XCTAssertTrue((4...5).contains(recovered), "\(recovered) requests")
            XCTAssertEqual(started?.executionARN, try StepFunctionsClient.executionARN(stateMachineARN: machine, name: name))
            let history = try await client.getExecutionHistory(executionARN: try XCTUnwrap(started?.executionARN))
            XCTAssertEqual(history.filter { $0.type == "ExecutionStarted" }.count, 1)
            _ = try proxy.command("fault expired 1")
            let expired = try await requestsThroughProxy {
                await assertServiceError(code: "ExpiredToken", naming: ["DescribeExecution", "session token"]) {
                    _ = try await client.describeExecution(executionARN: StepFunctionsClient.executionARN(stateMachineARN: machine, name: name))
                }
            }
            XCTAssertEqual(expired, 1)
            _ = try proxy.command("fault throttle 9")
            await assertServiceError(code: "Throttling", naming: ["ListStateMachines"]) { _ = try await client.listStateMachines() }
            _ = try proxy.command("clear")
        }
    }
}
