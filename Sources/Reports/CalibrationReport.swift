import Foundation

/// The page `crowdlab calibrate --report DIR` writes: what the pilot showed against what the fitted
/// population predicts, part by part, so a planner can see where the fit holds before trusting it.
/// It takes plain numbers (the calibration's observations), not the crowd model's types.
public enum CalibrationReport {
    public struct Inputs {
        public var title: String
        public var summary: [String]
        /// Per object: visibility, observed detection share, the fitted curve's value.
        public var objects: [(visibility: Double, observed: Double, predicted: Double)]
        /// Per worker-image: image, true clicks observed, expected by the fitted population.
        public var clicks: [(image: String, observed: Double, predicted: Double)]
        /// False share by annotation index (1-based) with its count, and the fitted rates.
        public var falseByIndex: [(index: Int, rate: Double, count: Double)]
        public var falseFirst: Double, falseLater: Double, learningAnnotations: Int
        /// Per worker: RMSE and median click period; Fitts' law a, b, c.
        public var pointing: [(rmse: Double, period: Double)]
        public var fitts: (a: Double, b: Double, c: Double)
        /// Visibility bands for the detection table: edges, the first band everything below the
        /// second edge, the last open above.
        public var bands: [Double]
        public var measure: String
        /// False clicks by distance to the nearest object: bins from `edge` px, the pilot's share
        /// and the simulated pilot's; and the rate the population generates false clicks at.
        public var falseDistance: [(edge: Double, observed: Double, simulated: Double)] = []
        public var falseGenerated: Double = .nan

        public init(title: String, summary: [String], objects: [(visibility: Double, observed: Double, predicted: Double)],
                    clicks: [(image: String, observed: Double, predicted: Double)], falseByIndex: [(index: Int, rate: Double, count: Double)],
                    falseFirst: Double, falseLater: Double, learningAnnotations: Int, pointing: [(rmse: Double, period: Double)],
                    fitts: (a: Double, b: Double, c: Double), bands: [Double], measure: String) {
            self.title = title; self.summary = summary; self.objects = objects; self.clicks = clicks; self.falseByIndex = falseByIndex
            self.falseFirst = falseFirst; self.falseLater = falseLater; self.learningAnnotations = learningAnnotations
            self.pointing = pointing; self.fitts = fitts; self.bands = bands; self.measure = measure
        }
    }

    public static func html(_ r: Inputs) -> String {
        var page = HTMLPage(title: r.title)
        page.paragraph("What the pilot's real workers did, against what the population fitted to them predicts. Where the two part, the simulated crowd will part from a real one in the same way.")
        page.raw("<ul>" + r.summary.map { "<li>\(esc($0))</li>" }.joined() + "</ul>")
        detection(&page, r)
        clicks(&page, r)
        falsePositives(&page, r)
        falseDistance(&page, r)
        pointing(&page, r)
        return page.render()
    }

    static func detection(_ page: inout HTMLPage, _ r: Inputs) {
        page.heading("Detection by visibility")
        guard !r.objects.isEmpty else { page.paragraph("The detection fit failed: the prior is kept."); return }
        var plot = SVGPlot(title: "Share of workers finding each object", xLabel: "visibility (\(r.measure))", yLabel: "share of workers")
        plot.yRange = 0...1
        plot.pointRadius = 2
        plot.add(.init(name: "observed (one object)", xs: r.objects.map(\.visibility), ys: r.objects.map(\.observed), mark: .points, color: SVGPlot.palette[0]))
        let sorted = r.objects.sorted { $0.visibility < $1.visibility }
        plot.add(.init(name: "fitted", xs: sorted.map(\.visibility), ys: sorted.map(\.predicted), mark: .points, color: SVGPlot.palette[1]))
        plot.legendAtBottom = true
        page.figure(plot.render(), caption: "Each blue dot is one object: the share of the pilot's (non-careless) workers who clicked it. Red: the fitted curve's value for it (the budget's share of its image included), so objects on crowded images sit lower.")
        var rows: [[String]] = []
        for b in r.bands.indices {
            let lo = r.bands[b], hi = b + 1 < r.bands.count ? r.bands[b + 1] : Double.infinity
            let inBand = r.objects.filter { $0.visibility >= lo && $0.visibility < hi }
            guard !inBand.isEmpty else { continue }
            let name = !lo.isFinite || b == 0 ? "below \(fmtSignificant(hi))" : hi.isFinite ? "\(fmtSignificant(lo))-\(fmtSignificant(hi))" : "\(fmtSignificant(lo)) and up"
            rows.append([name, String(inBand.count), fmt(mean(inBand.map(\.observed))), fmt(mean(inBand.map(\.predicted))),
                         fmt(mean(inBand.map(\.predicted)) - mean(inBand.map(\.observed)))])
        }
        page.table(["visibility band", "objects", "observed", "predicted", "difference"], rows)
    }

    static func clicks(_ page: inout HTMLPage, _ r: Inputs) {
        page.heading("Clicks per worker on each image")
        guard !r.clicks.isEmpty else { page.paragraph("Not measured."); return }
        let images = Array(Set(r.clicks.map(\.image))).sorted()
        var plot = SVGPlot(title: "True clicks per worker-image", xLabel: "image", yLabel: "true clicks")
        plot.xCategories = images.enumerated().map { (Double($0.offset + 1), "\($0.offset + 1)") }
        plot.xRange = 0.5...(Double(images.count) + 0.5)
        plot.pointRadius = 2.5
        var xs: [Double] = [], ys: [Double] = [], px: [Double] = [], py: [Double] = []
        var rows: [[String]] = []
        for (k, name) in images.enumerated() {
            let these = r.clicks.filter { $0.image == name }
            for (j, c) in these.enumerated() { xs.append(Double(k + 1) - 0.2 + 0.4 * Double(j) / Double(max(1, these.count - 1))); ys.append(c.observed) }
            px.append(Double(k + 1)); py.append(these[0].predicted)
            let observed = these.map(\.observed).sorted()
            rows.append(["\(k + 1)", name, String(these.count), fmt(observed[observed.count / 2], 0), fmt(mean(observed), 1), fmt(these[0].predicted, 1)])
        }
        plot.add(.init(name: "observed (one worker)", xs: xs, ys: ys, mark: .points, color: SVGPlot.palette[0]))
        plot.add(.init(name: "predicted mean", xs: px, ys: py, mark: .points, color: SVGPlot.palette[1]))
        page.figure(plot.render(), caption: "Each blue dot is one worker's true clicks on an image (careless workers left out); red: the mean the fitted population expects there, min(noticed, budget) averaged over workers' budgets.")
        page.table(["#", "image", "workers", "median observed", "mean observed", "mean predicted"], rows)
    }

    static func falsePositives(_ page: inout HTMLPage, _ r: Inputs) {
        page.heading("False positives by annotation index")
        guard !r.falseByIndex.isEmpty else { page.paragraph("Not measured."); return }
        // Bins of 5 annotations up to the 200th, each shown where it holds 20 annotations or more.
        var xs: [Double] = [], ys: [Double] = []
        for start in stride(from: 1, through: min(200, r.falseByIndex.count), by: 5) {
            let bin = r.falseByIndex.filter { $0.index >= start && $0.index < start + 5 }
            let n = bin.reduce(0) { $0 + $1.count }
            guard n >= 20 else { continue }
            xs.append(Double(start) + 2); ys.append(bin.reduce(0) { $0 + $1.rate * $1.count } / n)
        }
        var plot = SVGPlot(title: "Share of false clicks", xLabel: "annotation index in the worker's job", yLabel: "false share")
        plot.yRange = 0...max(0.05, (ys.max() ?? 0) * 1.15)
        plot.add(.init(name: "observed (5 annotations)", xs: xs, ys: ys, mark: .points, color: SVGPlot.palette[0]))
        let end = Double(max(r.learningAnnotations, Int(xs.last ?? 1)))
        plot.add(.init(name: "fitted", xs: [1, Double(r.learningAnnotations), end], ys: [r.falseFirst, r.falseLater, r.falseLater], mark: .line, color: SVGPlot.palette[1]))
        page.figure(plot.render(), caption: "The share of non-careless workers' clicks that match no object, by the click's place in the worker's whole job. The fitted line falls over the first \(r.learningAnnotations) annotations only where the data show learning.")
    }

    static func falseDistance(_ page: inout HTMLPage, _ r: Inputs) {
        page.heading("Where false clicks fall")
        guard !r.falseDistance.isEmpty else { page.paragraph("Not measured: no simulated pilot (no image with truth and size)."); return }
        let names = r.falseDistance.indices.map { b -> String in
            let lo = r.falseDistance[b].edge
            return b + 1 < r.falseDistance.count ? "\(fmt(lo, 0))-\(fmt(r.falseDistance[b + 1].edge, 0))" : "\(fmt(lo, 0))+"
        }
        var plot = SVGPlot(title: "False clicks by distance to the nearest object", xLabel: "distance (px)", yLabel: "share of false clicks")
        plot.xCategories = names.enumerated().map { (Double($0.offset + 1), $0.element) }
        plot.xRange = 0.5...(Double(names.count) + 0.5)
        plot.yRange = 0...max(0.1, (r.falseDistance.map { max($0.observed, $0.simulated.isFinite ? $0.simulated : 0) }.max() ?? 0) * 1.15)
        plot.pointRadius = 4
        let xs = names.indices.map { Double($0 + 1) }
        plot.add(.init(name: "pilot", xs: xs, ys: r.falseDistance.map(\.observed), mark: .line, color: SVGPlot.palette[0]))
        plot.add(.init(name: "simulated pilot", xs: xs, ys: r.falseDistance.map(\.simulated), mark: .line, color: SVGPlot.palette[1]))
        page.figure(plot.render(), caption: "Careful workers' clicks that match no object, by how far they lie from the nearest one: on the pilot, and on the pilot simulated with the fitted population (its images, replicates and pay, three seeds). False clicks drawn beside objects sit in the first bins, those placed anywhere spread out." + (r.falseGenerated.isFinite ? String(format: " The population generates false clicks at %.3f, so that the simulated pilot shows the pilot's false share: some land on objects and count as true.", r.falseGenerated) : ""))
        page.table(["distance (px)", "pilot", "simulated pilot"], names.indices.map { [names[$0], fmt(r.falseDistance[$0].observed), fmt(r.falseDistance[$0].simulated)] })
    }

    static func pointing(_ page: inout HTMLPage, _ r: Inputs) {
        page.heading("Pointing: RMSE and click period")
        guard !r.pointing.isEmpty else { page.paragraph("Too few workers with 10 matched clicks."); return }
        var plot = SVGPlot(title: "Workers' error against speed", xLabel: "RMSE (screen px)", yLabel: "median click period (s)")
        plot.add(.init(name: "workers", xs: r.pointing.map(\.rmse), ys: r.pointing.map(\.period), mark: .points, color: SVGPlot.palette[0]))
        let lo = max(0.3, (r.pointing.map(\.rmse).min() ?? 1) * 0.8), hi = (r.pointing.map(\.rmse).max() ?? 5) * 1.1
        let grid = (0...40).map { lo + (hi - lo) * Double($0) / 40 }
        plot.add(.init(name: "Fitts' law", xs: grid, ys: grid.map { r.fitts.a + r.fitts.b * log2((r.fitts.c + $0) / $0) }, mark: .line, color: SVGPlot.palette[1]))
        page.figure(plot.render(), caption: String(format: "One dot per worker: the spread of their matched clicks about each image's mean displacement from the truth (a truth's own pixel convention is not pointing error), in screen pixels; the line is the fitted law t = a + b·log2((c + s)/s) with a = %.2f s, b = %.2f s per bit, c = %.1f px.", r.fitts.a, r.fitts.b, r.fitts.c))
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
}
