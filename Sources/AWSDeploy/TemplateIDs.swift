/// The template's logical resource IDs, defined once so the resources, the
/// policies that reference them and the tests agree.
public enum LogicalID {
    public static let stateMachine = "PipelineStateMachine"
    public static let stateMachineRole = "PipelineStateMachineRole"

    /// `InitializeFunction`, `RankFunction`, `SummarizeFunction`.
    public static func function(_ handler: PipelineEvents.Handler) -> String { "\(stem(handler))Function" }
    /// The function's log group.
    public static func logGroup(_ handler: PipelineEvents.Handler) -> String { "\(stem(handler))LogGroup" }
    /// The function's execution role.
    public static func role(_ handler: PipelineEvents.Handler) -> String { "\(stem(handler))Role" }

    /// `Initialize`, `Rank`, `Summarize`.
    public static func stem(_ handler: PipelineEvents.Handler) -> String {
        handler.rawValue.prefix(1).uppercased() + handler.rawValue.dropFirst()
    }
}

/// The template's parameter names, defined once.
public enum ParameterName {
    public static let dataBucket = "DataBucket"
    public static let dataPrefix = "DataPrefix"
    public static let resultsBucket = "ResultsBucket"
    public static let resultsPrefix = "ResultsPrefix"
    public static let imageURI = "ImageUri"
    public static let rankMemorySize = "RankMemorySize"
    public static let rankEphemeralStorage = "RankEphemeralStorage"
    public static let maxConcurrency = "MaxConcurrency"
    public static let toleratedFailurePercentage = "ToleratedFailurePercentage"
}
