import Foundation

/// Maps a checkpoint's tensor names onto ASTROMAE.md's, for checkpoints saved
/// from a differently named module tree. The file is one JSON object:
///
///     {
///       "encoder.layers.*": "blocks.*",
///       "backbone.proj.weight": "patch_embed.proj.weight",
///       "decoder.*": null
///     }
///
/// A key without `*` renames exactly that name; a key ending in `*` rewrites
/// that prefix (its value must end in `*` too); `null` drops the tensor(s).
/// An exact key wins over prefix rules, the longest matching prefix wins over
/// shorter ones, and each name is rewritten once (rules do not chain). Names
/// are matched after a DataParallel `module.` prefix (on every name) is removed.
public struct WeightRenameMap: Sendable, Equatable {
    /// Exact renames; a nil target drops the tensor.
    public let exact: [String: String?]
    /// Prefix rules, longest prefix first.
    public let prefixes: [(from: String, to: String?)]

    public static func == (lhs: WeightRenameMap, rhs: WeightRenameMap) -> Bool {
        lhs.exact == rhs.exact && lhs.prefixes.elementsEqual(rhs.prefixes) { $0.from == $1.from && $0.to == $1.to }
    }

    public init(exact: [String: String?] = [:], prefixes: [(from: String, to: String?)] = []) {
        self.exact = exact
        self.prefixes = prefixes.sorted { $0.from.count > $1.from.count || ($0.from.count == $1.from.count && $0.from < $1.from) }
    }

    /// Reads the JSON file described above; errors name the file and the bad rule.
    public static func load(contentsOf url: URL) throws -> WeightRenameMap {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelWeightsError.badRenameMap(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try parse(data, path: url.path)
    }

    /// Parses rename-map JSON; `path` names the source in errors.
    public static func parse(_ data: Data, path: String) throws -> WeightRenameMap {
        func fail(_ reason: String) -> ModelWeightsError { .badRenameMap(path: path, reason: reason) }
        guard let object = try? JSONSerialization.jsonObject(with: data), let rules = object as? [String: Any] else {
            throw fail("not a JSON object of \"from\": \"to\" (or null) rules")
        }
        var exact: [String: String?] = [:]
        var prefixes: [(from: String, to: String?)] = []
        for (from, value) in rules {
            let to: String?
            switch value {
            case let text as String: to = text
            case is NSNull: to = nil
            default: throw fail("rule \"\(from)\" maps to \(type(of: value)), not a string or null")
            }
            guard !from.isEmpty, from != "*" || to == nil || to == "*" else { throw fail("rule \"\(from)\" has an empty or bare pattern") }
            let starCount = from.filter { $0 == "*" }.count
            if starCount == 0 {
                if let to, to.contains("*") { throw fail("exact rule \"\(from)\" maps to a pattern \"\(to)\"") }
                exact[from] = to
            } else {
                guard starCount == 1, from.hasSuffix("*") else { throw fail("rule \"\(from)\": '*' may only end a prefix") }
                if let to, !(to.hasSuffix("*") && to.filter({ $0 == "*" }).count == 1) {
                    throw fail("prefix rule \"\(from)\" must map to a prefix ending in '*', not \"\(to)\"")
                }
                prefixes.append((String(from.dropLast()), to.map { String($0.dropLast()) }))
            }
        }
        return WeightRenameMap(exact: exact, prefixes: prefixes)
    }

    /// The new name (nil: dropped) and the rule that applied (nil: none).
    public func apply(_ name: String) -> (name: String?, rule: String?) {
        if let target = exact[name] { return (target, name) }
        for rule in prefixes where name.hasPrefix(rule.from) {
            guard let to = rule.to else { return (nil, rule.from + "*") }
            return (to + name.dropFirst(rule.from.count), rule.from + "*")
        }
        return (name, nil)
    }

    /// Every rule as written in the file, for reporting unused ones.
    var ruleNames: [String] { exact.keys.sorted() + prefixes.map { $0.from + "*" } }
}
