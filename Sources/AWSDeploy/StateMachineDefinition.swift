/// The pipeline in Amazon States Language: Initialize → a Distributed Map of
/// one rank per data_map entry → Summarize, with the event shapes of
/// `PipelineEvents`. Built as a JSON object (not a string), so cfn-lint
/// checks it inside the template and statelint checks it alone.
public enum StateMachineDefinition {
    /// How the Task states name their functions.
    public enum Functions: Equatable, Sendable {
        /// `${InitializeFunctionArn}`-style placeholders, filled in by the
        /// template's `DefinitionSubstitutions`.
        case substitutions
        /// Concrete function ARNs (a state machine created outside CloudFormation).
        case arns(initialize: String, rank: String, summarize: String)
    }

    /// Where the Map's concurrency and failure tolerance come from.
    public enum MapLimits: Equatable, Sendable {
        /// From the template's parameters. `DefinitionSubstitutions` can only
        /// insert text, and a placeholder inside the JSON object is a string,
        /// which `MaxConcurrency` rejects; so Initialize's ResultSelector turns
        /// the substituted text into numbers (`States.StringToJson`) under
        /// `map_limits`, and the Map reads them with its `...Path` fields.
        case templateParameters
        /// Fixed numbers in the Map state itself.
        case literal(maxConcurrency: Int, toleratedFailurePercentage: Int)
    }

    public static let initializeState = "Initialize"
    public static let mapState = "Ranks"
    public static let rankState = "Rank"
    public static let summarizeState = "Summarize"
    /// Key of the numeric Map limits in the Map's input (template mode only).
    public static let mapLimitsKey = "map_limits"

    /// Lambda's transient errors: throttling at the account's concurrency
    /// limit, service faults and failed calls. Function errors are not retried.
    public static let retriedErrors = ["Lambda.TooManyRequestsException", "Lambda.ServiceException",
                                       "Lambda.SdkClientException"]

    /// The substitution key of a function's ARN, e.g. `RankFunctionArn`.
    public static func arnSubstitution(_ handler: PipelineEvents.Handler) -> String {
        LogicalID.function(handler) + "Arn"
    }

    /// The definition. `.substitutions` with `.templateParameters` is what the
    /// template holds; concrete ARNs with literal limits make a definition
    /// that can be created directly.
    public static func make(functions: Functions = .substitutions, limits: MapLimits = .templateParameters) -> JSON {
        func functionName(_ handler: PipelineEvents.Handler) -> JSON {
            switch functions {
            case .substitutions: return .string("${\(arnSubstitution(handler))}")
            case let .arns(initialize, rank, summarize):
                switch handler {
                case .initialize: return .string(initialize)
                case .rank: return .string(rank)
                case .summarize: return .string(summarize)
                }
            }
        }
        let payload = PipelineEvents.payloadKey
        let dataMap = PipelineEvents.dataMapKey

        var initializeSelector: [(key: String, value: JSON)] = [
            ("\(payload).$", .string("$.Payload.\(payload)")), ("\(dataMap).$", .string("$.Payload.\(dataMap)")),
        ]
        var mapMembers: [(key: String, value: JSON)] = [
            ("Type", "Map"),
            ("Comment", "One rank per data_map entry, each a child execution that invokes the rank function."),
            ("ItemsPath", .string("$.\(dataMap)")),
            ("ItemSelector", [
                "\(PipelineEvents.rankKey).$": "$$.Map.Item.Index",
                "\(PipelineEvents.filesKey).$": "$$.Map.Item.Value",
                "\(payload).$": .string("$.\(payload)"),
            ]),
        ]
        switch limits {
        case .templateParameters:
            initializeSelector.append((mapLimitsKey, [
                "max_concurrency.$": .string("States.StringToJson('${\(ParameterName.maxConcurrency)}')"),
                "tolerated_failure_percentage.$": .string("States.StringToJson('${\(ParameterName.toleratedFailurePercentage)}')"),
            ]))
            mapMembers.append(("MaxConcurrencyPath", .string("$.\(mapLimitsKey).max_concurrency")))
            mapMembers.append(("ToleratedFailurePercentagePath", .string("$.\(mapLimitsKey).tolerated_failure_percentage")))
        case let .literal(maxConcurrency, tolerance):
            mapMembers.append(("MaxConcurrency", .int(maxConcurrency)))
            mapMembers.append(("ToleratedFailurePercentage", .int(tolerance)))
        }
        mapMembers += [
            ("ItemProcessor", [
                // STANDARD children: a rank may run 15 minutes, an EXPRESS child only 5.
                "ProcessorConfig": ["Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"],
                "StartAt": .string(rankState),
                "States": [
                    rankState: invoke(functionName(.rank), payload: ["Payload.$": "$"],
                                      comment: "Runs one rank; its {rank}.json goes to S3, only rank and status come back.",
                                      shaping: [("ResultSelector", [
                                          "\(PipelineEvents.rankKey).$": .string("$.Payload.\(PipelineEvents.rankKey)"),
                                          "\(PipelineEvents.statusKey).$": .string("$.Payload.\(PipelineEvents.statusKey)"),
                                      ])],
                                      next: nil),
                ],
            ]),
            // The Map's results are discarded: the summarizer reads the ranks'
            // files, and N results could exceed the 256 KB state limit.
            ("ResultPath", .null),
            ("Next", .string(summarizeState)),
        ]

        return [
            "Comment": "CosmicBench: the CAI pipeline. Initialize maps files to ranks, a Distributed Map runs one rank per entry, Summarize combines their results.",
            "StartAt": .string(initializeState),
            "States": [
                initializeState: invoke(functionName(.initialize), payload: ["Payload.$": "$"],
                                        comment: "Takes the CAI payload, returns it with the data_map.",
                                        shaping: [("ResultSelector", .object(initializeSelector))],
                                        next: mapState),
                mapState: .object(mapMembers),
                summarizeState: invoke(functionName(.summarize),
                                       payload: ["Payload": ["\(payload).$": .string("$.\(payload)"), "\(dataMap).$": .string("$.\(dataMap)")]],
                                       comment: "Writes combined_data.json; its small result is the execution's output.",
                                       shaping: [("OutputPath", "$.Payload")],
                                       next: nil),
            ],
        ]
    }

    /// A Task state invoking a Lambda function through the optimized
    /// integration, retrying the transient errors with exponential backoff.
    static func invoke(_ function: JSON, payload: JSON, comment: String,
                       shaping: [(key: String, value: JSON)], next: String?) -> JSON {
        var parameters: [(key: String, value: JSON)] = [("FunctionName", function)]
        if case let .object(members) = payload { parameters += members }
        var members: [(key: String, value: JSON)] = [
            ("Type", "Task"),
            ("Comment", .string(comment)),
            ("Resource", "arn:aws:states:::lambda:invoke"),
            ("Parameters", .object(parameters)),
        ]
        members += shaping
        members.append(("Retry", [[
            "ErrorEquals": .array(retriedErrors.map(JSON.string)),
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL",
        ]]))
        if let next { members.append(("Next", .string(next))) } else { members.append(("End", true)) }
        return .object(members)
    }
}
