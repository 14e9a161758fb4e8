import Foundation

/// Numeric charts that `SVGPlot` does not draw: linear or log axes on both
/// sides, panels stacked over one shared x axis, marker shapes, step lines,
/// min–max error bars and vertical guides. Legend and notes sit in a column
/// right of the plot area, so they never cover data. Output is
/// deterministic: fixed number formatting, elements in the order given.
public struct SVGChart: Sendable {
    public enum Scale: Sendable {
        case linear
        /// Base-10 positions; every value on the axis must be > 0.
        case log
    }

    public struct Axis: Sendable {
        public var label: String
        public var scale: Scale
        /// Where ticks go (labelled with `tickLabels` or the value); nil for
        /// 1–2–5 steps over the data.
        public var ticks: [Double]?
        public var tickLabels: [String]?
        /// Tick labels at −45° (for ticks that crowd, such as memory sizes).
        public var rotatedTickLabels: Bool

        public init(label: String, scale: Scale = .linear, ticks: [Double]? = nil, tickLabels: [String]? = nil,
                    rotatedTickLabels: Bool = false) {
            self.label = label
            self.scale = scale
            self.ticks = ticks
            self.tickLabels = tickLabels
            self.rotatedTickLabels = rotatedTickLabels
        }
    }

    public enum Shape: Sendable {
        case circle, diamond, square, triangle
    }

    /// One marker.
    public struct Mark: Sendable {
        public var x: Double, y: Double
        public var shape: Shape
        public var color: String
        /// False draws the outline only, over whatever lies below.
        public var filled: Bool
        public var radius: Double

        public init(x: Double, y: Double, shape: Shape = .circle, color: String, filled: Bool = true,
                    radius: Double = 3.5) {
            (self.x, self.y, self.shape, self.color, self.filled, self.radius) = (x, y, shape, color, filled, radius)
        }
    }

    /// A polyline through points in the order given, or a staircase
    /// (horizontal, then vertical) between them.
    public struct Line: Sendable {
        public var points: [(x: Double, y: Double)]
        public var color: String
        public var dashed: Bool
        public var steps: Bool

        public init(points: [(x: Double, y: Double)], color: String, dashed: Bool = false, steps: Bool = false) {
            (self.points, self.color, self.dashed, self.steps) = (points, color, dashed, steps)
        }
    }

    /// A vertical bar from `low` to `high` at `x`, with caps.
    public struct ErrorBar: Sendable {
        public var x: Double, low: Double, high: Double
        public var color: String

        public init(x: Double, low: Double, high: Double, color: String) {
            (self.x, self.low, self.high, self.color) = (x, low, high, color)
        }
    }

    /// One plot area; panels share the chart's x axis.
    public struct Panel: Sendable {
        public var yAxis: Axis
        public var lines: [Line] = []
        public var marks: [Mark] = []
        public var errorBars: [ErrorBar] = []
        /// Dotted vertical lines at these x values (marked choices).
        public var guides: [Double] = []

        public init(yAxis: Axis) {
            self.yAxis = yAxis
        }
    }

    /// A legend line: a marker, a line sample, or both.
    public struct LegendEntry: Sendable {
        public var label: String
        public var color: String
        public var shape: Shape?
        public var filled: Bool
        public var line: Bool
        public var dashed: Bool

        public init(_ label: String, color: String, shape: Shape? = nil, filled: Bool = true, line: Bool = false,
                    dashed: Bool = false) {
            (self.label, self.color, self.shape, self.filled, self.line, self.dashed)
                = (label, color, shape, filled, line, dashed)
        }
    }

    public var title: String
    public var subtitle: String
    public var xAxis: Axis
    public var panels: [Panel]
    public var legend: [LegendEntry] = []
    /// Lines of text under the legend, wrapped to the column.
    public var notes: [String] = []

    public init(title: String, subtitle: String = "", xAxis: Axis, panels: [Panel]) {
        self.title = title
        self.subtitle = subtitle
        self.xAxis = xAxis
        self.panels = panels
    }

    static let width = 900.0, left = 86.0, top = 64.0, legendWidth = 250.0, panelGap = 26.0
    static let plotWidth = width - left - legendWidth - 24
    /// Characters of 11-point text that fit the legend column.
    static let legendCharacters = 38

    /// The SVG document.
    public func render() -> String {
        let panelHeight = panels.count > 1 ? 210.0 : 330.0
        let stackHeight = Double(panels.count) * panelHeight + Double(max(panels.count - 1, 0)) * Self.panelGap
        let bottom = xAxis.rotatedTickLabels ? 84.0 : 56.0
        let height = Self.top + stackHeight + bottom
        let x = Mapping(axis: xAxis, values: panels.flatMap(\.xValues), from: Self.left, to: Self.left + Self.plotWidth)

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVGText.number(Self.width))\" "
        out += "height=\"\(SVGText.number(height))\" viewBox=\"0 0 \(SVGText.number(Self.width)) \(SVGText.number(height))\" "
        out += "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(SVGText.number(Self.width))\" height=\"\(SVGText.number(height))\" fill=\"#ffffff\"/>\n"
        out += SVGText.text(x: Self.width / 2, y: 24, title, size: 16, anchor: "middle", weight: "bold")
        if !subtitle.isEmpty {
            out += SVGText.text(x: Self.width / 2, y: 42, subtitle, size: 11, anchor: "middle", fill: "#555555")
        }
        for (i, panel) in panels.enumerated() {
            let top = Self.top + Double(i) * (panelHeight + Self.panelGap)
            out += render(panel, x: x, top: top, height: panelHeight, labelled: i == panels.count - 1)
        }
        out += SVGText.text(x: Self.left + Self.plotWidth / 2, y: height - 14, xAxis.label, anchor: "middle")
        out += renderLegend(top: Self.top)
        return out + "</svg>\n"
    }

    private func render(_ panel: Panel, x: Mapping, top: Double, height: Double, labelled: Bool) -> String {
        let y = Mapping(axis: panel.yAxis, values: panel.yValues, from: top + height, to: top)
        let right = Self.left + Self.plotWidth, bottom = top + height
        var out = ""
        for (tick, label) in y.ticks {
            let py = y.position(tick)
            out += "<line x1=\"\(SVGText.number(Self.left))\" y1=\"\(SVGText.number(py))\" x2=\"\(SVGText.number(right))\" "
            out += "y2=\"\(SVGText.number(py))\" stroke=\"#e5e5e5\"/>\n"
            out += SVGText.text(x: Self.left - 8, y: py + 4, label, anchor: "end")
        }
        for (tick, label) in x.ticks {
            let px = x.position(tick)
            out += "<line x1=\"\(SVGText.number(px))\" y1=\"\(SVGText.number(top))\" x2=\"\(SVGText.number(px))\" "
            out += "y2=\"\(SVGText.number(bottom))\" stroke=\"#f0f0f0\"/>\n"
            out += "<line x1=\"\(SVGText.number(px))\" y1=\"\(SVGText.number(bottom))\" x2=\"\(SVGText.number(px))\" "
            out += "y2=\"\(SVGText.number(bottom + 5))\" stroke=\"#000000\"/>\n"
            guard labelled else { continue }
            if xAxis.rotatedTickLabels {
                let ty = bottom + 16
                out += "<text x=\"\(SVGText.number(px + 4))\" y=\"\(SVGText.number(ty))\" font-size=\"11\" text-anchor=\"end\" "
                out += "transform=\"rotate(-45 \(SVGText.number(px + 4)) \(SVGText.number(ty)))\">\(SVGText.escape(label))</text>\n"
            } else {
                out += SVGText.text(x: px, y: bottom + 19, label, anchor: "middle")
            }
        }
        out += "<line x1=\"\(SVGText.number(Self.left))\" y1=\"\(SVGText.number(top))\" x2=\"\(SVGText.number(Self.left))\" "
        out += "y2=\"\(SVGText.number(bottom))\" stroke=\"#000000\"/>\n"
        out += "<line x1=\"\(SVGText.number(Self.left))\" y1=\"\(SVGText.number(bottom))\" x2=\"\(SVGText.number(right))\" "
        out += "y2=\"\(SVGText.number(bottom))\" stroke=\"#000000\"/>\n"
        let labelY = top + height / 2
        out += "<text x=\"18\" y=\"\(SVGText.number(labelY))\" text-anchor=\"middle\" "
        out += "transform=\"rotate(-90 18 \(SVGText.number(labelY)))\">\(SVGText.escape(panel.yAxis.label))</text>\n"

        for guide in panel.guides {
            let px = x.position(guide)
            out += "<line x1=\"\(SVGText.number(px))\" y1=\"\(SVGText.number(top))\" x2=\"\(SVGText.number(px))\" "
            out += "y2=\"\(SVGText.number(bottom))\" stroke=\"#999999\" stroke-dasharray=\"2 3\"/>\n"
        }
        for line in panel.lines where line.points.count > 1 {
            var points: [(x: Double, y: Double)] = []
            for (i, p) in line.points.enumerated() {
                if line.steps, i > 0 { points.append((p.x, line.points[i - 1].y)) }
                points.append(p)
            }
            let path = points.map { "\(SVGText.number(x.position($0.x))),\(SVGText.number(y.position($0.y)))" }
            out += "<polyline points=\"\(path.joined(separator: " "))\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\""
            out += (line.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>\n"
        }
        for bar in panel.errorBars where bar.high > bar.low {
            let px = x.position(bar.x), low = y.position(bar.low), high = y.position(bar.high)
            out += "<path d=\"M\(SVGText.number(px)) \(SVGText.number(low))V\(SVGText.number(high))"
            out += "M\(SVGText.number(px - 4)) \(SVGText.number(low))H\(SVGText.number(px + 4))"
            out += "M\(SVGText.number(px - 4)) \(SVGText.number(high))H\(SVGText.number(px + 4))\" "
            out += "stroke=\"\(bar.color)\" stroke-width=\"1.2\" fill=\"none\"/>\n"
        }
        for mark in panel.marks {
            out += Self.marker(mark.shape, x: x.position(mark.x), y: y.position(mark.y), radius: mark.radius,
                               color: mark.color, filled: mark.filled)
        }
        return out
    }

    private func renderLegend(top: Double) -> String {
        let x0 = Self.left + Self.plotWidth + 24
        var out = ""
        var y = top + 8
        for entry in legend {
            if entry.line {
                out += "<line x1=\"\(SVGText.number(x0))\" y1=\"\(SVGText.number(y - 4))\" x2=\"\(SVGText.number(x0 + 22))\" "
                out += "y2=\"\(SVGText.number(y - 4))\" stroke=\"\(entry.color)\" stroke-width=\"2\""
                out += (entry.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>\n"
            }
            if let shape = entry.shape {
                out += Self.marker(shape, x: x0 + 11, y: y - 4, radius: 4.5, color: entry.color, filled: entry.filled)
            }
            for (i, line) in Self.wrap(entry.label, width: Self.legendCharacters - 5).enumerated() {
                out += SVGText.text(x: x0 + 30, y: y + Double(i) * 14, line, size: 11)
                if i > 0 { y += 14 }
            }
            y += 19
        }
        y += 6
        for note in notes {
            for line in Self.wrap(note, width: Self.legendCharacters) {
                out += SVGText.text(x: x0, y: y, line, size: 11, fill: "#333333")
                y += 14
            }
            y += 6
        }
        return out
    }

    static func marker(_ shape: Shape, x: Double, y: Double, radius r: Double, color: String, filled: Bool) -> String {
        let paint = "fill=\"\(filled ? color : "none")\" stroke=\"\(color)\" stroke-width=\"\(filled ? "1" : "2")\""
        func point(_ dx: Double, _ dy: Double) -> String { "\(SVGText.number(x + dx)),\(SVGText.number(y + dy))" }
        switch shape {
        case .circle:
            return "<circle cx=\"\(SVGText.number(x))\" cy=\"\(SVGText.number(y))\" r=\"\(SVGText.number(r))\" \(paint)/>\n"
        case .square:
            return "<rect x=\"\(SVGText.number(x - r))\" y=\"\(SVGText.number(y - r))\" width=\"\(SVGText.number(2 * r))\" "
                + "height=\"\(SVGText.number(2 * r))\" \(paint)/>\n"
        case .diamond:
            let d = r * 1.3
            return "<polygon points=\"\(point(0, -d)) \(point(d, 0)) \(point(0, d)) \(point(-d, 0))\" \(paint)/>\n"
        case .triangle:
            let d = r * 1.3
            return "<polygon points=\"\(point(0, -d)) \(point(d, d * 0.75)) \(point(-d, d * 0.75))\" \(paint)/>\n"
        }
    }

    /// `text` broken at each "\n" and at spaces into lines of at most
    /// `width` characters (a longer word stays whole).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n") {
            var current = ""
            for word in paragraph.split(separator: " ") {
                if current.isEmpty {
                    current = String(word)
                } else if current.count + 1 + word.count <= width {
                    current += " " + word
                } else {
                    lines.append(current)
                    current = String(word)
                }
            }
            if !current.isEmpty { lines.append(current) }
        }
        return lines
    }

    /// Value → pixel along one axis, with the axis's ticks.
    struct Mapping {
        let scale: Scale
        let low: Double, high: Double
        let from: Double, to: Double
        let ticks: [(Double, String)]

        init(axis: Axis, values: [Double], from: Double, to: Double) {
            scale = axis.scale
            self.from = from
            self.to = to
            let data = (axis.ticks ?? []) + values.filter { $0.isFinite && (axis.scale == .linear || $0 > 0) }
            switch axis.scale {
            case .linear:
                let auto = SVGPlot.niceTicks(low: 0, high: data.max() ?? 1)
                low = 0
                high = max(auto.last ?? 1, (axis.ticks ?? []).max() ?? 0)
                ticks = Self.labelled(axis.ticks ?? auto, axis.tickLabels) { SVGPlot.tickLabel($0, ticks: auto) }
            case .log:
                let lo = log10(data.min() ?? 1), hi = log10(data.max() ?? 10)
                let pad = max(hi - lo, 0.3) * 0.05
                low = lo - pad
                high = hi + pad
                let auto = Self.logTicks(low: pow(10, lo), high: pow(10, hi))
                ticks = Self.labelled(axis.ticks ?? auto, axis.tickLabels) { NumberFormat.significant($0, 3) }
            }
        }

        static func labelled(_ ticks: [Double], _ labels: [String]?,
                             _ format: (Double) -> String) -> [(Double, String)] {
            ticks.enumerated().map { i, tick in (tick, labels.flatMap { i < $0.count ? $0[i] : nil } ?? format(tick)) }
        }

        /// 1 × 10^k inside [low, high] when that gives at least three ticks,
        /// else 1, 2 and 5 × 10^k, else (a range within one such step) even
        /// 1–2–5 steps of about a fifth of the range.
        static func logTicks(low: Double, high: Double) -> [Double] {
            let first = Int(floor(log10(low))), last = Int(ceil(log10(high)))
            func ticks(_ steps: [Double]) -> [Double] {
                var result: [Double] = []
                for k in first...max(first, last) {
                    for step in steps {
                        let value = step * pow(10, Double(k))
                        if value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9) { result.append(value) }
                    }
                }
                return result
            }
            let decades = ticks([1])
            if decades.count >= 3 { return decades }
            let steps = ticks([1, 2, 5])
            if steps.count >= 2 { return steps }
            let step = SVGPlot.niceTicks(low: 0, high: max(high - low, low * 1e-6)).dropFirst().first ?? 1
            var value = (low / step).rounded(.up) * step
            var result: [Double] = []
            while value <= high * (1 + 1e-9) && result.count < 12 {
                result.append(value)
                value += step
            }
            return result
        }

        func position(_ value: Double) -> Double {
            let v: Double
            switch scale {
            case .linear: v = value
            case .log: v = log10(max(value, 1e-300))
            }
            let span = high - low
            return from + (span > 0 ? (v - low) / span : 0.5) * (to - from)
        }
    }
}

extension SVGChart.Panel {
    var xValues: [Double] {
        lines.flatMap { $0.points.map(\.x) } + marks.map(\.x) + errorBars.map(\.x) + guides
    }

    var yValues: [Double] {
        lines.flatMap { $0.points.map(\.y) } + marks.map(\.y) + errorBars.flatMap { [$0.low, $0.high] }
    }
}

/// SVG text pieces shared by the chart writers.
enum SVGText {
    static func text(x: Double, y: Double, _ content: String, size: Int = 12, anchor: String = "start",
                     weight: String? = nil, fill: String = "#000000") -> String {
        var attributes = "x=\"\(number(x))\" y=\"\(number(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        return "<text \(attributes)>\(escape(content))</text>\n"
    }

    /// Coordinates at two decimals at most.
    static func number(_ value: Double) -> String { NumberFormat.trimmed(value, 2) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
