import Consensus
import Foundation

/// The page `crowdlab replay --curve` writes: consensus F1 against assignments for fixed designs
/// and the policies played beside them, on a real export with truth, so a planner reads off what
/// each extra worker buys and what a policy saves at equal F1.
public enum ReplayCurveReport {
    /// `oracle`: `curve.oracle()` as the caller computed it (its reference is the page's).
    public static func html(_ curve: ReplayCurve, title: String, orders: Int, oracle: ReplayCurve.Oracle?,
                            missed: [ReplayCurve.MissedCheck] = []) -> String {
        let reference = oracle?.reference ?? ReplayCurve.reference
        var page = HTMLPage(title: title)
        page.paragraph("Each image's real workers arrive one at a time in \(orders) seeded random order\(orders == 1 ? "" : "s"); each design pays for the first of them as it decides, and the consensus of what it paid for is scored against the truth (blind, one-to-one within the match radius). Points are means over the orders; bars one standard deviation.")
        var plot = SVGPlot(title: "Consensus F1 against assignments", xLabel: "assignments (workers × images)", yLabel: "consensus F1")
        plot.width = 640; plot.height = 380
        plot.legendAtBottom = true
        let fixed = curve.fixed
        let lows = curve.points.map { $0.meanF1 - $0.sdF1 }, highs = curve.points.map { $0.meanF1 + $0.sdF1 }
        plot.yRange = max(0, ((lows.min() ?? 0) * 10).rounded(.down) / 10)...min(1, ((highs.max() ?? 1) * 10).rounded(.up) / 10)
        plot.add(.init(name: "fixed:\(fixed.first?.fixedWorkers ?? 0)…\(fixed.last?.fixedWorkers ?? 0)", xs: fixed.map(\.meanAssignments), ys: fixed.map(\.meanF1),
                       errors: fixed.map(\.sdF1), mark: .line, color: SVGPlot.palette[0]))
        plot.add(.init(name: "", xs: fixed.map(\.meanAssignments), ys: fixed.map(\.meanF1), mark: .points, color: SVGPlot.palette[0]))
        let ref = fixed.first { $0.fixedWorkers == reference }
        // The oracle is drawn where its assignments count the same images as the designs' (every image has truth),
        // beneath the policies, which are what the page is about.
        let drawnOracle = oracle.flatMap { o in ref.flatMap { Double(o.referenceAssignments) == $0.meanAssignments ? o : nil } }
        if let o = drawnOracle {
            plot.add(.init(name: "oracle (knows the truth)", xs: [Double(o.assignments)], ys: [o.targetF1], mark: .points,
                           color: "#444444", radius: 5))
        }
        for (k, p) in curve.others.enumerated() {
            plot.add(.init(name: p.policy, xs: [p.meanAssignments], ys: [p.meanF1], errors: [p.sdF1], mark: .points,
                           color: SVGPlot.palette[(k + 1) % SVGPlot.palette.count], radius: 6))
        }
        page.figure(plot.render(), caption: "The fixed designs' curve (one point per K) and each other policy at its own mean cost. A policy above the curve buys more F1 per assignment than paying every image alike"
                    + (drawnOracle != nil ? "; the oracle marks the least any stopping rule could pay for fixed:\(reference)'s F1 less 0.005." : ". The oracle is not drawn: some images have no truth, so its assignments count fewer images than the designs' (below)."))
        page.heading("Designs")
        if orders > 1 {
            page.paragraph("Against fixed:\(reference): the F1 gap order by order over the same arrival orders, its mean ± its standard error. The arrival order alone moves a design's F1 (which workers happened to come first), so a gap within about two standard errors is not yet told apart from it; more orders (--orders) narrow the error.")
        }
        page.table(["design", "assignments (mean)", "F1 (mean)", "F1 (SD)", "fixed assignments for this F1", "against fixed:\(reference)"],
                   curve.points.map { p in
                       let same = p.fixedWorkers == nil ? curve.fixedAssignments(reaching: p.meanF1).map { fmtSignificant($0) } ?? "above every fixed design" : "–"
                       let against = ref.map { r in
                           let gap = curve.difference(p, from: r).map { "\(signed($0.mean)) ± \(fmt($0.standardError))" } ?? signed(p.meanF1 - r.meanF1)
                           return "F1 \(gap), \(fmt(100 * p.meanAssignments / r.meanAssignments, 0)) % of its assignments"
                       } ?? "–"
                       return [p.policy, fmtSignificant(p.meanAssignments), fmt(p.meanF1), fmt(p.sdF1), same, against]
                   })
        if let o = oracle {
            page.heading("How much a stopping rule could save")
            page.paragraph("An oracle that knows the truth gives each image the number of workers (\(fixed.first?.fixedWorkers ?? 3) to \(fixed.last?.fixedWorkers ?? reference)) for which, averaged over the orders, the whole consensus reaches fixed:\(reference)'s F1 less 0.005 (\(fmt(o.targetF1))) with the fewest assignments: \(o.assignments), \(fmt(100 * o.share, 0)) % of fixed:\(reference)'s \(o.referenceAssignments) on the images with truth. A stopping rule sees the clicks, not the truth: to pay less it would have to tell from the clicks which orders happened to bring good workers. An oracle that knows that too (each order's own F1 against the truth) needs \(fmt(100 * o.perOrderShare, 0)) %.")
            page.table(["image", "workers the oracle chose"], o.workers.keys.sorted().map { [$0, "\(o.workers[$0]!)"] })
        }
        let brokenDown = curve.points.compactMap { p in p.meanErrors.map { (p, $0) } }
        if !brokenDown.isEmpty {
            page.heading("Where the errors are")
            page.paragraph("Each design's missed and false objects against the truth by cause (as crowdlab analyze gives them), means over the orders. Read down a column for what more workers change: objects no worker clicked become objects too few workers clicked, and those become objects once they reach the vote, which itself rises with the workers (an eighth of them, two at least); objects whose clicks went to a neighbour's object do not fall, and on crowded images they grow, as more clicks join close objects into one.")
            page.table(["design"] + ErrorBreakdown.causes.map(\.name), brokenDown.map { p, e in [p.policy] + e.map { fmt($0, 1) } })
        }
        if !missed.isEmpty {
            page.heading("Objects still missed")
            page.paragraph("Each image's consensus reports the objects twice its workers would find that it misses (metrics.json's expected_missed_objects: a capture-recapture model of how visible the objects are, fitted to the candidates two or more workers clicked; five workers at least). Here the estimate of each fixed design meets what the design with twice its workers found, in the same orders, that it did not (objects matched within the match radius); per order, summed over the images with an estimate. Objects that no worker of a crowd like this one clicks are beyond both.")
            page.table(["design", "images", "expected missed at twice the workers", "against", "found by it"], missed.map { m in
                ["fixed:\(m.workers)", m.images == m.images.rounded() ? "\(Int(m.images))" : fmt(m.images, 1), fmt(m.expected, 1),
                 "fixed:\(2 * m.workers)", fmt(m.found, 1)]
            })
        }
        return page.render()
    }

    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "−") + fmt(abs(v)) }
}
