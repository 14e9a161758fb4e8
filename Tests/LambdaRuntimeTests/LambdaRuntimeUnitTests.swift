import Foundation
import XCTest
@testable import LambdaRuntime

/// The pieces without a Runtime API: error bodies, header parsing, paths,
/// configuration.
final class LambdaRuntimeUnitTests: XCTestCase {
    func testErrorReportKeepsChosenTypesAndNamesOthersByType() throws {
        let chosen = ErrorReport(LambdaError(errorType: "InvalidPayload", errorMessage: "no bucket"))
        XCTAssertEqual(chosen, ErrorReport(errorType: "InvalidPayload", errorMessage: "no bucket"))
        let mapped = ErrorReport(PartitionUnreadable(key: "1.pt"))
        XCTAssertEqual(mapped.errorType, "PartitionUnreadable")
        XCTAssertEqual(mapped.errorMessage, "cannot read partition 1.pt")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: mapped.encoded()) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["errorMessage", "errorType", "stackTrace"])
        XCTAssertEqual(json["stackTrace"] as? [String], [])
    }

    func testNextInvocationParsesHeadersCaseInsensitively() throws {
        let response = RuntimeHTTPTransport.Response(
            status: 200,
            headers: [
                (name: "lambda-runtime-aws-request-id", value: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
                (name: "Lambda-Runtime-Deadline-Ms", value: "1542409706888"),
                (name: "LAMBDA-RUNTIME-INVOKED-FUNCTION-ARN", value: "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime"),
                (name: "Lambda-Runtime-Trace-Id", value: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"),
            ],
            body: Data("{}".utf8))
        let invocation = try NextInvocation(response: response)
        XCTAssertEqual(invocation.requestID, "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
        XCTAssertEqual(invocation.deadlineMs, 1_542_409_706_888)
        XCTAssertEqual(invocation.invokedFunctionARN, "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime")
        XCTAssertEqual(invocation.traceID, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1")
        XCTAssertNil(invocation.clientContext)
        XCTAssertNil(invocation.problem)
        XCTAssertEqual(invocation.event, Data("{}".utf8))
    }

    func testNextInvocationWithoutRequestIDThrows() {
        let response = RuntimeHTTPTransport.Response(
            status: 200, headers: [(name: "Lambda-Runtime-Deadline-Ms", value: "1")], body: Data())
        XCTAssertThrowsError(try NextInvocation(response: response)) { error in
            XCTAssertEqual(error as? LambdaRuntimeError, .missingRequestID(header: "Lambda-Runtime-Aws-Request-Id"))
        }
    }

    func testRequestIDsCannotEscapeTheirPathSegment() {
        XCTAssertEqual(RuntimeAPIClient.pathSegment("8476a536-e9f4-11e8"), "8476a536-e9f4-11e8")
        let hostile = RuntimeAPIClient.pathSegment("../../init/error?x=1#")
        XCTAssertFalse(hostile.contains("/"), hostile)
        XCTAssertFalse(hostile.contains("?"), hostile)
        XCTAssertFalse(hostile.contains("#"), hostile)
        XCTAssertEqual(hostile.removingPercentEncoding, "../../init/error?x=1#")
    }

    func testConfigurationFromEnvironment() throws {
        let configuration = try LambdaRuntimeConfiguration.fromEnvironment(
            ["AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "_HANDLER": "rank"])
        XCTAssertEqual(configuration.runtimeAPI, "127.0.0.1:9001")
        XCTAssertEqual(configuration.handlerName, "rank")
        XCTAssertNil(configuration.maxInvocations)
        XCTAssertEqual(configuration.deadlineMargin, LambdaRuntimeConfiguration.defaultDeadlineMargin)

        XCTAssertThrowsError(try LambdaRuntimeConfiguration.fromEnvironment([:])) { error in
            XCTAssertEqual(error as? LambdaRuntimeError, .missingEnvironment(name: "AWS_LAMBDA_RUNTIME_API"))
        }
        for bad in ["localhost", "127.0.0.1:0", "127.0.0.1:99999", "host/path:80", ":9001", "127.0.0.1:port"] {
            XCTAssertThrowsError(try LambdaRuntimeConfiguration.fromEnvironment(["AWS_LAMBDA_RUNTIME_API": bad])) { error in
                guard case .invalidEnvironment(let name, let value, _) = error as? LambdaRuntimeError else {
                    return XCTFail("\(bad): \(error)")
                }
                XCTAssertEqual(name, "AWS_LAMBDA_RUNTIME_API")
                XCTAssertEqual(value, bad)
            }
        }
        XCTAssertThrowsError(try LambdaRuntimeConfiguration(runtimeAPI: "127.0.0.1:1", maxInvocations: 0))
    }

    func testDurationsConvertToWholeMilliseconds() {
        XCTAssertEqual(InvocationContext.milliseconds(.seconds(2)), 2_000)
        XCTAssertEqual(InvocationContext.milliseconds(.milliseconds(250)), 250)
        XCTAssertEqual(InvocationContext.milliseconds(.microseconds(1_500)), 1)
    }
}
