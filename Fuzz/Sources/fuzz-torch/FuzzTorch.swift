import Foundation
import TorchPickle

/// libFuzzer entry point: each input is tried as a whole `torch.save` file
/// (zip archive or legacy pickle stream) holding a TensorDataset, as a model
/// checkpoint (whole module or state_dict), and as a bare `data.pkl`.
/// Rejection must be a thrown `TorchPickleError`; every tensor of an accepted
/// file must be readable element by element, so a geometry the validator
/// let through that points outside its storage is an AddressSanitizer report.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    do {
        let tensors = try TorchArchive.loadTensorDataset(data: Data(buffer: bytes), name: "fuzz.pt",
                                                         verifyChecksums: true)
        for tensor in tensors {
            let sum = try tensor.withContiguousBytes { raw in raw.reduce(UInt8(0)) { $0 &+ $1 } }
            blackHole(sum)
            let values = try tensor.contiguousDoubles()
            precondition(values.count == tensor.elementCount, "contiguousDoubles has the wrong count")
        }
    } catch is TorchPickleError {
    } catch {
        preconditionFailure("loadTensorDataset threw a non-TorchPickleError: \(error)")
    }
    do {
        let checkpoint = try TorchCheckpoint.load(data: Data(buffer: bytes), name: "fuzz.pt", verifyChecksums: true)
        for entry in checkpoint.entries {
            let sum = try entry.tensor.withContiguousBytes { raw in raw.reduce(UInt8(0)) { $0 &+ $1 } }
            blackHole(sum)
        }
        blackHole(checkpoint.modules.count)
    } catch is TorchPickleError {
    } catch {
        preconditionFailure("TorchCheckpoint.load threw a non-TorchPickleError: \(error)")
    }
    do {
        let records = try TorchArchive.tensorRecords(fromPickle: Array(bytes), file: "fuzz.pkl")
        for record in records {
            precondition(record.shape.count == record.strides.count, "shape and strides differ in rank")
        }
    } catch is TorchPickleError {
    } catch {
        preconditionFailure("tensorRecords threw a non-TorchPickleError: \(error)")
    }
    return 0
}

/// Keeps a value alive so the optimiser cannot drop the reads that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
