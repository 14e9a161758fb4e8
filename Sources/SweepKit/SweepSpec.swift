import CAIWorkload
import Foundation
import LambdaCost
import TOMLKit

/// How many ranks of a configuration run as measured processes.
public enum MeasureCount: Equatable, Sendable, CustomStringConvertible {
    /// The first k ranks (fewer when the fleet is smaller).
    case first(Int)
    /// Every rank of the fleet.
    case all

    /// Reads "all" or a positive whole number.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "all" {
            self = .all
        } else if let k = Int(trimmed), k >= 1 {
            self = .first(k)
        } else {
            throw SweepError.invalidValue(path: "command line", key: "--measure", value: "\"\(text)\"",
                                          reason: "expected \"all\" or a whole number of ranks >= 1")
        }
    }

    /// Ranks measured in a fleet of `worldSize`.
    public func count(worldSize: Int) -> Int {
        switch self {
        case .all: return worldSize
        case let .first(k): return min(k, worldSize)
        }
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case let .first(k): return "\(k)"
        }
    }
}

/// One block of the configuration space: the cross product of its lists.
/// A configuration is partition × batch size × (data size or file limit) × threads.
public struct SweepGrid: Equatable, Sendable {
    public var partitions: [PartitionSize]
    public var batchSizes: [Int]
    public var dataSizes: [DataSize]
    public var fileLimits: [Int]
    public var threads: [Int]

    public init(partitions: [PartitionSize], batchSizes: [Int], dataSizes: [DataSize] = [], fileLimits: [Int] = [],
                threads: [Int] = [1]) {
        self.partitions = partitions
        self.batchSizes = batchSizes
        self.dataSizes = dataSizes
        self.fileLimits = fileLimits
        self.threads = threads
    }

    /// Configurations in spec order: partition, then batch, then amount of
    /// data (data sizes before file limits), then threads innermost, so the
    /// thread variants of one workload run back to back.
    public var configurations: [SweepConfiguration] {
        var result: [SweepConfiguration] = []
        let amounts = dataSizes.map(DataAmount.dataSize) + fileLimits.map(DataAmount.fileLimit)
        for partition in partitions {
            for batch in batchSizes {
                for amount in amounts {
                    for t in threads {
                        result.append(SweepConfiguration(partition: partition, batchSize: batch, amount: amount, threads: t))
                    }
                }
            }
        }
        return result
    }
}

/// The Lambda side of a sweep: what the modelled fleet looks like and costs.
/// Every figure here is an assumption or a price, never a measurement.
public struct LambdaSettings: Equatable, Sendable {
    /// Memory sizes to model; `auto` = measured peak RSS plus headroom.
    public var memory: [MemorySetting] = [.auto]
    /// `auto` headroom as a fraction of the peak.
    public var headroomFraction: Double = 0.15
    /// `auto` headroom floor, MB.
    public var minimumHeadroomMB: Double = 64
    public var architecture: Architecture = .x86_64
    public var prices: LambdaPrices = .usEast1
    public var assumptions = LambdaAssumptions()
    public var scaling = ScalingModel()
    public var stepFunctions = StepFunctionsModel()
    /// Whether every rank fetches the model weights from S3 (one GET and the
    /// weights' bytes at the stated bandwidth) rather than shipping them in
    /// the deployment package.
    public var modelFromS3 = true
    /// Seconds each of CAI's two auxiliary Lambdas (Initializer, Summarizer) runs.
    public var auxiliarySeconds: Double = 1.0
    /// Memory of the auxiliary Lambdas, MB.
    public var auxiliaryMemoryMB = 512
    /// Ephemeral storage of the rank Lambdas, MB.
    public var ephemeralStorageMB = 512
    /// Lambda GB-seconds already used this month (moves the run along the price tiers).
    public var priorMonthlyGBSeconds: Double = 0

    public init() {}

    /// What a memory item may be, for refusals.
    static let memoryExpectation = "expected \"auto\", \"power-tuning\" or a whole number of MB in 128...10240"

    /// One `lambda.memory` item: `"power-tuning"` (any case) names the preset
    /// `MemorySetting.powerTuning`; anything else is one setting.
    static func memorySettings(named text: String) throws -> [MemorySetting] {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == MemorySetting.powerTuningName {
            return MemorySetting.powerTuning
        }
        return [try MemorySetting(parsing: text)]
    }

    /// `settings` with each one kept at its first place only: a size named
    /// twice (or also in the preset) would model the same row twice.
    static func deduplicated(_ settings: [MemorySetting]) -> [MemorySetting] {
        var result: [MemorySetting] = []
        for setting in settings where !result.contains(setting) { result.append(setting) }
        return result
    }
}

/// A parsed sweep spec (TOML). Relative paths are relative to the current
/// directory, not to the spec file, so `out = "results/quick"` means the
/// same thing wherever the spec lives.
public struct SweepSpec: Equatable, Sendable {
    public var name: String
    /// Blocks of configurations; their union (first occurrence wins) is the sweep.
    public var grids: [SweepGrid]
    /// Timed runs of each measured rank (CAI repeated 3 times).
    public var repetitions = 3
    /// Untimed runs of the first measured rank before the timed ones.
    public var warmup = 0
    public var measure: MeasureCount = .first(3)
    /// Also measure the last rank when its file is a short remainder file.
    public var measureRemainder = true
    /// Rank processes at once (keep 1 on a 2-core machine for clean timings).
    public var concurrency = 1
    /// Seed of the generated model weights.
    public var seed: UInt64 = 20_250_108
    /// Seed of the synthetic partitions.
    public var dataSeed: UInt64 = 20_250_108
    /// Safetensors checkpoint for the ranks, nil for seeded weights.
    public var weights: String?
    public var outputDirectory: String
    public var cacheDirectory = ".cosmicbench-cache"
    /// Existing partitions: `<data>/<partition>/1.pt, 2.pt, ...` (or
    /// `.safetensors`), or `<data>/1.pt, ...` when the sweep has one partition.
    public var dataDirectory: String?
    /// A rank running longer than this is killed and recorded as a timeout.
    public var timeoutSeconds: Double = 3600
    public var lambda = LambdaSettings()
    /// The file the spec came from ("command line" when built without one).
    public var sourcePath: String

    public init(name: String, grids: [SweepGrid], sourcePath: String = "command line") {
        self.name = name
        self.grids = grids
        self.outputDirectory = "results/\(name)"
        self.sourcePath = sourcePath
    }

    /// Every configuration, deduplicated by id, in spec order.
    public var configurations: [SweepConfiguration] {
        var seen = Set<String>()
        var result: [SweepConfiguration] = []
        for grid in grids {
            for configuration in grid.configurations where seen.insert(configuration.id).inserted {
                result.append(configuration)
            }
        }
        return result
    }

    // MARK: - Parsing

    /// Keys allowed at the top level of a spec.
    public static let topLevelKeys = [
        "name", "partitions", "batch_sizes", "data_sizes", "file_limits", "threads", "repetitions", "warmup",
        "measure", "measure_remainder", "concurrency", "seed", "data_seed", "weights", "out", "cache", "data",
        "timeout_seconds", "lambda", "grid",
    ]
    /// Keys allowed in each `[[grid]]` table.
    public static let gridKeys = ["partitions", "batch_sizes", "data_sizes", "file_limits", "threads"]
    /// Keys allowed in the `[lambda]` table.
    public static let lambdaKeys = [
        "memory", "headroom", "min_headroom_mb", "architecture", "cold_start_seconds", "s3_mb_per_second",
        "cpu_speed_factor", "parallel_efficiency", "account_concurrency", "max_concurrency", "burst",
        "scaling_increment", "scaling_interval_seconds", "step_functions_child", "model_from_s3",
        "auxiliary_seconds", "auxiliary_memory_mb", "ephemeral_storage_mb", "price_per_gb_second",
        "prior_monthly_gb_seconds", "prices",
    ]
    /// Keys allowed in the `[lambda.prices]` table: `LambdaPrices`' field names, as it encodes them.
    public static let priceKeys = ((try? JSONSerialization.jsonObject(with: JSONEncoder().encode(LambdaPrices.usEast1)))
        as? [String: Any] ?? [:]).keys.sorted()

    /// Reads and validates a spec file.
    public init(contentsOf url: URL) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw SweepError.unreadableSpec(path: url.path, reason: error.localizedDescription)
        }
        try self.init(toml: text, path: url.path,
                      defaultName: url.deletingPathExtension().lastPathComponent)
    }

    /// Parses spec text; `path` names the file in errors.
    public init(toml text: String, path: String, defaultName: String = "sweep") throws {
        let root: TOMLTable
        try TOMLPrecheck.validate(text, path: path)
        do {
            // A final newline keeps toml++ off its end-of-text assertions.
            root = try TOMLTable(string: text.hasSuffix("\n") ? text : text + "\n")
        } catch let error as TOMLParseError {
            throw SweepError.invalidTOML(path: path, line: error.source.begin.line, column: error.source.begin.column,
                                         reason: error.description)
        } catch {
            throw SweepError.invalidTOML(path: path, line: 0, column: 0, reason: "\(error)")
        }
        let reader = TableReader(table: root, path: path, prefix: "")
        try reader.checkKeys(Self.topLevelKeys)

        let name = try reader.string("name") ?? defaultName
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw SweepError.invalidValue(path: path, key: "name", value: "\"\(name)\"",
                                          reason: "must be a non-empty directory name without \"/\"")
        }
        let top = try reader.gridLists()
        var grids: [SweepGrid] = []
        if let gridValue = root["grid"] {
            guard let array = gridValue.array else {
                throw SweepError.wrongType(path: path, key: "grid", expected: "an array of tables ([[grid]])",
                                           actual: typeName(gridValue))
            }
            guard !array.isEmpty else { throw SweepError.emptyList(path: path, key: "grid") }
            for (i, element) in array.enumerated() {
                guard let table = element.table else {
                    throw SweepError.wrongType(path: path, key: "grid[\(i)]", expected: "a table",
                                               actual: typeName(element))
                }
                let gridReader = TableReader(table: table, path: path, prefix: "grid[\(i)].")
                try gridReader.checkKeys(Self.gridKeys)
                let own = try gridReader.gridLists()
                grids.append(try own.inheriting(top).grid(path: path, prefix: "grid[\(i)]."))
            }
        } else {
            grids.append(try top.grid(path: path, prefix: ""))
        }
        self.init(name: name, grids: grids, sourcePath: path)

        if let value = try reader.int("repetitions") {
            repetitions = try positive(value, key: "repetitions", path: path)
        }
        if let value = try reader.int("warmup") {
            guard value >= 0 else {
                throw SweepError.invalidValue(path: path, key: "warmup", value: "\(value)", reason: "must be >= 0")
            }
            warmup = value
        }
        if let value = root["measure"] {
            if let k = value.int {
                measure = .first(try positive(k, key: "measure", path: path))
            } else if let s = value.string, s.lowercased() == "all" {
                measure = .all
            } else {
                throw SweepError.invalidValue(path: path, key: "measure", value: describe(value),
                                              reason: "expected \"all\" or a whole number of ranks >= 1")
            }
        }
        if let value = try reader.bool("measure_remainder") { measureRemainder = value }
        if let value = try reader.int("concurrency") {
            concurrency = try positive(value, key: "concurrency", path: path)
        }
        if let value = try reader.int("seed") { seed = try unsigned(value, key: "seed", path: path) }
        dataSeed = seed
        if let value = try reader.int("data_seed") { dataSeed = try unsigned(value, key: "data_seed", path: path) }
        weights = try reader.nonEmptyString("weights")
        outputDirectory = try reader.nonEmptyString("out") ?? "results/\(name)"
        cacheDirectory = try reader.nonEmptyString("cache") ?? cacheDirectory
        dataDirectory = try reader.nonEmptyString("data")
        if let value = try reader.double("timeout_seconds") {
            timeoutSeconds = try positive(value, key: "timeout_seconds", path: path)
        }
        if let value = root["lambda"] {
            guard let table = value.table else {
                throw SweepError.wrongType(path: path, key: "lambda", expected: "a table ([lambda])",
                                           actual: typeName(value))
            }
            lambda = try Self.parseLambda(TableReader(table: table, path: path, prefix: "lambda."))
        }
        guard !configurations.isEmpty else { throw SweepError.noConfigurations(path: path) }
    }

    private static func parseLambda(_ reader: TableReader) throws -> LambdaSettings {
        let path = reader.path
        try reader.checkKeys(lambdaKeys)
        var settings = LambdaSettings()
        if let value = reader.table["memory"] {
            let items: [TOMLValueConvertible]
            if let array = value.array { items = Array(array) } else { items = [value] }
            guard !items.isEmpty else { throw SweepError.emptyList(path: path, key: "lambda.memory") }
            settings.memory = LambdaSettings.deduplicated(try items.flatMap { item in
                let text: String
                if let mb = item.int { text = String(mb) } else if let s = item.string { text = s } else {
                    throw SweepError.wrongType(path: path, key: "lambda.memory",
                                               expected: "\"auto\", \"power-tuning\" or whole numbers of MB",
                                               actual: typeName(item))
                }
                do { return try LambdaSettings.memorySettings(named: text) } catch {
                    throw SweepError.invalidValue(path: path, key: "lambda.memory", value: describe(item),
                                                  reason: LambdaSettings.memoryExpectation)
                }
            })
        }
        if let v = try reader.double("headroom") {
            guard v >= 0, v <= 10 else {
                throw SweepError.invalidValue(path: path, key: "lambda.headroom", value: "\(v)",
                                              reason: "a fraction of the peak RSS, 0...10 (0.15 = 15 %)")
            }
            settings.headroomFraction = v
        }
        if let v = try reader.double("min_headroom_mb") {
            guard v >= 0 else {
                throw SweepError.invalidValue(path: path, key: "lambda.min_headroom_mb", value: "\(v)", reason: "must be >= 0")
            }
            settings.minimumHeadroomMB = v
        }
        if let s = try reader.string("architecture") {
            guard let arch = Architecture(rawValue: s.lowercased()) else {
                throw SweepError.invalidValue(path: path, key: "lambda.architecture", value: "\"\(s)\"",
                                              reason: "expected \"x86_64\" or \"arm64\"")
            }
            settings.architecture = arch
        }
        if let v = try reader.double("cold_start_seconds") {
            guard v >= 0 else {
                throw SweepError.invalidValue(path: path, key: "lambda.cold_start_seconds", value: "\(v)", reason: "must be >= 0")
            }
            settings.assumptions.coldStartSeconds = v
        }
        if let v = try reader.double("s3_mb_per_second") {
            settings.assumptions.s3ReadMegabytesPerSecond = try positive(v, key: "lambda.s3_mb_per_second", path: path)
        }
        if let v = try reader.double("cpu_speed_factor") {
            settings.assumptions.cpuSpeedFactor = try positive(v, key: "lambda.cpu_speed_factor", path: path)
        }
        if let v = try reader.double("parallel_efficiency") {
            guard v >= 0, v <= 1 else {
                throw SweepError.invalidValue(path: path, key: "lambda.parallel_efficiency", value: "\(v)",
                                              reason: "must be in 0...1 (used when 1 vs 2 threads was not measured)")
            }
            settings.assumptions.parallelEfficiencyWhenUnmeasured = v
        }
        if let v = try reader.int("account_concurrency") {
            settings.scaling.accountConcurrency = try positive(v, key: "lambda.account_concurrency", path: path)
            settings.scaling.burst = min(settings.scaling.burst, settings.scaling.accountConcurrency)
        }
        if let v = try reader.int("max_concurrency") {
            guard v >= 0 else {
                throw SweepError.invalidValue(path: path, key: "lambda.max_concurrency", value: "\(v)",
                                              reason: "must be >= 0 (0 = no MaxConcurrency)")
            }
            settings.scaling.mapMaxConcurrency = v
        }
        if let v = try reader.int("burst") { settings.scaling.burst = try positive(v, key: "lambda.burst", path: path) }
        if let v = try reader.int("scaling_increment") {
            guard v >= 0 else {
                throw SweepError.invalidValue(path: path, key: "lambda.scaling_increment", value: "\(v)", reason: "must be >= 0")
            }
            settings.scaling.scalingIncrement = v
        }
        if let v = try reader.double("scaling_interval_seconds") {
            settings.scaling.scalingIntervalSeconds = try positive(v, key: "lambda.scaling_interval_seconds", path: path)
        }
        if let s = try reader.string("step_functions_child") {
            guard let child = ChildWorkflowType(rawValue: s.lowercased()) else {
                throw SweepError.invalidValue(path: path, key: "lambda.step_functions_child", value: "\"\(s)\"",
                                              reason: "expected \"standard\" or \"express\"")
            }
            settings.stepFunctions.childType = child
        }
        if let v = try reader.bool("model_from_s3") { settings.modelFromS3 = v }
        if let v = try reader.double("auxiliary_seconds") {
            guard v >= 0 else {
                throw SweepError.invalidValue(path: path, key: "lambda.auxiliary_seconds", value: "\(v)", reason: "must be >= 0")
            }
            settings.auxiliarySeconds = v
        }
        if let v = try reader.int("auxiliary_memory_mb") {
            guard (128...10_240).contains(v) else {
                throw SweepError.invalidValue(path: path, key: "lambda.auxiliary_memory_mb", value: "\(v)",
                                              reason: "Lambda memory is 128...10240 MB")
            }
            settings.auxiliaryMemoryMB = v
        }
        if let v = try reader.int("ephemeral_storage_mb") {
            guard (512...10_240).contains(v) else {
                throw SweepError.invalidValue(path: path, key: "lambda.ephemeral_storage_mb", value: "\(v)",
                                              reason: "Lambda ephemeral storage is 512...10240 MB")
            }
            settings.ephemeralStorageMB = v
        }
        if let v = try reader.double("prior_monthly_gb_seconds") {
            guard v >= 0 else {
                throw SweepError.invalidValue(path: path, key: "lambda.prior_monthly_gb_seconds", value: "\(v)",
                                              reason: "must be >= 0")
            }
            settings.priorMonthlyGBSeconds = v
        }
        if let value = reader.table["prices"] {
            guard let table = value.table else {
                throw SweepError.wrongType(path: path, key: "lambda.prices", expected: "a table ([lambda.prices])",
                                           actual: typeName(value))
            }
            settings.prices = try parsePrices(table, path: path)
        }
        if let v = try reader.double("price_per_gb_second") {
            let price = try positive(v, key: "lambda.price_per_gb_second", path: path)
            let flat = [PriceTier(upToGBSeconds: nil, pricePerGBSecond: price)]
            switch settings.architecture {
            case .x86_64: settings.prices.x86DurationTiers = flat
            case .arm64: settings.prices.arm64DurationTiers = flat
            }
        }
        return settings
    }

    /// `[lambda.prices]` uses LambdaPrices' own field names; missing ones keep
    /// the us-east-1 defaults.
    private static func parsePrices(_ table: TOMLTable, path: String) throws -> LambdaPrices {
        let known = priceKeys
        for key in table.keys.sorted() where !known.contains(key) {
            throw SweepError.unknownKey(path: path, key: "lambda.prices.\(key)",
                                        suggestion: closestKey(to: key, in: known).map { "lambda.prices.\($0)" })
        }
        let object = jsonObject(table)
        do {
            let data = try JSONSerialization.data(withJSONObject: object)
            let prices = try JSONDecoder().decode(LambdaPrices.self, from: data)
            try prices.validate()
            return prices
        } catch let error as LambdaCostError {
            throw SweepError.invalidValue(path: path, key: "lambda.prices", value: "(table)", reason: error.description)
        } catch {
            throw SweepError.invalidValue(path: path, key: "lambda.prices", value: "(table)",
                                          reason: "does not match LambdaPrices: \(error)")
        }
    }

    // MARK: - Command-line overrides

    /// Applies command-line overrides. A list override replaces that list in
    /// every grid; `dataSizes` alone drops the grids' file limits and
    /// `fileLimits` alone drops their data sizes.
    public mutating func apply(_ overrides: SweepOverrides) throws {
        let path = "command line"
        func list<T>(_ values: [String]?, _ key: String, _ parse: (String) throws -> T) throws -> [T]? {
            guard let values else { return nil }
            let items = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            guard !items.isEmpty else { throw SweepError.emptyList(path: path, key: key) }
            return try items.map(parse)
        }
        func positiveInt(_ key: String) -> (String) throws -> Int {
            { text in
                guard let v = Int(text), v >= 1 else {
                    throw SweepError.invalidValue(path: path, key: key, value: "\"\(text)\"", reason: "must be a whole number >= 1")
                }
                return v
            }
        }
        let partitions = try list(overrides.partitions, "--partitions") { text -> PartitionSize in
            do { return try PartitionSize(parsing: text) } catch {
                throw SweepError.invalidValue(path: path, key: "--partitions", value: "\"\(text)\"", reason: "\(error)")
            }
        }
        let batches = try list(overrides.batchSizes, "--batch-sizes", positiveInt("--batch-sizes"))
        let dataSizes = try list(overrides.dataSizes, "--data-sizes") { text -> DataSize in
            do { return try DataSize(parsing: text) } catch {
                throw SweepError.invalidValue(path: path, key: "--data-sizes", value: "\"\(text)\"", reason: "\(error)")
            }
        }
        let fileLimits = try list(overrides.fileLimits, "--file-limits", positiveInt("--file-limits"))
        let threads = try list(overrides.threads, "--threads", positiveInt("--threads"))
        for i in grids.indices {
            if let partitions { grids[i].partitions = partitions }
            if let batches { grids[i].batchSizes = batches }
            if dataSizes != nil || fileLimits != nil {
                grids[i].dataSizes = dataSizes ?? []
                grids[i].fileLimits = fileLimits ?? []
            }
            if let threads { grids[i].threads = threads }
        }
        if let memory = try list(overrides.memory, "--memory", { text -> [MemorySetting] in
            do { return try LambdaSettings.memorySettings(named: text) } catch {
                throw SweepError.invalidValue(path: path, key: "--memory", value: "\"\(text)\"",
                                              reason: LambdaSettings.memoryExpectation)
            }
        }) {
            lambda.memory = LambdaSettings.deduplicated(memory.flatMap { $0 })
        }
        if let name = overrides.name {
            guard !name.isEmpty, !name.contains("/") else {
                throw SweepError.invalidValue(path: path, key: "--name", value: "\"\(name)\"",
                                              reason: "must be a non-empty directory name without \"/\"")
            }
            if outputDirectory == "results/\(self.name)" { outputDirectory = "results/\(name)" }
            self.name = name
        }
        if let v = overrides.repetitions { repetitions = try positiveInt("--repetitions")(String(v)) }
        if let v = overrides.warmup {
            guard v >= 0 else {
                throw SweepError.invalidValue(path: path, key: "--warmup", value: "\(v)", reason: "must be >= 0")
            }
            warmup = v
        }
        if let v = overrides.concurrency { concurrency = try positiveInt("--concurrency")(String(v)) }
        if let v = overrides.measure { measure = try MeasureCount(parsing: v) }
        if let v = overrides.outputDirectory { outputDirectory = v }
        if let v = overrides.dataDirectory { dataDirectory = v }
        if let v = overrides.cacheDirectory { cacheDirectory = v }
        if let v = overrides.timeoutSeconds {
            guard v > 0 else {
                throw SweepError.invalidValue(path: path, key: "--timeout", value: "\(v)", reason: "must be > 0")
            }
            timeoutSeconds = v
        }
        guard !configurations.isEmpty else { throw SweepError.noConfigurations(path: sourcePath) }
    }
}

/// Values given on the command line that replace the spec's.
public struct SweepOverrides: Equatable, Sendable {
    /// Each element may itself be a comma-separated list ("25MB,100MB").
    public var partitions: [String]?
    public var batchSizes: [String]?
    public var dataSizes: [String]?
    public var fileLimits: [String]?
    public var threads: [String]?
    public var memory: [String]?
    public var name: String?
    public var repetitions: Int?
    public var warmup: Int?
    public var concurrency: Int?
    /// "all" or a number of ranks.
    public var measure: String?
    public var outputDirectory: String?
    public var dataDirectory: String?
    public var cacheDirectory: String?
    public var timeoutSeconds: Double?

    public init() {}
}

// MARK: - TOML reading helpers

/// The grid lists of one table, each nil when absent.
private struct GridLists {
    var partitions: [PartitionSize]?
    var batchSizes: [Int]?
    var dataSizes: [DataSize]?
    var fileLimits: [Int]?
    var threads: [Int]?

    /// Missing lists come from `parent`; data sizes and file limits are
    /// inherited only as a pair (a grid that names either keeps its own).
    func inheriting(_ parent: GridLists) -> GridLists {
        var result = self
        result.partitions = partitions ?? parent.partitions
        result.batchSizes = batchSizes ?? parent.batchSizes
        result.threads = threads ?? parent.threads
        if dataSizes == nil && fileLimits == nil {
            result.dataSizes = parent.dataSizes
            result.fileLimits = parent.fileLimits
        }
        return result
    }

    func grid(path: String, prefix: String) throws -> SweepGrid {
        guard let partitions else {
            throw SweepError.invalidValue(path: path, key: prefix + "partitions", value: "(missing)",
                                          reason: "name the partition sizes to sweep, e.g. [\"25MB\", \"100MB\"]")
        }
        guard let batchSizes else {
            throw SweepError.invalidValue(path: path, key: prefix + "batch_sizes", value: "(missing)",
                                          reason: "name the batch sizes to sweep, e.g. [512]")
        }
        guard dataSizes != nil || fileLimits != nil else {
            throw SweepError.invalidValue(path: path, key: prefix + "data_sizes", value: "(missing)",
                                          reason: "give data_sizes (e.g. [\"1GB\"]) or file_limits (e.g. [10])")
        }
        return SweepGrid(partitions: partitions, batchSizes: batchSizes, dataSizes: dataSizes ?? [],
                         fileLimits: fileLimits ?? [], threads: threads ?? [1])
    }
}

/// Typed access to one TOML table with errors that name the file and key.
private struct TableReader {
    let table: TOMLTable
    let path: String
    let prefix: String

    func checkKeys(_ known: [String]) throws {
        for key in table.keys.sorted() where !known.contains(key) {
            throw SweepError.unknownKey(path: path, key: prefix + key,
                                        suggestion: closestKey(to: key, in: known).map { prefix + $0 })
        }
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let s = value.string else {
            throw SweepError.wrongType(path: path, key: prefix + key, expected: "a string", actual: typeName(value))
        }
        return s
    }

    func nonEmptyString(_ key: String) throws -> String? {
        guard let s = try string(key) else { return nil }
        guard !s.isEmpty else {
            throw SweepError.invalidValue(path: path, key: prefix + key, value: "\"\"", reason: "must not be empty")
        }
        return s
    }

    func int(_ key: String) throws -> Int? {
        guard let value = table[key] else { return nil }
        guard let v = value.int else {
            throw SweepError.wrongType(path: path, key: prefix + key, expected: "a whole number", actual: typeName(value))
        }
        return v
    }

    func double(_ key: String) throws -> Double? {
        guard let value = table[key] else { return nil }
        if let v = value.double, v.isFinite { return v }
        if let v = value.int { return Double(v) }
        throw SweepError.wrongType(path: path, key: prefix + key, expected: "a finite number", actual: typeName(value))
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = table[key] else { return nil }
        guard let v = value.bool else {
            throw SweepError.wrongType(path: path, key: prefix + key, expected: "true or false", actual: typeName(value))
        }
        return v
    }

    /// A non-empty list; a single scalar counts as a list of one.
    func list(_ key: String) throws -> [TOMLValueConvertible]? {
        guard let value = table[key] else { return nil }
        let items: [TOMLValueConvertible] = value.array.map { Array($0) } ?? [value]
        guard !items.isEmpty else { throw SweepError.emptyList(path: path, key: prefix + key) }
        return items
    }

    func positiveInts(_ key: String) throws -> [Int]? {
        try list(key)?.map { item in
            guard let v = item.int else {
                throw SweepError.wrongType(path: path, key: prefix + key, expected: "whole numbers", actual: typeName(item))
            }
            guard v >= 1 else {
                throw SweepError.invalidValue(path: path, key: prefix + key, value: "\(v)", reason: "must be >= 1")
            }
            return v
        }
    }

    func gridLists() throws -> GridLists {
        var lists = GridLists()
        lists.partitions = try list("partitions")?.map { item in
            let text: String
            if let s = item.string { text = s } else if let v = item.int { text = String(v) } else {
                throw SweepError.wrongType(path: path, key: prefix + "partitions", expected: "strings such as \"25MB\"",
                                           actual: typeName(item))
            }
            do { return try PartitionSize(parsing: text) } catch {
                throw SweepError.invalidValue(path: path, key: prefix + "partitions", value: "\"\(text)\"", reason: "\(error)")
            }
        }
        lists.batchSizes = try positiveInts("batch_sizes")
        lists.dataSizes = try list("data_sizes")?.map { item in
            let text: String
            if let s = item.string { text = s } else if let v = item.int { text = "\(v)GB" } else if let v = item.double {
                text = "\(v)GB"
            } else {
                throw SweepError.wrongType(path: path, key: prefix + "data_sizes", expected: "strings such as \"12.6GB\"",
                                           actual: typeName(item))
            }
            do { return try DataSize(parsing: text) } catch {
                throw SweepError.invalidValue(path: path, key: prefix + "data_sizes", value: "\"\(text)\"", reason: "\(error)")
            }
        }
        lists.fileLimits = try positiveInts("file_limits")
        lists.threads = try positiveInts("threads")
        if let threads = lists.threads, let bad = threads.first(where: { $0 > 256 }) {
            throw SweepError.invalidValue(path: path, key: prefix + "threads", value: "\(bad)", reason: "must be <= 256")
        }
        return lists
    }
}

private func positive<T: Comparable & Numeric>(_ value: T, key: String, path: String) throws -> T {
    guard value > 0 else {
        throw SweepError.invalidValue(path: path, key: key, value: "\(value)", reason: "must be > 0")
    }
    return value
}

private func unsigned(_ value: Int, key: String, path: String) throws -> UInt64 {
    guard value >= 0 else {
        throw SweepError.invalidValue(path: path, key: key, value: "\(value)", reason: "must be >= 0")
    }
    return UInt64(value)
}

private func typeName(_ value: TOMLValueConvertible) -> String {
    "a TOML \(value.type) (\(describe(value)))"
}

private func describe(_ value: TOMLValueConvertible) -> String {
    if let s = value.string { return "\"\(s)\"" }
    if let v = value.int { return "\(v)" }
    if let v = value.double { return "\(v)" }
    if let v = value.bool { return "\(v)" }
    return value.debugDescription.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A TOML value as a JSONSerialization object.
private func jsonObject(_ value: TOMLValueConvertible) -> Any {
    if let table = value.table {
        var object: [String: Any] = [:]
        for key in table.keys { object[key] = table[key].map(jsonObject) ?? NSNull() }
        return object
    }
    if let array = value.array { return array.map(jsonObject) }
    if let v = value.int { return v }
    if let v = value.double { return v }
    if let v = value.bool { return v }
    if let v = value.string { return v }
    return NSNull()
}

/// The known key closest to `key` by edit distance (case-insensitive), so a
/// typo such as "batch_size" points at "batch_sizes".
public func closestKey(to key: String, in known: [String]) -> String? {
    known.min { a, b in
        let da = editDistance(key.lowercased(), a.lowercased()), db = editDistance(key.lowercased(), b.lowercased())
        return da != db ? da < db : a < b
    }
}

/// Levenshtein distance.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}
