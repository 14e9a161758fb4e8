import AWSClient
import Foundation

/// libFuzzer entry point: any byte string is a candidate ListObjectsV2
/// response body. Rejection must be a thrown `S3ListingParseError`; an
/// accepted page must keep the parser's promises (sizes not negative, a
/// continuation token exactly when the page is truncated).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let page: S3ListPage
    do {
        page = try S3ListingParser.parse(Data(bytes: data, count: size))
    } catch is S3ListingParseError {
        return 0
    } catch {
        preconditionFailure("S3ListingParser threw a non-S3ListingParseError: \(error)")
    }
    precondition(page.objects.allSatisfy { $0.size >= 0 }, "accepted a negative object size")
    precondition(page.isTruncated == (page.nextContinuationToken != nil),
                 "continuation token present \(page.nextContinuationToken != nil) but truncated \(page.isTruncated)")
    return 0
}
