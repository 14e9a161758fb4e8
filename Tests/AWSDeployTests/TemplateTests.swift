import AWSDeploy
import Foundation
import XCTest

/// The template's structure: one image for three functions, names derived
/// from the stack, the pipeline's states and event shapes, stable output.
final class TemplateTests: XCTestCase {
    private let template = try! CloudFormationTemplate.make(TemplateOptions())

    private func properties(_ id: String) throws -> JSON {
        try XCTUnwrap(template["Resources"]?[id]?["Properties"], id)
    }

    func testSameOptionsGiveByteIdenticalText() throws {
        let options = TemplateOptions(stackName: "bob", dataPrefix: "x/")
        XCTAssertEqual(try CloudFormationTemplate.data(options), try CloudFormationTemplate.data(options))
        XCTAssertNotEqual(try CloudFormationTemplate.data(options), try CloudFormationTemplate.data(TemplateOptions()))
    }

    func testThreeFunctionsRunOneImageSelectedByEnvironment() throws {
        for handler in PipelineEvents.Handler.allCases {
            let function = try properties(LogicalID.function(handler))
            XCTAssertEqual(function["PackageType"], "Image")
            XCTAssertEqual(function["Code"], ["ImageUri": ["Ref": "ImageUri"]])
            XCTAssertNil(function["Handler"])
            XCTAssertNil(function["Runtime"])
            XCTAssertEqual(function["Environment"]?["Variables"]?["COSMICBENCH_HANDLER"], .string(handler.rawValue))
            let variables = try XCTUnwrap(function["Environment"]?["Variables"])
            XCTAssertEqual(variables.keys, ["COSMICBENCH_HANDLER", "COSMICBENCH_DATA_BUCKET", "COSMICBENCH_DATA_PREFIX",
                                            "COSMICBENCH_RESULTS_BUCKET", "COSMICBENCH_RESULTS_PREFIX"])
            if handler == .rank {
                XCTAssertEqual(function["MemorySize"], ["Ref": "RankMemorySize"])
                XCTAssertEqual(function["EphemeralStorage"], ["Size": ["Ref": "RankEphemeralStorage"]])
                XCTAssertEqual(function["Timeout"], 900)
            } else {
                XCTAssertEqual(function["MemorySize"], 1024)
                XCTAssertEqual(function["EphemeralStorage"], ["Size": 512])
                let timeout = try XCTUnwrap(function["Timeout"]?.intValue)
                XCTAssertTrue((60...300).contains(timeout), "\(handler) timeout \(timeout)")
            }
        }
    }

    func testParametersCarryTheOptionsAsDefaults() throws {
        let options = TemplateOptions(stackName: "carol", dataBucket: "d-bucket", dataPrefix: "in/", resultsBucket: "r-bucket",
                                      resultsPrefix: "out/", imageURI: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cb@sha256:" + String(repeating: "a", count: 64),
                                      rankMemoryMB: 4096, rankEphemeralStorageMB: 1024, maxConcurrency: 12, toleratedFailurePercentage: 3)
        let parameters = try XCTUnwrap(try CloudFormationTemplate.make(options)["Parameters"])
        XCTAssertEqual(parameters.keys, ["DataBucket", "DataPrefix", "ResultsBucket", "ResultsPrefix", "ImageUri", "RankMemorySize",
                                         "RankEphemeralStorage", "MaxConcurrency", "ToleratedFailurePercentage"])
        XCTAssertEqual(parameters["DataBucket"]?["Default"], "d-bucket")
        XCTAssertEqual(parameters["DataPrefix"]?["Default"], "in/")
        XCTAssertEqual(parameters["ResultsBucket"]?["Default"], "r-bucket")
        XCTAssertEqual(parameters["ResultsPrefix"]?["Default"], "out/")
        XCTAssertEqual(parameters["ImageUri"]?["Default"], .string(options.imageURI!))
        XCTAssertEqual(parameters["RankMemorySize"]?["Default"], 4096)
        XCTAssertEqual(parameters["RankMemorySize"]?["MinValue"], 128)
        XCTAssertEqual(parameters["RankMemorySize"]?["MaxValue"], 10240)
        XCTAssertEqual(parameters["RankEphemeralStorage"]?["Default"], 1024)
        XCTAssertEqual(parameters["RankEphemeralStorage"]?["MinValue"], 512)
        XCTAssertEqual(parameters["MaxConcurrency"]?["Default"], 12)
        XCTAssertEqual(parameters["ToleratedFailurePercentage"]?["Default"], 3)
        XCTAssertEqual(parameters["ToleratedFailurePercentage"]?["MaxValue"], 100)

        let defaults = try XCTUnwrap(template["Parameters"])
        XCTAssertNil(defaults["ImageUri"]?["Default"], "without an image the deploy must name one")
        XCTAssertEqual(defaults["RankMemorySize"]?["Default"], 10240)
        XCTAssertEqual(defaults["RankEphemeralStorage"]?["Default"], 10240)
    }

    func testEveryNameDerivesFromTheStackName() throws {
        var names: [String] = []
        for handler in PipelineEvents.Handler.allCases {
            names.append(try XCTUnwrap(try properties(LogicalID.function(handler))["FunctionName"]?["Fn::Sub"]?.stringValue))
            names.append(try XCTUnwrap(try properties(LogicalID.logGroup(handler))["LogGroupName"]?["Fn::Sub"]?.stringValue))
        }
        names.append(try XCTUnwrap(try properties(LogicalID.stateMachine)["StateMachineName"]?["Fn::Sub"]?.stringValue))
        XCTAssertEqual(names, ["${AWS::StackName}-initialize", "/aws/lambda/${AWS::StackName}-initialize",
                               "${AWS::StackName}-rank", "/aws/lambda/${AWS::StackName}-rank",
                               "${AWS::StackName}-summarize", "/aws/lambda/${AWS::StackName}-summarize",
                               "${AWS::StackName}-pipeline"])
        let alice = Set(names.map { $0.replacingOccurrences(of: "${AWS::StackName}", with: "alice") })
        let bob = Set(names.map { $0.replacingOccurrences(of: "${AWS::StackName}", with: "bob") })
        XCTAssertTrue(alice.isDisjoint(with: bob))
        XCTAssertFalse(template.rendered().contains("\"RoleName\""))
        XCTAssertFalse(template.rendered().contains("\"cosmicbench-"), "a hard-coded stack name in a resource name")
    }

    func testPipelineStatesAndEventShapes() throws {
        let definition = CloudFormationTemplate.stateMachineDefinition()
        XCTAssertEqual(definition["StartAt"], "Initialize")
        let states = try XCTUnwrap(definition["States"])
        XCTAssertEqual(states.keys, ["Initialize", "Ranks", "Summarize"])

        let initialize = try XCTUnwrap(states["Initialize"])
        XCTAssertEqual(initialize["Resource"], "arn:aws:states:::lambda:invoke")
        XCTAssertEqual(initialize["Parameters"], ["FunctionName": "${InitializeFunctionArn}", "Payload.$": "$"])
        XCTAssertEqual(initialize["ResultSelector"]?["payload.$"], "$.Payload.payload")
        XCTAssertEqual(initialize["ResultSelector"]?["data_map.$"], "$.Payload.data_map")
        XCTAssertEqual(initialize["Next"], "Ranks")

        let map = try XCTUnwrap(states["Ranks"])
        XCTAssertEqual(map["Type"], "Map")
        XCTAssertEqual(map["ItemsPath"], "$.data_map")
        XCTAssertEqual(map["ItemSelector"], ["rank.$": "$$.Map.Item.Index", "files.$": "$$.Map.Item.Value", "payload.$": "$.payload"])
        XCTAssertEqual(map["MaxConcurrencyPath"], "$.map_limits.max_concurrency")
        XCTAssertEqual(map["ToleratedFailurePercentagePath"], "$.map_limits.tolerated_failure_percentage")
        XCTAssertEqual(initialize["ResultSelector"]?["map_limits"],
                       ["max_concurrency.$": "States.StringToJson('${MaxConcurrency}')",
                        "tolerated_failure_percentage.$": "States.StringToJson('${ToleratedFailurePercentage}')"])
        XCTAssertEqual(map["ItemProcessor"]?["ProcessorConfig"], ["Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"])
        XCTAssertEqual(map["ResultPath"], .null)
        XCTAssertEqual(map["Next"], "Summarize")
        let rank = try XCTUnwrap(map["ItemProcessor"]?["States"]?["Rank"])
        XCTAssertEqual(rank["Parameters"], ["FunctionName": "${RankFunctionArn}", "Payload.$": "$"])
        XCTAssertEqual(rank["ResultSelector"], ["rank.$": "$.Payload.rank", "status.$": "$.Payload.status"])
        XCTAssertEqual(rank["End"], true)

        let summarize = try XCTUnwrap(states["Summarize"])
        XCTAssertEqual(summarize["Parameters"], ["FunctionName": "${SummarizeFunctionArn}",
                                                 "Payload": ["payload.$": "$.payload", "data_map.$": "$.data_map"]])
        XCTAssertEqual(summarize["OutputPath"], "$.Payload")
        XCTAssertEqual(summarize["End"], true)

        for task in [initialize, rank, summarize] {
            let retry = try XCTUnwrap(task["Retry"]?[0])
            XCTAssertEqual(retry["ErrorEquals"], ["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.SdkClientException"])
            XCTAssertGreaterThan(try XCTUnwrap(retry["BackoffRate"]?.intValue), 1)
            XCTAssertGreaterThan(try XCTUnwrap(retry["MaxAttempts"]?.intValue), 1)
        }
    }

    func testLiteralLimitsReplaceThePaths() throws {
        let definition = CloudFormationTemplate.stateMachineDefinition(
            functions: .arns(initialize: "i", rank: "r", summarize: "s"), limits: .literal(maxConcurrency: 7, toleratedFailurePercentage: 4))
        let map = try XCTUnwrap(definition["States"]?["Ranks"])
        XCTAssertEqual(map["MaxConcurrency"], 7)
        XCTAssertEqual(map["ToleratedFailurePercentage"], 4)
        XCTAssertNil(map["MaxConcurrencyPath"])
        XCTAssertNil(definition["States"]?["Initialize"]?["ResultSelector"]?["map_limits"])
        XCTAssertEqual(map["ItemProcessor"]?["States"]?["Rank"]?["Parameters"]?["FunctionName"], "r")
    }

    /// Every `${...}` in the definition has a substitution and vice versa.
    func testDefinitionSubstitutionsCoverEveryPlaceholder() throws {
        let machine = try properties(LogicalID.stateMachine)
        let text = try XCTUnwrap(machine["Definition"]).rendered()
        let regex = try NSRegularExpression(pattern: "\\$\\{([A-Za-z0-9]+)\\}")
        let found = Set(regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        })
        XCTAssertEqual(found, Set(try XCTUnwrap(machine["DefinitionSubstitutions"]).keys))
        XCTAssertEqual(found.count, 5)
    }

    func testOptionsAWSWouldRejectAreNamed() {
        func message(_ options: TemplateOptions) -> String {
            do { try options.validate(); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(TemplateOptions()), "accepted")
        XCTAssertTrue(message(TemplateOptions(stackName: "1abc")).hasPrefix("stack name '1abc' is invalid"))
        XCTAssertEqual(message(TemplateOptions(stackName: String(repeating: "a", count: 53))), "accepted")
        XCTAssertTrue(message(TemplateOptions(stackName: String(repeating: "a", count: 54))).contains("at most 53"))
        XCTAssertTrue(message(TemplateOptions(dataBucket: "Bad_Bucket")).hasPrefix("data bucket 'Bad_Bucket' is invalid"))
        XCTAssertTrue(message(TemplateOptions(resultsBucket: "a..b")).hasPrefix("results bucket 'a..b'"))
        XCTAssertTrue(message(TemplateOptions(dataPrefix: "100MB")).hasPrefix("data prefix '100MB' is invalid"))
        XCTAssertTrue(message(TemplateOptions(resultsPrefix: "/runs/")).hasPrefix("results prefix '/runs/'"))
        XCTAssertTrue(message(TemplateOptions(resultsPrefix: "runs*/")).hasPrefix("results prefix 'runs*/'"))
        XCTAssertEqual(message(TemplateOptions(dataPrefix: "cai/100MB/")), "accepted")
        XCTAssertTrue(message(TemplateOptions(imageURI: "docker.io/cosmicbench:latest")).hasPrefix("image URI"))
        XCTAssertTrue(message(TemplateOptions(rankMemoryMB: 20_000)).hasPrefix("rank memory (MB) '20000'"))
        XCTAssertTrue(message(TemplateOptions(rankEphemeralStorageMB: 100)).hasPrefix("rank ephemeral storage (MB) '100'"))
        XCTAssertTrue(message(TemplateOptions(maxConcurrency: -1)).hasPrefix("max concurrency '-1'"))
        XCTAssertTrue(message(TemplateOptions(toleratedFailurePercentage: 101)).hasPrefix("tolerated failure percentage '101'"))
        XCTAssertTrue(message(TemplateOptions(logRetentionDays: 8)).hasPrefix("log retention (days) '8'"))
        XCTAssertThrowsError(try CloudFormationTemplate.make(TemplateOptions(dataPrefix: "100MB")))
    }

    func testRenderingEscapesAndRoundTrips() throws {
        let value: JSON = ["quote\"": "a\\b\n\t\u{01}é/", "list": [1, true, nil, []], "empty": [:]]
        let text = value.rendered()
        XCTAssertEqual(text, """
        {
          "quote\\"": "a\\\\b\\n\\t\\u0001é/",
          "list": [
            1,
            true,
            null,
            []
          ],
          "empty": {}
        }

        """)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(parsed["quote\""] as? String, "a\\b\n\t\u{01}é/")
    }

    /// `deploy/template.json` is what `cosmicbench aws template --out deploy/template.json` writes.
    func testCommittedTemplateIsCurrent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try Data(contentsOf: root.appendingPathComponent("deploy/template.json"))
        XCTAssertEqual(String(decoding: committed, as: UTF8.self), try CloudFormationTemplate.make(TemplateOptions()).rendered(),
                       "deploy/template.json is stale: regenerate it with `cosmicbench aws template --out deploy/template.json`")
    }
}
