import Foundation
import XCTest

/// Without moto the harness must fail loudly with the install command.
final class HarnessStartupTests: XCTestCase {
    func testMissingMotoFailsWithInstallHint() throws {
        let shadow = FileManager.default.temporaryDirectory.appendingPathComponent("no-moto-\(UUID().uuidString)")
        let package = shadow.appendingPathComponent("moto")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: shadow) }
        try Data("raise ImportError('moto hidden by the test')\n".utf8).write(to: package.appendingPathComponent("__init__.py"))
        XCTAssertThrowsError(try HarnessProcess(script: "moto_s3.py", arguments: [], environment: ["PYTHONPATH": shadow.path])) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("pip install 'moto[server]==5.2.1'"), text)
            XCTAssertTrue(text.contains("moto hidden by the test"), text)
        }
    }
}
