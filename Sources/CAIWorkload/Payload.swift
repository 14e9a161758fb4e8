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

/// Why a CAI payload was rejected. Every message names the payload file and,
/// where one is involved, the key and the offending value.
public enum PayloadError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case invalidJSON(path: String, reason: String)
    case notAnObject(path: String, found: String)
    case unknownKey(path: String, key: String, suggestion: String?)
    case missingKey(path: String, key: String)
    case wrongType(path: String, key: String, expected: String, value: String)
    case outOfRange(path: String, key: String, value: String, requirement: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read payload \(path): \(reason)"
        case let .invalidJSON(path, reason):
            return "payload \(path) is not valid JSON: \(reason)"
        case let .notAnObject(path, found):
            return "payload \(path) must be a JSON object, found \(found)"
        case let .unknownKey(path, key, suggestion):
            let known = Payload.knownKeys.joined(separator: ", ")
            if let suggestion {
                return "payload \(path): unknown key \"\(key)\"; did you mean \"\(suggestion)\"? (known keys: \(known))"
            }
            return "payload \(path): unknown key \"\(key)\" (known keys: \(known))"
        case let .missingKey(path, key):
            return "payload \(path): missing required key \"\(key)\""
        case let .wrongType(path, key, expected, value):
            return "payload \(path): key \"\(key)\" must be \(expected), got \(value)"
        case let .outOfRange(path, key, value, requirement):
            return "payload \(path): key \"\(key)\" is \(value) but must be \(requirement)"
        }
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
            throw PayloadError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, path: url.path)
    }

    /// Validates payload JSON; `path` is only used to name the source in errors.
    public init(data: Data, path: String) throws {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw PayloadError.invalidJSON(path: path, reason: Self.describeDecodingError(error))
        }
        guard case let .object(object) = value else {
            throw PayloadError.notAnObject(path: path, found: value.description)
        }
        for key in object.keys.sorted() where !Self.knownKeys.contains(key) {
            throw PayloadError.unknownKey(path: path, key: key, suggestion: Self.suggestion(for: key))
        }
        for key in Self.requiredKeys where object[key] == nil || object[key] == .null {
            throw PayloadError.missingKey(path: path, key: key)
        }
        func string(_ key: String, nonEmpty: Bool) throws -> String? {
            guard let value = object[key], value != .null else { return nil }
            guard case let .string(text) = value else {
                throw PayloadError.wrongType(path: path, key: key, expected: "a string", value: value.description)
            }
            if nonEmpty && text.trimmingCharacters(in: .whitespaces).isEmpty {
                throw PayloadError.outOfRange(path: path, key: key, value: value.description, requirement: "a non-empty string")
            }
            return text
        }
        func positiveInteger(_ key: String) throws -> Int? {
            guard let value = object[key], value != .null else { return nil }
            let number: Int
            switch value {
            case let .int(n):
                number = n
            case let .double(d) where d.rounded() == d && abs(d) < 1e15:
                number = Int(d)
            case let .string(text):
                guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
                    throw PayloadError.wrongType(path: path, key: key, expected: "an integer (number or numeric string)", value: value.description)
                }
                number = n
            default:
                throw PayloadError.wrongType(path: path, key: key, expected: "an integer (number or numeric string)", value: value.description)
            }
            guard number >= 1 else {
                throw PayloadError.outOfRange(path: path, key: key, value: value.description, requirement: ">= 1")
            }
            return number
        }
        bucket = try string("bucket", nonEmpty: true)!
        fileLimit = try positiveInteger("file_limit")!
        batchSize = try positiveInteger("batch_size")!
        resultPath = try string("result_path", nonEmpty: true)!
        dataBucket = try string("data_bucket", nonEmpty: true)!
        dataPrefix = try string("data_prefix", nonEmpty: false)!
        objectType = try string("object_type", nonEmpty: false)
        s3ObjectName = try string("S3_object_name", nonEmpty: false)
        script = try string("script", nonEmpty: false)
        explicitWorldSize = try positiveInteger("world_size")
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
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

    private static func describeDecodingError(_ error: Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            if let underlying = context.underlyingError as NSError? {
                return underlying.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
            }
            return context.debugDescription
        }
        return "\(error)"
    }
}
