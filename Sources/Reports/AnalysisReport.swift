import Consensus
import Foundation

/// The page `crowdlab analyze` writes beside its CSV and JSON files.
public enum AnalysisReport {
    /// The images' share of the consensus, when they were heard (`analyze --image-evidence`).
    static func evidence(_ r: AnalysisResult) -> String {
        let totals = EvidenceTotals(r.consensus)
        return totals.heard == 0 && r.method != ImageEvidenceConsensus.methodName ? "" : " Image evidence: \(totals.sentence)."
    }

    public static func html(_ r: AnalysisResult, exportName: String, overlays: [(image: String, file: String)],
                            preface: [(String, String)] = [], extra: ((inout HTMLPage) -> Void)? = nil) -> String {
        var page = HTMLPage(title: "Crowd consensus: \(exportName)")
        if !preface.isEmpty { page.table(["", ""], preface.map { [$0.0, $0.1] }) }
        summary(r, into: &page)
        if let o = r.overall { truthSection(r, o, into: &page) }
        consensusSection(r, into: &page)
        workerSection(r, into: &page)
        overlaySection(r, overlays, into: &page)
        extra?(&page)
        return page.render()
    }

    /// What was read and how it was merged, and the notes on it.
    static func summary(_ r: AnalysisResult, into page: inout HTMLPage) {
        let c = r.crowd
        page.paragraph("\(c.records) submissions (\(c.emptyRecords) empty\(c.repeatedRecordsLeftOut > 0 ? "; \(c.repeatedRecordsLeftOut) repeated ones left out: a worker's first on an image counts" : "")) by \(c.workers) workers on \(c.images) images, \(c.clicks) clicks. Method: \(r.method); match radius \(fmt(r.matchRadius, 1)) px.\(evidence(r))")
        if r.skippedShapeRecords > 0 {
            page.raw("<p class=\"note\">\(r.skippedShapeRecords) shape records (polygon, polyline, freehand) are merged by the shape consensus (section below), not the point consensus.</p>")
        }
        for n in r.truthNotes { page.raw("<p class=\"note\">\(esc(n))</p>") }
    }

    /// Scores against the truth, overall and per image, and the errors by cause.
    static func truthSection(_ r: AnalysisResult, _ o: DetectionScore, into page: inout HTMLPage) {
        page.heading("Against truth")
        var rows = [["all images", "\(o.tp)", "\(o.fp)", "\(o.fn)", fmt(o.precision), fmt(o.recall), fmt(o.f1)]]
        if let fs = r.filtered.score {
            rows.append(["without the bottom third of workers", "\(fs.tp)", "\(fs.fp)", "\(fs.fn)", fmt(fs.precision), fmt(fs.recall), fmt(fs.f1)])
        }
        page.table(["", "TP", "FP", "FN", "precision", "recall", "F1"], rows)
        page.table(["image", "workers", "clicks", "objects", "truth", "precision", "recall", "F1"], r.images.map { im in
            [im.image, "\(im.workers)", "\(im.clicks)", "\(im.consensusObjects)", im.truthObjects.map(String.init) ?? "–",
             fmt(im.score?.precision), fmt(im.score?.recall), fmt(im.score?.f1)]
        })
        if let e = r.errors { errorSection(e, r.images, into: &page) }
    }

    /// The support histogram and, per image, the expected false, missed and undecided objects.
    static func consensusSection(_ r: AnalysisResult, into page: inout HTMLPage) {
        page.heading("Consensus")
        let supports = r.consensus.flatMap(\.candidateSupports)
        let kept = r.consensus.flatMap { $0.points.map(\.support) }
        let maxS = max(supports.max() ?? 1, 1)
        var hist = SVGPlot(title: "Support of candidate clusters", xLabel: "distinct workers", yLabel: "clusters")
        hist.add(.init(name: "all candidates", xs: (1...maxS).map(Double.init), ys: (1...maxS).map { k in Double(supports.filter { $0 == k }.count) }, mark: .bars, color: SVGPlot.palette[0]))
        hist.add(.init(name: "kept", xs: (1...maxS).map(Double.init), ys: (1...maxS).map { k in Double(kept.filter { $0 == k }.count) }, mark: .bars, color: SVGPlot.palette[1]))
        page.figure(hist.render(), caption: "Clusters supported by 1 or 2 workers are mostly stray clicks; true objects gather most of the crowd. The vote needed grows with the number of workers per image.")
        if r.images.contains(where: { $0.undecidedObjects != nil }) {
            page.table(["image", "workers", "objects", "expected false", "expected missed at twice the workers", "undecided", "undecided per object"], r.images.map { im in
                [im.image, "\(im.workers)", "\(im.consensusObjects)", fmt(im.expectedFalseObjects, 1),
                 im.expectedMissedObjects.map { fmt($0, 1) } ?? "–", im.undecidedObjects.map(String.init) ?? "–",
                 im.undecidedObjects.map { fmt(Double($0) / Double(max(1, im.consensusObjects))) } ?? "–"]
            })
            page.paragraph("Expected false: the objects' doubt summed (one less each one's confidence). Expected missed: the objects a crowd of twice the image's workers would find that this consensus misses, from how visible the objects two or more workers clicked are (a capture-recapture model; five workers at least; one image's figure is rough, a sum over images firmer). Objects no worker of a crowd like this one clicks are beyond it. Undecided: candidates within one vote of the support an object needs, kept or not, that two or more workers share; one more worker could turn any of them. The adaptive policy asks another worker while they exceed \(formatNumber(AdaptiveReplicates().threshold)) per object (docs/replicates.md): images high here are where more workers would change the answer.")
        }
    }

    /// Worker scores, the Fitts fit, participation, learning and the per-worker table.
    static func workerSection(_ r: AnalysisResult, into page: inout HTMLPage) {
        let c = r.crowd
        page.heading("Workers")
        let sorted = r.workers.filter { $0.images > 0 }.sorted { $0.score > $1.score }
        var sp = SVGPlot(title: "Worker scores (vs consensus)", xLabel: "worker rank", yLabel: "score 1 − (fp + 0.2·fn)/(2·tp)")
        sp.add(.init(name: "score", xs: sorted.indices.map { Double($0 + 1) }, ys: sorted.map { max($0.score, -1) }, mark: .bars, color: SVGPlot.palette[0]))
        page.figure(sp.render(), caption: "The Quanti.us worker score; dropping the bottom third removes the rare poor workers the crowd otherwise dilutes (scores below −1 are drawn at −1).")

        var fp = SVGPlot(title: "Fitts' law: speed against accuracy", xLabel: "worker RMSE (px, vs \((r.fitts?.reference ?? c.falsePositiveReference).rawValue))", yLabel: "median click period (s)")
        let pts = r.workers.compactMap { w -> (Double, Double)? in
            guard let t = w.medianClickPeriodS, let e = (c.falsePositiveReference == .truth ? w.rmsePx : w.rmseVsConsensusPx) else { return nil }
            return (e, t)
        }
        fp.add(.init(name: "workers", xs: pts.map(\.0), ys: pts.map(\.1), mark: .points, color: SVGPlot.palette[0]))
        if let ft = r.fitts, let lo = pts.map(\.0).min(), let hi = pts.map(\.0).max(), hi > lo {
            let xs = (0...60).map { lo + (hi - lo) * Double($0) / 60 }
            fp.add(.init(name: "t = a + b·log2((c+s)/s)", xs: xs, ys: xs.map { FittsLaw.value([ft.a, ft.b, ft.c], $0) }, mark: .line, color: SVGPlot.palette[1]))
        }
        let offset = c.truthOffsetPx.map { String(format: " Against the truth, each worker's RMSE is taken about the image's mean displacement of matched clicks from it (over all images %+.2f px across, %+.2f px up): a truth's own pixel convention is not pointing error.", $0[0], $0[1]) } ?? ""
        page.figure(fp.render(), caption: (r.fitts.map { AnalysisReport.fittsCaption($0) } ?? "Too few workers with enough matched clicks for a Fitts fit.") + offset)

        var pc = SVGPlot(title: "Participation", xLabel: "share of workers (most active first)", yLabel: "share of images done")
        let n = Double(c.participationCurve.count)
        pc.add(.init(name: "crowd", xs: [0] + c.participationCurve.indices.map { Double($0 + 1) / n }, ys: [0] + c.participationCurve, mark: .line, color: SVGPlot.palette[0]))
        pc.add(.init(name: "equal shares", xs: [0, 1], ys: [0, 1], mark: .line, color: "#999"))
        pc.yRange = 0...1; pc.xRange = 0...1
        page.figure(pc.render(), caption: "The top 20 % of workers did \(fmt(c.top20ShareOfImages * 100, 0)) % of the submissions (a Pareto 80/20 crowd would show 80 %).")

        var lc = SVGPlot(title: "Learning: false positives by annotation index", xLabel: "annotation index (worker's n-th click in the job)", yLabel: "false-positive rate")
        lc.add(.init(name: "rate per 10 annotations", xs: c.learningCurve.map { Double($0.index + 4) }, ys: c.learningCurve.map(\.rate),
                     errors: c.learningCurve.map { p in (p.rate * (1 - p.rate) / Double(max(1, p.annotations))).squareRoot() }, mark: .points, color: SVGPlot.palette[0]))
        if let l = c.learningFit {
            lc.add(.init(name: "linear fit, first \(l.window)", xs: [1, Double(l.window)], ys: [l.rateAtFirst, l.rateAtEnd], mark: .line, color: SVGPlot.palette[1]))
        }
        page.figure(lc.render(), caption: "False positives judged against the \(c.falsePositiveReference.rawValue)"
                    + (c.learningExcludedWorkers > 0 ? ", leaving out \(c.learningExcludedWorkers) worker(s) whose clicks are mostly wrong (precision under 0.5). " : ". ") + (c.learningFit.map { "Fitted rate \(fmt($0.rateAtFirst * 100, 1)) % at the first annotation, \(fmt($0.rateAtEnd * 100, 1)) % at the \($0.window)th." } ?? ""))

        page.paragraph("Coverage: the chance a worker clicks an object of an image they did (a worker who stops early on a crowded image covers little, and their silence is weak evidence against an object). Reliability: the share of their clicks that land in objects, weighted by each object's confidence. Both are the object-confidence model's (docs/consensus.md).")
        page.table(["worker", "images", "annotations", "median period (s)", "score", "coverage", "reliability", "RMSE (px)"], sorted.map { w in
            [w.worker, "\(w.images)", "\(w.annotations)", fmt(w.medianClickPeriodS, 2), fmt(w.score), fmt(w.coverage, 2), fmt(w.reliability, 2),
             fmt(w.rmsePx ?? w.rmseVsConsensusPx, 2)]
        })
    }

    /// The overlays, when images were given.
    static func overlaySection(_ r: AnalysisResult, _ overlays: [(image: String, file: String)], into page: inout HTMLPage) {
        guard !overlays.isEmpty else { return }
        page.heading("Overlays")
        let shown = overlays.count < r.job.images.count ? " The first \(overlays.count) of the \(r.job.images.count) images are shown (more with report.overlays in a scenario)." : ""
        let admitted = r.consensus.contains { $0.points.contains(where: \.admittedByImage) } ? " Orange circles: objects the image admitted after the vote turned them down." : ""
        page.paragraph("Blue: every click. Red circles: consensus." + admitted + " Green crosses: truth (when given). Click an image for full size." + shown)
        page.raw("<div class=\"overlays\">" + overlays.map { "<a href=\"\(esc($0.file))\"><img src=\"\(esc($0.file))\" alt=\"\(esc($0.image))\" title=\"\(esc($0.image))\"></a>" }.joined() + "</div>")
    }

    /// The errors by cause (`ErrorBreakdown`), each with what would reduce it, and per image.
    static func errorSection(_ e: ErrorBreakdown, _ images: [ImageRow], into page: inout HTMLPage) {
        page.heading("Where the errors are")
        page.paragraph("Each missed and each false object against the truth, given one cause read off the clicks. Its clicks: those within twice the click spread of it that lie nearer to it than to any other true object.")
        let about = [
            ("no click of its own", "contrast, pay (a larger click budget per image), fewer objects per image; more workers only slowly"),
            ("clicked by fewer workers than the vote asks", "more workers on the image (the adaptive policy adds them where candidates are undecided); image evidence"),
            ("clicked by as many workers as the vote asks, not kept: their weights fell short, or their clicks split between clusters", "image evidence"),
            ("half or more of its clicks are in an object matched to another true object: the crowd clicked the two as one", "a larger display of the image (a crop per HIT); not more workers"),
            ("a true object lies within the match radius, matched to another consensus object: a fragment or duplicate", "–"),
            ("no true object within the match radius: structure several workers took for an object, or one the truth leaves out", "a clearer description of the objects in the HIT"),
        ]
        page.table(["", "objects", "what they are", "what would help"], zip(ErrorBreakdown.causes, about).map { c, a in
            [c.name, "\(e[keyPath: c.count])", a.0, a.1]
        })
        let rows = images.compactMap { im in im.errors.map { (im, $0) } }
        guard rows.count > 1 else { return }
        let missed = ErrorBreakdown.missedCauses, wrong = ErrorBreakdown.falseCauses
        page.table(["image", "missed"] + missed.map(\.short) + ["false"] + wrong.map(\.short), rows.map { im, e in
            [im.image, "\(e.missed)"] + missed.map { "\(e[keyPath: $0.count])" } + ["\(e.falseObjects)"] + wrong.map { "\(e[keyPath: $0.count])" }
        })
    }

    /// The Fitts fit in words: `c` fixed at the measured amplitude says so instead of a zero error,
    /// and a negative intercept is explained (the law is fitted over the periods seen, not at zero).
    public static func fittsCaption(_ f: FittsSummary) -> String {
        var s = "Fit over \(f.workers) workers: a = \(fmt(f.a, 2)) ± \(fmt(f.seA, 2)) s, b = \(fmt(f.b, 2)) ± \(fmt(f.seB, 2)) s per bit, "
        s += f.amplitudeFixed ? "c = \(fmt(f.c, 1)) px fixed at the measured movement amplitude (the data do not determine it)"
                              : "c = \(fmt(f.c, 2)) ± \(fmt(f.seC, 2)) px"
        s += " (Levenberg-Marquardt, GSL). Workers who click faster point less accurately."
        if f.a < 0 { s += " The intercept is negative because the law is fitted over the errors workers have, far from zero: it is not a time anyone takes." }
        return s
    }
}
