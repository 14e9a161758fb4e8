import CAIWorkload
import Foundation

/// Parallel efficiency measured anywhere in a sweep, for configurations that
/// did not measure 1 and 2 threads themselves. Full-file ranks of one
/// partition and batch size do the same work at every data size, so their
/// 1- vs 2-thread ratio carries over; other workloads get the median of all.
struct ThreadScaling {
    private struct Group: Hashable {
        let partition: PartitionSize
        let batchSize: Int
    }

    private var byGroup: [Group: Double] = [:]
    private var overall: Double?

    init(records: [RankRecord]) {
        var times: [Group: [Int: [Double]]] = [:]
        for r in records where r.status == .ok && r.source == .local && !r.remainderFile {
            let group = Group(partition: r.configuration.partition, batchSize: r.configuration.batchSize)
            times[group, default: [:]][r.configuration.threads, default: []].append(r.inferenceSeconds)
        }
        for (group, byThreads) in times {
            guard let t1 = byThreads[1].flatMap(SampleStatistics.median),
                  let t2 = byThreads[2].flatMap(SampleStatistics.median), t2 > 0 else { continue }
            byGroup[group] = min(max(t1 / (2 * t2), 0), 1)
        }
        overall = SampleStatistics.median(Array(byGroup.values))
    }

    /// The efficiency for `c` and a plain description of where it was measured, nil when nowhere.
    func efficiency(for c: SweepConfiguration) -> (value: Double, source: String)? {
        if let e = byGroup[Group(partition: c.partition, batchSize: c.batchSize)] {
            return (e, "measured 1 vs 2 threads, \(c.partition.rawValue) batch \(c.batchSize) at another data size")
        }
        guard let overall else { return nil }
        return (overall, "measured 1 vs 2 threads, median of \(byGroup.count) other workload(s)")
    }
}
