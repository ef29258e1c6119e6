import Consensus
import Foundation
import Reports

// The plan's page: the cost / accuracy / time front and the recommendation.
extension Planner {
    public static func html(_ p: Plan) -> String {
        var page = HTMLPage(title: "Job plan: \(p.images) images of \(p.objectsPerImage) objects")
        page.paragraph("Targets: recall ≥ \(p.targetRecall), precision ≥ \(p.targetPrecision)" + (p.budgetUsd.map { String(format: ", budget $%.2f", $0) } ?? "")
                       + (p.deadlineHours.map { String(format: ", deadline %.1f h", $0) } ?? "") + ". Each design was simulated on \(p.pilotImages) pilot images with \(p.seeds) seeds; a design qualifies when its 10th-percentile recall and precision meet the targets. Costs include Mechanical Turk's fees (20 % of rewards, at least $0.01 per assignment, plus 20 % for HITs with 10 or more assignments). An adaptive policy starts each image with a few workers and adds one while its consensus is unsettled, up to its cap: its cost is what the simulated jobs asked for (the budget is held to its 90th percentile over seeds), its time that of the capped job.")
        if let d = p.recommended {
            page.heading("Recommendation")
            page.table(["pay per image", "workers per image", "drop bottom third", "cost", "time", "recall (10th-90th pct)", "precision (10th-90th pct)"],
                       [[String(format: "$%.3f", d.payUsd), d.workersPerImage, d.dropBottomThird ? "yes" : "no", String(format: "$%.2f (fees $%.2f)", d.costUsd, d.feesUsd),
                         String(format: "%.1f h", d.hours), String(format: "%.3f (%.3f-%.3f)", d.recallMean, d.recallP10, d.recallP90),
                         String(format: "%.3f (%.3f-%.3f)", d.precisionMean, d.precisionP10, d.precisionP90)]])
        } else {
            page.raw("<p class=\"note\">No design meets the targets within the budget and deadline. The two nearest answers:</p>")
            let rows = [("cheapest meeting the targets", p.cheapestMeetingTargets), ("best within budget and deadline", p.bestWithinLimits)].compactMap { name, d in
                d.map { d in [name, String(format: "$%.3f", d.payUsd), d.workersPerImage, d.dropBottomThird ? "yes" : "no", String(format: "$%.2f", d.costUsd),
                              String(format: "%.1f h", d.hours), String(format: "%.3f", d.recallP10), String(format: "%.3f", d.precisionP10)] }
            }
            page.table(["design", "pay per image", "workers per image", "drop bottom third", "cost", "time", "recall p10", "precision p10"], rows)
        }
        if let o = p.detector {
            page.heading("Crowd labels, then a detector")
            page.paragraph(String(format: "The crowd labels the first %d images with the design above, a detector trained on their consensus (crowdlab detect train) finds the objects in the other %d: $%.2f (fees $%.2f) and about %.1f h, against $%.2f and %.1f h for the crowd labelling all %d, a saving of $%.2f. Whether the detector is good enough is measured, not assumed: crowdlab detect evaluate on crowd-labelled images it did not train on.",
                                  o.crowdImages, o.detectorImages, o.costUsd, o.feesUsd, o.hours, o.labellingEverythingUsd, o.labellingEverythingHours, p.images, o.savingUsd))
        }
        var plot = SVGPlot(title: "Cost against recall", xLabel: "cost (USD)", yLabel: "recall (mean, 10th-90th percentile)")
        // Zoomed to three times the cost of the answer (or of the budget): dearer designs add
        // nothing to the choice and would crowd the cheap ones into a corner.
        let anchor = (p.recommended ?? p.cheapestMeetingTargets)?.costUsd ?? p.budgetUsd
        let maxCost = min(p.designs.map(\.costUsd).max() ?? 1, anchor.map { 3 * max($0, p.budgetUsd ?? 0) } ?? .infinity)
        for (k, (adaptive, drop)) in [(false, false), (false, true), (true, false), (true, true)].enumerated() {
            let ds = p.designs.filter { $0.isAdaptive == adaptive && $0.dropBottomThird == drop && $0.costUsd <= maxCost }
            guard !ds.isEmpty else { continue }
            let name = (adaptive ? "adaptive, " : "fixed, ") + (drop ? "bottom third dropped" : "all workers")
            plot.add(.init(name: name, xs: ds.map(\.costUsd), ys: ds.map(\.recallMean),
                           errors: ds.map { ($0.recallP90 - $0.recallP10) / 2 }, mark: .points, color: [SVGPlot.palette[0], SVGPlot.palette[1], SVGPlot.palette[4], "#e377c2"][k]))
        }
        // The front on this chart's two axes: designs no cheaper one beats on 10th-percentile
        // recall, drawn as a staircase (each step holds until a dearer design does better).
        var stairs: [(Double, Double)] = [], bestSoFar = -Double.infinity
        for d in p.designs.sorted(by: { $0.costUsd != $1.costUsd ? $0.costUsd < $1.costUsd : $0.recallP10 > $1.recallP10 }) where d.recallP10 > bestSoFar {
            if let last = stairs.last { stairs.append((d.costUsd, last.1)) }
            stairs.append((d.costUsd, d.recallP10)); bestSoFar = d.recallP10
        }
        stairs = stairs.filter { $0.0 <= maxCost }
        if let last = stairs.last { stairs.append((maxCost, last.1)) }
        plot.add(.init(name: "best 10th-percentile recall for the money", xs: stairs.map(\.0), ys: stairs.map(\.1), mark: .line, color: SVGPlot.palette[2]))
        plot.add(.init(name: String(format: "target recall %.2f", p.targetRecall), xs: [0, maxCost], ys: [p.targetRecall, p.targetRecall], mark: .line, color: SVGPlot.palette[3]))
        if let b = p.budgetUsd { plot.add(.init(name: String(format: "budget $%.0f", b), xs: [b, b], ys: [0, 1], mark: .line, color: SVGPlot.palette[5])) }
        let marked = [("recommended", p.recommended), ("cheapest meeting the targets", p.cheapestMeetingTargets), ("best within budget and deadline", p.bestWithinLimits)]
        for (k, (name, d)) in marked.enumerated() {
            if let d { plot.add(.init(name: name, xs: [d.costUsd], ys: [d.recallMean], mark: .points, color: ["#222222", SVGPlot.palette[3], SVGPlot.palette[5]][k], radius: 8)) }
        }
        plot.yRange = 0...1; plot.xRange = 0...maxCost; plot.width = 600; plot.height = 380; plot.legendAtBottom = true
        let dearer = p.designs.filter { $0.costUsd > maxCost }.count
        page.figure(plot.render(), caption: "Every simulated design" + (dearer > 0 ? String(format: " up to $%.0f (%d dearer ones are in the table)", maxCost, dearer) : "") + " (dots: mean recall, bars: 10th to 90th percentile). The staircase is the best 10th-percentile recall any design of that cost or less reaches; the line across is the target recall\(p.budgetUsd == nil ? "" : ", the vertical one the budget"). Large markers: the recommendation, or, when nothing fits, the two nearest answers.")
        // Hours: a few slow designs (one cent, many workers) would squash the rest, so the axis ends
        // at three times the median and the caption counts what lies beyond.
        var tplot = SVGPlot(title: "Cost against time to completion", xLabel: "cost (USD)", yLabel: "hours")
        let all = p.designs.filter { !$0.dropBottomThird }
        let cap = max(1, 3 * median(all.map(\.hours)))
        let inside = all.filter { $0.hours <= cap && $0.costUsd <= maxCost }
        tplot.add(.init(name: "designs", xs: inside.map(\.costUsd), ys: inside.map(\.hours), mark: .points, color: SVGPlot.palette[0]))
        if let d = p.deadlineHours, d <= cap { tplot.add(.init(name: String(format: "deadline %.1f h", d), xs: [0, maxCost], ys: [d, d], mark: .line, color: SVGPlot.palette[3])) }
        if let d = p.recommended ?? p.bestWithinLimits, d.hours <= cap {
            tplot.add(.init(name: p.recommended != nil ? "recommended" : "best within budget and deadline", xs: [d.costUsd], ys: [d.hours], mark: .points, color: "#222222", radius: 8))
        }
        tplot.yRange = 0...cap; tplot.xRange = 0...maxCost
        let beyond = all.filter { $0.hours > cap && $0.costUsd <= maxCost }.count
        page.figure(tplot.render(), caption: "Higher pay brings workers faster and keeps them thorough." + (beyond > 0 ? String(format: " %d design%@ taking longer than %.1f h %@ off the chart (see the table).", beyond, beyond == 1 ? "" : "s", cap, beyond == 1 ? "is" : "are") : ""))
        page.heading("All designs")
        page.table(["pay", "workers", "drop", "cost", "hours", "recall", "recall p10", "precision", "precision p10", "meets targets", "within budget and deadline"], p.designs.map { d in
            [String(format: "$%.3f", d.payUsd), d.workersPerImage, d.dropBottomThird ? "yes" : "no", String(format: "$%.2f", d.costUsd), String(format: "%.1f", d.hours),
             String(format: "%.3f", d.recallMean), String(format: "%.3f", d.recallP10), String(format: "%.3f", d.precisionMean), String(format: "%.3f", d.precisionP10),
             d.meetsTargets ? "yes" : "no", d.withinBudget && d.withinDeadline ? "yes" : "no"]
        })
        return page.render()
    }
}
