import AWSDeploy
import Foundation
import XCTest

/// Every statement of every role in the emitted template is exactly the
/// scoped one written out here by hand: widening a policy fails this test.
final class PolicyTests: XCTestCase {
    /// A statement reduced to comparable text: resources as `sub:TEXT`,
    /// `getatt:ID.Attr` or the literal string.
    struct Statement: Equatable, CustomStringConvertible {
        let sid: String
        let actions: [String]
        let resources: [String]
        let condition: String?
        var description: String { "\(sid) \(actions) on \(resources) if \(condition ?? "-")" }
    }

    static let partition = "arn:${AWS::Partition}"
    static let logs = ["logs:CreateLogStream", "logs:PutLogEvents"]
    static let dataObjects = "sub:\(partition):s3:::${DataBucket}/${DataPrefix}*"
    static let resultsObjects = "sub:\(partition):s3:::${ResultsBucket}/${ResultsPrefix}*"

    static let expected: [String: (service: String, statements: [Statement])] = [
        "InitializeRole": ("lambda.amazonaws.com", [
            Statement(sid: "WriteOwnLogGroup", actions: logs, resources: ["getatt:InitializeLogGroup.Arn"], condition: nil),
            Statement(sid: "ListData", actions: ["s3:ListBucket"], resources: ["sub:\(partition):s3:::${DataBucket}"],
                      condition: "StringLike s3:prefix sub:${DataPrefix}*"),
            Statement(sid: "CheckData", actions: ["s3:GetObject"], resources: [dataObjects], condition: nil),
            Statement(sid: "WriteResults", actions: ["s3:PutObject"], resources: [resultsObjects], condition: nil),
        ]),
        "RankRole": ("lambda.amazonaws.com", [
            Statement(sid: "WriteOwnLogGroup", actions: logs, resources: ["getatt:RankLogGroup.Arn"], condition: nil),
            Statement(sid: "ReadData", actions: ["s3:GetObject"], resources: [dataObjects], condition: nil),
            Statement(sid: "WriteResults", actions: ["s3:PutObject"], resources: [resultsObjects], condition: nil),
        ]),
        "SummarizeRole": ("lambda.amazonaws.com", [
            Statement(sid: "WriteOwnLogGroup", actions: logs, resources: ["getatt:SummarizeLogGroup.Arn"], condition: nil),
            Statement(sid: "ReadResults", actions: ["s3:GetObject"], resources: [resultsObjects], condition: nil),
            Statement(sid: "ListResults", actions: ["s3:ListBucket"], resources: ["sub:\(partition):s3:::${ResultsBucket}"],
                      condition: "StringLike s3:prefix sub:${ResultsPrefix}*"),
            Statement(sid: "WriteResults", actions: ["s3:PutObject"], resources: [resultsObjects], condition: nil),
        ]),
        "PipelineStateMachineRole": ("states.amazonaws.com", [
            Statement(sid: "InvokePipelineFunctions", actions: ["lambda:InvokeFunction"],
                      resources: ["getatt:InitializeFunction.Arn", "getatt:RankFunction.Arn", "getatt:SummarizeFunction.Arn"],
                      condition: nil),
            Statement(sid: "StartMapChildren", actions: ["states:StartExecution"],
                      resources: ["sub:\(partition):states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-pipeline"],
                      condition: nil),
            Statement(sid: "TrackMapChildren", actions: ["states:DescribeExecution", "states:StopExecution"],
                      resources: ["sub:\(partition):states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-pipeline/*"],
                      condition: nil),
        ]),
    ]

    private func resources() throws -> [String: [String: Any]] {
        let data = try CloudFormationTemplate.data(TemplateOptions())
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root["Resources"] as? [String: [String: Any]])
    }

    private static func text(_ value: Any) -> String {
        if let string = value as? String { return string }
        if let object = value as? [String: Any], object.count == 1 {
            if let sub = object["Fn::Sub"] as? String { return "sub:\(sub)" }
            if let getAtt = object["Fn::GetAtt"] as? [String], getAtt.count == 2 { return "getatt:\(getAtt[0]).\(getAtt[1])" }
        }
        return "unexpected \(value)"
    }

    private static func list(_ value: Any?) -> [String] {
        if let array = value as? [Any] { return array.map(text) }
        return value.map { [text($0)] } ?? []
    }

    private static func condition(_ value: Any?) -> String? {
        guard let value else { return nil }
        guard let object = value as? [String: [String: Any]], object.count == 1, let test = object.first,
              test.value.count == 1, let key = test.value.first else { return "unexpected \(value)" }
        return "\(test.key) \(key.key) \(list(key.value).joined(separator: ","))"
    }

    func testEveryRoleHoldsExactlyTheScopedStatements() throws {
        let roles = try resources().filter { ($0.value["Type"] as? String)?.hasPrefix("AWS::IAM::") == true }
        XCTAssertEqual(Set(roles.keys), Set(Self.expected.keys), "IAM resources other than the four roles")
        for (id, role) in roles {
            XCTAssertEqual(role["Type"] as? String, "AWS::IAM::Role", id)
            let properties = try XCTUnwrap(role["Properties"] as? [String: Any], id)
            XCTAssertNil(properties["RoleName"], "\(id): a fixed RoleName would collide across stacks and regions")
            XCTAssertNil(properties["ManagedPolicyArns"], "\(id): managed policies are not scoped")
            let policies = try XCTUnwrap(properties["Policies"] as? [[String: Any]], id)
            XCTAssertEqual(policies.count, 1, id)
            let document = try XCTUnwrap(policies.first?["PolicyDocument"] as? [String: Any], id)
            let statements = try XCTUnwrap(document["Statement"] as? [[String: Any]], id)
            for statement in statements {
                XCTAssertEqual(statement["Effect"] as? String, "Allow", id)
                XCTAssertNil(statement["NotAction"], id)
                XCTAssertNil(statement["NotResource"], id)
                for action in Self.list(statement["Action"]) { XCTAssertFalse(action.contains("*"), "\(id): wildcard action \(action)") }
                for resource in Self.list(statement["Resource"]) { XCTAssertNotEqual(resource, "*", "\(id): Resource \"*\"") }
            }
            let actual = statements.map {
                Statement(sid: $0["Sid"] as? String ?? "", actions: Self.list($0["Action"]),
                          resources: Self.list($0["Resource"]), condition: Self.condition($0["Condition"]))
            }
            let expected = try XCTUnwrap(Self.expected[id])
            XCTAssertEqual(actual, expected.statements, id)

            let trust = try XCTUnwrap((properties["AssumeRolePolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]], id)
            XCTAssertEqual(trust.count, 1, id)
            XCTAssertEqual((trust.first?["Principal"] as? [String: Any])?["Service"] as? String, expected.service, id)
            XCTAssertEqual(trust.first?["Action"] as? String, "sts:AssumeRole", id)
            if expected.service == "states.amazonaws.com" {
                let condition = (trust.first?["Condition"] as? [String: [String: Any]])?["StringEquals"]?["aws:SourceAccount"]
                XCTAssertEqual((condition as? [String: String])?["Ref"], "AWS::AccountId", "\(id): confused-deputy guard")
            } else {
                XCTAssertNil(trust.first?["Condition"], id)
            }
        }
    }

    /// The ARNs the policies name are those of the resources the template creates.
    func testPolicyResourcesNameTheTemplatesOwnResources() throws {
        let resources = try resources()
        let machine = try XCTUnwrap(resources[LogicalID.stateMachine]?["Properties"] as? [String: Any])
        XCTAssertEqual(Self.text(try XCTUnwrap(machine["StateMachineName"])), "sub:${AWS::StackName}-pipeline")
        for handler in PipelineEvents.Handler.allCases {
            let function = try XCTUnwrap(resources[LogicalID.function(handler)]?["Properties"] as? [String: Any])
            XCTAssertEqual(Self.text(try XCTUnwrap(function["Role"])), "getatt:\(LogicalID.role(handler)).Arn")
            let logging = try XCTUnwrap(function["LoggingConfig"] as? [String: Any])
            XCTAssertEqual((logging["LogGroup"] as? [String: String])?["Ref"], LogicalID.logGroup(handler))
        }
        XCTAssertEqual(Self.text(try XCTUnwrap(machine["RoleArn"])), "getatt:\(LogicalID.stateMachineRole).Arn")
    }

    func testRoleSpecsMatchTheEmittedTemplate() throws {
        let template = try CloudFormationTemplate.make(TemplateOptions())
        for role in CloudFormationTemplate.roles {
            XCTAssertEqual(template["Resources"]?[role.logicalID], role.resource, role.logicalID)
        }
    }
}
