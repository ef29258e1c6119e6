import XCTest
import Imaging
@testable import Reports
@testable import Consensus

/// The pieces every report is made of: numbers as people read them, tables that align words and
/// numbers, plots whose x axis can name categories.
final class ReportPieceTests: XCTestCase {
    /// The hand-written four-decimal formatter writes what printf's `%.4f` writes: on random values
    /// of every size, on exact ties (k/32), on carries (0.99995) and on what printf must decide.
    func testFourDecimalsIsPrintfs() {
        var state: UInt64 = 7
        func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        var values: [Double] = [0.03125, -0.03125, 0.09375, 2.00005, 0.99995, 9.99995, -0.99995, 0.00004, -0.00004, -0.00005,
                                1.00005, 123.45675, 999_999_999.99995, 1e9 + 0.25, 3e15 + 0.5, .nan, .infinity, -.infinity,
                                .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0.1, 0.7, 1e-300]
        for k in 0..<2_000 { values.append(Double(k) / 32 + 1 / 64) }
        for _ in 0..<200_000 {
            let magnitude = pow(10, Double(Int(next() % 14)) - 5)
            values.append((Double(next() >> 11) / Double(1 << 53) - 0.5) * 2 * magnitude)
        }
        for _ in 0..<20_000 { values.append(Double(Int(next() % 2_000_000)) / 10_000 + 0.00005) }
        var mismatches: [String] = []
        for v in values where fourDecimals(v) != String(format: "%.4f", v) { mismatches.append("\(v): \(fourDecimals(v)) vs \(String(format: "%.4f", v))") }
        XCTAssertEqual(mismatches.count, 0, mismatches.prefix(5).joined(separator: "; "))
        XCTAssertEqual(fourDecimals(0.99995), String(format: "%.4f", 0.99995))
        XCTAssertEqual(fourDecimals(-0.00004), "-0.0000")
    }

    func testSignificantDigitsWhateverTheSize() {
        XCTAssertEqual(fmtSignificant(0.99), "0.990")
        XCTAssertEqual(fmtSignificant(-0.0411), "-0.041")
        XCTAssertEqual(fmtSignificant(42), "42.0")
        XCTAssertEqual(fmtSignificant(319.6), "320")
        XCTAssertEqual(fmtSignificant(105_153.46), "105,153")
        XCTAssertEqual(fmtSignificant(.nan), "–")
        XCTAssertEqual(fmtSignificant(nil), "–")
    }

    func testTablesAlignWordsLeftAndNumbersRight() {
        var page = HTMLPage(title: "t")
        page.table(["id", "claim", "paper"], [["a_b", "recall falls above 110", "0.600"], ["c", "x", "± 0.100"]])
        let html = page.render()
        XCTAssertTrue(html.contains("<td class=\"t\">recall falls above 110</td>"), html)
        XCTAssertTrue(html.contains("<td>0.600</td>"))
        XCTAssertTrue(html.contains("<td>± 0.100</td>"))
        XCTAssertTrue(html.contains("<th class=\"t\">claim</th>"))
        XCTAssertTrue(html.contains("<th>paper</th>"))
    }

    func testCategoryAxisNamesItsTicksAndCanDropTheLegend() {
        var plot = SVGPlot(title: "claim", xLabel: "", yLabel: "value")
        plot.add(.init(name: "paper", xs: [1], ys: [0.6], errors: [0.1], mark: .points, color: SVGPlot.palette[0]))
        plot.add(.init(name: "simulated", xs: [2], ys: [0.653], mark: .points, color: SVGPlot.palette[2]))
        plot.xCategories = [(1, "paper ± tolerance"), (2, "simulated: holds")]
        plot.xRange = 0.5...2.5; plot.yRange = 0.45...0.75; plot.showsLegend = false; plot.pointRadius = 5
        let svg = plot.render()
        XCTAssertTrue(svg.contains(">paper ± tolerance</text>"), svg)
        XCTAssertTrue(svg.contains(">simulated: holds</text>"))
        XCTAssertFalse(svg.contains(">1.5</text>"), "no numeric x ticks between the categories")
        XCTAssertFalse(svg.contains("width=\"10\" height=\"10\""), "no legend swatches")
        XCTAssertEqual(svg.components(separatedBy: "r=\"5.0\"").count - 1, 2, "two points of radius 5")
        plot.showsLegend = true
        XCTAssertEqual(plot.render().components(separatedBy: "width=\"10\" height=\"10\"").count - 1, 2)
    }

    /// A fixed c is labelled as such (no "± 0.00"), and a negative intercept is explained.
    func testFittsCaptionSaysWhenCWasFixed() {
        var f = FittsSummary(a: -0.4, b: 0.7, c: 25.01, seA: 0.1, seB: 0.05, seC: 0, workers: 30, chiSquared: 1, converged: true,
                             reference: .truth, amplitudeFixed: true, measuredAmplitudePx: 25.01)
        let fixed = AnalysisReport.fittsCaption(f)
        XCTAssertTrue(fixed.contains("c = 25.0 px fixed at the measured movement amplitude"), fixed)
        XCTAssertFalse(fixed.contains("± 0.00 px"), fixed)
        XCTAssertTrue(fixed.contains("intercept is negative"), fixed)
        f.amplitudeFixed = false; f.seC = 3.2; f.a = 0.3
        let fitted = AnalysisReport.fittsCaption(f)
        XCTAssertTrue(fitted.contains("c = 25.01 ± 3.20 px"), fitted)
        XCTAssertFalse(fitted.contains("intercept is negative"), fitted)
    }

    /// An automatic range ends on a tick above the tallest bar, and series are clipped to the frame.
    func testAutomaticRangeClearsTheTallestBarAndSeriesAreClipped() {
        var plot = SVGPlot(title: "support", xLabel: "workers", yLabel: "clusters")
        plot.add(.init(name: "all", xs: [1, 2, 3], ys: [830, 120, 40], mark: .bars, color: "#000"))
        let svg = plot.render()
        XCTAssertTrue(svg.contains(">1000</text>"), "a tick above 830")
        XCTAssertTrue(svg.contains("<clipPath id=\"clip"), "series clipped to the frame")
        XCTAssertEqual(svg, plot.render(), "the same plot, the same bytes (the clip id is a hash)")
        var other = plot; other.title = "another"
        XCTAssertNotEqual(svg.components(separatedBy: "clipPath id=\"")[1].prefix(12), other.render().components(separatedBy: "clipPath id=\"")[1].prefix(12))
    }

    /// A point on the range's last tick, with its error bar, stands inside the frame, not cut by it.
    func testMarkersAtTheEndsOfTheRangeStandInsideTheFrame() throws {
        var plot = SVGPlot(title: "F1", xLabel: "workers", yLabel: "F1")
        plot.add(.init(name: "fixed", xs: [3, 5, 10], ys: [0.5, 0.8, 1], errors: [0.1, 0.1, 0.05], mark: .points, color: "#000"))
        plot.yRange = 0...1
        let svg = plot.render()
        // The series' marks (drawn in its colour, apart from the axes' and grid's lines).
        func numbers(_ tag: String, _ attribute: String) -> [Double] {
            svg.components(separatedBy: "<" + tag + " ").dropFirst().compactMap { piece in
                guard piece.prefix { $0 != ">" }.contains("\"#000\""), let r = piece.range(of: attribute + "=\"") else { return nil }
                return Double(piece[r.upperBound...].prefix { $0 != "\"" })
            }
        }
        let frame = try XCTUnwrap(svg.components(separatedBy: "<rect ").dropFirst().first)
        func attribute(_ name: String) -> Double {
            let r = frame.range(of: name + "=\"")!
            return Double(frame[r.upperBound...].prefix { $0 != "\"" })!
        }
        let left = attribute("x"), top = attribute("y"), right = left + attribute("width")
        let cx = numbers("circle", "cx"), cy = numbers("circle", "cy")
        XCTAssertEqual(cx.count, 3)
        XCTAssertGreaterThan(cx.min()! - 3, left)
        XCTAssertLessThan(cx.max()! + 3, right, "the point at x = 10 and its caps inside the frame")
        XCTAssertGreaterThan(cy.min()! - 3, top, "the point at y = 1 inside the frame")
        XCTAssertLessThan(numbers("line", "x2").max()!, right, "no error-bar cap past the frame")
    }

    /// Unplaced, the legend takes an empty corner: a line rising to the top right puts it at the
    /// top left; one falling from the top left, at the top right; a caller's choice stands.
    func testTheLegendTakesAnEmptyCorner() throws {
        func legendX(_ ys: [Double], bottom: Bool? = nil) throws -> (x: Double, frameLeft: Double, frameRight: Double) {
            var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y")
            plot.add(.init(name: "a series", xs: [0, 1, 2, 3, 4], ys: ys, mark: .line, color: "#000"))
            plot.yRange = 0...1
            plot.legendAtBottom = bottom
            let svg = plot.render()
            let swatch = try XCTUnwrap(svg.components(separatedBy: "<rect x=\"").last)
            let frame = try XCTUnwrap(svg.components(separatedBy: "<rect x=\"").dropFirst().first)
            let width = Double(try XCTUnwrap(frame.components(separatedBy: "width=\"").dropFirst().first?.prefix { $0 != "\"" }))!
            let left = Double(frame.prefix { $0 != "\"" })!
            return (Double(swatch.prefix { $0 != "\"" })!, left, left + width)
        }
        let rising = try legendX([0.1, 0.3, 0.5, 0.8, 1])
        XCTAssertLessThan(rising.x, rising.frameLeft + 20, "top left: the line ends at the top right")
        let falling = try legendX([1, 0.8, 0.5, 0.3, 0.1])
        XCTAssertGreaterThan(falling.x, (falling.frameLeft + falling.frameRight) / 2, "top right: the line starts at the top left")
        let chosen = try legendX([0.1, 0.3, 0.5, 0.8, 1], bottom: false)
        XCTAssertGreaterThan(chosen.x, (chosen.frameLeft + chosen.frameRight) / 2, "a caller's top right stands")
    }

    /// Overlays circle the vote's objects in red and those the image admitted in orange, each where
    /// the export puts it (`row = height - y`).
    func testOverlaysDrawWhatTheImageAdmittedApart() {
        let picture = Image(width: 60, height: 40, fill: 200)
        let vote = ConsensusPoint(x: 15, y: 30, support: 9, weightedSupport: 9, members: [])
        var admitted = ConsensusPoint(x: 45, y: 10, support: 2, weightedSupport: 2, members: [])
        admitted.admittedByImage = true
        let drawn = AnalysisOutputs.overlay(image: picture, clicks: [], consensus: [vote, admitted], truth: nil, radius: 8)
        func colours(around p: ConsensusPoint) -> Set<[UInt16]> {
            let row = drawn.height - Int(p.y), col = Int(p.x)
            var out = Set<[UInt16]>()
            for r in row - 5...row + 5 { for c in col - 5...col + 5 where (0..<drawn.height).contains(r) && (0..<drawn.width).contains(c) {
                let i = (r * drawn.width + c) * 3
                out.insert(Array(drawn.samples[i..<i + 3]))
            } }
            return out
        }
        let red: [UInt16] = [255, 40, 40], orange: [UInt16] = [255, 150, 0]
        XCTAssertTrue(colours(around: vote).contains(red))
        XCTAssertFalse(colours(around: vote).contains(orange))
        XCTAssertTrue(colours(around: admitted).contains(orange))
        XCTAssertFalse(colours(around: admitted).contains(red))
    }
}
