import Foundation

/// CloudWatch Logs' FilterLogEvents, for reading what Lambda itself logs
/// about each invocation (the REPORT lines with billed duration and peak
/// memory, see `LambdaReportLine`). Owns its HTTP client: call
/// `shutdown()` when done.
public final class CloudWatchLogsClient: Sendable {
    public let configuration: AWSServiceConfiguration
    let service: AWSJSONService

    public init(configuration: AWSServiceConfiguration) {
        self.configuration = configuration
        self.service = AWSJSONService(descriptor: .cloudWatchLogs, configuration: configuration)
    }

    /// A client from the standard variables (`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`...).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> CloudWatchLogsClient {
        CloudWatchLogsClient(configuration: try .fromEnvironment(service: .cloudWatchLogs, environment))
    }

    /// Closes the connection pool; the client cannot be used afterwards.
    public func shutdown() async throws {
        try await service.shutdown()
    }

    public struct LogEvent: Sendable, Equatable, Decodable {
        /// Milliseconds since the epoch, as the event was logged.
        public var timestamp: Int64
        public var message: String
        public var logStreamName: String?
        public var eventID: String?

        public init(timestamp: Int64, message: String, logStreamName: String? = nil, eventID: String? = nil) {
            self.timestamp = timestamp
            self.message = message
            self.logStreamName = logStreamName
            self.eventID = eventID
        }

        enum CodingKeys: String, CodingKey {
            case timestamp, message, logStreamName, eventID = "eventId"
        }
    }

    /// FilterLogEvents over all pages. `filterPattern` is CloudWatch's
    /// syntax (a plain term such as `REPORT` or a quoted phrase); times are
    /// epoch milliseconds, `endTimeMs` exclusive as in the API. More than
    /// `maxEvents` events or `maxPages` pages (FilterLogEvents may answer
    /// many empty pages while it scans) is refused rather than cut short,
    /// so a caller never mistakes part of the log for all of it.
    public func filterLogEvents(
        logGroupName: String,
        filterPattern: String? = nil,
        startTimeMs: Int64? = nil,
        endTimeMs: Int64? = nil,
        logStreamNamePrefix: String? = nil,
        maxEvents: Int = 100_000,
        maxPages: Int = 2_000
    ) async throws -> [LogEvent] {
        struct Request: Encodable {
            var logGroupName: String
            var filterPattern: String?
            var startTime: Int64?
            var endTime: Int64?
            var logStreamNamePrefix: String?
            var nextToken: String?
        }
        struct Page: Decodable {
            var events: [LogEvent]?
            var nextToken: String?
        }
        let operation = "FilterLogEvents"
        guard !logGroupName.isEmpty, logGroupName.utf8.count <= 512 else {
            throw service.failure(.invalidRequest, operation, logGroupName, code: "InvalidParameterException",
                                  message: "log group name must be 1-512 bytes")
        }
        if let startTimeMs, let endTimeMs, endTimeMs < startTimeMs {
            throw service.failure(.invalidRequest, operation, logGroupName, code: "InvalidParameterException",
                                  message: "endTimeMs \(endTimeMs) is before startTimeMs \(startTimeMs)")
        }
        var events: [LogEvent] = []
        var pager = AWSPager(service: service, operation: operation, resource: logGroupName, maxPages: maxPages)
        repeat {
            let request = Request(
                logGroupName: logGroupName, filterPattern: filterPattern, startTime: startTimeMs, endTime: endTimeMs,
                logStreamNamePrefix: logStreamNamePrefix, nextToken: pager.token
            )
            let page: Page = try await service.call(operation, request, resource: logGroupName)
            events += page.events ?? []
            guard events.count <= maxEvents else {
                throw service.failure(.unsuccessful, operation, logGroupName, code: "TooManyEvents",
                                      message: "more than \(maxEvents) events match; narrow the time range or pattern")
            }
            try pager.advance(to: page.nextToken)
        } while pager.token != nil
        return events
    }
}
