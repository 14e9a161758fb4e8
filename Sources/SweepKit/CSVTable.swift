import CosmicSupport
import CSV
import Foundation

/// A CSV file held as text cells under a header row. Written with
/// yaslab/CSV.swift (LF line ends, a final newline, quoting only where
/// needed) and always replaced whole and atomically, so an interrupted
/// writer never leaves a partial row behind.
public struct CSVTable: Equatable, Sendable {
    public var columns: [String]
    public var rows: [[String]]

    public init(columns: [String], rows: [[String]] = []) {
        self.columns = columns
        self.rows = rows
    }

    /// Reads a CSV file with a header row. Every row must have as many
    /// cells as the header.
    public static func read(_ url: URL) throws -> CSVTable {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw SweepError.badResults(path: url.path, reason: error.localizedDescription)
        }
        return try parse(text, path: url.path)
    }

    /// Parses CSV text; `path` names the source in errors.
    public static func parse(_ text: String, path: String) throws -> CSVTable {
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true)
        } catch {
            throw SweepError.badResults(path: path, reason: "not CSV: \(error)")
        }
        guard let header = reader.headerRow, !header.isEmpty, header != [""] else {
            throw SweepError.badResults(path: path, reason: "no header row")
        }
        var rows: [[String]] = []
        while let row = reader.next() {
            if row == [""] { continue }
            guard row.count == header.count else {
                throw SweepError.badResults(
                    path: path, reason: "row \(rows.count + 2) has \(row.count) cells, the header has \(header.count)")
            }
            rows.append(row)
        }
        if let error = reader.error {
            throw SweepError.badResults(path: path, reason: "\(error)")
        }
        return CSVTable(columns: header, rows: rows)
    }

    /// The CSV text: header, rows, each line ending in "\n".
    public func encoded() throws -> String {
        let stream = OutputStream(toMemory: ())
        stream.open()
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: columns)
        for row in rows {
            try writer.write(row: row)
        }
        stream.close()
        guard let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw SweepError.badResults(path: "(memory)", reason: "CSV writer produced no data")
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Atomically replaces `url` with this table.
    public func write(to url: URL) throws {
        try AtomicFile.write(try encoded(), to: url)
    }

    /// Index of a column, nil when absent.
    public func index(of column: String) -> Int? {
        columns.firstIndex(of: column)
    }

    /// Rows as dictionaries keyed by column name.
    public var records: [[String: String]] {
        rows.map { Dictionary(zip(columns, $0), uniquingKeysWith: { first, _ in first }) }
    }
}
