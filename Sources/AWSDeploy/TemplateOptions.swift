import Foundation

/// What a generated template is made from. The buckets, prefixes, image,
/// memory and Map limits become the defaults of the template's parameters (a
/// deploy can override each); the stack name labels the template and is
/// checked so that every name derived from it fits AWS's limits — the
/// resources themselves are named from `AWS::StackName` at deploy time.
public struct TemplateOptions: Equatable, Sendable {
    /// The stack the template is meant to be deployed as.
    public var stackName: String
    /// Bucket holding the partition files (CAI's `data_bucket`).
    public var dataBucket: String
    /// Key prefix the functions may read under `dataBucket`: empty or ending in `/`.
    public var dataPrefix: String
    /// Bucket the results go to (CAI's `bucket`).
    public var resultsBucket: String
    /// Key prefix the functions may write under `resultsBucket`: empty or ending in `/`.
    public var resultsPrefix: String
    /// The worker image in ECR; nil leaves the parameter without a default,
    /// so a deploy must pass it.
    public var imageURI: String?
    /// Memory of the rank function, MB (CAI: 10,240).
    public var rankMemoryMB: Int
    /// Ephemeral `/tmp` storage of the rank function, MB (CAI: 10,240).
    public var rankEphemeralStorageMB: Int
    /// Ranks running at once; 0 lets Step Functions run as many as it allows.
    public var maxConcurrency: Int
    /// Percentage of ranks that may fail before the run fails (integer:
    /// statelint rejects a float without `--ignore=FLOAT`).
    public var toleratedFailurePercentage: Int
    /// Days CloudWatch Logs keeps the functions' logs.
    public var logRetentionDays: Int

    public init(stackName: String = "cosmicbench",
                dataBucket: String = "cosmicai-data", dataPrefix: String = "",
                resultsBucket: String = "cosmicai-results", resultsPrefix: String = "",
                imageURI: String? = nil,
                rankMemoryMB: Int = Self.lambdaMemoryRange.upperBound,
                rankEphemeralStorageMB: Int = Self.ephemeralStorageRange.upperBound,
                maxConcurrency: Int = 100, toleratedFailurePercentage: Int = 0,
                logRetentionDays: Int = 30) {
        self.stackName = stackName
        self.dataBucket = dataBucket
        self.dataPrefix = dataPrefix
        self.resultsBucket = resultsBucket
        self.resultsPrefix = resultsPrefix
        self.imageURI = imageURI
        self.rankMemoryMB = rankMemoryMB
        self.rankEphemeralStorageMB = rankEphemeralStorageMB
        self.maxConcurrency = maxConcurrency
        self.toleratedFailurePercentage = toleratedFailurePercentage
        self.logRetentionDays = logRetentionDays
    }

    /// Lambda's memory sizes, MB.
    public static let lambdaMemoryRange = 128...10_240
    /// Lambda's ephemeral storage sizes, MB.
    public static let ephemeralStorageRange = 512...10_240
    /// A Distributed Map's concurrency (0 = no explicit limit).
    public static let maxConcurrencyRange = 0...10_000
    /// A Map's tolerated failure percentage.
    public static let toleratedFailureRange = 0...100
    /// The retention periods CloudWatch Logs accepts, days.
    public static let logRetentionChoices = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
                                             731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
    /// S3 bucket names: 3–63 lowercase letters, digits, dots and hyphens,
    /// starting and ending with a letter or digit.
    public static let bucketPattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
    /// A key prefix: empty, or not starting with `/`, free of IAM wildcards
    /// (`*`, `?`, `$`) and ending with `/`, so `prefix*` in a policy cannot
    /// reach a sibling directory (`100MB` would also grant `100MB-old/`).
    public static let prefixPattern = "^([^/*?$][^*?$]*/)?$"
    /// CloudFormation stack names: a letter, then letters, digits and hyphens.
    public static let stackNamePattern = "^[A-Za-z][A-Za-z0-9-]*$"

    /// Throws the first option that AWS would reject, naming it and its value.
    public func validate() throws {
        func check(_ ok: Bool, _ option: String, _ value: String, _ requirement: String) throws {
            if !ok { throw TemplateOptionsError(option: option, value: value, requirement: requirement) }
        }
        try check(stackName.fullyMatches(Self.stackNamePattern) && stackName.count <= PipelineNames.maximumStackNameLength,
                  "stack name", stackName,
                  "a letter, then letters, digits and hyphens, at most \(PipelineNames.maximumStackNameLength) characters (so \(PipelineNames.functionName(PipelineNames.longestHandler, stack: "NAME")) fits Lambda's 64)")
        for (option, bucket) in [("data bucket", dataBucket), ("results bucket", resultsBucket)] {
            try check(bucket.fullyMatches(Self.bucketPattern) && !bucket.contains(".."), option, bucket,
                      "an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens")
        }
        for (option, prefix) in [("data prefix", dataPrefix), ("results prefix", resultsPrefix)] {
            try check(prefix.fullyMatches(Self.prefixPattern), option, prefix,
                      "empty, or a key prefix ending in '/' that does not start with '/' and holds no '*', '?' or '$'")
        }
        if let imageURI {
            try check(imageURI.fullyMatches(Self.imageURIPattern), "image URI", imageURI,
                      "an ECR image URI, ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG or @sha256:DIGEST")
        }
        try check(Self.lambdaMemoryRange.contains(rankMemoryMB), "rank memory (MB)", String(rankMemoryMB),
                  "\(Self.lambdaMemoryRange.lowerBound)-\(Self.lambdaMemoryRange.upperBound)")
        try check(Self.ephemeralStorageRange.contains(rankEphemeralStorageMB), "rank ephemeral storage (MB)",
                  String(rankEphemeralStorageMB),
                  "\(Self.ephemeralStorageRange.lowerBound)-\(Self.ephemeralStorageRange.upperBound)")
        try check(Self.maxConcurrencyRange.contains(maxConcurrency), "max concurrency", String(maxConcurrency),
                  "\(Self.maxConcurrencyRange.lowerBound)-\(Self.maxConcurrencyRange.upperBound)")
        try check(Self.toleratedFailureRange.contains(toleratedFailurePercentage), "tolerated failure percentage",
                  String(toleratedFailurePercentage), "an integer 0-100")
        try check(Self.logRetentionChoices.contains(logRetentionDays), "log retention (days)", String(logRetentionDays),
                  "one of \(Self.logRetentionChoices.map(String.init).joined(separator: ", "))")
    }

    /// An ECR image URI, by tag or by digest.
    public static let imageURIPattern =
        "^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9_.-]{1,128}|@sha256:[0-9a-f]{64})$"
}

/// An option AWS would reject; the message names the option, its value and the rule.
public struct TemplateOptionsError: Error, Equatable, CustomStringConvertible {
    public let option: String
    public let value: String
    public let requirement: String

    public var description: String { "\(option) '\(value)' is invalid: must be \(requirement)" }
}

extension String {
    /// Whether the whole string matches `pattern` (an anchored regular
    /// expression); an empty string is tested too, unlike `range(of:)`.
    func fullyMatches(_ pattern: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        let whole = NSRange(startIndex..<endIndex, in: self)
        return regex.firstMatch(in: self, range: whole).map { $0.range == whole } ?? false
    }
}
