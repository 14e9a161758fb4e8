import Foundation

extension StepFunctionsClient {
    /// One event of an execution's history, reduced to what explains a run:
    /// its type and time, the state it belongs to, and for failure events
    /// (`ExecutionFailed`, `TaskFailed`, `LambdaFunctionFailed`,
    /// `MapRunFailed`, `...TimedOut`, `ExecutionAborted`) the error and cause.
    public struct HistoryEvent: Sendable, Equatable, Decodable {
        public var id: Int
        public var previousEventID: Int?
        public var type: String
        public var timestamp: Date
        /// From `stateEnteredEventDetails`/`stateExitedEventDetails`.
        public var stateName: String?
        public var error: String?
        public var cause: String?

        public init(id: Int, previousEventID: Int? = nil, type: String, timestamp: Date,
                    stateName: String? = nil, error: String? = nil, cause: String? = nil) {
            self.id = id
            self.previousEventID = previousEventID
            self.type = type
            self.timestamp = timestamp
            self.stateName = stateName
            self.error = error
            self.cause = cause
        }

        public var isFailure: Bool {
            type.hasSuffix("Failed") || type.hasSuffix("TimedOut") || type == "ExecutionAborted"
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        /// The details object's field name depends on the event type
        /// (`taskFailedEventDetails`...), so every `*EventDetails` is read.
        struct Details: Decodable {
            var name: String?
            var error: String?
            var cause: String?
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            id = try container.decode(Int.self, forKey: Key(stringValue: "id"))
            previousEventID = try container.decodeIfPresent(Int.self, forKey: Key(stringValue: "previousEventId"))
            type = try container.decode(String.self, forKey: Key(stringValue: "type"))
            timestamp = try container.decode(Date.self, forKey: Key(stringValue: "timestamp"))
            for key in container.allKeys where key.stringValue.hasSuffix("EventDetails") {
                guard let details = try? container.decode(Details.self, forKey: key) else { continue }
                if key.stringValue.hasPrefix("state") { stateName = stateName ?? details.name }
                error = error ?? details.error
                cause = cause ?? details.cause
            }
        }
    }

    /// GetExecutionHistory, all pages, oldest first (or newest first with
    /// `reverseOrder`). More than `maxEvents` events (AWS caps a standard
    /// execution at 25,000) is refused rather than cut short silently.
    public func getExecutionHistory(
        executionARN: String, reverseOrder: Bool = false, maxEvents: Int = 25_000
    ) async throws -> [HistoryEvent] {
        struct Request: Encodable {
            var executionArn: String
            var maxResults: Int
            var reverseOrder: Bool
            var includeExecutionData: Bool
            var nextToken: String?
        }
        struct Page: Decodable {
            var events: [HistoryEvent]
            var nextToken: String?
        }
        var events: [HistoryEvent] = []
        var pager = AWSPager(service: service, operation: "GetExecutionHistory", resource: executionARN, maxPages: maxEvents / 100 + 10)
        repeat {
            let request = Request(executionArn: executionARN, maxResults: 1000, reverseOrder: reverseOrder,
                                  includeExecutionData: false, nextToken: pager.token)
            let page: Page = try await service.call("GetExecutionHistory", request, resource: executionARN)
            events += page.events
            guard events.count <= maxEvents else {
                throw service.failure(.unsuccessful, "GetExecutionHistory", executionARN, code: "TooManyEvents",
                                      message: "more than \(maxEvents) history events")
            }
            try pager.advance(to: page.nextToken)
        } while pager.token != nil
        return events
    }

    /// The first failure event's error and cause, as one line ("RankFailed:
    /// rank 3 ran out of memory"), or nil when the history has none.
    public static func failureSummary(_ events: [HistoryEvent]) -> String? {
        guard let event = events.first(where: { $0.isFailure && ($0.error != nil || $0.cause != nil) })
            ?? events.first(where: \.isFailure)
        else { return nil }
        let state = event.stateName.map { " in \($0)" } ?? ""
        let text = [event.error, event.cause].compactMap { $0 }.joined(separator: ": ")
        return "\(event.type)\(state)" + (text.isEmpty ? "" : " — \(text)")
    }
}

/// Follows `nextToken`s, refusing a token seen before (a server loop) and
/// more than `maxPages` pages.
struct AWSPager {
    let service: AWSJSONService
    let operation: String
    let resource: String
    let maxPages: Int
    private(set) var token: String?
    private var seen: Set<String> = []
    private var pages = 0

    init(service: AWSJSONService, operation: String, resource: String, maxPages: Int) {
        self.service = service
        self.operation = operation
        self.resource = resource
        self.maxPages = max(1, maxPages)
    }

    mutating func advance(to next: String?) throws {
        pages += 1
        token = (next?.isEmpty ?? true) ? nil : next
        guard let token else { return }
        guard seen.insert(token).inserted else {
            throw service.failure(.invalidResponse, operation, resource, code: "RepeatedToken", message: "nextToken '\(token)' repeated")
        }
        guard pages < maxPages else {
            throw service.failure(.unsuccessful, operation, resource, code: "TooManyPages", message: "more than \(maxPages) pages")
        }
    }
}
