/// One statement of an inline policy: allow `actions` on `resources`
/// (CloudFormation expressions), optionally under `condition`.
public struct PolicyStatement: Equatable, Sendable {
    public let sid: String
    public let actions: [String]
    public let resources: [JSON]
    public let condition: JSON?

    public init(sid: String, actions: [String], resources: [JSON], condition: JSON? = nil) {
        self.sid = sid
        self.actions = actions
        self.resources = resources
        self.condition = condition
    }

    /// The statement as IAM policy JSON.
    public var json: JSON {
        var members: [(key: String, value: JSON)] = [
            ("Sid", .string(sid)), ("Effect", "Allow"),
            ("Action", .array(actions.map(JSON.string))), ("Resource", .array(resources)),
        ]
        if let condition { members.append(("Condition", condition)) }
        return .object(members)
    }
}

/// An IAM role of the deployment: the one service that may assume it and the
/// statements of its single inline policy.
public struct RoleSpec: Equatable, Sendable {
    public let logicalID: String
    public let service: String
    public let description: String
    public let statements: [PolicyStatement]
    /// Extra condition on who may assume the role, if any.
    public let trustCondition: JSON?

    public init(logicalID: String, service: String, description: String, statements: [PolicyStatement],
                trustCondition: JSON? = nil) {
        self.logicalID = logicalID
        self.service = service
        self.description = description
        self.statements = statements
        self.trustCondition = trustCondition
    }

    /// The `AWS::IAM::Role` resource. No `RoleName`: IAM names are global to
    /// the account, so CloudFormation's generated `{stack}-{id}-{random}` is
    /// what keeps two stacks (or one stack name in two regions) apart.
    public var resource: JSON {
        var trust: [(key: String, value: JSON)] = [
            ("Effect", "Allow"), ("Principal", ["Service": .string(service)]), ("Action", "sts:AssumeRole"),
        ]
        if let trustCondition { trust.append(("Condition", trustCondition)) }
        return [
            "Type": "AWS::IAM::Role",
            "Properties": [
                "Description": .string(description),
                "AssumeRolePolicyDocument": ["Version": "2012-10-17", "Statement": [.object(trust)]],
                "Policies": [[
                    "PolicyName": .string(logicalID + "Policy"),
                    "PolicyDocument": ["Version": "2012-10-17", "Statement": .array(statements.map(\.json))],
                ]],
            ],
        ]
    }
}

/// Least-privilege roles: each function may write only its own log group and
/// touch only the S3 keys its step needs; the state machine may invoke only
/// the three functions and start only its own Distributed Map children.
/// No statement uses a wildcard action or `Resource: "*"`.
public enum PipelineRoles {
    public static let lambdaService = "lambda.amazonaws.com"
    public static let stepFunctionsService = "states.amazonaws.com"

    /// The four roles: one per function, then the state machine's.
    public static var all: [RoleSpec] { PipelineEvents.Handler.allCases.map(function) + [stateMachine] }

    /// The execution role of one function.
    public static func function(_ handler: PipelineEvents.Handler) -> RoleSpec {
        let logs = PolicyStatement(
            sid: "WriteOwnLogGroup", actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
            resources: [Intrinsic.getAtt(LogicalID.logGroup(handler), "Arn")])
        let writeResults = PolicyStatement(sid: "WriteResults", actions: ["s3:PutObject"], resources: [resultsObjects])
        let statements: [PolicyStatement]
        switch handler {
        case .initialize:
            // Lists the partition files under the payload's data_prefix,
            // checks each assigned one is readable (HEAD, which needs
            // GetObject) before the Map fans out, and writes payload.json
            // (with the data_map) beside the results.
            statements = [logs, listBucket(sid: "ListData", bucket: ParameterName.dataBucket, prefix: ParameterName.dataPrefix),
                          PolicyStatement(sid: "CheckData", actions: ["s3:GetObject"], resources: [dataObjects]),
                          writeResults]
        case .rank:
            statements = [logs, PolicyStatement(sid: "ReadData", actions: ["s3:GetObject"], resources: [dataObjects]),
                          writeResults]
        case .summarize:
            // ListBucket only so that a missing {rank}.json reads as NoSuchKey,
            // not as AccessDenied.
            statements = [logs, PolicyStatement(sid: "ReadResults", actions: ["s3:GetObject"], resources: [resultsObjects]),
                          listBucket(sid: "ListResults", bucket: ParameterName.resultsBucket, prefix: ParameterName.resultsPrefix),
                          writeResults]
        }
        return RoleSpec(logicalID: LogicalID.role(handler), service: lambdaService,
                        description: "CosmicBench \(handler.rawValue) function: its own log group and its S3 keys only",
                        statements: statements)
    }

    /// The state machine's role. A Distributed Map runs each item as a child
    /// execution of this same state machine, so the role needs StartExecution
    /// on its own ARN and Describe/StopExecution on the children. The ARN is
    /// built from the fixed name: a `Ref` to the machine would be circular.
    public static var stateMachine: RoleSpec {
        let name = PipelineNames.stateMachineName(stack: PipelineNames.stackPlaceholder)
        let statesARN = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
        return RoleSpec(
            logicalID: LogicalID.stateMachineRole, service: stepFunctionsService,
            description: "CosmicBench state machine: invoke the three pipeline functions, run its own map children",
            statements: [
                PolicyStatement(sid: "InvokePipelineFunctions", actions: ["lambda:InvokeFunction"],
                                resources: PipelineEvents.Handler.allCases.map { Intrinsic.getAtt(LogicalID.function($0), "Arn") }),
                PolicyStatement(sid: "StartMapChildren", actions: ["states:StartExecution"],
                                resources: [Intrinsic.sub("\(statesARN):stateMachine:\(name)")]),
                PolicyStatement(sid: "TrackMapChildren", actions: ["states:DescribeExecution", "states:StopExecution"],
                                resources: [Intrinsic.sub("\(statesARN):execution:\(name)/*")]),
            ],
            // Confused-deputy guard: only this account's state machines may assume it.
            trustCondition: ["StringEquals": ["aws:SourceAccount": Intrinsic.ref("AWS::AccountId")]])
    }

    /// Objects under the data prefix.
    static var dataObjects: JSON {
        Intrinsic.sub("arn:${AWS::Partition}:s3:::${\(ParameterName.dataBucket)}/${\(ParameterName.dataPrefix)}*")
    }

    /// Objects under the results prefix.
    static var resultsObjects: JSON {
        Intrinsic.sub("arn:${AWS::Partition}:s3:::${\(ParameterName.resultsBucket)}/${\(ParameterName.resultsPrefix)}*")
    }

    /// ListBucket on a bucket, only for listings under the prefix.
    static func listBucket(sid: String, bucket: String, prefix: String) -> PolicyStatement {
        PolicyStatement(sid: sid, actions: ["s3:ListBucket"],
                        resources: [Intrinsic.sub("arn:${AWS::Partition}:s3:::${\(bucket)}")],
                        condition: ["StringLike": ["s3:prefix": [Intrinsic.sub("${\(prefix)}*")]]])
    }
}
