import Consensus
import Foundation

// False positives: the rate per annotation index (learning) and its spread between workers.
extension Calibrator {
    /// False share per annotation index over each worker's job (submissions in completion order).
    static func fitFalsePositives(_ pilot: Pilot, _ c: inout Calibration) {
        var fpAt: [Double] = [], nAt: [Double] = []
        for w in pilot.seen where !pilot.careless.contains(w) {
            var index = 0
            for r in pilot.rows.filter({ $0.worker == w }).sorted(by: { $0.completed != $1.completed ? $0.completed < $1.completed : $0.record < $1.record }) {
                for f in r.flags {
                    if index >= nAt.count { nAt.append(0); fpAt.append(0) }
                    nAt[index] += 1; fpAt[index] += f ? 1 : 0
                    index += 1
                }
            }
        }
        c.observed.falseByIndex = nAt.indices.map { ($0 + 1, fpAt[$0] / nAt[$0], nAt[$0]) }
        fitFalseSpread(pilot, &c)
        let window = min(c.population.learningAnnotations, nAt.count)
        guard window >= 5 else { return }
        let total = fpAt.prefix(window).reduce(0, +) / max(1, nAt.prefix(window).reduce(0, +))
        let learning = c.population.learningAnnotations
        if let l = linearFit(xs: (0..<window).map { Double($0 + 1) }, ys: (0..<window).map { fpAt[$0] / nAt[$0] }, weights: Array(nAt.prefix(window))),
           l.slope < -2 * l.seSlope {
            c.population.falsePositiveFirst = min(0.9, max(0, l.intercept + l.slope))
            c.population.falsePositiveLater = min(0.9, max(0, l.intercept + l.slope * Double(learning)))
            c.notes["false_positives.rate_first"] = String(format: "fitted ± %.4f", l.seIntercept)
            c.notes["false_positives.rate_later"] = String(format: "fitted; slope %.5f ± %.5f per annotation", l.slope, l.seSlope)
            c.standardErrors["false_positives.rate_first"] = l.seIntercept
            c.summary.append(String(format: "false positives: %.2f %% at the first annotation, %.2f %% at the %dth", c.population.falsePositiveFirst * 100, c.population.falsePositiveLater * 100, learning))
        } else {
            // No learning in this pilot (the share does not fall beyond its noise): a flat rate.
            let n = nAt.prefix(window).reduce(0, +)
            c.population.falsePositiveFirst = min(0.9, total); c.population.falsePositiveLater = min(0.9, total)
            c.notes["false_positives.rate_first"] = String(format: "measured, flat: the share does not fall over the first %d annotations (± %.4f)", window, (total * (1 - total) / max(n, 1)).squareRoot())
            c.notes["false_positives.rate_later"] = "as rate_first: no learning seen"
            c.standardErrors["false_positives.rate_first"] = (total * (1 - total) / max(n, 1)).squareRoot()
            c.summary.append(String(format: "false positives: %.2f %% of annotations, with no learning seen", total * 100))
        }
    }

    /// Spread of the false-positive rate between workers: for a log-normal factor of mean 1 the
    /// pooled rate over the median worker's is `exp(σ²/2)`, so `σ = sqrt(2 ln(pooled / median))`
    /// over workers with 10 clicks or more.
    static func fitFalseSpread(_ pilot: Pilot, _ c: inout Calibration) {
        var fp: [Int: (Double, Double)] = [:]
        for r in pilot.rows where pilot.good(r) {
            let f = Double(r.flags.filter { $0 }.count)
            fp[r.worker, default: (0, 0)].0 += f; fp[r.worker, default: (0, 0)].1 += Double(r.clicks)
        }
        let busy = fp.values.filter { $0.1 >= 10 }
        guard busy.count >= 5 else { return }
        let pooled = busy.reduce(0) { $0 + $1.0 } / busy.reduce(0) { $0 + $1.1 }
        let med = median(busy.map { $0.0 / $0.1 })
        let sigma = pooled <= 0 ? 0 : (med <= 0 ? 2 : min(2, (2 * max(0, log(pooled / med))).squareRoot()))
        c.population.falsePositiveWorkerLogSD = sigma
        c.notes["false_positives.worker_log_sd"] = String(format: "measured: pooled rate %.4f, median worker's %.4f (%d workers)", pooled, med, busy.count)
    }
}
