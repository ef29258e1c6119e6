import Consensus
import Foundation

// Pointing error against the truth: per-worker RMSE, Fitts' law and click periods.
extension Calibrator {
    static func fitPointing(_ pilot: Pilot, _ c: inout Calibration) {
        let nW = pilot.job.workerIDs.count
        var sq = [Double](repeating: 0, count: nW), tp = [Double](repeating: 0, count: nW)
        var periods = [[Double]](repeating: [], count: nW)
        // Errors about each image's mean displacement, in screen pixels: on an image shown
        // scaled they are that much larger in its pixels.
        let byImage = truthDisplacements(pilot)
        let offset = byImage.map { $0.offset ?? (0, 0) }
        for r in pilot.rows {
            sq[r.worker] += r.displacements.squaredDistance(about: offset[r.image]) / (pilot.scale[r.image] * pilot.scale[r.image])
            tp[r.worker] += Double(r.tp); periods[r.worker] += r.periods
        }
        var rmse: [Double] = [], period: [Double] = []
        for w in pilot.seen.sorted() where !pilot.careless.contains(w) && tp[w] >= 10 && !periods[w].isEmpty {
            rmse.append((sq[w] / tp[w]).squareRoot()); period.append(median(periods[w]))
        }
        c.observed.pointing = Array(zip(rmse, period))
        var p = c.population
        if rmse.count >= 4 {
            let logs = rmse.map { log($0) }
            let ml = mean(logs)
            p.rmseMedian = median(rmse)
            p.rmseLogSD = (logs.map { ($0 - ml) * ($0 - ml) }.reduce(0, +) / Double(logs.count - 1)).squareRoot()
            c.notes["pointing.rmse_log_sd"] = "measured"
            c.standardErrors["pointing.rmse_median_px"] = p.rmseMedian * p.rmseLogSD / Double(rmse.count).squareRoot()
            let allSteps = pilot.rows.flatMap { r in r.steps.map { $0 / pilot.scale[r.image] } }   // screen px, as the RMSE
            let amplitude = allSteps.isEmpty ? p.fittsC : median(allSteps)
            if let f = FittsLaw.fit(rmse: rmse, period: period, amplitude: amplitude), f.result.parameters.allSatisfy(\.isFinite) {
                p.fittsA = f.result.parameters[0]; p.fittsB = max(0, f.result.parameters[1]); p.fittsC = f.result.parameters[2]
                c.notes["pointing.fitts_a_s"] = "fitted " + plusMinus(f.result.standardErrors[0], digits: 3)
                c.notes["pointing.fitts_b_s"] = "fitted " + plusMinus(f.result.standardErrors[1], digits: 3)
                c.notes["pointing.fitts_c_px"] = f.amplitudeFixed ? "measured movement amplitude (c not determined by the fit)" : "fitted " + plusMinus(f.result.standardErrors[2], digits: 2)
                let resid = zip(rmse, period).map { log($1 / max(0.05, FittsLaw.value([p.fittsA, p.fittsB, p.fittsC], $0))) }
                let mr = mean(resid)
                p.periodLogSD = (resid.map { ($0 - mr) * ($0 - mr) }.reduce(0, +) / Double(max(1, resid.count - 1))).squareRoot()
                c.notes["pointing.period_log_sd"] = "spread about the fitted law"
            } else {
                c.notes["pointing.fitts_a_s"] = "prior: the Fitts fit failed"
            }
            c.summary.append(String(format: "pointing: median RMSE %.2f screen px (log SD %.2f); Fitts a %.2f s, b %.2f s, c %.1f px", p.rmseMedian, p.rmseLogSD, p.fittsA, p.fittsB, p.fittsC))
            let shift = byImage.reduce(into: Displacements()) { $0.append($1) }.offset ?? (0, 0)
            c.observed.truthOffset = shift
            c.notes["pointing.rmse_median_px"] = String(format: "%d workers, about each image's mean click displacement from the truth (over all images %+.2f, %+.2f px)", rmse.count, shift.x, shift.y)
            c.summary.append(String(format: "clicks fall %+.2f px across and %+.2f px up from the truth on average; the pointing error is measured about that", shift.x, shift.y))
        }
        let firstDelays = pilot.rows.compactMap(\.firstClick)
        if !firstDelays.isEmpty { p.firstClickDelay = median(firstDelays); c.notes["pointing.first_click_s"] = "median of first-click times" }
        c.population = p
    }

    /// Each image's displacements of careful workers' matched clicks from their true objects, summed
    /// (their `offset` is the mean, in the image's pixels). A truth can sit off the pixels by its own convention,
    /// and the crowd's cursor adds a bias of its own; neither is pointing error, which the simulated
    /// crowd draws about the object.
    static func truthDisplacements(_ pilot: Pilot) -> [Displacements] {
        var byImage = [Displacements](repeating: Displacements(), count: pilot.job.images.count)
        for r in pilot.rows where pilot.good(r) { byImage[r.image].append(r.displacements) }
        return byImage
    }
}
