import CAIWorkload
import Foundation

/// libFuzzer entry point: any byte string is a candidate CAI payload JSON.
/// Rejection must be a thrown `PayloadError`; an accepted payload must be
/// valid by its own rules and survive a round trip through `encoded()`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let payload: Payload
    do {
        payload = try Payload(data: bytes, path: "fuzz/payload.json")
    } catch is PayloadError {
        return 0
    } catch {
        preconditionFailure("Payload threw a non-PayloadError: \(error)")
    }
    precondition(payload.fileLimit >= 1 && payload.batchSize >= 1 && payload.worldSize >= 1,
                 "accepted a payload with a non-positive count")
    precondition(!payload.bucket.isEmpty && !payload.dataBucket.isEmpty && !payload.resultPath.isEmpty,
                 "accepted a payload with an empty bucket or result path")
    for prefix in [payload.resultPath, payload.dataPrefix] {
        precondition(!prefix.split(separator: "/").contains(".."), "accepted a prefix that climbs out: \(prefix)")
    }
    let again: Payload
    do {
        again = try Payload(data: payload.encoded(), path: "fuzz/encoded.json")
    } catch {
        preconditionFailure("an accepted payload does not re-parse after encoded(): \(error)")
    }
    precondition(again == payload, "encoded() changed the payload")
    return 0
}
