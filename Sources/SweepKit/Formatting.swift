import Foundation

/// Locale-independent number formatting, so the same figures always give
/// the same bytes in CSV, JSON, Markdown and SVG.
public enum NumberFormat {
    /// Fixed-point with `digits` decimals ("-0" printed as "0"); "" for a
    /// non-finite value.
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "" }
        let text = String(format: "%.\(max(0, digits))f", value)
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
            return String(text.dropFirst())
        }
        return text
    }

    /// Fixed-point with trailing zeros (and a bare point) removed.
    public static func trimmed(_ value: Double, _ maxDigits: Int) -> String {
        var text = fixed(value, maxDigits)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Roughly `significant` significant digits, fixed-point, for labels and
    /// tables where magnitudes vary (0.000123, 1.23, 1234).
    public static func significant(_ value: Double, _ significant: Int = 3) -> String {
        guard value.isFinite else { return "" }
        guard value != 0 else { return "0" }
        let magnitude = Int(floor(log10(abs(value))))
        let digits = max(0, significant - 1 - magnitude)
        return trimmed(value, min(digits, 12))
    }

    /// A whole number with thousands separators: 10240 → "10,240" (prose, not CSV).
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (i, digit) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { text += "," }
            text.append(digit)
        }
        return (value < 0 ? "-" : "") + text
    }

    /// Parses a cell written by `fixed`; nil for "" or text that is not a number.
    public static func parse(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, let value = Double(trimmed), value.isFinite else { return nil }
        return value
    }
}
