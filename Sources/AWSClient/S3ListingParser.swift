import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One object of a listing.
public struct S3ObjectSummary: Sendable, Equatable {
    public var key: String
    public var size: Int
    /// The ETag without its surrounding quotes.
    public var etag: String

    public init(key: String, size: Int, etag: String) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}

/// One page of a ListObjectsV2 answer.
public struct S3ListPage: Sendable, Equatable {
    public var objects: [S3ObjectSummary]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    /// Present exactly when `isTruncated` is true.
    public var nextContinuationToken: String?
}

/// Why a listing document was rejected, naming the element and value.
public struct S3ListingParseError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { "ListObjectsV2 response: \(reason)" }
}

/// Parses ListObjectsV2 XML. Untrusted input: any DTD or entity declaration
/// is refused, documents above `maxDocumentBytes` or nested deeper than
/// `maxDepth` are rejected before or while parsing, and every field is
/// validated, so hostile XML yields an error, never a crash or a hang.
public enum S3ListingParser {
    public static let maxDocumentBytes = 32 * 1024 * 1024
    public static let maxDepth = 8

    /// The single entry point (also the fuzz target's).
    public static func parse(_ data: Data) throws -> S3ListPage {
        guard data.count <= maxDocumentBytes else {
            throw S3ListingParseError(reason: "document of \(data.count) bytes exceeds the \(maxDocumentBytes)-byte limit")
        }
        guard !data.isEmpty else { throw S3ListingParseError(reason: "empty document") }
        // FoundationXML traps on some malformed input (seen: bytes that are
        // not UTF-8 inside a start tag), so only well-formed text reaches it.
        guard String(data: data, encoding: .utf8) != nil else {
            throw S3ListingParseError(reason: "document is not valid UTF-8")
        }
        if let control = data.firstIndex(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) {
            throw S3ListingParseError(reason: "control byte 0x\(String(data[control], radix: 16)) at offset \(control - data.startIndex)")
        }
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil || data.range(of: Data("<!ENTITY".utf8)) != nil {
            throw S3ListingParseError(reason: "document declares a DTD or entities, which S3 never sends")
        }
        try checkProcessingInstructions(data)
        let builder = ListingBuilder()
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        parser.delegate = builder
        let ok = parser.parse()
        if let failure = builder.failure { throw failure }
        guard ok else {
            let detail = parser.parserError.map { " (\($0.localizedDescription))" } ?? ""
            throw S3ListingParseError(reason: "malformed XML at line \(parser.lineNumber), column \(parser.columnNumber)\(detail)")
        }
        return try builder.page()
    }
}

extension S3ListingParser {
    /// S3 sends one XML declaration first and no other processing
    /// instruction. FoundationXML dereferences a null pointer on a
    /// processing instruction without data (`<?x?>`, found by the fuzzer),
    /// so any `<?` other than a leading `<?xml ...?>` declaration, and a
    /// declared encoding other than UTF-8, are refused before parsing.
    static func checkProcessingInstructions(_ data: Data) throws {
        let bytes = [UInt8](data)
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        var searchFrom = 0
        if bytes[start...].starts(with: Array("<?xml".utf8)),
           start + 5 < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start + 5]) {
            guard let end = find(Array("?>".utf8), in: bytes, from: start) else {
                throw S3ListingParseError(reason: "unterminated XML declaration")
            }
            let declaration = String(decoding: bytes[start..<end], as: UTF8.self).lowercased()
            if let range = declaration.range(of: "encoding") {
                let rest = declaration[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" }
                guard rest.hasPrefix("utf-8\"") || rest.hasPrefix("utf-8'") else {
                    throw S3ListingParseError(reason: "XML declaration names an encoding other than UTF-8")
                }
            }
            searchFrom = end + 2
        }
        if let other = find(Array("<?".utf8), in: bytes, from: searchFrom) {
            throw S3ListingParseError(reason: "processing instruction at offset \(other), which S3 never sends")
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard needle.count <= bytes.count, from <= bytes.count - needle.count else { return nil }
        for index in from...(bytes.count - needle.count) where bytes[index] == needle[0] {
            if bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
        }
        return nil
    }
}

/// Collects Contents, CommonPrefixes and the paging fields.
private final class ListingBuilder: NSObject, XMLParserDelegate {
    var failure: S3ListingParseError?
    private var path: [String] = []
    private var text = ""
    private var root: String?
    private var rootClosed = false
    private var objects: [S3ObjectSummary] = []
    private var prefixes: [String] = []
    private var isTruncated: String?
    private var nextToken: String?
    private var encodingType: String?
    private var entry: [String: String] = [:]

    func page() throws -> S3ListPage {
        guard rootClosed else {
            throw S3ListingParseError(reason: "document ends before </\(root ?? "ListBucketResult")>")
        }
        guard root == "ListBucketResult" else {
            throw S3ListingParseError(reason: "root element is <\(root ?? "none")>, expected <ListBucketResult>")
        }
        let truncated: Bool
        switch isTruncated {
        case nil: truncated = false
        case "true": truncated = true
        case "false": truncated = false
        case let other?: throw S3ListingParseError(reason: "<IsTruncated> is '\(other)', expected true or false")
        }
        if truncated, (nextToken ?? "").isEmpty {
            throw S3ListingParseError(reason: "<IsTruncated> is true but <NextContinuationToken> is missing or empty")
        }
        var objects = objects
        var prefixes = prefixes
        if encodingType == "url" {
            for index in objects.indices { objects[index].key = try decoded(objects[index].key, field: "Contents/Key") }
            prefixes = try prefixes.map { try decoded($0, field: "CommonPrefixes/Prefix") }
        } else if let encodingType, !encodingType.isEmpty {
            throw S3ListingParseError(reason: "<EncodingType> '\(encodingType)' is not supported")
        }
        return S3ListPage(objects: objects, commonPrefixes: prefixes, isTruncated: truncated, nextContinuationToken: truncated ? nextToken : nil)
    }

    private func decoded(_ value: String, field: String) throws -> String {
        guard let result = AWSPercentEncoding.decode(value) else {
            throw S3ListingParseError(reason: "<\(field)> '\(value)' is not valid URL encoding")
        }
        return result
    }

    private func fail(_ parser: XMLParser, _ reason: String) {
        if failure == nil { failure = S3ListingParseError(reason: reason) }
        parser.abortParsing()
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        guard failure == nil else { return }
        if path.isEmpty {
            guard root == nil else { return fail(parser, "a second root element <\(name)>") }
            root = name
        }
        path.append(name)
        text = ""
        if path.count > S3ListingParser.maxDepth {
            return fail(parser, "elements nested deeper than \(S3ListingParser.maxDepth) levels at <\(name)>")
        }
        if path.count == 2, name == "Contents" || name == "CommonPrefixes" { entry = [:] }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard failure == nil else { return }
        text += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard failure == nil else { return }
        defer {
            path.removeLast()
            text = ""
        }
        switch path.count {
        case 1:
            rootClosed = true
        case 2:
            endTopLevel(parser, name)
        case 3 where path[1] == "Contents" || path[1] == "CommonPrefixes":
            if entry[name] != nil { return fail(parser, "<\(path[1])> has two <\(name)> elements") }
            entry[name] = text
        default:
            break
        }
    }

    private func endTopLevel(_ parser: XMLParser, _ name: String) {
        switch name {
        case "IsTruncated": isTruncated = text.trimmingCharacters(in: .whitespacesAndNewlines)
        case "NextContinuationToken": nextToken = text
        case "EncodingType": encodingType = text.trimmingCharacters(in: .whitespacesAndNewlines)
        case "CommonPrefixes":
            guard let prefix = entry["Prefix"] else { return fail(parser, "<CommonPrefixes> without <Prefix>") }
            prefixes.append(prefix)
        case "Contents":
            guard let key = entry["Key"], !key.isEmpty else {
                return fail(parser, "<Contents> #\(objects.count + 1) has no <Key>")
            }
            guard let sizeText = entry["Size"] else { return fail(parser, "<Contents> for key '\(key)' has no <Size>") }
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespacesAndNewlines)), size >= 0 else {
                return fail(parser, "<Size> '\(sizeText.prefix(40))' of key '\(key)' is not a non-negative integer")
            }
            var etag = entry["ETag"] ?? ""
            if etag.count >= 2, etag.hasPrefix("\""), etag.hasSuffix("\"") { etag = String(etag.dropFirst().dropLast()) }
            objects.append(S3ObjectSummary(key: key, size: size, etag: etag))
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        fail(parser, "entity declaration '\(name)' refused (DTDs are not allowed)")
    }

    func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
        fail(parser, "external entity '\(name)' refused (DTDs are not allowed)")
    }

    func parser(_ parser: XMLParser, foundElementDeclarationWithName elementName: String, model: String) {
        fail(parser, "element declaration '\(elementName)' refused (DTDs are not allowed)")
    }

    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        fail(parser, "external entity '\(name)' refused")
        return nil
    }
}
