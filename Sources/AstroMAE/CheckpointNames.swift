/// How a checkpoint's tensor names line up with the model's manifest, with
/// every problem at once: fixing a renamed checkpoint one error per run would
/// take hundreds of runs. Each missing or unexpected name carries its nearest
/// counterpart by edit distance, which is usually the rename to make.
public struct CheckpointNameReport: Sendable, Equatable, CustomStringConvertible {
    public struct Missing: Sendable, Equatable {
        /// The manifest name no tensor provides.
        public let name: String
        /// The closest unmatched name the file does have (after renaming), if any.
        public let nearestInFile: String?
    }

    public struct Unexpected: Sendable, Equatable {
        /// The name after prefix stripping and the rename map.
        public let name: String
        /// The name as stored in the file.
        public let original: String
        /// The closest manifest name, preferring ones no tensor provides yet.
        public let nearestExpected: String?
    }

    public struct WrongShape: Sendable, Equatable {
        public let name: String
        public let expected: [Int]
        public let actual: [Int]
    }

    public let missing: [Missing]
    public let unexpected: [Unexpected]
    public let wrongShape: [WrongShape]
    /// Target names that two file tensors were renamed to (both originals listed).
    public let duplicates: [String: [String]]
    /// Tensors the model does not use by design: `num_batches_tracked`, the
    /// `vis_inception.0` alias of the shared conv, and names the map drops.
    public let ignored: [String]
    /// `module.` when every name carried DataParallel's prefix and it was removed.
    public let strippedPrefix: String?
    /// Rename-map rules that matched no tensor (likely typos; not an error).
    public let unusedRules: [String]
    /// File name → manifest name for every tensor the model will use.
    public let resolved: [String: String]

    /// True when every manifest tensor is present exactly once with its shape and nothing is unknown.
    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && wrongShape.isEmpty && duplicates.isEmpty }

    public var description: String {
        var lines: [String] = []
        if !missing.isEmpty {
            lines.append("\(missing.count) missing:")
            lines += missing.map { "  - \($0.name)" + ($0.nearestInFile.map { " (nearest in file: \($0))" } ?? "") }
        }
        if !unexpected.isEmpty {
            lines.append("\(unexpected.count) unexpected:")
            lines += unexpected.map { item in
                let origin = item.original == item.name ? "" : " (stored as \(item.original))"
                return "  - \(item.name)\(origin)" + (item.nearestExpected.map { " (nearest expected: \($0))" } ?? "")
            }
        }
        if !wrongShape.isEmpty {
            lines.append("\(wrongShape.count) wrong shape:")
            lines += wrongShape.map { "  - \($0.name): \($0.actual), AstroMAE needs \($0.expected)" }
        }
        for (target, sources) in duplicates.sorted(by: { $0.key < $1.key }) {
            lines.append("duplicate: \(sources.joined(separator: " and ")) both become \(target)")
        }
        if !unusedRules.isEmpty { lines.append("unused rename rules: \(unusedRules.joined(separator: ", "))") }
        return lines.isEmpty ? "all \(resolved.count) tensors match" : lines.joined(separator: "\n")
    }
}

/// Matches file tensor names to `WeightManifest`.
enum CheckpointNames {
    static let dataParallelPrefix = "module."

    /// True for tensors a real `state_dict()` holds that the model ignores.
    static func isIgnorable(_ name: String) -> Bool {
        name.hasSuffix(".num_batches_tracked") || name.hasPrefix("inception_model.vis_inception.0.")
    }

    static func resolve(_ tensors: [(name: String, shape: [Int])], renameMap: WeightRenameMap?) -> CheckpointNameReport {
        let strip = !tensors.isEmpty && tensors.allSatisfy { $0.name.hasPrefix(dataParallelPrefix) }
        var usedRules = Set<String>()
        var resolved: [String: String] = [:]
        var sourcesByTarget: [String: [String]] = [:]
        var unexpectedPairs: [(name: String, original: String)] = []
        var wrongShape: [CheckpointNameReport.WrongShape] = []
        var ignored: [String] = []
        for tensor in tensors {
            var name = strip ? String(tensor.name.dropFirst(dataParallelPrefix.count)) : tensor.name
            if let renameMap {
                let (renamed, rule) = renameMap.apply(name)
                if let rule { usedRules.insert(rule) }
                guard let renamed else {
                    ignored.append(tensor.name)
                    continue
                }
                name = renamed
            }
            guard let spec = WeightManifest.byName[name] else {
                if isIgnorable(name) { ignored.append(tensor.name) } else { unexpectedPairs.append((name, tensor.name)) }
                continue
            }
            sourcesByTarget[name, default: []].append(tensor.name)
            if spec.shape != tensor.shape {
                wrongShape.append(.init(name: name, expected: spec.shape, actual: tensor.shape))
            }
            resolved[tensor.name] = name
        }
        let duplicates = sourcesByTarget.filter { $0.value.count > 1 }
        let missingNames = WeightManifest.all.map(\.name).filter { sourcesByTarget[$0] == nil }
        let unexpectedNames = unexpectedPairs.map(\.name)
        let allNames = WeightManifest.all.map(\.name)
        let unexpected = unexpectedPairs.map { pair in
            CheckpointNameReport.Unexpected(name: pair.name, original: pair.original,
                                            nearestExpected: nearest(to: pair.name, in: missingNames) ?? nearest(to: pair.name, in: allNames))
        }
        let missing = missingNames.map { CheckpointNameReport.Missing(name: $0, nearestInFile: nearest(to: $0, in: unexpectedNames)) }
        return CheckpointNameReport(
            missing: missing, unexpected: unexpected, wrongShape: wrongShape, duplicates: duplicates, ignored: ignored,
            strippedPrefix: strip ? dataParallelPrefix : nil,
            unusedRules: (renameMap?.ruleNames ?? []).filter { !usedRules.contains($0) }, resolved: resolved)
    }

    /// The candidate with the smallest edit distance (ties: first in order); nil for no candidates.
    static func nearest(to name: String, in candidates: [String]) -> String? {
        let target = Array(name.utf8)
        var best: (distance: Int, name: String)?
        for candidate in candidates {
            let bytes = Array(candidate.utf8)
            let bound = best?.distance ?? Int.max
            if abs(bytes.count - target.count) >= bound { continue }
            if let distance = editDistance(target, bytes, bound: bound), distance < bound {
                best = (distance, candidate)
                if distance == 0 { break }
            }
        }
        return best?.name
    }

    /// Levenshtein distance, or nil once every path exceeds `bound` (so most comparisons stop early).
    static func editDistance(_ a: [UInt8], _ b: [UInt8], bound: Int = Int.max) -> Int? {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum >= bound { return nil }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension ModelWeights {
    /// The candidate closest to `name` by edit distance, as the name reports suggest it.
    public static func nearestName(to name: String, among candidates: [String]) -> String? {
        CheckpointNames.nearest(to: name, in: candidates)
    }
}
