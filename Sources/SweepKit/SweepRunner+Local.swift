import CAIWorkload
import CosmicSupport
import Foundation

extension SweepRunner {
    /// The local sweep: one plan over every configuration, each distinct
    /// rank run made once per repetition. Ranks of one thread count run
    /// together, `max(1, concurrency / threads)` at once, so the ranks never
    /// ask for more cores than `concurrency`; each row records how many ran
    /// beside it (`concurrent_ranks`). When ranks run side by side, the largest
    /// runs go first so that runs of similar length share a group (no core idles
    /// while a long rank finishes), every thread count of one size together so
    /// the 1- and 2-thread runs behind the parallel efficiency are measured
    /// minutes apart, not at the two ends of the sweep; one at a time, the
    /// plan's order is kept.
    func runLocal(records existing: [RankRecord]) throws -> SweepOutcome {
        var records = existing
        let configurations = spec.configurations
        let dataSource = partitions.sourceDescription
        let plan = try MeasurementPlan(configurations: configurations, spec: spec,
                                       records: records.filter { $0.source == .local }, dataSource: dataSource,
                                       prepare: prepare)
        let planned = Set(plan.configurations.map(\.id))
        let position = Dictionary(uniqueKeysWithValues: configurations.enumerated().map { ($1.id, $0 + 1) })
        var outcome = SweepOutcome(ran: plan.configurations.map(\.id), skipped: [], files: files)
        for c in configurations where !planned.contains(c.id) {
            outcome.skipped.append(c.id)
            onEvent?(.configurationSkipped(index: position[c.id]!, total: configurations.count, id: c.id))
        }
        onEvent?(.planned(measurements: plan.tasks.count, reused: plan.reused.count,
                          configurations: plan.configurations.count))
        tally.configurations = plan.configurations.count
        tally.skipped = outcome.skipped.count
        tally.reused = plan.reused.count

        func replace(_ rows: [RankRecord]) {
            for row in rows {
                records.removeAll {
                    $0.source == .local && $0.configuration.id == row.configuration.id && $0.rank == row.rank
                        && $0.repetition == row.repetition
                }
                records.append(row)
            }
        }
        var remaining: [String: Int] = [:]
        for task in plan.tasks {
            for serving in task.servings { remaining[serving.configuration.id, default: 0] += 1 }
        }
        func finished(_ id: String) {
            let rows = records.filter { $0.source == .local && $0.configuration.id == id }
            let failed = rows.filter { $0.status != .ok }
            let failure = Summarizer.failureSummary(failed, of: rows.count)
            if !failed.isEmpty { outcome.failures.append((id, failure)) }
            onEvent?(.configurationFinished(index: position[id]!, total: configurations.count, id: id,
                                            failure: failure))
        }
        replace(plan.reused)
        if !plan.reused.isEmpty { try save(records) }
        for c in plan.configurations where remaining[c.id] == nil { finished(c.id) }

        totalWork = Double(plan.totalSamples)
        doneWork = 0
        started = MonotonicClock.now()
        var verified: [Int: String] = [:]
        var next = 0, done = 0
        let tasks = spec.concurrency > 1
            ? plan.tasks.enumerated().sorted { a, b in
                (-a.element.servings[0].plannedSamples, a.offset) < (-b.element.servings[0].plannedSamples, b.offset)
            }.map(\.element)
            : plan.tasks
        do {
            while next < tasks.count {
                let threads = tasks[next].threads
                let width = max(1, spec.concurrency / threads)
                var group: [MeasurementTask] = []
                while group.count < width, next < tasks.count, tasks[next].threads == threads {
                    group.append(tasks[next])
                    next += 1
                }
                if verified[threads] == nil {
                    verified[threads] = try verifier.verify(threads: threads, configuration: group[0].prepared.configuration.id)
                    try warmUp(group[0])
                }
                if isInterrupted() { throw SweepError.interrupted(done: done, total: plan.tasks.count) }
                let jobs = try group.map { try job(for: $0, label: "rep\($0.repetition)") }
                let results = try executor.run(jobs)
                if isInterrupted() { throw SweepError.interrupted(done: done, total: plan.tasks.count) }
                guard results.count == jobs.count else {
                    throw SweepError.runnerMismatch(configuration: group[0].prepared.configuration.id,
                                                    expected: jobs.count, got: results.count)
                }
                for (task, result) in zip(group, results) {
                    replace(rows(of: task, result: result, verification: verified[threads]!, concurrent: group.count,
                                 dataSource: dataSource))
                    tally.measured += 1
                    tally.reused += task.servings.count - 1
                    doneWork += Double(task.servings[0].plannedSamples)
                }
                try save(records, summaries: false)
                for (task, result) in zip(group, results) {
                    done += 1
                    onEvent?(.measurementFinished(done: done, total: plan.tasks.count, label: task.label,
                                                  seconds: result.processSeconds, etaSeconds: eta))
                    for serving in task.servings {
                        let id = serving.configuration.id
                        remaining[id]! -= 1
                        if remaining[id] == 0 { finished(id) }
                    }
                }
            }
        } catch {
            if !records.isEmpty { try? writeOutputs(records: records) }
            throw error
        }
        if tally.measured + tally.reused > 0 { try save(records) }
        return outcome
    }

    /// What a local run would do now, without generating or running anything
    /// (the dry run): rank runs to make, rows to copy, configurations touched.
    public func plannedWork() throws -> (measurements: Int, reused: Int, configurations: Int, samples: Int) {
        var records: [RankRecord] = []
        if FileManager.default.fileExists(atPath: files.ranks.path) {
            records = try RankRecord.records(in: try CSVTable.read(files.ranks), path: files.ranks.path)
        }
        let plan = try MeasurementPlan(
            configurations: spec.configurations, spec: spec, records: records.filter { $0.source == .local },
            dataSource: partitions.sourceDescription) { c, _ in try prepare(c, ranks: []) }
        let copies = plan.tasks.reduce(plan.reused.count) { $0 + $1.servings.count - 1 }
        return (plan.tasks.count, copies, plan.configurations.count, plan.totalSamples)
    }

    /// The rows one rank run fills: the measured one, then a copy for each
    /// other (configuration, rank) doing the same work.
    private func rows(of task: MeasurementTask, result: RankResult, verification: String, concurrent: Int,
                      dataSource: String) -> [RankRecord] {
        let first = task.servings[0]
        var measured = RankRecord(
            result: result, configuration: first.configuration, repetition: task.repetition, file: first.file,
            fileSamples: result.status == .ok ? result.samples : first.plannedSamples, dataSource: dataSource,
            verification: verification)
        measured.rank = first.rank
        measured.concurrentRanks = concurrent
        return [measured] + task.servings.dropFirst().map {
            MeasurementPlan.copy(measured, serving: $0, repetition: task.repetition)
        }
    }

    /// Untimed runs of the first measured rank of a thread count (`warmup` of the spec).
    private func warmUp(_ task: MeasurementTask) throws {
        guard spec.warmup > 0 else { return }
        for w in 1...spec.warmup {
            onEvent?(.repetition(number: 0, of: spec.repetitions, etaSeconds: eta))
            _ = try executor.run([try job(for: task, label: "warmup\(w)")])
        }
    }

    /// CAI's data map over configuration `c`'s prefix, with the files of `ranks` present.
    func prepare(_ c: SweepConfiguration, ranks: [Int]) throws -> PreparedConfiguration {
        let (prefix, names) = try partitions.prepare(c, ranks: ranks)
        do {
            let data = try StorageLocation(bucket: Self.dataBucket, prefix: prefix, key: "data_prefix",
                                           source: "sweep \(spec.name)")
            let dataMap = try DataMap(files: names, fileLimit: c.fileLimit, worldSize: c.worldSize, prefix: prefix)
            return PreparedConfiguration(configuration: c, dataMap: dataMap, data: data)
        } catch {
            throw SweepError.dataUnavailable(configuration: c.id, reason: "\(error)")
        }
    }

    /// The pipeline's job for a task's rank, writing under `<config>/<label>/` of the runs bucket.
    private func job(for task: MeasurementTask, label: String) throws -> RankJob {
        let c = task.prepared.configuration
        let results = try StorageLocation(bucket: Self.runsBucket, prefix: "\(c.id)/\(label)", key: "result_path",
                                          source: "sweep \(spec.name)")
        let weightsPath = spec.weights.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let settings = Pipeline.Settings(threads: c.threads, weightsPath: weightsPath, seed: spec.seed)
        return Pipeline.jobs(dataMap: task.prepared.dataMap, data: task.prepared.data, results: results,
                             batchSize: c.batchSize, settings: settings)[task.rank]
    }
}
