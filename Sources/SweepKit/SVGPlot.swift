import Foundation

/// A small dependency-free SVG chart writer: line charts (linear or log2 x,
/// optional min–max error bars) and grouped bar charts, with title, axis
/// labels with units, ticks and a legend. Output is deterministic: fixed
/// number formatting, no timestamps, series in the order given.
public struct SVGPlot: Sendable {
    public enum XScale: Sendable {
        case linear
        /// Powers of two, ticks at the data's x values (batch sizes).
        case log2
    }

    /// One line of a line chart.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var dashed: Bool
        /// Palette slot; series sharing a slot share a colour.
        public var colorIndex: Int
        /// Min–max bars at the series' x values (measured spread); bars with
        /// no extent are not drawn.
        public var errorBars: [(x: Double, low: Double, high: Double)]

        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, colorIndex: Int,
                    errorBars: [(x: Double, low: Double, high: Double)] = []) {
            self.name = name
            self.points = points.sorted { $0.x < $1.x }
            self.dashed = dashed
            self.colorIndex = colorIndex
            self.errorBars = errorBars.sorted { $0.x < $1.x }
        }
    }

    /// Bars of a grouped bar chart: `values[category][series]`.
    public struct Bars: Sendable {
        public var categories: [String]
        public var seriesNames: [String]
        public var values: [[Double?]]

        public init(categories: [String], seriesNames: [String], values: [[Double?]]) {
            self.categories = categories
            self.seriesNames = seriesNames
            self.values = values
        }
    }

    public var title: String
    public var subtitle: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: XScale = .linear
    public var series: [Series] = []
    public var bars: Bars?

    public init(title: String, subtitle: String = "", xLabel: String, yLabel: String) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// True when the chart shows a comparison: a line of two or more points,
    /// or two or more bars.
    public var carriesInformation: Bool {
        if let bars { return bars.values.flatMap { $0.compactMap { $0 } }.count >= 2 }
        return series.contains { $0.points.count >= 2 }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    static let width = 900.0, height = 460.0
    static let left = 84.0, right = 290.0, top = 64.0, bottom = 64.0
    /// Pixels between the error bars of neighbouring series.
    static let errorBarDodge = 3.0

    /// The SVG document.
    public func render() -> String {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(Self.width))\" height=\"\(n(Self.height))\" "
        out += "viewBox=\"0 0 \(n(Self.width)) \(n(Self.height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(n(Self.width))\" height=\"\(n(Self.height))\" fill=\"#ffffff\"/>\n"
        out += text(x: Self.width / 2, y: 24, title, size: 16, anchor: "middle", weight: "bold")
        if !subtitle.isEmpty {
            out += text(x: Self.width / 2, y: 42, subtitle, size: 11, anchor: "middle", fill: "#555555")
        }
        let yValues = series.flatMap { $0.points.map(\.y) + $0.errorBars.map(\.high) }
            + (bars?.values.flatMap { $0.compactMap { $0 } } ?? [])
        let yTicks = Self.niceTicks(low: 0, high: yValues.max() ?? 1)
        let yMax = yTicks.last ?? 1
        func py(_ y: Double) -> Double { Self.top + plotHeight - (yMax > 0 ? y / yMax : 0) * plotHeight }

        // Grid and y axis.
        for tick in yTicks {
            let y = py(tick)
            out += "<line x1=\"\(n(Self.left))\" y1=\"\(n(y))\" x2=\"\(n(Self.left + plotWidth))\" y2=\"\(n(y))\" stroke=\"#e5e5e5\"/>\n"
            out += text(x: Self.left - 8, y: y + 4, Self.tickLabel(tick, ticks: yTicks), anchor: "end")
        }
        out += "<line x1=\"\(n(Self.left))\" y1=\"\(n(Self.top))\" x2=\"\(n(Self.left))\" y2=\"\(n(Self.top + plotHeight))\" stroke=\"#000000\"/>\n"
        out += "<line x1=\"\(n(Self.left))\" y1=\"\(n(Self.top + plotHeight))\" x2=\"\(n(Self.left + plotWidth))\" y2=\"\(n(Self.top + plotHeight))\" stroke=\"#000000\"/>\n"
        out += "<text x=\"18\" y=\"\(n(Self.top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(n(Self.top + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
        out += text(x: Self.left + plotWidth / 2, y: Self.height - 18, xLabel, anchor: "middle")

        var legend: [(name: String, color: String, dashed: Bool, bar: Bool)] = []
        if let bars {
            out += renderBars(bars, plotWidth: plotWidth, plotHeight: plotHeight, py: py)
            for (i, name) in bars.seriesNames.enumerated() {
                legend.append((name, Self.palette[i % Self.palette.count], false, true))
            }
        } else {
            out += renderLines(plotWidth: plotWidth, plotHeight: plotHeight, py: py)
            for s in series {
                legend.append((s.name, Self.palette[s.colorIndex % Self.palette.count], s.dashed, false))
            }
        }
        // Legend.
        let legendX = Self.left + plotWidth + 16
        for (i, item) in legend.enumerated() {
            let y = Self.top + 8 + Double(i) * 18
            if item.bar {
                out += "<rect x=\"\(n(legendX))\" y=\"\(n(y - 8))\" width=\"14\" height=\"10\" fill=\"\(item.color)\"/>\n"
            } else {
                out += "<line x1=\"\(n(legendX))\" y1=\"\(n(y - 3))\" x2=\"\(n(legendX + 22))\" y2=\"\(n(y - 3))\" stroke=\"\(item.color)\" stroke-width=\"2\"\(item.dashed ? " stroke-dasharray=\"5 3\"" : "")/>\n"
            }
            out += text(x: legendX + 28, y: y + 1, item.name, size: 11)
        }
        if series.allSatisfy({ $0.points.isEmpty }) && bars == nil {
            out += text(x: Self.left + plotWidth / 2, y: Self.top + plotHeight / 2, "no data", anchor: "middle", fill: "#888888")
        }
        return out + "</svg>\n"
    }

    private func renderLines(plotWidth: Double, plotHeight: Double, py: (Double) -> Double) -> String {
        var out = ""
        let xs = series.flatMap { $0.points.map(\.x) }
        let px: (Double) -> Double
        switch xScale {
        case .linear:
            let ticks = Self.niceTicks(low: 0, high: xs.max() ?? 1)
            let xMax = ticks.last ?? 1
            px = { Self.left + (xMax > 0 ? $0 / xMax : 0) * plotWidth }
            for tick in ticks {
                out += xTick(px(tick), Self.tickLabel(tick, ticks: ticks), plotHeight: plotHeight)
            }
        case .log2:
            let values = Array(Set(xs.filter { $0 > 0 })).sorted()
            let low = log2(values.first ?? 1), high = log2(values.last ?? 2)
            let span = high - low
            let pad = span > 0 ? span * 0.06 : 1
            px = { Self.left + (log2(max($0, 1e-12)) - (low - pad)) / (span + 2 * pad) * plotWidth }
            for value in values {
                out += xTick(px(value), NumberFormat.significant(value, 6), plotHeight: plotHeight)
            }
        }
        // Bars of different series at one x are set apart by a few pixels.
        let barred = series.indices.filter { !series[$0].errorBars.isEmpty }
        for (index, s) in series.enumerated() where !s.points.isEmpty {
            let color = Self.palette[s.colorIndex % Self.palette.count]
            let dodge = Self.errorBarDodge * (Double(barred.firstIndex(of: index) ?? 0) - Double(barred.count - 1) / 2)
            let path = s.points.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
            out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "")/>\n"
            for bar in s.errorBars where bar.high > bar.low {
                let x = px(bar.x) + dodge, low = py(bar.low), high = py(bar.high)
                out += "<path d=\"M\(n(x)) \(n(low))V\(n(high))M\(n(x - 4)) \(n(low))H\(n(x + 4))M\(n(x - 4)) \(n(high))H\(n(x + 4))\" "
                out += "stroke=\"\(color)\" stroke-width=\"1.2\" fill=\"none\"/>\n"
            }
            for p in s.points {
                out += "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(p.y)))\" r=\"3\" fill=\"\(s.dashed ? "#ffffff" : color)\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
            }
        }
        return out
    }

    private func renderBars(_ bars: Bars, plotWidth: Double, plotHeight: Double, py: (Double) -> Double) -> String {
        var out = ""
        let groups = Double(max(bars.categories.count, 1))
        let groupWidth = plotWidth / groups
        let inner = groupWidth * 0.8
        let barWidth = inner / Double(max(bars.seriesNames.count, 1))
        for (c, category) in bars.categories.enumerated() {
            let start = Self.left + Double(c) * groupWidth + (groupWidth - inner) / 2
            for (s, value) in bars.values[c].enumerated() {
                guard let value else { continue }
                let x = start + Double(s) * barWidth
                let y = py(value)
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(barWidth - 1, 1)))\" height=\"\(n(Self.top + plotHeight - y))\" fill=\"\(Self.palette[s % Self.palette.count])\"/>\n"
            }
            out += xTick(Self.left + (Double(c) + 0.5) * groupWidth, category, plotHeight: plotHeight)
        }
        return out
    }

    private func xTick(_ x: Double, _ label: String, plotHeight: Double) -> String {
        let y = Self.top + plotHeight
        return "<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(x))\" y2=\"\(n(y + 5))\" stroke=\"#000000\"/>\n"
            + text(x: x, y: y + 19, label, anchor: "middle")
    }

    private func text(x: Double, y: Double, _ content: String, size: Int = 12, anchor: String = "start",
                      weight: String? = nil, fill: String = "#000000") -> String {
        SVGText.text(x: x, y: y, content, size: size, anchor: anchor, weight: weight, fill: fill)
    }

    private func n(_ value: Double) -> String { SVGText.number(value) }

    private func escape(_ text: String) -> String { SVGText.escape(text) }

    /// Ticks at 1, 2 or 5 × 10^k from `low` up to the first tick at or above
    /// `high`, about five of them.
    static func niceTicks(low: Double, high: Double) -> [Double] {
        let top = high > low ? high : low + 1
        let raw = (top - low) / 5
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        var ticks: [Double] = []
        var i = 0
        while true {
            let value = low + Double(i) * step
            ticks.append(value)
            if value >= top - step * 1e-9 || i > 50 { break }
            i += 1
        }
        return ticks
    }

    /// A tick label with just enough decimals for the step.
    static func tickLabel(_ value: Double, ticks: [Double]) -> String {
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let digits = max(0, -Int(floor(log10(step) + 1e-9)))
        return NumberFormat.fixed(value, min(digits, 10))
    }
}
