import CBLAS
import Foundation

/// The one place CosmicBench talks to OpenBLAS. Everything GEMM-shaped in the
/// model goes through `BLAS.gemm`, so the matrix core can be swapped or
/// instrumented here without touching the network code.
public enum BLAS {
    /// Row-major C[m×n] = alpha · A[m×k] · op(B) + beta · C.
    ///
    /// `transB` is true when B is stored as [n×k] (PyTorch's Linear weight
    /// layout `out × in`), which is how every weight in the model is kept.
    @inlinable
    public static func gemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, transB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    /// The kernel family OpenBLAS selected at start-up (e.g. "Haswell",
    /// "Cooperlake"); recorded with every result because it changes speed ~2×.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// OpenBLAS's build configuration string (version, threading model).
    public static var config: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Threads OpenBLAS uses for one GEMM.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Processors OpenBLAS sees.
    public static var processors: Int { Int(openblas_get_num_procs()) }
}
