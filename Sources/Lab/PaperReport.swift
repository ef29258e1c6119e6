import Consensus
import Foundation
import Reports

/// The teaching report of `crowdlab paper`: every claim on one chart (the simulated value against
/// the paper's tolerance), the table, and the paper's own figures drawn from the simulated data,
/// each with the paper's value or line on it.
extension Paper {
    public static func html(_ r: Result) -> String {
        var page = HTMLPage(title: "The Quanti.us paper's crowd findings, re-run")
        let held = r.claims.filter(\.holds).count
        page.paragraph("Hughes et al. (Nat. Methods 15:587, 2018) measured what makes crowds of Mechanical Turk workers accurate. Each finding below is re-run here on synthetic images with exact truth and a simulated crowd, analysed by the same code that analyses real exports. \(held) of \(r.claims.count) claims hold within the stated tolerance.")
        page.heading("The claims")
        page.figure(claimsChart(r.claims), caption: "Each row is one claim: the shaded band is the paper's value give or take the stated tolerance, the dot where the simulation lands, in units of that tolerance (0: the paper's value exactly). Green dots hold, red ones do not; values beyond two tolerances sit at the edge with an arrow.")
        page.table(["id", "claim", "paper", "simulated", "tolerance", "holds"], r.claims.map {
            [$0.id, $0.claim, fmtSignificant($0.paper), fmtSignificant($0.simulated), "± " + fmtSignificant($0.tolerance), $0.holds ? "yes" : "NO"]
        })
        page.heading("Why each holds")
        page.raw("<ul>" + r.claims.map { "<li><b>\(esc($0.id))</b>: \(esc($0.why))</li>" }.joined() + "</ul>")
        page.heading("The paper's figures, from the simulated data")
        let transwell = r.experiments.first { $0.name == "fig1c-transwell" }?.outcome.analysis
        fig1c(&page, r.fig1c)
        if let a = transwell { fig1d(&page, a); fig1e(&page, a); fig1f(&page, a) }
        figS1(&page, r.groupSizeF1, bySeed: r.groupSizeF1BySeed)
        if let s2 = r.experiments.first(where: { $0.name == "s2-participation" })?.outcome.analysis { figS2(&page, s2.crowd) }
        figS3(&page, r.complexity, bySeed: r.complexityBySeed)
        fig2d(&page, r.detectorFBySeed, curve: r.detectorCurve)
        return page.render()
    }

    /// One row per claim: the tolerance band and the simulated value, both in tolerances from the paper.
    static func claimsChart(_ claims: [Claim]) -> String {
        let row = 22.0, left = 290.0, plotW = 420.0, top = 30.0, width = left + plotW + 70
        let height = top + row * Double(claims.count) + 34
        func X(_ d: Double) -> Double { left + (min(max(d, -2.2), 2.2) + 2.2) / 4.4 * plotW }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"claims against the paper\">"
        s += "<text x=\"\(Int(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">Every claim against the paper's tolerance</text>"
        s += "<rect x=\"\(X(-1))\" y=\"\(top - 4)\" width=\"\(X(1) - X(-1))\" height=\"\(row * Double(claims.count) + 4)\" fill=\"#e3f1e3\"/>"
        for t in [-2.0, -1, 0, 1, 2] {
            s += "<line x1=\"\(X(t))\" y1=\"\(top - 4)\" x2=\"\(X(t))\" y2=\"\(top + row * Double(claims.count))\" stroke=\"\(t == 0 ? "#888" : "#ccc")\"/>"
            s += "<text x=\"\(X(t))\" y=\"\(top + row * Double(claims.count) + 14)\" text-anchor=\"middle\">\(t == 0 ? "paper" : (t > 0 ? "+" : "") + String(Int(t)))</text>"
        }
        s += "<text x=\"\(X(0))\" y=\"\(height - 4)\" text-anchor=\"middle\">simulated − paper, in tolerances</text>"
        for (k, c) in claims.enumerated() {
            let y = top + row * Double(k) + row / 2
            s += "<text x=\"\(left - 8)\" y=\"\(y + 4)\" text-anchor=\"end\">\(esc(c.id))</text>"
            let d = c.simulated.isFinite && c.tolerance > 0 ? (c.simulated - c.paper) / c.tolerance : 0
            let color = c.holds ? SVGPlot.palette[2] : SVGPlot.palette[1]
            if abs(d) > 2.2 {
                let x = X(d), dir = d > 0 ? 1.0 : -1.0
                s += "<path d=\"M\(x - dir * 10),\(y - 6) L\(x),\(y) L\(x - dir * 10),\(y + 6) Z\" fill=\"\(color)\"/>"
            } else {
                s += "<circle cx=\"\(X(d))\" cy=\"\(y)\" r=\"6\" fill=\"\(color)\" stroke=\"#222\" stroke-width=\"0.8\"/>"
            }
            s += "<text x=\"\(left + plotW + 6)\" y=\"\(y + 4)\" fill=\"#555\">\(esc(fmtSignificant(c.simulated)))</text>"
        }
        return s + "</svg>"
    }

    static func fig1c(_ page: inout HTMLPage, _ f: Fig1c) {
        var pr = SVGPlot(title: "Fig. 1c: workers, the classic pipeline, the crowd and experts", xLabel: "recall", yLabel: "precision")
        // Zoomed to where workers, the crowd and the experts are: nearly everyone's precision is high.
        let lowest = 0.85
        let env = f.envelope.filter { $0.precision.isFinite && $0.recall > 0 && $0.precision >= lowest }
        pr.add(.init(name: "pipeline, minimum area 1-320 px", xs: env.map(\.recall), ys: env.map(\.precision), mark: .line, color: SVGPlot.palette[5]))
        let shown = f.workers.filter { $0.precision >= lowest }
        let beat = shown.filter(\.beats), lost = shown.filter { !$0.beats }
        pr.add(.init(name: "worker beating it on their images (\(f.workers.filter(\.beats).count))", xs: beat.map(\.recall), ys: beat.map(\.precision), mark: .points, color: SVGPlot.palette[2]))
        pr.add(.init(name: "worker not beating it (\(f.workers.filter { !$0.beats }.count))", xs: lost.map(\.recall), ys: lost.map(\.precision), mark: .points, color: "#bbbbbb"))
        for (k, (name, s)) in [("crowd consensus", f.crowd), ("crowd without its bottom third", f.filtered), ("5 experts", f.experts)].enumerated() {
            if let s { pr.add(.init(name: name, xs: [s.recall], ys: [s.precision], mark: .points, color: SVGPlot.palette[[0, 3, 4][k]], radius: 8)) }
        }
        pr.xRange = 0...1; pr.yRange = lowest...1
        pr.width = 640; pr.height = 420; pr.legendAtBottom = true; pr.legendAtLeft = true
        let hidden = f.workers.count - shown.count
        page.figure(pr.render(), caption: "The first seed's transwell experiment (10 workers per image). A worker beats the pipeline when no size threshold gives the pipeline both higher precision and higher recall on the images that worker annotated (a paired comparison); the line is the pipeline's envelope over all images. Large markers: the crowd's consensus, the crowd without its bottom third by worker score, five experts. The paper: 27 of 46 workers (59 %) beat the pipeline; the crowd reaches precision 0.99 and recall 0.81." + (hidden > 0 ? " \(hidden) workers below precision \(lowest) are off the chart." : ""))
    }

    static func fig1d(_ page: inout HTMLPage, _ a: AnalysisResult) {
        let pts = a.crowd.learningCurve.filter { $0.index <= 200 && $0.annotations >= 20 }
        guard !pts.isEmpty else { return }
        var p = SVGPlot(title: "Fig. 1d: false positives by annotation index", xLabel: "annotation index in the worker's job", yLabel: "false-positive rate")
        p.add(.init(name: "simulated crowd", xs: pts.map { Double($0.index) }, ys: pts.map(\.rate), mark: .points, color: SVGPlot.palette[0]))
        p.add(.init(name: "paper: 3.7 % to 1.3 % by the 50th", xs: [1, 50, 200], ys: [0.037, 0.013, 0.013], mark: .line, color: SVGPlot.palette[1]))
        p.yRange = 0...max(0.06, (pts.map(\.rate).max() ?? 0) * 1.1)
        page.figure(p.render(), caption: "Share of the transwell crowd's clicks that match no cell, by the click's place in each worker's job (careless workers, whose clicks are mostly false, left out). New workers click things that look like cells until the first images teach them what counts.")
    }

    static func fig1e(_ page: inout HTMLPage, _ a: AnalysisResult) {
        let w = a.workers.compactMap { r -> (Double, Double)? in
            guard let e = r.rmsePx, let t = r.medianClickPeriodS, e < 15 else { return nil }
            return (e, t)
        }
        guard !w.isEmpty else { return }
        var p = SVGPlot(title: "Fig. 1e: click period against pointing error", xLabel: "worker RMSE to truth (px)", yLabel: "median click period (s)")
        p.add(.init(name: "workers", xs: w.map(\.0), ys: w.map(\.1), mark: .points, color: SVGPlot.palette[0]))
        if let f = a.fitts {
            let lo = max(0.5, w.map(\.0).min()!), hi = w.map(\.0).max()!
            let xs = (0...40).map { lo + (hi - lo) * Double($0) / 40 }
            p.add(.init(name: String(format: "Fitts' law: a %.2f s, b %.2f s/bit", f.a, f.b), xs: xs, ys: xs.map { FittsLaw.value([f.a, f.b, f.c], $0) }, mark: .line, color: SVGPlot.palette[1]))
        }
        p.add(.init(name: "paper: about 2 s at about 3 px", xs: [3], ys: [2], mark: .points, color: SVGPlot.palette[3], radius: 8))
        page.figure(p.render(), caption: "One dot per transwell worker (RMSE under 15 px). Slower workers point more accurately: halving the error costs a fixed extra time per click.")
    }

    static func fig1f(_ page: inout HTMLPage, _ a: AnalysisResult) {
        let w = a.workers.compactMap { r -> (Double, Double)? in r.rmsePx.map { (Double(r.annotations), $0) } }
        guard !w.isEmpty else { return }
        var p = SVGPlot(title: "Fig. 1f: annotations done against pointing error", xLabel: "annotations by the worker", yLabel: "worker RMSE (px)")
        p.add(.init(name: "workers", xs: w.map(\.0), ys: w.map(\.1), mark: .points, color: SVGPlot.palette[0]))
        let most = w.map(\.0).max()!
        p.add(.init(name: "paper: every worker under 13 px", xs: [0, most], ys: [13, 13], mark: .line, color: SVGPlot.palette[1]))
        p.yRange = 0...max(18, w.map(\.1).max()! * 1.05)   // the legend above the 13 px line
        page.figure(p.render(), caption: "Busy workers trade a little accuracy for speed (the paper: rank correlation about 0.3 over workers past the learning window), but nobody strays past 13 px.")
    }

    /// Half the range over seeds of each point of a curve, drawn either side of the mean: how far one
    /// seed's crowd lands from the next (nil with one seed).
    static func seedRange(_ bySeed: [[Double]]) -> [Double]? {
        guard bySeed.count > 1, let n = bySeed.first?.count, bySeed.allSatisfy({ $0.count == n }) else { return nil }
        return (0..<n).map { i in let v = bySeed.map { $0[i] }; return (v.max()! - v.min()!) / 2 }
    }

    static func figS1(_ page: inout HTMLPage, _ g: [(Int, Double)], bySeed: [[(Int, Double)]]) {
        guard let ten = g.last?.1 else { return }
        var p = SVGPlot(title: "Fig. S1: F1 against group size", xLabel: "workers per image", yLabel: "consensus F1")
        let xs = g.map { Double($0.0) }
        let band = seedRange(bySeed.map { $0.map(\.1) })
        p.add(.init(name: "simulated crowd" + (band == nil ? "" : " (bars: spread over seeds)"), xs: xs, ys: g.map(\.1), mark: .line, color: SVGPlot.palette[0]))
        p.add(.init(name: "", xs: xs, ys: g.map(\.1), errors: band, mark: .points, color: SVGPlot.palette[0]))
        p.add(.init(name: "paper: within 0.05 of ten workers from 3 on", xs: [3, xs.last!], ys: [ten - 0.05, ten - 0.05], mark: .line, color: SVGPlot.palette[1]))
        p.yRange = max(0, (g.map(\.1).min() ?? 0) - 0.1)...1
        p.legendAtBottom = true
        page.figure(p.render(), caption: "Groups of k workers drawn at random from each transwell image's ten (five draws, mean of the seeds). The paper finds the crowd's advantage reached with groups of three; real crowds on spot images gain more from larger groups (F1 0.77 with 3, 0.875 with 10).")
    }

    static func figS2(_ page: inout HTMLPage, _ c: CrowdStatistics) {
        let n = Double(c.participationCurve.count)
        guard n > 0 else { return }
        var p = SVGPlot(title: "Fig. S2: share of images done by the busiest workers", xLabel: "share of workers (busiest first)", yLabel: "share of images done")
        p.add(.init(name: "simulated job (1000 images x 5)", xs: [0] + c.participationCurve.indices.map { Double($0 + 1) / n }, ys: [0] + c.participationCurve, mark: .line, color: SVGPlot.palette[0]))
        p.add(.init(name: "equal shares", xs: [0, 1], ys: [0, 1], mark: .line, color: "#bbbbbb"))
        p.add(.init(name: "paper: 20 % of workers do 80 %", xs: [0.2], ys: [0.8], mark: .points, color: SVGPlot.palette[1], radius: 8))
        p.xRange = 0...1; p.yRange = 0...1; p.legendAtBottom = true
        page.figure(p.render(), caption: String(format: "Activity on Mechanical Turk follows a Pareto law: here the busiest 20 %% of workers did %.0f %% of the images.", 100 * c.top20ShareOfImages))
    }

    static func figS3(_ page: inout HTMLPage, _ rows: [(objects: Int, pay: Double, recall: Double, imagesPerWorker: Double, rate: Double)],
                      bySeed: [[(objects: Int, pay: Double, recall: Double, imagesPerWorker: Double, rate: Double)]]) {
        let panels: [(String, (Double, Double, Double) -> Double, String)] = [
            ("recall", { r, _, _ in r }, "Consensus recall (10 workers per image): above about 60 objects at 2 cents workers' click budgets run out and the faint objects lose out for all of them; 6 cents moves the limit."),
            ("images attempted per worker", { _, i, _ in i }, "Images each worker takes: fewer big images fit in a worker's patience; the paper's fall is from 15 to 8 (a ratio of 0.53)."),
            ("annotations per hour", { _, _, a in a }, "The collection rate falls when fewer workers take the HIT and those who do stop earlier (the paper: from above 25,000 to about 3,000 an hour); pay reverses it (about 100,000 an hour for 110 objects at 6 cents)."),
        ]
        for (label, value, caption) in panels {
            var p = SVGPlot(title: "Fig. S3: \(label) against objects per image", xLabel: "objects per image", yLabel: label)
            for (k, pay) in [0.02, 0.06].enumerated() {
                let rs = rows.filter { $0.pay == pay }.sorted { $0.objects < $1.objects }
                let xs = rs.map { Double($0.objects) }, ys = rs.map { value($0.recall, $0.imagesPerWorker, $0.rate) }
                let band = seedRange(bySeed.map { seed in
                    seed.filter { $0.pay == pay }.sorted { $0.objects < $1.objects }.map { value($0.recall, $0.imagesPerWorker, $0.rate) }
                })
                p.add(.init(name: String(format: "%.0f cents per image", pay * 100) + (band == nil || k > 0 ? "" : " (bars: spread over seeds)"), xs: xs, ys: ys, mark: .line, color: SVGPlot.palette[k]))
                p.add(.init(name: "", xs: xs, ys: ys, errors: band, mark: .points, color: SVGPlot.palette[k], radius: 4))
            }
            if label == "recall" {
                p.add(.init(name: "paper: about 0.6 above 110 objects", xs: [110, 150], ys: [0.6, 0.6], mark: .line, color: SVGPlot.palette[3]))
                p.yRange = 0...1
            }
            // Each panel's legend where it is empty: below the lines on the left, or above them for rates.
            p.legendAtLeft = true; p.legendAtBottom = label != "annotations per hour"
            page.figure(p.render(), caption: caption)
        }
    }

    /// Fig. 2d: the detectors' F beside the paper's, and F against the frames the crowd labelled.
    static func fig2d(_ page: inout HTMLPage, _ bySeed: [[Double]], curve: [(frames: Int, f1: Double)]) {
        guard let first = bySeed.first, first.count == 4 else { return }
        let n = Double(bySeed.count)
        let mean = (0..<4).map { i in bySeed.map { $0[i] }.reduce(0, +) / n }
        let band = seedRange(bySeed)
        var p = SVGPlot(title: "Fig. 2d: detectors on nuclei frames they did not see", xLabel: "what the detector learnt from", yLabel: "F against the truth (10 px)")
        let xs: [Double] = [1, 2, 3, 4]
        p.add(.init(name: "simulated" + (band == nil ? "" : " (bars: spread over seeds)"), xs: xs, ys: mean, mark: .bars, color: SVGPlot.palette[0]))
        if let band { p.add(.init(name: "", xs: xs, ys: mean, errors: band, mark: .points, color: "#333333", radius: 0.1)) }
        p.add(.init(name: "paper", xs: [1, 2, 4], ys: [0.71, 0.68, 0.62], mark: .points, color: SVGPlot.palette[1], radius: 6))
        p.xCategories = [(1, "expert's labels"), (2, "consensus of 10"), (3, "single workers"), (4, "Otsu (no training)")]
        p.xRange = 0.4...4.6; p.yRange = 0...1.15
        page.figure(p.render(), caption: String(format: "FCRNs (three 3x3 convolutions, on oneDNN) trained on 14 frames of clustered, unevenly stained nuclei, scored on 5 others: trained on the expert's labels F %.2f, on the consensus of 10 simulated workers %.2f, on one worker's clicks per frame %.2f (mostly recall lost: one worker clicks part of the nuclei and the rest are learnt as background); Otsu thresholding %.2f. Each detector's threshold and suppression window are fitted to its own training labels; the training is shortened to fit five seeds in the paper run (docs/detection.md).", mean[0], mean[1], mean[2], mean[3]))
        guard curve.count > 1 else { return }
        var c = SVGPlot(title: "F against crowd-labelled training frames", xLabel: "frames labelled by the crowd (10 workers each)", yLabel: "F on 5 unseen frames")
        c.add(.init(name: "crowd-trained FCRN (first seed)", xs: curve.map { Double($0.frames) }, ys: curve.map(\.f1), mark: .line, color: SVGPlot.palette[0]))
        c.add(.init(name: "", xs: curve.map { Double($0.frames) }, ys: curve.map(\.f1), mark: .points, color: SVGPlot.palette[0]))
        c.add(.init(name: "Otsu (no labels)", xs: [Double(curve.first!.frames), Double(curve.last!.frames)], ys: [mean[3], mean[3]], mark: .line, color: "#999999"))
        c.yRange = 0...1; c.legendAtBottom = true
        let points = curve.map { String(format: "%.2f with %d", $0.f1, $0.frames) }.joined(separator: ", ")
        page.figure(c.render(), caption: "How many frames the crowd must label before a detector takes over: the point where the curve levels off is where more crowd labels stop paying. F \(points) frames.")
    }
}
