/// A JSON value whose objects keep their keys in the order they were written,
/// so a generated template reads top-down (Parameters before Resources, Type
/// before Properties) and renders byte-identically for the same inputs.
public indirect enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The member `key` of an object (the first, if written twice); nil otherwise.
    public subscript(key: String) -> JSON? {
        guard case let .object(members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        guard case let .array(elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The keys of an object in written order; empty for other values.
    public var keys: [String] {
        guard case let .object(members) = self else { return [] }
        return members.map(\.key)
    }

    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    public var intValue: Int? {
        if case let .int(number) = self { return number }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case let .array(elements) = self { return elements }
        return nil
    }

    /// Pretty-printed UTF-8 text (two-space indent, one trailing newline).
    public func rendered() -> String {
        var out = ""
        write(into: &out, indent: 0)
        out.append("\n")
        return out
    }

    private func write(into out: inout String, indent: Int) {
        switch self {
        case .null: out.append("null")
        case let .bool(value): out.append(value ? "true" : "false")
        case let .int(value): out.append(String(value))
        case let .string(text): Self.appendQuoted(text, to: &out)
        case let .array(elements):
            guard !elements.isEmpty else { out.append("[]"); return }
            out.append("[\n")
            for (index, element) in elements.enumerated() {
                out.append(String(repeating: " ", count: indent + 2))
                element.write(into: &out, indent: indent + 2)
                out.append(index == elements.count - 1 ? "\n" : ",\n")
            }
            out.append(String(repeating: " ", count: indent) + "]")
        case let .object(members):
            guard !members.isEmpty else { out.append("{}"); return }
            out.append("{\n")
            for (index, member) in members.enumerated() {
                out.append(String(repeating: " ", count: indent + 2))
                Self.appendQuoted(member.key, to: &out)
                out.append(": ")
                member.value.write(into: &out, indent: indent + 2)
                out.append(index == members.count - 1 ? "\n" : ",\n")
            }
            out.append(String(repeating: " ", count: indent) + "}")
        }
    }

    private static func appendQuoted(_ text: String, to out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// Dictionary literals keep their written order.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
    public init(nilLiteral: ()) { self = .null }
}

/// CloudFormation intrinsic functions, as the JSON objects the template holds.
public enum Intrinsic {
    /// `{"Ref": name}`: a parameter's value or a resource's primary identifier.
    public static func ref(_ name: String) -> JSON { ["Ref": .string(name)] }

    /// `{"Fn::Sub": text}`: `${Name}` placeholders resolved by CloudFormation.
    public static func sub(_ text: String) -> JSON { ["Fn::Sub": .string(text)] }

    /// `{"Fn::GetAtt": [resource, attribute]}`.
    public static func getAtt(_ resource: String, _ attribute: String) -> JSON {
        ["Fn::GetAtt": [.string(resource), .string(attribute)]]
    }
}
