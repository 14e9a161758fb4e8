import Foundation
import SafeTensors

/// Accuracy mode: runs the model on a golden fixture made by an independent
/// PyTorch implementation and compares every recorded stage. Every timing
/// run calls this first with the BLAS configuration it is about to time.
public enum Verifier {
    /// The stages a fixture records, in network order.
    public static let stages = [
        "trace.patch_embed", "trace.block0", "trace.block11", "trace.pooled", "trace.vit_features",
        "trace.inception_features", "trace.magnitude_features", "output.redshift",
    ]

    /// Element-wise tolerance: |got − want| ≤ absolute + relative·|want|
    /// (ASTROMAE.md: float32 results agree to about 1e-4 relative; 1e-5
    /// absolute covers values near zero).
    public struct Tolerance: Sendable, Codable {
        public var relative: Double = 1e-4
        public var absolute: Double = 1e-5
        public init(relative: Double = 1e-4, absolute: Double = 1e-5) {
            self.relative = relative
            self.absolute = absolute
        }
    }

    /// How the ranks about to be timed run the model; `verify` also runs the
    /// fixture's batch through an `InferenceSession` configured this way, so
    /// the check covers the threading the timed code uses, not only the
    /// single-workspace traced pass.
    public struct SessionConfiguration: Sendable, Equatable {
        public var threads: Int
        public var parallelism: Parallelism

        public init(threads: Int, parallelism: Parallelism = .splitBatch) {
            self.threads = max(1, threads)
            self.parallelism = parallelism
        }

        /// "2 threads, batch split over single-threaded BLAS" and the like.
        public var description: String {
            if threads == 1 { return "1 thread" }
            switch parallelism {
            case .splitBatch: return "\(threads) threads, batch split over single-threaded BLAS"
            case .blas: return "\(threads) threads inside OpenBLAS"
            }
        }
    }

    /// Runs the fixture at `url`. Weights are seeded from the fixture's
    /// `__metadata__.seed` unless `weights` is given. With `session`, the
    /// predictions of a session so configured are compared too (stage
    /// `session.redshift`), with a micro-batch of one sample so that a
    /// multi-threaded session really splits the fixture's batch.
    public static func verify(fixture url: URL, weights: ModelWeights? = nil, session: SessionConfiguration? = nil,
                              tolerance: Tolerance = Tolerance()) throws -> VerificationReport {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: url)
        } catch {
            throw VerificationError.unreadable(path: url.path, reason: "\(error)")
        }
        let path = url.path
        guard let seedText = file.metadata["seed"], let seed = UInt64(seedText) else {
            throw VerificationError.badMetadata(path: path, key: "seed", value: file.metadata["seed"])
        }
        guard let batchText = file.metadata["batch"], let batch = Int(batchText), batch >= 1 else {
            throw VerificationError.badMetadata(path: path, key: "batch", value: file.metadata["batch"])
        }
        let images = try read(file, "input.images", path: path, shape: [batch, 5, 32, 32]) { try file.floats($0) }
        let magnitudes = try read(file, "input.magnitudes", path: path, shape: [batch, 5]) { try file.doubles($0) }

        let modelWeights = weights ?? ModelWeights.seeded(seed)
        let model = AstroMAEModel(weights: modelWeights)
        let traced = model.trace(images: images, magnitudes: magnitudes)

        var comparisons: [StageComparison] = []
        for stage in stages where file.contains(stage) {
            let want = try file.floats(stage)
            guard let got = traced[stage], got.count == want.count else {
                throw VerificationError.shapeMismatch(path: path, name: stage, expected: want.count,
                                                      actual: traced[stage]?.count ?? 0)
            }
            comparisons.append(StageComparison(name: stage, got: got, want: want, tolerance: tolerance))
        }
        guard comparisons.contains(where: { $0.name == "output.redshift" }) else {
            throw VerificationError.missingTensor(path: path, name: "output.redshift")
        }
        var blasThreads = BLAS.threads
        if let session {
            let previous = BLAS.threads
            defer { BLAS.threads = previous }
            let runner = InferenceSession(model: model, microBatch: 1, threads: session.threads,
                                          parallelism: session.parallelism)
            blasThreads = BLAS.threads
            var predictions = [Float](repeating: 0, count: batch)
            images.withUnsafeBufferPointer { imagePointer in
                magnitudes.withUnsafeBufferPointer { magnitudePointer in
                    predictions.withUnsafeMutableBufferPointer { out in
                        runner.predict(images: imagePointer.baseAddress!, magnitudes: magnitudePointer.baseAddress!,
                                       count: batch, output: out.baseAddress!)
                    }
                }
            }
            comparisons.append(StageComparison(name: "session.redshift", got: predictions,
                                               want: try file.floats("output.redshift"), tolerance: tolerance))
        }
        return VerificationReport(
            fixture: path, seed: seed, batch: batch, weights: modelWeights.source, stages: comparisons,
            tolerance: tolerance, blasCore: BLAS.coreName, blasThreads: blasThreads,
            session: session?.description)
    }

    private static func read<T>(_ file: SafeTensorsFile, _ name: String, path: String, shape: [Int],
                                _ load: (String) throws -> [T]) throws -> [T] {
        guard file.contains(name) else { throw VerificationError.missingTensor(path: path, name: name) }
        let info = try file.info(name)
        guard info.shape == shape else {
            throw VerificationError.wrongShape(path: path, name: name, expected: shape, actual: info.shape)
        }
        return try load(name)
    }

    /// Where the golden fixtures are by default: `../shared/fixtures` beside
    /// the repository, else the copy the package ships in `Fixtures/golden`.
    public static func defaultFixtures(sourceFile: String = #filePath) -> [URL] {
        let repo = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let candidates = [
            cwd.appendingPathComponent("../shared/fixtures"), repo.appendingPathComponent("../shared/fixtures"),
            cwd.appendingPathComponent("Fixtures/golden"), repo.appendingPathComponent("Fixtures/golden"),
        ]
        for directory in candidates {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            let fixtures = files.filter { $0.hasPrefix("astromae-") && $0.hasSuffix(".safetensors") }.sorted()
            if !fixtures.isEmpty {
                return fixtures.map { directory.appendingPathComponent($0).standardizedFileURL }
            }
        }
        return []
    }
}

/// One stage's agreement with the reference.
public struct StageComparison: Sendable, Codable {
    public let name: String
    public let count: Int
    public let maxAbsoluteError: Double
    /// Largest |got − want| / |want| over elements with |want| ≥ 1e-3.
    public let maxRelativeError: Double
    /// Elements outside the tolerance.
    public let failures: Int
    public var passed: Bool { failures == 0 }

    init(name: String, got: [Float], want: [Float], tolerance: Verifier.Tolerance) {
        var maxAbs = 0.0, maxRel = 0.0, failures = 0
        for (g, w) in zip(got, want) {
            let g = Double(g), w = Double(w)
            let error = abs(g - w)
            if !(error <= tolerance.absolute + tolerance.relative * abs(w)) { failures += 1 }
            maxAbs = max(maxAbs, error.isNaN ? .infinity : error)
            if abs(w) >= 1e-3 { maxRel = max(maxRel, error / abs(w)) }
        }
        self.name = name
        count = want.count
        maxAbsoluteError = maxAbs
        maxRelativeError = maxRel
        self.failures = failures
    }
}

/// The result of `verify` on one fixture.
public struct VerificationReport: Sendable, Codable {
    public let fixture: String
    public let seed: UInt64
    public let batch: Int
    public let weights: String
    public let stages: [StageComparison]
    public let tolerance: Verifier.Tolerance
    public let blasCore: String
    public let blasThreads: Int
    /// The session configuration checked as `session.redshift`, if any.
    public let session: String?
    public var passed: Bool { stages.allSatisfy(\.passed) }

    /// A fixed-width table, one line per stage, and the verdict.
    public func rendered() -> String {
        var lines = ["fixture \(fixture)", "seed \(seed), batch \(batch), weights \(weights), OpenBLAS \(blasCore) × \(blasThreads) thread(s)",
                     "tolerance |Δ| ≤ \(tolerance.absolute) + \(tolerance.relative)·|ref|"]
        if let session { lines.append("session.redshift: predictions of an InferenceSession with \(session)") }
        lines.append(pad("stage", 26) + pad("elements", 10) + pad("max abs err", 14) + pad("max rel err", 14) + "verdict")
        for s in stages {
            lines.append(pad(s.name, 26) + pad(String(s.count), 10) + pad(sci(s.maxAbsoluteError), 14)
                         + pad(sci(s.maxRelativeError), 14) + (s.passed ? "ok" : "FAIL (\(s.failures) elements)"))
        }
        lines.append(passed ? "PASS: all \(stages.count) stages within tolerance" : "FAIL: the model does not match the reference")
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
    private func sci(_ v: Double) -> String { String(format: "%.3e", v) }
}

/// Why a fixture could not be checked.
public enum VerificationError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badMetadata(path: String, key: String, value: String?)
    case missingTensor(path: String, name: String)
    case wrongShape(path: String, name: String, expected: [Int], actual: [Int])
    case shapeMismatch(path: String, name: String, expected: Int, actual: Int)
    case noFixtures

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read fixture: \(reason)"
        case let .badMetadata(path, key, value):
            return "\(path): __metadata__.\(key) is \(value.map { "'\($0)'" } ?? "missing"); expected a positive integer"
        case let .missingTensor(path, name): return "\(path): fixture has no tensor '\(name)'"
        case let .wrongShape(path, name, expected, actual):
            return "\(path): tensor '\(name)' has shape \(actual), expected \(expected) (from __metadata__.batch)"
        case let .shapeMismatch(path, name, expected, actual):
            return "\(path): stage '\(name)' has \(expected) elements in the fixture but the model produced \(actual)"
        case .noFixtures:
            return "no golden fixtures found (looked in ../shared/fixtures and Fixtures/golden); pass a path"
        }
    }
}
