import Foundation

/// Turns flat `Codable` records into CSV tables and back, so a record type's
/// `CodingKeys` are its columns: a misspelt column is a compile error, and a
/// missing or malformed cell on reading is an error naming row and column.
///
/// Records must be flat: every property a string, integer, floating-point
/// number, Bool, a `RawRepresentable` of those, or an optional of one.
/// `nil` is written as an empty cell; a `Double` as its shortest decimal text
/// (values are rounded to their stated precision where they are made).
public enum CSVRecordCoder {
    /// The table of `records`; with no records, the columns of `emptyColumns`.
    public static func table<T: Encodable>(_ records: [T], emptyColumns: [String] = []) throws -> CSVTable {
        var columns: [String]? = nil
        var rows: [[String]] = []
        for record in records {
            let encoder = RowEncoder()
            try record.encode(to: encoder)
            let keys = encoder.storage.keys
            if let known = columns, known != keys {
                throw SweepError.badResults(path: "(memory)", reason: "records of \(T.self) have differing columns")
            }
            columns = keys
            rows.append(encoder.storage.values)
        }
        return CSVTable(columns: columns ?? emptyColumns, rows: rows)
    }

    /// Decodes every row of `table`; `path` names the file in errors.
    public static func records<T: Decodable>(_ type: T.Type, from table: CSVTable, path: String) throws -> [T] {
        try table.records.enumerated().map { index, cells in
            try T(from: RowDecoder(cells: cells, path: path, row: index + 2))
        }
    }

    /// Text of a number as the CSV and JSON files write it.
    static func text(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        return NumberFormat.trimmed(value, 10)
    }
}

// MARK: - Encoding

private final class RowStorage {
    var keys: [String] = []
    var values: [String] = []

    func set(_ key: String, _ value: String) {
        keys.append(key)
        values.append(value)
    }
}

private struct RowEncoder: Encoder {
    let storage = RowStorage()
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RowKeyedEncoder<Key>(storage: storage))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        preconditionFailure("CSV records are flat: no arrays")
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        preconditionFailure("CSV records are keyed")
    }
}

/// Captures the text of one cell (a raw-value enum encodes through this).
private struct CellEncoder: Encoder, SingleValueEncodingContainer {
    final class Box { var text = "" }
    let box = Box()
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        preconditionFailure("a CSV cell holds one value")
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer { preconditionFailure("a CSV cell holds one value") }
    func singleValueContainer() -> SingleValueEncodingContainer { self }
    mutating func encodeNil() throws { box.text = "" }
    mutating func encode(_ value: Bool) throws { box.text = value ? "true" : "false" }
    mutating func encode(_ value: String) throws { box.text = value }
    mutating func encode(_ value: Double) throws { box.text = CSVRecordCoder.text(value) }
    mutating func encode(_ value: Float) throws { box.text = CSVRecordCoder.text(Double(value)) }
    mutating func encode(_ value: Int) throws { box.text = String(value) }
    mutating func encode(_ value: Int8) throws { box.text = String(value) }
    mutating func encode(_ value: Int16) throws { box.text = String(value) }
    mutating func encode(_ value: Int32) throws { box.text = String(value) }
    mutating func encode(_ value: Int64) throws { box.text = String(value) }
    mutating func encode(_ value: UInt) throws { box.text = String(value) }
    mutating func encode(_ value: UInt8) throws { box.text = String(value) }
    mutating func encode(_ value: UInt16) throws { box.text = String(value) }
    mutating func encode(_ value: UInt32) throws { box.text = String(value) }
    mutating func encode(_ value: UInt64) throws { box.text = String(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try value.encode(to: self) }
}

private struct RowKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: RowStorage
    var codingPath: [CodingKey] = []

    private func cell(_ key: Key, _ write: (inout CellEncoder) throws -> Void) rethrows {
        var cell = CellEncoder()
        try write(&cell)
        storage.set(key.stringValue, cell.box.text)
    }

    mutating func encodeNil(forKey key: Key) throws { storage.set(key.stringValue, "") }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try cell(key) { try $0.encode(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { storage.set(key.stringValue, value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try cell(key) { try $0.encode(value) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { storage.set(key.stringValue, String(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try cell(key) { try $0.encode(value) } }

    // Optionals become empty cells instead of missing columns.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeOptional(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeOptional(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeOptional(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeOptional(value, key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try encodeOptional(value, key) }

    private mutating func encodeOptional<T: Encodable>(_ value: T?, _ key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        preconditionFailure("CSV records are flat: \(key.stringValue) is nested")
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        preconditionFailure("CSV records are flat: \(key.stringValue) is an array")
    }

    mutating func superEncoder() -> Encoder { preconditionFailure("CSV records are flat") }
    mutating func superEncoder(forKey key: Key) -> Encoder { preconditionFailure("CSV records are flat") }
}

// MARK: - Decoding

private struct RowDecoder: Decoder {
    let cells: [String: String]
    let path: String
    let row: Int
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowKeyedDecoder<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        throw SweepError.badResults(path: path, reason: "row \(row): CSV records are flat")
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        throw SweepError.badResults(path: path, reason: "row \(row): CSV records are keyed")
    }

    func fail(_ column: String, _ text: String, _ expected: String) -> Error {
        SweepError.badResults(path: path, reason: "row \(row): \(column) = \"\(text)\" is not \(expected)")
    }
}

/// Decodes one cell (a raw-value enum decodes through this).
private struct CellDecoder: Decoder, SingleValueDecodingContainer {
    let text: String
    let column: String
    let owner: RowDecoder
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        throw owner.fail(column, text, "a single value")
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer { throw owner.fail(column, text, "a single value") }
    func singleValueContainer() throws -> SingleValueDecodingContainer { self }
    func decodeNil() -> Bool { text.isEmpty }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw owner.fail(column, text, "true or false")
        }
    }

    func decode(_ type: String.Type) throws -> String { text }

    func decode(_ type: Double.Type) throws -> Double {
        guard let value = NumberFormat.parse(text) else { throw owner.fail(column, text, "a number") }
        return value
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard let value = T(text.trimmingCharacters(in: .whitespaces)) else {
            throw owner.fail(column, text, "a whole number")
        }
        return value
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try T(from: self)
        } catch let error as SweepError {
            throw error
        } catch {
            throw owner.fail(column, text, "a valid \(T.self)")
        }
    }
}

private struct RowKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RowDecoder
    var codingPath: [CodingKey] = []
    var allKeys: [Key] { decoder.cells.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { decoder.cells[key.stringValue] != nil }

    private func cell(_ key: Key) throws -> CellDecoder {
        guard let text = decoder.cells[key.stringValue] else {
            throw SweepError.badResults(path: decoder.path, reason: "missing column \"\(key.stringValue)\"")
        }
        return CellDecoder(text: text, column: key.stringValue, owner: decoder)
    }

    func decodeNil(forKey key: Key) throws -> Bool { (decoder.cells[key.stringValue] ?? "").isEmpty }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try cell(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try cell(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try cell(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try cell(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try cell(key).decode(type) }

    // An empty cell, or a column an older file lacks, reads as nil.
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(key) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(key) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optional(key) }

    private func optional<T: Decodable>(_ key: Key) throws -> T? {
        guard let text = decoder.cells[key.stringValue], !text.isEmpty else { return nil }
        return try CellDecoder(text: text, column: key.stringValue, owner: decoder).decode(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw decoder.fail(key.stringValue, "", "a flat cell")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        throw decoder.fail(key.stringValue, "", "a flat cell")
    }

    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder }
}
