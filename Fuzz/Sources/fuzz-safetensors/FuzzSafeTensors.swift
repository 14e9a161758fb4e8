import Foundation
import SafeTensors

/// libFuzzer entry point: any byte string is a candidate safetensors image.
/// Rejection must be a thrown `SafeTensorsError`; an accepted file must keep
/// the reader's promises (every tensor inside the data section, byte range
/// equal to shape × dtype size), and every accessor must work on it. Bytes
/// are touched through the reader's own views so AddressSanitizer sees any
/// read outside the image.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard let file = try? SafeTensorsFile(data: bytes, path: "fuzz.safetensors") else { return 0 }
    _ = file.metadata.count
    for tensor in file.tensors {
        let expected = tensor.shape.reduce(1) { $0 * $1 } * tensor.dtype.byteSize
        precondition(tensor.byteRange.count == expected, "\(tensor.name): byte range does not match its shape")
        precondition(tensor.byteRange.lowerBound >= 0 && tensor.byteRange.upperBound <= size,
                     "\(tensor.name): byte range outside the input")
        precondition((try? file.info(tensor.name)) == tensor && file.contains(tensor.name),
                     "\(tensor.name): lookup disagrees with the tensor list")
        let checksum = (try? file.withUnsafeBytes(of: tensor.name) { raw in
            raw.reduce(UInt8(0)) { $0 &+ $1 }
        }) ?? 0
        blackHole(checksum)
        switch tensor.dtype {
        case .f32:
            let copied = (try? file.floats(tensor.name)) ?? []
            precondition(copied.count == tensor.elementCount, "\(tensor.name): floats() has the wrong count")
            let viewed = (try? file.withFloats(tensor.name) { $0.count }) ?? -1
            precondition(viewed == tensor.elementCount, "\(tensor.name): withFloats has the wrong count")
            _ = try? file.mappedFloats(tensor.name)
        case .f64:
            let copied = (try? file.doubles(tensor.name)) ?? []
            precondition(copied.count == tensor.elementCount, "\(tensor.name): doubles() has the wrong count")
            let viewed = (try? file.withDoubles(tensor.name) { $0.count }) ?? -1
            precondition(viewed == tensor.elementCount, "\(tensor.name): withDoubles has the wrong count")
            _ = try? file.mappedDoubles(tensor.name)
        default:
            precondition((try? file.floats(tensor.name)) == nil, "\(tensor.name): floats() accepted \(tensor.dtype)")
        }
    }
    return 0
}

/// Keeps a value alive so the optimiser cannot drop the reads that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
