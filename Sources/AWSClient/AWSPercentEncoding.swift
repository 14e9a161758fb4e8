import Foundation

/// RFC 3986 percent-encoding as SigV4 defines it: every byte except the
/// unreserved set `A-Z a-z 0-9 - . _ ~` becomes `%XX` (uppercase hex). A
/// space is `%20`, never `+`. Shared by the signer and the S3 request
/// builder so the bytes that are signed are the bytes that are sent.
public enum AWSPercentEncoding {
    /// Encodes a query name or value, or one path segment: `/` becomes `%2F`.
    public static func encode(_ string: String) -> String {
        encode(string, keepingSlash: false)
    }

    /// Encodes a path (an S3 key) segment by segment, keeping `/` as the
    /// separator: `Anomaly Detection/x.json` → `Anomaly%20Detection/x.json`.
    public static func encodePath(_ string: String) -> String {
        encode(string, keepingSlash: true)
    }

    /// Decodes `%XX` escapes (as used by `encoding-type=url` listings).
    /// Returns nil for a malformed escape or bytes that are not UTF-8, so a
    /// caller can name the bad value.
    public static func decode(_ string: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(string.utf8.count)
        var iterator = string.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func encode(_ string: String, keepingSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
