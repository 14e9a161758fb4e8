import Foundation

/// Why a sweep, a report or a comparison could not be done. Every message
/// names the file and, where one is involved, the key and the value.
public enum SweepError: Error, CustomStringConvertible, Equatable {
    /// The spec file could not be read.
    case unreadableSpec(path: String, reason: String)
    /// The spec file is not valid TOML.
    case invalidTOML(path: String, line: Int, column: Int, reason: String)
    /// A key the spec format does not know; `suggestion` is the closest known key.
    case unknownKey(path: String, key: String, suggestion: String?)
    /// A key holds a value of the wrong TOML type.
    case wrongType(path: String, key: String, expected: String, actual: String)
    /// A key holds a value outside what it allows.
    case invalidValue(path: String, key: String, value: String, reason: String)
    /// A list that must not be empty is.
    case emptyList(path: String, key: String)
    /// The spec yields no configuration to run.
    case noConfigurations(path: String)
    /// A CSV or JSON results file could not be read or lacks a column.
    case badResults(path: String, reason: String)
    /// The accuracy check failed: the sweep refuses to time a wrong model.
    case verificationFailed(configuration: String, threads: Int, details: String)
    /// No golden fixture was found, so accuracy cannot be checked.
    case noFixtures
    /// Partition files for a configuration could not be provided.
    case dataUnavailable(configuration: String, reason: String)
    /// The rank runner returned the wrong number of results.
    case runnerMismatch(configuration: String, expected: Int, got: Int)
    /// The cost model rejected an input.
    case costModel(configuration: String, reason: String)
    /// A results directory for `report`/`compare` is missing.
    case missingResults(path: String)
    /// Ctrl-C during a local sweep: `done` of `total` measurements of this run are in ranks.csv.
    case interrupted(done: Int, total: Int)

    public var description: String {
        switch self {
        case let .unreadableSpec(path, reason):
            return "cannot read sweep spec \(path): \(reason)"
        case let .invalidTOML(path, line, column, reason):
            return "\(path):\(line):\(column): not valid TOML: \(reason)"
        case let .unknownKey(path, key, suggestion):
            let hint = suggestion.map { "; did you mean \"\($0)\"?" } ?? ""
            return "\(path): unknown key \"\(key)\"\(hint)"
        case let .wrongType(path, key, expected, actual):
            return "\(path): key \"\(key)\" must be \(expected), got \(actual)"
        case let .invalidValue(path, key, value, reason):
            return "\(path): key \"\(key)\" = \(value) is not valid: \(reason)"
        case let .emptyList(path, key):
            return "\(path): key \"\(key)\" is an empty list; give at least one value"
        case let .noConfigurations(path):
            return "\(path): the spec gives no configuration to run (set partitions, batch_sizes and data_sizes or file_limits)"
        case let .badResults(path, reason):
            return "results file \(path): \(reason)"
        case let .verificationFailed(configuration, threads, details):
            return "accuracy check failed before timing \(configuration) with \(threads) OpenBLAS thread(s); refusing to time a wrong model:\n\(details)"
        case .noFixtures:
            return "no golden fixture found (looked in ../shared/fixtures and Fixtures/golden); cannot verify the model before timing it"
        case let .dataUnavailable(configuration, reason):
            return "partition data for \(configuration): \(reason)"
        case let .runnerMismatch(configuration, expected, got):
            return "rank runner for \(configuration) returned \(got) results for \(expected) jobs"
        case let .costModel(configuration, reason):
            return "Lambda cost model for \(configuration): \(reason)"
        case let .missingResults(path):
            return "\(path) holds no sweep results (summary.csv not found)"
        case let .interrupted(done, total):
            return "interrupted after \(done) of \(total) measurements; run the same command again to resume"
        }
    }
}
