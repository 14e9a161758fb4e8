import CAIWorkload
import LambdaCost
import SweepKit
import XCTest

final class SpecTests: XCTestCase {
    let path = "sweeps/test.toml"

    func parse(_ text: String) throws -> SweepSpec {
        try SweepSpec(toml: text, path: path, defaultName: "test")
    }

    /// The error message of a spec that must be rejected.
    func message(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try parse(text)
            XCTFail("spec was accepted:\n\(text)", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testFullSpec() throws {
        let spec = try parse("""
            name = "grid"
            partitions = ["25MB", "100MB"]
            batch_sizes = [32, 512]
            data_sizes = ["1GB", "12.6GB"]
            threads = [1, 2]
            repetitions = 2
            warmup = 1
            measure = "all"
            concurrency = 1
            seed = 7
            out = "out/grid"
            cache = "/tmp/cache"

            [lambda]
            memory = ["auto", 3008]
            headroom = 0.2
            architecture = "arm64"
            cold_start_seconds = 2.5
            s3_mb_per_second = 50
            account_concurrency = 100
            max_concurrency = 40
            price_per_gb_second = 0.00002

            [lambda.prices]
            requestsPerMillion = 0.25
            """)
        XCTAssertEqual(spec.name, "grid")
        XCTAssertEqual(spec.configurations.count, 2 * 2 * 2 * 2)
        XCTAssertEqual(spec.configurations.first?.id, "25MB-b32-1GB-t1")
        XCTAssertEqual(spec.configurations[1].id, "25MB-b32-1GB-t2")
        XCTAssertEqual(spec.repetitions, 2)
        XCTAssertEqual(spec.warmup, 1)
        XCTAssertEqual(spec.measure, .all)
        XCTAssertEqual(spec.seed, 7)
        XCTAssertEqual(spec.dataSeed, 7)
        XCTAssertEqual(spec.outputDirectory, "out/grid")
        XCTAssertEqual(spec.cacheDirectory, "/tmp/cache")
        XCTAssertEqual(spec.lambda.memory, [.auto, .fixed(megabytes: 3008)])
        XCTAssertEqual(spec.lambda.headroomFraction, 0.2)
        XCTAssertEqual(spec.lambda.architecture, .arm64)
        XCTAssertEqual(spec.lambda.assumptions.coldStartSeconds, 2.5)
        XCTAssertEqual(spec.lambda.assumptions.s3ReadMegabytesPerSecond, 50)
        XCTAssertEqual(spec.lambda.scaling.accountConcurrency, 100)
        XCTAssertEqual(spec.lambda.scaling.mapMaxConcurrency, 40)
        XCTAssertEqual(spec.lambda.prices.requestsPerMillion, 0.25)
        XCTAssertEqual(spec.lambda.prices.arm64DurationTiers, [PriceTier(upToGBSeconds: nil, pricePerGBSecond: 0.00002)])
        XCTAssertEqual(spec.lambda.prices.x86DurationTiers, LambdaPrices.usEast1.x86DurationTiers)
    }

    func testDefaults() throws {
        let spec = try parse("""
            partitions = ["50MB"]
            batch_sizes = [128]
            file_limits = [3]
            """)
        XCTAssertEqual(spec.name, "test")
        XCTAssertEqual(spec.repetitions, 3)
        XCTAssertEqual(spec.measure, .first(3))
        XCTAssertEqual(spec.concurrency, 1)
        XCTAssertEqual(spec.warmup, 0)
        XCTAssertEqual(spec.outputDirectory, "results/test")
        XCTAssertEqual(spec.cacheDirectory, ".cosmicbench-cache")
        XCTAssertEqual(spec.lambda.memory, [.auto])
        XCTAssertEqual(spec.configurations.map(\.id), ["50MB-b128-files3-t1"])
    }

    /// Grids are unioned, inherit top-level lists, and duplicates collapse.
    func testGridsUnion() throws {
        let spec = try parse("""
            partitions = ["25MB", "100MB"]
            [[grid]]
            batch_sizes = [512]
            data_sizes = ["1GB", "2GB"]
            [[grid]]
            batch_sizes = [32, 512]
            data_sizes = ["1GB"]
            """)
        XCTAssertEqual(spec.configurations.map(\.id), [
            "25MB-b512-1GB-t1", "25MB-b512-2GB-t1", "100MB-b512-1GB-t1", "100MB-b512-2GB-t1",
            "25MB-b32-1GB-t1", "100MB-b32-1GB-t1",
        ])
    }

    func testUnknownKeySuggestsClosest() {
        let m = message("""
            partitions = ["25MB"]
            batch_size = [32]
            data_sizes = ["1GB"]
            """)
        XCTAssertTrue(m.contains(path), m)
        XCTAssertTrue(m.contains("unknown key \"batch_size\""), m)
        XCTAssertTrue(m.contains("did you mean \"batch_sizes\""), m)

        let nested = message("""
            partitions = ["25MB"]
            batch_sizes = [32]
            data_sizes = ["1GB"]
            [lambda]
            memroy = [2048]
            """)
        XCTAssertTrue(nested.contains("\"lambda.memroy\""), nested)
        XCTAssertTrue(nested.contains("did you mean \"lambda.memory\""), nested)

        let prices = message("""
            partitions = ["25MB"]
            batch_sizes = [32]
            data_sizes = ["1GB"]
            [lambda.prices]
            requestPerMillion = 0.3
            """)
        XCTAssertTrue(prices.contains("did you mean \"lambda.prices.requestsPerMillion\""), prices)
    }

    func testBadSizes() {
        let partition = message("""
            partitions = ["30MB"]
            batch_sizes = [32]
            data_sizes = ["1GB"]
            """)
        XCTAssertTrue(partition.contains(path) && partition.contains("\"partitions\"") && partition.contains("30MB"), partition)

        let data = message("""
            partitions = ["25MB"]
            batch_sizes = [32]
            data_sizes = ["1TB"]
            """)
        XCTAssertTrue(data.contains("\"data_sizes\"") && data.contains("1TB"), data)

        let memory = message("""
            partitions = ["25MB"]
            batch_sizes = [32]
            data_sizes = ["1GB"]
            [lambda]
            memory = [64]
            """)
        XCTAssertTrue(memory.contains("\"lambda.memory\"") && memory.contains("64"), memory)
    }

    func testEmptyLists() {
        let m = message("""
            partitions = []
            batch_sizes = [32]
            data_sizes = ["1GB"]
            """)
        XCTAssertTrue(m.contains("\"partitions\" is an empty list"), m)
        XCTAssertTrue(m.contains(path), m)
        let memory = message("""
            partitions = ["25MB"]
            batch_sizes = [32]
            data_sizes = ["1GB"]
            [lambda]
            memory = []
            """)
        XCTAssertTrue(memory.contains("\"lambda.memory\" is an empty list"), memory)
    }

    func testNonPositiveNumbers() {
        let cases: [(String, String)] = [
            ("repetitions = -1", "\"repetitions\" = -1"),
            ("repetitions = 0", "\"repetitions\" = 0"),
            ("measure = 0", "\"measure\" = 0"),
            ("concurrency = -2", "\"concurrency\" = -2"),
            ("warmup = -1", "\"warmup\" = -1"),
            ("timeout_seconds = 0", "\"timeout_seconds\" = 0"),
        ]
        for (line, expected) in cases {
            let m = message("""
                partitions = ["25MB"]
                batch_sizes = [32]
                data_sizes = ["1GB"]
                \(line)
                """)
            XCTAssertTrue(m.contains(expected) && m.contains(path), "\(line): \(m)")
        }
        let batch = message("""
            partitions = ["25MB"]
            batch_sizes = [32, -4]
            data_sizes = ["1GB"]
            """)
        XCTAssertTrue(batch.contains("\"batch_sizes\" = -4"), batch)
    }

    func testWrongTypeAndBadTOML() {
        let type = message("""
            partitions = ["25MB"]
            batch_sizes = [32]
            data_sizes = ["1GB"]
            repetitions = "three"
            """)
        XCTAssertTrue(type.contains("\"repetitions\" must be a whole number"), type)
        let syntax = message("partitions = [\"25MB\"\nbatch_sizes = 3")
        XCTAssertTrue(syntax.hasPrefix("\(path):"), syntax)
        XCTAssertTrue(syntax.contains("not valid TOML"), syntax)
    }

    func testMissingDimension() {
        let m = message("""
            partitions = ["25MB"]
            batch_sizes = [32]
            """)
        XCTAssertTrue(m.contains("data_sizes"), m)
    }

    func testOverrides() throws {
        var spec = try parse("""
            partitions = ["25MB", "50MB"]
            batch_sizes = [512]
            data_sizes = ["1GB"]
            """)
        var overrides = SweepOverrides()
        overrides.partitions = ["25MB,100MB"]
        overrides.batchSizes = ["32", "512"]
        overrides.fileLimits = ["2"]
        overrides.threads = ["1,2"]
        overrides.measure = "all"
        overrides.repetitions = 1
        overrides.outputDirectory = "elsewhere"
        try spec.apply(overrides)
        XCTAssertEqual(spec.configurations.count, 2 * 2 * 1 * 2)
        XCTAssertTrue(spec.configurations.allSatisfy { $0.amount == .fileLimit(2) })
        XCTAssertEqual(spec.measure, .all)
        XCTAssertEqual(spec.repetitions, 1)
        XCTAssertEqual(spec.outputDirectory, "elsewhere")

        var bad = SweepOverrides()
        bad.batchSizes = ["0"]
        XCTAssertThrowsError(try spec.apply(bad)) { error in
            XCTAssertTrue("\(error)".contains("--batch-sizes"), "\(error)")
        }
        var badMeasure = SweepOverrides()
        badMeasure.measure = "some"
        XCTAssertThrowsError(try spec.apply(badMeasure)) { error in
            XCTAssertTrue("\(error)".contains("--measure"), "\(error)")
        }
    }

    /// The shipped specs parse and have the grids the issue asks for.
    func testShippedSpecs() throws {
        let sweeps = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sweeps")
        let quickURL = sweeps.appendingPathComponent("quick.toml")
        let paperURL = sweeps.appendingPathComponent("paper.toml")
        guard FileManager.default.fileExists(atPath: quickURL.path) else {
            throw XCTSkip("sweeps/ not found beside the tests (\(sweeps.path))")
        }
        let quick = try SweepSpec(contentsOf: quickURL)
        XCTAssertEqual(quick.name, "quick")
        XCTAssertFalse(quick.configurations.isEmpty)
        let paper = try SweepSpec(contentsOf: paperURL)
        let ids = Set(paper.configurations.map(\.id))
        for partition in ["25MB", "50MB", "75MB", "100MB"] {
            for size in ["1GB", "2GB", "4GB", "6GB", "8GB", "10GB", "12.6GB"] {
                XCTAssertTrue(ids.contains("\(partition)-b512-\(size)-t1"), "\(partition) \(size)")
            }
            for batch in [32, 64, 128, 256, 512] {
                XCTAssertTrue(ids.contains("\(partition)-b\(batch)-1GB-t1"), "\(partition) b\(batch)")
            }
        }
    }

    func testConfigurationGeometry() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 512, amount: .dataSize(try DataSize(parsing: "1GB")), threads: 1)
        XCTAssertEqual(c.fileLimit, 41)
        XCTAssertEqual(c.worldSize, 41)
        XCTAssertTrue(c.hasRemainderFile)
        XCTAssertEqual(c.samplesInFile(41), 52_366 - 40 * 1278)
        XCTAssertEqual(c.measuredRanks(measure: .first(2), includeRemainder: true), [0, 1, 40])
        XCTAssertEqual(c.measuredRanks(measure: .first(2), includeRemainder: false), [0, 1])
        XCTAssertEqual(c.measuredRanks(measure: .all, includeRemainder: true).count, 41)
        let files = SweepConfiguration(partition: .mb100, batchSize: 64, amount: .fileLimit(3), threads: 2)
        XCTAssertFalse(files.hasRemainderFile)
        XCTAssertEqual(files.totalSamples, 3 * 5113)
        XCTAssertEqual(files.id, "100MB-b64-files3-t2")
        XCTAssertEqual(files.workloadID, "100MB-b64-files3")
    }

    func testClosestKey() {
        XCTAssertEqual(closestKey(to: "partition", in: SweepSpec.topLevelKeys), "partitions")
        XCTAssertEqual(closestKey(to: "repetition", in: SweepSpec.topLevelKeys), "repetitions")
        XCTAssertEqual(closestKey(to: "mesure", in: SweepSpec.topLevelKeys), "measure")
    }
}
