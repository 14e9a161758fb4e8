import CosmicSupport
import Foundation
import XCTest

/// File errors in plain words naming the path and the operation; before,
/// AtomicFile passed on Foundation's "NSCocoaErrorDomain Code=4 ...".
final class CosmicSupportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cosmicbench-support-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// /sys refuses new files even to root, so this runs as root too.
    func testUncreatableDestinationsNameThePathAndCause() throws {
        XCTAssertThrowsError(try AtomicFile.write("x", to: URL(fileURLWithPath: "/sys/cosmicbench-test.json"))) { error in
            XCTAssertEqual("\(error)", "cannot create /sys/cosmicbench-test.json: permission denied")
            XCTAssertEqual((error as? FileOperationError)?.code, EACCES)
        }
        XCTAssertThrowsError(try AtomicFile.write("x", to: URL(fileURLWithPath: "/sys/cosmicbench-test/0.json"))) { error in
            // sysfs answers EPERM to root and EACCES to other users.
            XCTAssertTrue(["cannot create directory /sys/cosmicbench-test: operation not permitted",
                           "cannot create directory /sys/cosmicbench-test: permission denied"].contains("\(error)"), "\(error)")
        }
        let file = dir.appendingPathComponent("plain")
        try AtomicFile.write("x", to: file)
        XCTAssertThrowsError(try AtomicFile.write("y", to: file.appendingPathComponent("0.json"))) { error in
            XCTAssertEqual("\(error)", "cannot create directory \(file.path): a file of that name exists")
        }
        XCTAssertThrowsError(try AtomicFile.write(to: URL(fileURLWithPath: "/sys/cosmicbench-stream.bin")) { _ in }) { error in
            XCTAssertEqual("\(error)", "cannot create /sys/cosmicbench-stream.bin: permission denied")
        }
    }

    /// A write that fails half-way (here: the file-size limit, standing in
    /// for a full disk) names the destination, leaves no temporary file and
    /// keeps the old contents.
    func testFailedWriteIsPlainAndLeavesTheOldFile() throws {
        let url = dir.appendingPathComponent("big.bin")
        try AtomicFile.write("old", to: url)
        var old = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limit = old
        limit.rlim_cur = 4096
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit), 0)
        defer {
            _ = setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
            signal(SIGXFSZ, previousHandler)
        }
        XCTAssertThrowsError(try AtomicFile.write(Data(count: 10_000), to: url)) { error in
            XCTAssertEqual("\(error)", "cannot write \(url.path): file too large")
        }
        XCTAssertThrowsError(try AtomicFile.write(to: url) { handle in try handle.write(contentsOf: Data(count: 10_000)) }) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write \(url.path): "), "\(error)")
            XCTAssertFalse("\(error)".contains("Domain"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["big.bin"])
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "old")
    }

    func testDescribeIOErrorUsesPlainWords() throws {
        XCTAssertEqual(describeIOError(CocoaError(.fileNoSuchFile)), "no such file or directory")
        XCTAssertEqual(describeIOError(CocoaError(.fileWriteOutOfSpace)), "no space left on device")
        XCTAssertEqual(describeIOError(NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC))), "no space left on device")
        XCTAssertEqual(describeIOError(POSIXError(.EACCES)), "permission denied")
        XCTAssertEqual(describeErrno(EIO), "input/output error")
        do {
            _ = try Data(contentsOf: dir.appendingPathComponent("missing"))
            XCTFail("read of a missing file succeeded")
        } catch {
            XCTAssertEqual(describeIOError(error), "no such file or directory")
            XCTAssertEqual("\(FileOperationError(operation: "read", path: "/x", error: error))",
                           "cannot read /x: no such file or directory")
        }
    }

    /// An interrupted write leaves `.<name>.tmp-<pid>-<random>`; it is
    /// removed once its process is gone, never while it may still write.
    func testStaleTemporaryFilesOfDeadProcessesAreRemoved() throws {
        let dead = dir.appendingPathComponent(".1.safetensors.tmp-\(try deadPID())-12345")
        let mine = dir.appendingPathComponent(".2.safetensors.tmp-\(getpid())-7")
        let living = dir.appendingPathComponent(".3.safetensors.tmp-1-7")
        let other = dir.appendingPathComponent(".notes.tmp")
        for url in [dead, mine, living, other] { try Data("x".utf8).write(to: url) }
        XCTAssertEqual(AtomicFile.parseTemporaryName(dead.lastPathComponent)?.target, "1.safetensors")
        XCTAssertNil(AtomicFile.parseTemporaryName(other.lastPathComponent))
        XCTAssertNil(AtomicFile.parseTemporaryName(".x.tmp-12-ab"))
        XCTAssertEqual(try AtomicFile.removeStaleTemporaryFiles(in: dir).map(\.lastPathComponent), [dead.lastPathComponent])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(),
                       [mine, living, other].map(\.lastPathComponent).sorted())
        XCTAssertTrue(AtomicFile.temporaryURL(for: dir.appendingPathComponent("a.json")).lastPathComponent
            .hasPrefix(".a.json.tmp-\(getpid())-"))
    }

    func testRemoveContentsKeepsTheFolderAndDoesNotFollowLinks() throws {
        let outside = dir.appendingPathComponent("outside")
        let target = dir.appendingPathComponent("target")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: outside.appendingPathComponent("keep"))
        try FileManager.default.createDirectory(at: target.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: target.appendingPathComponent("a/b/c"))
        try FileManager.default.createSymbolicLink(at: target.appendingPathComponent("link"), withDestinationURL: outside)
        try FileSystem.removeContents(of: target)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target.path), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), ["keep"])
    }
}
