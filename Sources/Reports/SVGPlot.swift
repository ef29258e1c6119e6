import Foundation

/// A small SVG chart: axes with ticks and labels, scatter, lines, bars, error bars and a legend.
/// Inline SVG keeps every report one self-contained file that opens offline.
public struct SVGPlot {
    public enum Mark { case points, line, bars }
    public struct Series {
        public var name: String
        public var xs: [Double], ys: [Double]
        public var errors: [Double]?
        public var mark: Mark
        public var color: String
        /// This series' marker radius (default: the plot's `pointRadius`), e.g. large for a few
        /// summary points among many small ones.
        public var radius: Double?
        public init(name: String, xs: [Double], ys: [Double], errors: [Double]? = nil, mark: Mark, color: String, radius: Double? = nil) {
            self.name = name; self.xs = xs; self.ys = ys; self.errors = errors; self.mark = mark; self.color = color; self.radius = radius
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    public var width = 520.0, height = 320.0
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Where the legend goes: bottom (right) where a precision-recall plot is empty (high recall at
    /// low precision is nobody's operating point), or left. Unset (both nil), the legend takes the
    /// corner its box covers the fewest marks in, top right first.
    public var legendAtBottom: Bool? = nil
    /// The legend on the left (bottom left with `legendAtBottom`).
    public var legendAtLeft: Bool? = nil
    /// Names for the x ticks at these positions (categories such as "paper" and "simulated") in
    /// place of numbers.
    public var xCategories: [(Double, String)]? = nil
    /// No legend when the axis names the series (categories) and the caption explains them.
    public var showsLegend = true
    public var pointRadius = 3.0

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    public mutating func add(_ s: Series) { series.append(s) }

    public func render() -> String {
        let l = layout()
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(esc(title))\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<text x=\"\(f(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(esc(title))</text>"
        s += "<rect x=\"\(f(l.left))\" y=\"\(f(l.top))\" width=\"\(f(l.width))\" height=\"\(f(l.height))\" fill=\"#fafafa\" stroke=\"#999\"/>"
        return s + axes(l) + marks(l) + legend(l) + "</svg>"
    }

    /// The frame in pixels, the data ranges and their ticks, and the maps from data to pixels.
    struct Layout {
        let left = 62.0, top = 30.0
        var width = 0.0, height = 0.0
        var xr = 0.0...1.0, yr = 0.0...1.0
        var xt: [Double] = [], yt: [Double] = []
        var insetX = 0.0, insetY = 0.0
        func X(_ v: Double) -> Double { left + insetX + (v - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * (width - 2 * insetX) }
        func Y(_ v: Double) -> Double { top + height - insetY - (v - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * (height - 2 * insetY) }
    }

    var hasBars: Bool { series.contains { $0.mark == .bars } }

    func layout() -> Layout {
        var l = Layout()
        l.width = width - l.left - 16
        l.height = height - l.top - 46
        let allX = series.flatMap(\.xs).filter(\.isFinite)
        var allY: [Double] = []
        for se in series {
            for (k, y) in se.ys.enumerated() {
                let e: Double = (se.errors != nil && k < se.errors!.count) ? se.errors![k] : 0
                if (y - e).isFinite { allY.append(y - e) }
                if (y + e).isFinite { allY.append(y + e) }
            }
        }
        var xr = xRange ?? ((allX.min() ?? 0)...(allX.max() ?? 1))
        var yr = yRange ?? (min(0, allY.min() ?? 0)...(allY.max() ?? 1))
        if xr.upperBound <= xr.lowerBound { xr = (xr.lowerBound - 1)...(xr.upperBound + 1) }
        if yr.upperBound <= yr.lowerBound { yr = (yr.lowerBound - 1)...(yr.upperBound + 1) }
        if hasBars && xRange == nil { xr = (xr.lowerBound - 0.5)...(xr.upperBound + 0.5) }
        let categories = xCategories ?? []
        var xt = categories.isEmpty ? niceTicks(xr) : categories.map(\.0)
        var yt = niceTicks(yr)
        // An automatic range ends on a tick at or above the highest value, so the tallest bar or
        // the rightmost point is never cut by the frame (bars already stand half a unit inside it).
        if yRange == nil, yt.count >= 2, let last = yt.last, last < yr.upperBound - 1e-12 {
            yt.append(last + (yt[1] - yt[0]))
        }
        if xRange == nil, categories.isEmpty, !hasBars, xt.count >= 2, let last = xt.last, last < xr.upperBound - 1e-12 {
            xt.append(last + (xt[1] - xt[0]))
        }
        l.xr = min(xr.lowerBound, xt.first!)...max(xr.upperBound, xt.last!)
        l.yr = min(yr.lowerBound, yt.first!)...max(yr.upperBound, yt.last!)
        l.xt = xt; l.yt = yt
        // Markers and error-bar caps at the ends of the range stand inside the frame, not cut by
        // it: the data area is inset by a marker's width (bars stand on the frame's floor).
        l.insetY = hasBars ? 0 : max(6, pointRadius + 2, (series.compactMap(\.radius).max() ?? 0) + 2)
        l.insetX = categories.isEmpty ? l.insetY : 0
        return l
    }

    /// Ticks, grid lines, their labels and the axis names.
    func axes(_ l: Layout) -> String {
        let categories = xCategories ?? []
        let bottom = l.top + l.height
        var s = ""
        for t in l.xt where t >= l.xr.lowerBound && t <= l.xr.upperBound {
            s += "<line x1=\"\(f(l.X(t)))\" y1=\"\(f(bottom))\" x2=\"\(f(l.X(t)))\" y2=\"\(f(bottom + 5))\" stroke=\"#333\"/>"
            s += "<line x1=\"\(f(l.X(t)))\" y1=\"\(f(l.top))\" x2=\"\(f(l.X(t)))\" y2=\"\(f(bottom))\" stroke=\"#e5e5e5\"/>"
            s += "<text x=\"\(f(l.X(t)))\" y=\"\(f(bottom + 17))\" text-anchor=\"middle\">\(categories.first { $0.0 == t }.map { esc($0.1) } ?? tickLabel(t))</text>"
        }
        for t in l.yt where t >= l.yr.lowerBound && t <= l.yr.upperBound {
            s += "<line x1=\"\(f(l.left - 5))\" y1=\"\(f(l.Y(t)))\" x2=\"\(f(l.left))\" y2=\"\(f(l.Y(t)))\" stroke=\"#333\"/>"
            s += "<line x1=\"\(f(l.left))\" y1=\"\(f(l.Y(t)))\" x2=\"\(f(l.left + l.width))\" y2=\"\(f(l.Y(t)))\" stroke=\"#e5e5e5\"/>"
            s += "<text x=\"\(f(l.left - 8))\" y=\"\(f(l.Y(t) + 4))\" text-anchor=\"end\">\(tickLabel(t))</text>"
        }
        s += "<text x=\"\(f(l.left + l.width / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(esc(xLabel))</text>"
        s += "<text transform=\"translate(14 \(f(l.top + l.height / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>"
        return s
    }

    /// The series' points, lines, bars and error bars, clipped to the frame: an interval past what
    /// is possible (a precision above 1, hours below 0) stops at the axis. The clip's id is a hash
    /// of the plot, so it is the same on every run and two plots of one page do not share it
    /// unless they are the same.
    func marks(_ l: Layout) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in (title + xLabel + yLabel + "\(series.count) \(f(l.xr.lowerBound)) \(f(l.yr.upperBound))").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        let clip = "clip" + String(hash, radix: 36)
        var s = "<defs><clipPath id=\"\(clip)\"><rect x=\"\(f(l.left))\" y=\"\(f(l.top))\" width=\"\(f(l.width))\" height=\"\(f(l.height))\"/></clipPath></defs><g clip-path=\"url(#\(clip))\">"
        let barSeries = series.filter { $0.mark == .bars }.count
        var barIndex = 0
        for se in series {
            switch se.mark {
            case .points:
                for (x, y) in zip(se.xs, se.ys) where x.isFinite && y.isFinite {
                    s += "<circle cx=\"\(f(l.X(x)))\" cy=\"\(f(l.Y(y)))\" r=\"\(f(se.radius ?? pointRadius))\" fill=\"\(se.color)\" fill-opacity=\"\(se.radius == nil ? "0.7" : "0.95")\"\(se.radius == nil ? "" : " stroke=\"#222\" stroke-width=\"1.2\"")/>"
                }
            case .line:
                let pts = zip(se.xs, se.ys).filter { $0.0.isFinite && $0.1.isFinite }.map { "\(f(l.X($0.0))),\(f(l.Y($0.1)))" }
                s += "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"2\"/>"
            case .bars:
                let step = se.xs.count > 1 ? (se.xs[1] - se.xs[0]) : 1
                let slot = abs(l.X(step) - l.X(0)), bw = slot * 0.8 / Double(max(1, barSeries))
                let floor = l.Y(max(0, l.yr.lowerBound))
                for (x, y) in zip(se.xs, se.ys) where x.isFinite && y.isFinite {
                    let left = l.X(x) - slot * 0.4 + Double(barIndex) * bw
                    s += "<rect x=\"\(f(left))\" y=\"\(f(min(l.Y(y), floor)))\" width=\"\(f(bw))\" height=\"\(f(abs(floor - l.Y(y))))\" fill=\"\(se.color)\" fill-opacity=\"0.8\"/>"
                }
                barIndex += 1
            }
            if let e = se.errors {
                for (k, (x, y)) in zip(se.xs, se.ys).enumerated() where k < e.count && e[k].isFinite && e[k] > 0 {
                    let cx = l.X(x), low = l.Y(y - e[k]), high = l.Y(y + e[k])
                    s += "<line x1=\"\(f(cx))\" y1=\"\(f(low))\" x2=\"\(f(cx))\" y2=\"\(f(high))\" stroke=\"\(se.color)\"/>"
                    s += "<line x1=\"\(f(cx - 3))\" y1=\"\(f(low))\" x2=\"\(f(cx + 3))\" y2=\"\(f(low))\" stroke=\"\(se.color)\"/>"
                    s += "<line x1=\"\(f(cx - 3))\" y1=\"\(f(high))\" x2=\"\(f(cx + 3))\" y2=\"\(f(high))\" stroke=\"\(se.color)\"/>"
                }
            }
        }
        return s + "</g>"
    }

    /// The legend inside the frame, in the corner the report chose or else the one its box covers
    /// the fewest marks in (the first of equals: top right, top left, bottom right, bottom left);
    /// a series without a name (markers over another series' line) has no entry.
    func legend(_ l: Layout) -> String {
        let named = series.filter { !$0.name.isEmpty }
        guard showsLegend, !named.isEmpty else { return "" }
        // As wide as the longest name (about 6 px a character at this size).
        let wide = 25 + 6.2 * Double(named.map(\.name.count).max() ?? 0)
        func box(bottom: Bool, left: Bool) -> (x: Double, top: Double, width: Double, height: Double) {
            let width = max(bottom ? 230 : 150, wide), height = Double(named.count) * 15 + 4
            return (left ? l.left + 10 : l.left + l.width - width, bottom ? l.top + l.height - 8 - Double(named.count) * 15 + 4 : l.top + 3, width, height)
        }
        var corner = (bottom: legendAtBottom ?? false, left: legendAtLeft ?? false)
        if legendAtBottom == nil && legendAtLeft == nil {
            let ink = markPositions(l.X, l.Y)
            func covered(_ b: (x: Double, top: Double, width: Double, height: Double)) -> Int {
                ink.filter { $0.0 >= b.x - 4 && $0.0 <= b.x + b.width && $0.1 >= b.top - 4 && $0.1 <= b.top + b.height + 4 }.count
            }
            let corners: [(bottom: Bool, left: Bool)] = [(false, false), (false, true), (true, false), (true, true)]
            let counts = corners.map { covered(box(bottom: $0.bottom, left: $0.left)) }
            corner = corners[counts.firstIndex(of: counts.min()!)!]
        }
        let place = box(bottom: corner.bottom, left: corner.left)
        var s = ""
        for (k, se) in named.enumerated() {
            let ly = place.top + 12 + Double(k) * 15
            s += "<rect x=\"\(f(place.x))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(se.color)\"/>"
            s += "<text x=\"\(f(place.x + 15))\" y=\"\(f(ly))\">\(esc(se.name))</text>"
        }
        return s
    }

    /// Where the series put ink, in pixels: points, lines sampled along each segment, error bars
    /// along their length, bar tops.
    func markPositions(_ X: (Double) -> Double, _ Y: (Double) -> Double) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        for se in series {
            let pts = zip(se.xs, se.ys).filter { $0.0.isFinite && $0.1.isFinite }.map { (X($0.0), Y($0.1)) }
            out += pts
            if se.mark == .line {
                for (a, b) in zip(pts, pts.dropFirst()) {
                    for k in 1..<20 { let t = Double(k) / 20; out.append((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))) }
                }
            }
            if let e = se.errors {
                for (k, (x, y)) in zip(se.xs, se.ys).enumerated() where k < e.count && e[k].isFinite && x.isFinite && y.isFinite {
                    for t in stride(from: -1.0, through: 1.0, by: 0.25) { out.append((X(x), Y(y + t * e[k]))) }
                }
            }
        }
        return out
    }
}

/// About five round-numbered ticks spanning the range (1, 2 or 5 times a power of ten apart).
public func niceTicks(_ r: ClosedRange<Double>, target: Int = 5) -> [Double] {
    let span = r.upperBound - r.lowerBound
    guard span > 0, span.isFinite else { return [r.lowerBound] }
    let raw = span / Double(target)
    let p = pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
    var t = (r.lowerBound / step).rounded(.down) * step
    var out: [Double] = []
    while t <= r.upperBound + step * 0.5 && out.count < 50 { out.append(t); t += step }
    return out
}

func tickLabel(_ v: Double) -> String {
    if abs(v) < 1e-12 { return "0" }
    if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
    return String(format: "%.3g", v)
}

func f(_ v: Double) -> String { String(format: "%.1f", v) }

public func esc(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
