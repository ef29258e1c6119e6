import Consensus
import Foundation

/// The page `crowdlab replay --curve` writes: consensus F1 against assignments for fixed designs
/// and the policies played beside them, on a real export with truth, so a planner reads off what
/// each extra worker buys and what a policy saves at equal F1.
public enum ReplayCurveReport {
    public static func html(_ curve: ReplayCurve, title: String, orders: Int, reference: Int = 10) -> String {
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
        for (k, p) in curve.others.enumerated() {
            plot.add(.init(name: p.policy, xs: [p.meanAssignments], ys: [p.meanF1], errors: [p.sdF1], mark: .points,
                           color: SVGPlot.palette[(k + 1) % SVGPlot.palette.count], radius: 6))
        }
        page.figure(plot.render(), caption: "The fixed designs' curve (one point per K) and each other policy at its own mean cost. A policy above the curve buys more F1 per assignment than paying every image alike.")
        let ref = fixed.first { $0.fixedWorkers == reference }
        page.heading("Designs")
        page.table(["design", "assignments (mean)", "F1 (mean)", "F1 (SD)", "fixed assignments for this F1", "against fixed:\(reference)"],
                   curve.points.map { p in
                       let same = p.fixedWorkers == nil ? curve.fixedAssignments(reaching: p.meanF1).map { fmtSignificant($0) } ?? "above every fixed design" : "–"
                       let against = ref.map { r in "F1 \(signed(p.meanF1 - r.meanF1)), \(fmt(100 * p.meanAssignments / r.meanAssignments, 0)) % of its assignments" } ?? "–"
                       return [p.policy, fmtSignificant(p.meanAssignments), fmt(p.meanF1), fmt(p.sdF1), same, against]
                   })
        return page.render()
    }

    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "−") + fmt(abs(v)) }
}
