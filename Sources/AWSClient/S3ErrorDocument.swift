import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The `<Error><Code/><Message/><RequestId/></Error>` body S3 sends with a
/// failure. Parsing never throws: an unreadable body yields a code derived
/// from the HTTP status, so the caller always has something to report.
struct S3ErrorDocument: Equatable {
    var code: String
    var message: String
    var requestID: String?

    /// Bodies longer than this are not parsed (an error document is small).
    static let maxParsedBytes = 64 * 1024

    static func parse(_ body: Data, status: Int, headers: [(String, String)]) -> S3ErrorDocument {
        let headerRequestID = headers.first { $0.0.lowercased() == "x-amz-request-id" }?.1
        var fields: [String: String] = [:]
        // The same guard as listings: FoundationXML crashes on some processing instructions.
        if !body.isEmpty, body.count <= maxParsedBytes, (try? S3ListingParser.checkProcessingInstructions(body)) != nil {
            let collector = ElementTextCollector(wanted: ["Code", "Message", "RequestId"])
            let parser = XMLParser(data: body)
            parser.shouldResolveExternalEntities = false
            parser.delegate = collector
            if parser.parse() { fields = collector.values }
        }
        let code = fields["Code"].flatMap { $0.isEmpty ? nil : $0 } ?? fallbackCode(status)
        let message = fields["Message"] ?? (body.isEmpty ? "no error document" : "unparsed error document")
        return S3ErrorDocument(code: code, message: message, requestID: fields["RequestId"] ?? headerRequestID)
    }

    /// What S3 means by a status with no body (e.g. the reply to a HEAD).
    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 400: return "BadRequest"
        case 403: return "AccessDenied"
        case 404: return "NotFound"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        default: return "HTTP\(status)"
        }
    }
}

/// Collects the text of the first occurrence of each wanted element (also
/// used for the XML error bodies of JSON services, see AWSServiceError).
final class ElementTextCollector: NSObject, XMLParserDelegate {
    let wanted: Set<String>
    var values: [String: String] = [:]
    private var current: String?
    private var text = ""

    init(wanted: Set<String>) { self.wanted = wanted }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if wanted.contains(name), values[name] == nil {
            current = name
            text = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if current != nil { text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == current {
            values[name] = text
            current = nil
        }
    }
}
