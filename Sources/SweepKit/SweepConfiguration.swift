import CAIWorkload
import Foundation

/// How much of the dataset a configuration runs over.
public enum DataAmount: Equatable, Hashable, Sendable {
    /// A size of the CAI dataset ("1GB" … "12.6GB"): its split, remainder in the last file.
    case dataSize(DataSize)
    /// CAI's `file_limit`: this many full partition files.
    case fileLimit(Int)
}

/// One point of a sweep: CAI run with this partition size, batch size and
/// amount of data, each rank's OpenBLAS using `threads` threads.
public struct SweepConfiguration: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var partition: PartitionSize
    public var batchSize: Int
    public var amount: DataAmount
    public var threads: Int

    public init(partition: PartitionSize, batchSize: Int, amount: DataAmount, threads: Int) {
        self.partition = partition
        self.batchSize = batchSize
        self.amount = amount
        self.threads = threads
    }

    /// The key under which results are stored and resumed, e.g.
    /// "25MB-b512-1GB-t1" or "100MB-b128-files10-t2".
    public var id: String {
        "\(partition.rawValue)-b\(batchSize)-\(amountLabel)-t\(threads)"
    }

    /// The amount of data as text: "1GB", or "files10" for a file limit.
    public var amountLabel: String {
        switch amount {
        case let .dataSize(size): return size.description
        case let .fileLimit(n): return "files\(n)"
        }
    }

    /// The same workload at another thread count (its modelling group).
    public var workloadID: String {
        let id = self.id
        return String(id[..<id.range(of: "-t", options: .backwards)!.lowerBound])
    }

    public var description: String { id }

    /// CAI's file_limit: the data size's file count, or the limit itself.
    public var fileLimit: Int {
        switch amount {
        case let .dataSize(size): return size.fileCount(partition: partition)
        case let .fileLimit(n): return n
        }
    }

    /// CAI's world_size defaults to file_limit, so each rank gets one file.
    public var worldSize: Int { fileLimit }

    /// Samples in 1-based file `index` of this configuration's split.
    public func samplesInFile(_ index: Int) -> Int {
        switch amount {
        case let .dataSize(size): return size.samplesInFile(index: index, partition: partition)
        case let .fileLimit(n): return (1...n).contains(index) ? partition.samplesPerFile : 0
        }
    }

    /// Samples of the whole run.
    public var totalSamples: Int {
        switch amount {
        case let .dataSize(size): return size.totalSamples
        case let .fileLimit(n): return n * partition.samplesPerFile
        }
    }

    /// True when the last file holds fewer samples than a full file.
    public var hasRemainderFile: Bool { samplesInFile(fileLimit) < partition.samplesPerFile }

    /// The data size in the dataset's nominal GB, nil for a file limit.
    public var dataSizeGB: Double? {
        if case let .dataSize(size) = amount { return size.gigabytes }
        return nil
    }

    /// The data size's text ("12.6GB"), empty for a file limit.
    public var dataSizeText: String {
        if case let .dataSize(size) = amount { return size.description }
        return ""
    }

    /// The ranks measured: the first `measure` ranks, plus the last rank when
    /// its file is a short remainder and `includeRemainder` (its file is
    /// smaller than a full one, so measuring it costs less than a full rank
    /// and replaces a proportional guess with a measurement).
    public func measuredRanks(measure: MeasureCount, includeRemainder: Bool) -> [Int] {
        var ranks = Array(0..<measure.count(worldSize: worldSize))
        if includeRemainder, hasRemainderFile, let last = ranks.last, last < worldSize - 1 {
            ranks.append(worldSize - 1)
        }
        return ranks
    }
}
