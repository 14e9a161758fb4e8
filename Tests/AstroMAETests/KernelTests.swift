import AstroMAE
import Foundation
import XCTest

final class KernelTests: XCTestCase {
    func testVectorExpMatchesLibm() {
        var x: Float = -87
        while x < 88 {
            let v = Kernels.exp(Kernels.V(repeating: x))[0]
            let want = Foundation.exp(x)
            XCTAssertEqual(v, want, accuracy: want * 4e-7, "exp(\(x))")
            x += 0.173
        }
        XCTAssertEqual(Kernels.exp(Kernels.V(repeating: -200))[0], 0, accuracy: 1e-37)
        XCTAssertTrue(Kernels.exp(Kernels.V(repeating: 200))[0].isFinite)
    }

    func testVectorErfMatchesLibm() {
        var x: Float = -9
        while x < 9 {
            XCTAssertEqual(Kernels.erf(Kernels.V(repeating: x))[0], Foundation.erf(x), accuracy: 4e-7, "erf(\(x))")
            x += 0.0031
        }
        XCTAssertEqual(Kernels.erf(Kernels.V(repeating: 1e30))[0], 1)
        XCTAssertEqual(Kernels.erf(Kernels.V(repeating: -1e30))[0], -1)
        XCTAssertEqual(Kernels.erf(Kernels.V(repeating: 0))[0], 0)
    }

    func testGeluAndSiluMatchLibm() {
        var xs: [Float] = []
        var x: Float = -12
        while x < 12 { xs.append(x); x += 0.0137 }
        var gelu = xs, silu = xs
        Kernels.geluInPlace(&gelu, count: xs.count)
        Kernels.siluInPlace(&silu, count: xs.count)
        for (i, x) in xs.enumerated() {
            XCTAssertEqual(gelu[i], Kernels.Reference.gelu(x), accuracy: 4e-7 * max(1, abs(x)), "gelu(\(x))")
            XCTAssertEqual(silu[i], Kernels.Reference.silu(x), accuracy: 1e-6 * max(1, abs(x)), "silu(\(x))")
        }
    }

    /// The attention softmax: 17 scores in a row padded to 24, whose
    /// padding (here large values) must not take part.
    func testSoftmaxSumsToOne() {
        var padded: [Float] = (0..<17).map { Float($0) * 0.7 - 3 } + [Float](repeating: 50, count: 7)
        Kernels.softmaxScoreRow(&padded, padding: Kernels.scorePadding)
        let row = padded.prefix(17)
        XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertTrue(zip(row, row.dropFirst()).allSatisfy { $0 < $1 })
    }
}
