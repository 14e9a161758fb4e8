import CosmicSupport
import Foundation

/// A JSON value kept exactly as it was written, so a payload can be written
/// back (with its `data_map`) the way CAI received it.
public enum JSONValue: Codable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .int(value): try container.encode(value)
        case let .double(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    /// Compact JSON text of the value, for error messages.
    public var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else {
            return "\(self)"
        }
        return text
    }
}

/// The JSON payload CAI's state machine is started with, accepted verbatim.
///
/// Required: `bucket`, `file_limit`, `batch_size`, `result_path`,
/// `data_bucket`, `data_prefix`. Optional: `object_type`, `S3_object_name`,
/// `script` (strings, kept but unused locally) and `world_size` (defaults to
/// `file_limit`). `file_limit`, `batch_size` and `world_size` may be JSON
/// integers or strings holding an integer (CAI's own payloads quote
/// `file_limit`); they must be >= 1. A `null` optional key counts as absent.
/// Unknown keys are errors, with the closest known key suggested, because a
/// misspelt optional key would otherwise be silently ignored.
public struct Payload: Equatable, Sendable {
    /// Keys a payload may have, in CAI's spelling.
    public static let knownKeys = [
        "bucket", "file_limit", "batch_size", "object_type", "S3_object_name",
        "script", "result_path", "data_bucket", "data_prefix", "world_size",
    ]
    /// Keys that must be present.
    public static let requiredKeys = ["bucket", "file_limit", "batch_size", "result_path", "data_bucket", "data_prefix"]

    public let bucket: String
    public let fileLimit: Int
    public let batchSize: Int
    public let objectType: String?
    public let s3ObjectName: String?
    public let script: String?
    public let resultPath: String
    public let dataBucket: String
    public let dataPrefix: String
    /// `world_size` as given, nil when absent.
    public let explicitWorldSize: Int?
    /// The payload's keys and values exactly as written.
    public let raw: [String: JSONValue]

    /// Ranks the initializer maps files onto: `world_size`, else `file_limit`.
    public var worldSize: Int { explicitWorldSize ?? fileLimit }

    /// Builds a payload from typed values (integers are written as JSON numbers).
    public init(bucket: String, fileLimit: Int, batchSize: Int, resultPath: String, dataBucket: String,
                dataPrefix: String, worldSize: Int? = nil, objectType: String? = nil,
                s3ObjectName: String? = nil, script: String? = nil) {
        var raw: [String: JSONValue] = [
            "bucket": .string(bucket), "file_limit": .int(fileLimit), "batch_size": .int(batchSize),
            "result_path": .string(resultPath), "data_bucket": .string(dataBucket),
            "data_prefix": .string(dataPrefix),
        ]
        if let worldSize { raw["world_size"] = .int(worldSize) }
        if let objectType { raw["object_type"] = .string(objectType) }
        if let s3ObjectName { raw["S3_object_name"] = .string(s3ObjectName) }
        if let script { raw["script"] = .string(script) }
        self.bucket = bucket
        self.fileLimit = fileLimit
        self.batchSize = batchSize
        self.resultPath = resultPath
        self.dataBucket = dataBucket
        self.dataPrefix = dataPrefix
        self.explicitWorldSize = worldSize
        self.objectType = objectType
        self.s3ObjectName = s3ObjectName
        self.script = script
        self.raw = raw
    }

    /// Reads and validates the payload file at `url`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PayloadError.unreadable(path: url.path, reason: describeIOError(error))
        }
        try self.init(data: data, path: url.path)
    }

    /// Validates payload JSON; `path` is only used to name the source in errors.
    public init(data: Data, path: String) throws {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw PayloadError.invalidJSON(path: path, reason: describeDecodingError(error))
        }
        guard case let .object(object) = value else {
            throw PayloadError.notAnObject(path: path, found: value.description)
        }
        var problems: [PayloadError] = []
        for key in object.keys.sorted() where !Self.knownKeys.contains(key) {
            problems.append(.unknownKey(path: path, key: key, suggestion: Self.suggestion(for: key)))
        }
        for key in Self.requiredKeys where object[key] == nil || object[key] == .null {
            problems.append(.missingKey(path: path, key: key))
        }
        /// Each reader records its key's problem and returns nil, so every
        /// key is checked before anything is thrown.
        func string(_ key: String, nonEmpty: Bool) -> String? {
            guard let value = object[key], value != .null else { return nil }
            guard case let .string(text) = value else {
                problems.append(.wrongType(path: path, key: key, expected: "a string", value: value.description))
                return nil
            }
            if nonEmpty && text.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append(.outOfRange(path: path, key: key, value: value.description, requirement: "a non-empty string"))
                return nil
            }
            return text
        }
        func positiveInteger(_ key: String) -> Int? {
            guard let value = object[key], value != .null else { return nil }
            let number: Int
            switch value {
            case let .int(n):
                number = n
            case let .double(d) where d.rounded() == d && abs(d) < 1e15:
                number = Int(d)
            case let .string(text) where Int(text.trimmingCharacters(in: .whitespaces)) != nil:
                number = Int(text.trimmingCharacters(in: .whitespaces))!
            default:
                problems.append(.wrongType(path: path, key: key, expected: "an integer (number or numeric string)",
                                           value: value.description))
                return nil
            }
            guard number >= 1 else {
                problems.append(.outOfRange(path: path, key: key, value: value.description, requirement: ">= 1"))
                return nil
            }
            return number
        }
        func location(bucketKey: String, prefixKey: String, nonEmptyPrefix: Bool) -> (bucket: String, prefix: String)? {
            let bucket = string(bucketKey, nonEmpty: true)
            let prefix = string(prefixKey, nonEmpty: nonEmptyPrefix)
            var validBucket: String?, validPrefix: String?
            if let bucket {
                do throws(PayloadError) {
                    try StorageLocation.validateBucket(bucket, key: bucketKey, source: path)
                    validBucket = bucket
                } catch { problems.append(error) }
            }
            if let prefix {
                do throws(PayloadError) {
                    validPrefix = try StorageLocation.normalizedPrefix(prefix, key: prefixKey, source: path)
                } catch { problems.append(error) }
            }
            guard let validBucket, let validPrefix else { return nil }
            return (validBucket, validPrefix)
        }
        let results = location(bucketKey: "bucket", prefixKey: "result_path", nonEmptyPrefix: true)
        let data = location(bucketKey: "data_bucket", prefixKey: "data_prefix", nonEmptyPrefix: false)
        let fileLimit = positiveInteger("file_limit")
        let batchSize = positiveInteger("batch_size")
        let worldSize = positiveInteger("world_size")
        let objectType = string("object_type", nonEmpty: false)
        let s3ObjectName = string("S3_object_name", nonEmpty: false)
        let script = string("script", nonEmpty: false)
        if let error = PayloadError.combine(problems, path: path) { throw error }
        guard let results, let data, let fileLimit, let batchSize else {
            preconditionFailure("a required payload value is nil but no problem was recorded")
        }
        bucket = results.bucket
        resultPath = results.prefix
        dataBucket = data.bucket
        dataPrefix = data.prefix
        self.fileLimit = fileLimit
        self.batchSize = batchSize
        self.objectType = objectType
        self.s3ObjectName = s3ObjectName
        self.script = script
        explicitWorldSize = worldSize
        raw = object
    }

    /// The payload as written (values verbatim), pretty-printed with sorted keys.
    public func encoded() -> Data {
        Self.encode(raw)
    }

    /// The payload plus `data_map` (per rank, its file names relative to the
    /// prefix), as CAI stores it beside the results.
    public func encoded(with dataMap: DataMap) -> Data {
        var object = raw
        object["data_map"] = .array(dataMap.assignments.map { .array($0.map { .string($0) }) })
        return Self.encode(object)
    }

    static func encode(_ object: [String: JSONValue]) -> Data {
        let encoder = JSONFormat.encoder
        // Encoding a tree of strings, numbers and arrays cannot fail.
        var data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        data.append(0x0A)
        return data
    }

    /// The known key an unknown key most likely meant: an exact match after
    /// normalising case, spaces and hyphens, else the nearest by edit distance
    /// when it is close enough to be a typo.
    public static func suggestion(for key: String) -> String? {
        func normalize(_ text: String) -> String {
            String(text.lowercased().map { $0 == " " || $0 == "-" || $0 == "." ? "_" : $0 })
                .trimmingCharacters(in: CharacterSet(charactersIn: "_ "))
        }
        let normalized = normalize(key)
        if let exact = knownKeys.first(where: { normalize($0) == normalized }) { return exact }
        let squashed = normalized.replacingOccurrences(of: "_", with: "")
        if let exact = knownKeys.first(where: { normalize($0).replacingOccurrences(of: "_", with: "") == squashed }) {
            return exact
        }
        var best: (key: String, distance: Int)?
        for candidate in knownKeys {
            let distance = levenshtein(Array(normalized), Array(normalize(candidate)))
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let limit = max(2, best.key.count / 3)
        return best.distance <= limit ? best.key : nil
    }

    static func levenshtein(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// A JSON decoding error in plain words: what is wrong and where (a key
/// path), without Swift's `DecodingError` dump.
func describeDecodingError(_ error: Error) -> String {
    func at(_ path: [CodingKey]) -> String {
        path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case let DecodingError.dataCorrupted(context):
        if let underlying = context.underlyingError as NSError? {
            return underlying.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
        }
        return context.debugDescription + at(context.codingPath)
    case let DecodingError.keyNotFound(key, context):
        return "missing key \"\(key.stringValue)\"" + at(context.codingPath)
    case let DecodingError.typeMismatch(type, context):
        return "expected \(type)" + at(context.codingPath)
    case let DecodingError.valueNotFound(type, context):
        return "expected \(type), found null" + at(context.codingPath)
    default:
        return "\(error)"
    }
}
