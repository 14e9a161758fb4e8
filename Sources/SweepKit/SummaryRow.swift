import Foundation

/// One row of `summary.csv` / `summary.json`: one configuration at one
/// modelled Lambda memory size.
///
/// Column prefixes say where a figure comes from: `measured_` = the local
/// rank processes of the sweep (ranks.csv); `modelled_` = the LambdaCost
/// model of the whole fleet built on those measurements. Units are in the
/// names: `_s` seconds, `_mb` MiB (1,048,576 bytes; Lambda's "MB"), `_gb`
/// memory in GiB (MB / 1,024, as Lambda bills), `_usd` US dollars,
/// `_gb_per_s` decimal GB (1e9 bytes) of model input (20,520 bytes per
/// sample: image and magnitudes, not the label) per second,
/// `data_size_gb` the CAI dataset's nominal GB (12.6 GB = 659,817 samples).
public struct SummaryRow: Equatable, Sendable {
    /// Cell text by column; every column of `columns` is present.
    public private(set) var values: [String: String]

    /// `summary.csv` columns, in order.
    public static let columns = [
        "config_id", "status", "source", "partition", "partition_mb", "batch_size", "data_size", "data_size_gb",
        "file_limit", "world_size", "threads", "total_samples", "samples_per_full_file", "remainder_samples",
        "repetitions", "measured_ranks", "measured_runs", "measured_failed_runs",
        "measured_inference_median_s", "measured_inference_mean_s", "measured_inference_iqr_mean_s",
        "measured_inference_min_s", "measured_inference_max_s", "measured_inference_cv",
        "measured_process_median_s", "measured_model_load_median_s", "measured_data_load_median_s",
        "measured_remainder_inference_median_s", "measured_peak_rss_mb",
        "measured_rank_samples_per_s", "measured_rank_bits_per_s", "measured_rank_gb_per_s",
        "measured_blas_core", "verification",
        "modelled_memory_setting", "modelled_memory_mb", "modelled_memory_gb", "modelled_vcpu",
        "modelled_parallel_efficiency", "modelled_efficiency_source", "modelled_basis_threads",
        "modelled_rank_cold_start_s", "modelled_rank_model_load_s", "modelled_rank_data_read_s",
        "modelled_rank_inference_s", "modelled_rank_duration_s", "modelled_rank_duration_mean_s",
        "modelled_rank_billed_mean_s", "modelled_exceeds_timeout", "modelled_makespan_s",
        "modelled_peak_concurrency", "modelled_lambda_requests", "modelled_gb_seconds",
        "modelled_cost_lambda_duration_usd", "modelled_cost_lambda_requests_usd", "modelled_cost_ephemeral_usd",
        "modelled_cost_step_functions_usd", "modelled_cost_s3_usd", "modelled_cost_total_usd",
        "modelled_simple_cost_usd", "modelled_fleet_samples_per_s", "modelled_fleet_bits_per_s",
        "modelled_fleet_gb_per_s",
    ]

    /// Columns whose cells are numbers (or empty), written unquoted in JSON.
    public static let numericColumns: Set<String> = Set(columns.filter { column in
        !["config_id", "status", "source", "partition", "data_size", "measured_blas_core", "verification",
          "modelled_memory_setting", "modelled_efficiency_source", "modelled_exceeds_timeout"].contains(column)
    })

    /// A row with every column empty except those given.
    public init(_ cells: [String: String]) {
        var values = Dictionary(uniqueKeysWithValues: Self.columns.map { ($0, "") })
        for (key, value) in cells where values[key] != nil { values[key] = value }
        self.values = values
    }

    /// A row read from `summary.csv`; columns it lacks stay empty.
    public init(record: [String: String]) {
        self.init(record)
    }

    public subscript(column: String) -> String { values[column] ?? "" }

    /// The cell as a number, nil when empty or not numeric.
    public func number(_ column: String) -> Double? { NumberFormat.parse(self[column]) }

    /// Cells in `columns` order.
    public var cells: [String] { Self.columns.map { self[$0] } }

    public var configID: String { self["config_id"] }
    public var isOK: Bool { self["status"] == "ok" }

    // MARK: - Files

    /// Rows as a CSV table.
    public static func table(_ rows: [SummaryRow]) -> CSVTable {
        CSVTable(columns: columns, rows: rows.map(\.cells))
    }

    /// Reads `summary.csv`.
    public static func read(_ url: URL) throws -> [SummaryRow] {
        let table = try CSVTable.read(url)
        guard table.index(of: "config_id") != nil else {
            throw SweepError.badResults(path: url.path, reason: "missing column \"config_id\"")
        }
        return table.records.map(SummaryRow.init(record:))
    }

    /// `summary.json`: an array of objects, keys in column order, numbers
    /// as the same text as in the CSV, empty cells as null.
    public static func json(_ rows: [SummaryRow]) -> String {
        var out = "[\n"
        for (i, row) in rows.enumerated() {
            out += "  {\n"
            for (j, column) in columns.enumerated() {
                let value = row[column]
                let encoded: String
                if value.isEmpty {
                    encoded = "null"
                } else if numericColumns.contains(column), NumberFormat.parse(value) != nil {
                    encoded = value
                } else if column == "modelled_exceeds_timeout", value == "true" || value == "false" {
                    encoded = value
                } else {
                    encoded = jsonString(value)
                }
                out += "    \(jsonString(column)): \(encoded)\(j < columns.count - 1 ? "," : "")\n"
            }
            out += "  }\(i < rows.count - 1 ? "," : "")\n"
        }
        return out + "]\n"
    }
}

/// A JSON string literal.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
