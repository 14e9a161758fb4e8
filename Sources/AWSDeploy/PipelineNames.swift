/// How every AWS name of a deployment derives from its stack name, in one
/// place. The template passes `${AWS::StackName}` as the stack, so two stacks
/// (two users in one account) never share a function, log group or state
/// machine; IAM roles, which are account-global, are left for CloudFormation
/// to name (`{stack}-{LogicalId}-{random}`), so they cannot collide across
/// regions either. A caller outside CloudFormation (a test creating the state
/// machine directly) passes a concrete stack name and gets the same names.
public enum PipelineNames {
    /// The stack-name placeholder CloudFormation resolves inside `Fn::Sub`.
    public static let stackPlaceholder = "${AWS::StackName}"

    /// Suffix of the state machine's name.
    public static let stateMachineSuffix = "pipeline"

    /// Lambda caps function names at 64 characters.
    public static let maximumFunctionNameLength = 64

    /// The handler with the longest name, which bounds the stack name.
    public static var longestHandler: PipelineEvents.Handler {
        PipelineEvents.Handler.allCases.max(by: { $0.rawValue.count < $1.rawValue.count }) ?? .initialize
    }

    /// The longest stack name whose derived function names still fit.
    public static var maximumStackNameLength: Int {
        maximumFunctionNameLength - functionName(longestHandler, stack: "").count
    }

    /// `{stack}-{handler}`, e.g. `cosmicbench-rank`.
    public static func functionName(_ handler: PipelineEvents.Handler, stack: String) -> String {
        "\(stack)-\(handler.rawValue)"
    }

    /// The function's log group, where Lambda writes its START/END/REPORT lines.
    public static func logGroupName(_ handler: PipelineEvents.Handler, stack: String) -> String {
        "/aws/lambda/\(functionName(handler, stack: stack))"
    }

    /// `{stack}-pipeline`.
    public static func stateMachineName(stack: String) -> String {
        "\(stack)-\(stateMachineSuffix)"
    }

    /// A function's ARN, for building the state machine outside CloudFormation.
    public static func functionARN(_ handler: PipelineEvents.Handler, stack: String, region: String,
                                   account: String, partition: String = "aws") -> String {
        "arn:\(partition):lambda:\(region):\(account):function:\(functionName(handler, stack: stack))"
    }
}
