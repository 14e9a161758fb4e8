import Foundation

/// Locations of the reference files, relative to this source file so tests
/// work from any directory: `../shared/...` beside the repository when it is
/// there, else the copies shipped in `Fixtures/golden`.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func firstExisting(_ candidates: [String]) -> URL {
        for path in candidates {
            let url = repository.appendingPathComponent(path).standardizedFileURL
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return repository.appendingPathComponent(candidates.last!)
    }

    static var tensorsTSV: URL { firstExisting(["../shared/spec/tensors.tsv", "Fixtures/golden/tensors.tsv"]) }
    static var goldenFixture: URL {
        firstExisting(["../shared/fixtures/astromae-seed20250108-b3.safetensors",
                       "Fixtures/golden/astromae-seed20250108-b3.safetensors"])
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
