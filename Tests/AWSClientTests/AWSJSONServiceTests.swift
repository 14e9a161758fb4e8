@testable import AWSClient
import Foundation
import XCTest

/// The JSON-protocol transport without a server: endpoints, error bodies,
/// retry decisions, request construction and signatures, response decoding.
final class AWSJSONServiceTests: XCTestCase {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "session-token-123"
    )

    func testEndpointVariablesFollowTheSDKServiceIDs() throws {
        let base = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1"]
        let regional = try [AWSServiceDescriptor.stepFunctions, .lambda, .cloudWatchLogs].map {
            try AWSServiceConfiguration.fromEnvironment(service: $0, base).endpoint.host
        }
        XCTAssertEqual(regional, ["states.eu-west-1.amazonaws.com", "lambda.eu-west-1.amazonaws.com", "logs.eu-west-1.amazonaws.com"])
        let specific = base.merging([
            "AWS_ENDPOINT_URL_SFN": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:2",
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": "http://127.0.0.1:3", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        ]) { $1 }
        let ports = try [AWSServiceDescriptor.stepFunctions, .lambda, .cloudWatchLogs].map {
            try AWSServiceConfiguration.fromEnvironment(service: $0, specific).endpoint.port
        }
        XCTAssertEqual(ports, [1, 2, 3])
        let shared = base.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:9"]) { $1 }
        XCTAssertEqual(try AWSServiceConfiguration.fromEnvironment(service: .stepFunctions, shared).endpoint.port, 9)
        let token = try AWSServiceConfiguration.fromEnvironment(service: .lambda, base.merging(["AWS_SESSION_TOKEN": "t"]) { $1 })
        XCTAssertEqual(token.credentials.sessionToken, "t")
        XCTAssertThrowsError(try AWSServiceConfiguration.fromEnvironment(service: .lambda, ["AWS_REGION": "x"]))
    }

    func testJSONErrorBodies() {
        let plain = AWSErrorBody.parse(Data(#"{"__type":"ExecutionDoesNotExist","message":"Execution Does Not Exist: 'x'"}"#.utf8), status: 400, headers: [])
        XCTAssertEqual(plain.code, "ExecutionDoesNotExist")
        XCTAssertEqual(plain.message, "Execution Does Not Exist: 'x'")
        let namespaced = AWSErrorBody.parse(
            Data(#"{"__type":"com.amazonaws.lambda#ResourceNotFoundException","Message":"Function not found"}"#.utf8),
            status: 404, headers: [("x-amzn-RequestId", "req-1")]
        )
        XCTAssertEqual(namespaced.code, "ResourceNotFoundException")
        XCTAssertEqual(namespaced.message, "Function not found")
        XCTAssertEqual(namespaced.requestID, "req-1")
        let header = AWSErrorBody.parse(
            Data(#"{"Type":"User","message":"Rate exceeded"}"#.utf8), status: 429,
            headers: [("X-Amzn-ErrorType", "TooManyRequestsException:http://internal.amazon.com/coral/com.amazon.coral.service/")]
        )
        XCTAssertEqual(header.code, "TooManyRequestsException")
        let codeField = AWSErrorBody.parse(Data(#"{"code":"ThrottlingException","message":"slow down"}"#.utf8), status: 400, headers: [])
        XCTAssertEqual(codeField.code, "ThrottlingException")
    }

    func testXMLErrorBodiesAsMotoSendsForJSONServices() {
        let body = """
        <?xml version="1.0" encoding="utf-8"?>
        <ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated \
        does not match</Message><Type>Sender</Type></Error></Errors></ErrorResponse>
        """
        let parsed = AWSErrorBody.parse(Data(body.utf8), status: 403, headers: [("Content-Type", "text/html; charset=utf-8")])
        XCTAssertEqual(parsed.code, "SignatureDoesNotMatch")
        XCTAssertTrue(parsed.message.hasPrefix("The request signature"))
        let s3Style = AWSErrorBody.parse(Data("<Error><Code>AccessDenied</Code><Message>no</Message><RequestId>r9</RequestId></Error>".utf8), status: 403, headers: [])
        XCTAssertEqual(s3Style, AWSErrorBody(code: "AccessDenied", message: "no", requestID: "r9"))
    }

    func testUnreadableErrorBodiesFallBackToTheStatus() {
        XCTAssertEqual(AWSErrorBody.parse(Data(), status: 503, headers: []).code, "ServiceUnavailable")
        XCTAssertEqual(AWSErrorBody.parse(Data("<html>oops".utf8), status: 502, headers: []).code, "HTTP502")
        XCTAssertEqual(AWSErrorBody.parse(Data("{not json".utf8), status: 500, headers: []).code, "InternalFailure")
        XCTAssertEqual(AWSErrorBody.parse(Data(#"{"__type":""}"#.utf8), status: 404, headers: []).code, "NotFound")
        // A processing instruction without data crashes FoundationXML: never handed to it.
        XCTAssertEqual(AWSErrorBody.parse(Data("<Error><?x?><Code>A</Code></Error>".utf8), status: 400, headers: []).code, "HTTP400")
        let huge = Data(("{\"__type\":\"X\",\"message\":\"" + String(repeating: "a", count: 70_000) + "\"}").utf8)
        XCTAssertEqual(AWSErrorBody.parse(huge, status: 400, headers: []).code, "HTTP400")
    }

    private func error(_ status: Int?, _ code: String, kind: AWSServiceError.Kind = .service) -> AWSServiceError {
        AWSServiceError(kind: kind, service: "SFN", operation: "DescribeExecution", resource: "arn:x", status: status, code: code, message: "m")
    }

    func testRetryDecisions() {
        for code in ["ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"] {
            XCTAssertTrue(error(400, code).isRetryable, code)
        }
        XCTAssertTrue(error(429, "Whatever").isRetryable)
        XCTAssertTrue(error(500, "InternalFailure").isRetryable)
        XCTAssertTrue(error(503, "ServiceUnavailable").isRetryable)
        for code in ["ExecutionDoesNotExist", "ValidationException", "ResourceConflictException", "InvalidParameterValueException"] {
            XCTAssertFalse(error(400, code).isRetryable, code)
        }
        XCTAssertFalse(error(403, "SignatureDoesNotMatch").isRetryable)
        XCTAssertFalse(error(500, "AccessDenied").isRetryable)
        var transport = error(nil, "Transport", kind: .transport)
        XCTAssertFalse(transport.isRetryable)
        transport.transportRetryable = true
        XCTAssertTrue(transport.isRetryable)
        XCTAssertFalse(error(nil, "InvalidResponse", kind: .invalidResponse).isRetryable)
        XCTAssertTrue(error(400, "ExecutionDoesNotExist").isNotFound)
        XCTAssertTrue(error(404, "ResourceNotFoundException").isNotFound)
        XCTAssertFalse(error(400, "ValidationException").isNotFound)
        XCTAssertFalse(error(nil, "ExecutionDoesNotExist", kind: .transport).isNotFound)
    }

    func testDescriptionNamesServiceOperationResourceAndHint() {
        let text = String(describing: error(403, "SignatureDoesNotMatch"))
        XCTAssertEqual(text, "SFN DescribeExecution for arn:x failed: SignatureDoesNotMatch (HTTP 403): m (check AWS_SECRET_ACCESS_KEY)")
    }

    private func service(_ descriptor: AWSServiceDescriptor, basePath: String = "") -> AWSJSONService {
        let endpoint = AWSEndpoint(scheme: "http", host: "127.0.0.1", port: 4566, basePath: basePath, region: "us-east-1", isOverridden: true)
        return AWSJSONService(descriptor: descriptor, configuration: AWSServiceConfiguration(endpoint: endpoint, credentials: Self.credentials))
    }

    /// Signatures checked against botocore's SigV4Auth for the same request,
    /// credentials and time (2026-01-02T03:04:05Z).
    func testSignedRequestsMatchBotocore() async throws {
        let date = Date(timeIntervalSince1970: 1_767_323_045)
        let sfn = service(.stepFunctions)
        defer { Task { try? await sfn.shutdown() } }
        struct Request: Encodable { var executionArn: String }
        let body = try sfn.encode(Request(executionArn: "arn:aws:states:us-east-1:123456789012:execution:cosmicbench-pass:run-1"),
                                  operation: "DescribeExecution", resource: "")
        XCTAssertEqual(String(decoding: body, as: UTF8.self),
                       #"{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:cosmicbench-pass:run-1"}"#)
        let describe = sfn.makeRequest(method: .POST, path: "/", operation: "DescribeExecution", body: body, date: date)
        XCTAssertEqual(describe.url, "http://127.0.0.1:4566/")
        let headers = Dictionary(uniqueKeysWithValues: describe.headers.map { ($0.name.lowercased(), $0.value) })
        XCTAssertEqual(headers["x-amz-target"], "AWSStepFunctions.DescribeExecution")
        XCTAssertEqual(headers["content-type"], "application/x-amz-json-1.0")
        XCTAssertEqual(headers["x-amz-security-token"], "session-token-123")
        XCTAssertEqual(headers["authorization"],
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/states/aws4_request, "
                       + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
                       + "Signature=dd0b41d6c9334a90b64d388d6b83a815baa954e2c9ef95ca37ce1dd535ddbffa")

        let lambda = service(.lambda)
        defer { Task { try? await lambda.shutdown() } }
        let path = LambdaControlClient.configurationPath("arn:aws:lambda:us-east-1:123456789012:function:cosmicbench-worker")
        let get = lambda.makeRequest(method: .GET, path: path, operation: "GetFunctionConfiguration", body: Data(), date: date)
        XCTAssertEqual(get.url, "http://127.0.0.1:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Acosmicbench-worker/configuration")
        XCTAssertTrue(get.signature.canonicalRequest.contains("/functions/arn%253Aaws%253Alambda%253A"), get.signature.canonicalRequest)
        XCTAssertFalse(get.headers.contains { $0.name == "content-type" })
        XCTAssertEqual(get.signature.authorization,
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/lambda/aws4_request, "
                       + "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                       + "Signature=fd62b00f71977cc17a8b56c9153ef5453d96667d7f66c8c866e9d6351962032f")

        let logs = service(.cloudWatchLogs, basePath: "/proxy")
        defer { Task { try? await logs.shutdown() } }
        let filter = logs.makeRequest(method: .POST, path: "/", operation: "FilterLogEvents", body: Data("{}".utf8), date: date)
        XCTAssertEqual(filter.url, "http://127.0.0.1:4566/proxy/")
        XCTAssertTrue(filter.headers.contains { $0.name == "x-amz-target" && $0.value == "Logs_20140328.FilterLogEvents" })
        XCTAssertTrue(filter.headers.contains { $0.name == "content-type" && $0.value == "application/x-amz-json-1.1" })
    }

    func testExecutionARNDerivation() throws {
        XCTAssertEqual(
            try StepFunctionsClient.executionARN(stateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:cosmicbench-pipeline", name: "sweep-7_rank-3"),
            "arn:aws:states:us-east-1:123456789012:execution:cosmicbench-pipeline:sweep-7_rank-3"
        )
        XCTAssertEqual(
            try StepFunctionsClient.executionARN(stateMachineARN: "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m", name: "n"),
            "arn:aws-cn:states:cn-north-1:123456789012:execution:m:n"
        )
        for machine in ["arn:aws:states:us-east-1:123456789012:execution:m:n", "arn:aws:lambda:us-east-1:1:function:f",
                        "arn:aws:states:us-east-1:123456789012:stateMachine:", "m", "arn:aws:states:us-east-1:123456789012:stateMachine:m:v1"] {
            XCTAssertThrowsError(try StepFunctionsClient.executionARN(stateMachineARN: machine, name: "n"), machine)
        }
        for name in ["", "a b", "a:b", "a/b", String(repeating: "x", count: 81), "tab\there", "q?"] {
            XCTAssertThrowsError(try StepFunctionsClient.executionARN(stateMachineARN: "arn:aws:states:r:1:stateMachine:m", name: name), name) { error in
                XCTAssertEqual((error as? AWSServiceError)?.code, "InvalidName")
            }
        }
    }

    func testStatusesAndHistoryDecoding() throws {
        let statuses = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE", "PAUSED"].map(StepFunctionsClient.ExecutionStatus.init(rawValue:))
        XCTAssertEqual(statuses, [.running, .succeeded, .failed, .timedOut, .aborted, .pendingRedrive, .unknown("PAUSED")])
        XCTAssertEqual(statuses.map(\.rawValue), ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE", "PAUSED"])
        XCTAssertEqual(statuses.map(\.isTerminal), [false, true, true, true, true, true, true])

        let json = """
        [{"timestamp": 1796179217.413, "type": "TaskStateEntered", "id": 2, "previousEventId": 1,
          "stateEnteredEventDetails": {"name": "Rank", "input": "{}"}},
         {"timestamp": 1796179218.5, "type": "LambdaFunctionFailed", "id": 3, "previousEventId": 2,
          "lambdaFunctionFailedEventDetails": {"error": "Runtime.OutOfMemory", "cause": "rank 3: 1769 MB exceeded"}},
         {"timestamp": 1796179219, "type": "ExecutionFailed", "id": 4, "executionFailedEventDetails": {"error": "States.TaskFailed"}}]
        """
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let events = try decoder.decode([StepFunctionsClient.HistoryEvent].self, from: Data(json.utf8))
        XCTAssertEqual(events.map(\.stateName), ["Rank", nil, nil])
        XCTAssertEqual(events[1].error, "Runtime.OutOfMemory")
        XCTAssertEqual(events[1].cause, "rank 3: 1769 MB exceeded")
        XCTAssertEqual(events.map(\.isFailure), [false, true, true])
        XCTAssertEqual(events[0].timestamp.timeIntervalSince1970, 1796179217.413, accuracy: 1e-6)
        XCTAssertEqual(StepFunctionsClient.failureSummary(events), "LambdaFunctionFailed — Runtime.OutOfMemory: rank 3: 1769 MB exceeded")
        XCTAssertNil(StepFunctionsClient.failureSummary(Array(events.prefix(1))))
    }

    func testDecodingErrorsAreOneClearLine() {
        struct Shape: Decodable { var status: String }
        let missing = AWSJSONService.describe(Result { try JSONDecoder().decode(Shape.self, from: Data("{}".utf8)) }.error!)
        XCTAssertEqual(missing, "field 'status' missing at the document")
        let wrong = AWSJSONService.describe(Result { try JSONDecoder().decode(Shape.self, from: Data(#"{"status":1}"#.utf8)) }.error!)
        XCTAssertTrue(wrong.hasPrefix("wrong type at status"), wrong)
    }
}

private extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
