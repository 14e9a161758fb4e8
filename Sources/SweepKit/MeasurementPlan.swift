import CAIWorkload
import Foundation

/// What makes two rank runs the same work: the same partition files, read
/// with the same batch size and threads, from the same data. Full files of a
/// partition are shared by every data size and file limit (SyntheticPartitions
/// caches each file once; DirectoryPartitions reads one folder per
/// partition), so only a data size's short last file is its own work.
struct WorkKey: Hashable {
    var partition: PartitionSize
    var batchSize: Int
    var threads: Int
    /// The rank's file names, without the configuration's prefix.
    var files: [String]
    /// Samples the plan puts in those files (tells a remainder file from the full file of that number).
    var samples: Int
    var dataSource: String

    init(configuration c: SweepConfiguration, files: [String], samples: Int, dataSource: String) {
        partition = c.partition
        batchSize = c.batchSize
        threads = c.threads
        self.files = files.map { String($0.split(separator: "/").last ?? Substring($0)) }
        self.samples = samples
        self.dataSource = dataSource
    }

    /// The work a recorded row measured.
    init(_ record: RankRecord) {
        self.init(configuration: record.configuration, files: record.file.split(separator: " ").map(String.init),
                  samples: record.fileSamples, dataSource: record.dataSource)
    }
}

/// A configuration ready to run: CAI's data map over its prefix.
struct PreparedConfiguration {
    let configuration: SweepConfiguration
    let dataMap: DataMap
    let data: StorageLocation
}

/// One rank run the sweep measures, and every row of ranks.csv its figures fill.
struct MeasurementTask {
    /// A (configuration, rank) whose row for `repetition` this run fills.
    struct Serving {
        let configuration: SweepConfiguration
        let rank: Int
        let file: String
        let plannedSamples: Int
    }

    let key: WorkKey
    let repetition: Int
    /// The configuration the run is made for (the first serving) and its data map.
    let prepared: PreparedConfiguration
    let rank: Int
    var servings: [Serving]

    var threads: Int { key.threads }
    var label: String { RankRecord.measurementID(prepared.configuration, rank: rank) + " rep \(repetition)" }
}

/// Every rank run a sweep still needs, each distinct piece of work once per
/// repetition: rows already measured (for any configuration) are copied into
/// the configurations they also serve, the rest become tasks.
struct MeasurementPlan {
    var tasks: [MeasurementTask] = []
    /// Rows made now from measurements already in ranks.csv.
    var reused: [RankRecord] = []
    /// Configurations with anything to measure or copy, in sweep order.
    var configurations: [SweepConfiguration] = []

    /// Samples all tasks process (the unit of the ETA).
    var totalSamples: Int { tasks.reduce(0) { $0 + $1.servings[0].plannedSamples } }

    /// The plan for `configurations` given the rows in `records` (this source's).
    /// `prepare` gives a configuration's data map (generating its measured files).
    init(configurations: [SweepConfiguration], spec: SweepSpec, records: [RankRecord], dataSource: String,
         prepare: (SweepConfiguration, [Int]) throws -> PreparedConfiguration) rethrows {
        var measured: [WorkKey: [Int: RankRecord]] = [:]
        var done = Set<String>()
        for record in records where record.status == .ok {
            done.insert(Self.slot(record.configuration, record.rank, record.repetition))
            if measured[WorkKey(record)]?[record.repetition] == nil || record.measuredFor == nil {
                measured[WorkKey(record), default: [:]][record.repetition] = record
            }
        }
        var taskIndex: [WorkKey: [Int: Int]] = [:]
        for c in configurations {
            let ranks = c.measuredRanks(measure: spec.measure, includeRemainder: spec.measureRemainder)
            let missing = (1...spec.repetitions).flatMap { repetition in
                ranks.filter { !done.contains(Self.slot(c, $0, repetition)) }.map { (repetition, $0) }
            }
            if missing.isEmpty { continue }
            self.configurations.append(c)
            let prepared = try prepare(c, ranks)
            let assignments = prepared.dataMap.assignments
            for (repetition, rank) in missing {
                let files = assignments[rank].map { String($0.split(separator: "/").last ?? Substring($0)) }
                let planned = files.reduce(0) { total, name in
                    total + (PartitionStore.parse(name).map { c.samplesInFile($0.0) } ?? 0)
                }
                let serving = MeasurementTask.Serving(configuration: c, rank: rank, file: files.joined(separator: " "),
                                                      plannedSamples: planned)
                let key = WorkKey(configuration: c, files: files, samples: planned, dataSource: dataSource)
                if let source = measured[key]?[repetition] {
                    reused.append(Self.copy(source, serving: serving, repetition: repetition))
                } else if let index = taskIndex[key]?[repetition] {
                    tasks[index].servings.append(serving)
                } else {
                    taskIndex[key, default: [:]][repetition] = tasks.count
                    tasks.append(MeasurementTask(key: key, repetition: repetition, prepared: prepared, rank: rank,
                                                 servings: [serving]))
                }
            }
        }
    }

    /// `record`'s figures as the row of another (configuration, rank) doing the same work.
    static func copy(_ record: RankRecord, serving: MeasurementTask.Serving, repetition: Int) -> RankRecord {
        var row = record
        row.measuredFor = record.measurementID
        row.configuration = serving.configuration
        row.rank = serving.rank
        row.file = serving.file
        row.repetition = repetition
        if row.measuredFor == RankRecord.measurementID(serving.configuration, rank: serving.rank) { row.measuredFor = nil }
        return row
    }

    private static func slot(_ c: SweepConfiguration, _ rank: Int, _ repetition: Int) -> String {
        "\(c.id)\u{0}\(rank)\u{0}\(repetition)"
    }
}
