import Foundation

/// The one JSON layout of every file CosmicBench writes (rank JSON,
/// `combined_data.json`, `payload.json`, `summary.json`, `environment.json`):
/// pretty-printed, keys sorted, slashes unescaped, a final newline, so the
/// same values always give the same bytes.
public enum JSONFormat {
    /// A fresh encoder with the shared settings (JSONEncoder is not thread-safe to share).
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .throw
        return encoder
    }

    /// The encoded value followed by a newline.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    /// The encoded value as text, followed by a newline.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}
