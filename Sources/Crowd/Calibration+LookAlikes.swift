import Consensus
import Foundation

// Look-alikes: how many false clicks land on image structure, and how contrast draws them.
extension Calibrator {
    /// The share of non-careless false clicks on look-alikes, beyond what clicks placed anywhere
    /// would give, corrected for pointing error: `(on − q) / (reach − q)`, with `on` the observed
    /// share within r px of a look-alike, `q` the share of the image within r px of one, and `reach`
    /// the chance a click aimed at a look-alike lands within r px of it.
    static func fitLookAlikeShare(_ pilot: Pilot, _ lookAlikes: [String: LookAlikes], matchRadius: Double, _ c: inout Calibration) {
        let rmse = c.population.rmseMedian
        let r = max(3, 1.5 * rmse)
        let reach = 1 - exp(-r * r / max(rmse * rmse, 1e-6))
        var on = 0.0, total = 0.0, covered = 0.0, area = 0.0
        var chosen: [(contrast: [Double], picks: [Int])] = []
        for (k, im) in pilot.job.images.enumerated() where !pilot.vis[k].isEmpty {
            guard let l = lookAlikes[im.image], !l.xs.isEmpty else { continue }
            let grid = GridIndex(xs: l.xs, ys: l.ys, cell: r)
            // Which look-alikes draw the false clicks is read among those a click on which is always
            // false (farther than the matching radius and r from every object): nearer ones lose
            // the clicks matched to their neighbour, and contrast would look as if it repelled them.
            let t = pilot.truth.byImage[im.image]
            let objects = GridIndex(xs: t?.xs ?? [], ys: t?.ys ?? [], cell: matchRadius + r)
            let clear = l.xs.indices.filter { objects.neighbours(of: l.xs[$0], l.ys[$0], within: matchRadius + r).isEmpty }
            let slot = Dictionary(uniqueKeysWithValues: clear.enumerated().map { ($1, $0) })
            var picks: [Int] = []
            for row in pilot.rows where row.image == k && pilot.good(row) {
                for (x, y) in zip(row.falseX, row.falseY) {
                    total += 1
                    let near = grid.neighbours(of: x, y, within: r)
                    guard let nearest = near.min(by: { hypot(l.xs[$0] - x, l.ys[$0] - y) < hypot(l.xs[$1] - x, l.ys[$1] - y) }) else { continue }
                    on += 1
                    if let j = slot[nearest] { picks.append(j) }
                }
            }
            chosen.append((clear.map { l.visibility[$0] }, picks))
            // The image's share within r of a look-alike, on a 2 px lattice.
            let w = im.width > 0 ? im.width : 300, h = im.height > 0 ? im.height : 300
            for yy in stride(from: 1, to: h, by: 2) {
                for xx in stride(from: 1, to: w, by: 2) {
                    area += 1
                    if !grid.neighbours(of: Double(xx), Double(yy), within: r).isEmpty { covered += 1 }
                }
            }
        }
        guard total >= 20, area > 0 else {
            c.notes["false_positives.structure_share"] = "prior: too few false clicks (\(Int(total))) to measure"
            return
        }
        let q = covered / area, observed = on / total
        let share = reach > q ? min(1, max(0, (observed - q) / (reach - q))) : 0
        c.population.structureShare = share
        c.summary.append(String(format: "look-alikes: %.0f %% of false clicks on them (%.0f %% of the image near one): share %.2f", 100 * observed, 100 * q, share))
        c.notes["false_positives.structure_share"] = String(format: "measured: %.0f %% of %d false clicks within %.1f px of a look-alike, %.0f %% of the image is", 100 * observed, Int(total), r, 100 * q)
        c.standardErrors["false_positives.structure_share"] = (observed * (1 - observed) / total).squareRoot() / max(reach - q, 0.05)
        fitLookAlikeContrastSlope(chosen, &c)
    }

    /// Which look-alikes draw the false clicks: the slope β of `p(v)·exp(β·v)` by maximum
    /// likelihood of each false click's look-alike among its image's (a conditional logit: its
    /// score falls with β, so the root is found by bisection within the file's range; the standard
    /// error from the curvature there). Real workers on
    /// smFISH fields click the brightest look-alikes far more than the detection curve alone says.
    static func fitLookAlikeContrastSlope(_ images: [(contrast: [Double], picks: [Int])], _ c: inout Calibration) {
        let key = "false_positives.structure_contrast_slope"
        let count = images.reduce(0) { $0 + $1.picks.count }
        guard count >= 20 else {
            c.notes[key] = "prior: too few false clicks on look-alikes (\(count)) to measure"
            return
        }
        let p = c.population
        // The score (picked contrast less its expectation) and the information (the expected
        // variance) at slope β; the score falls with β, so the root is found by bisection.
        func derivatives(_ beta: Double) -> (score: Double, information: Double) {
            var score = 0.0, information = 0.0
            for (v, picks) in images where !picks.isEmpty {
                let logW = v.map { log(max(p.lookAlikeWeight($0, slope: 0), 1e-300)) + beta * $0 }
                let top = logW.max() ?? 0
                let w = logW.map { exp($0 - top) }, total = w.reduce(0, +)
                let mean = zip(w, v).reduce(0) { $0 + $1.0 * $1.1 } / total
                let variance = zip(w, v).reduce(0) { $0 + $1.0 * ($1.1 - mean) * ($1.1 - mean) } / total
                score += picks.reduce(0) { $0 + v[$1] } - Double(picks.count) * mean
                information += Double(picks.count) * variance
            }
            return (score, information)
        }
        let range = Population.sections.first { $0.name == "false_positives" }?.fields.first { $0.key == "structure_contrast_slope" }?.range ?? -1...2
        var lo = range.lowerBound, hi = range.upperBound
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if derivatives(mid).score > 0 { lo = mid } else { hi = mid }
        }
        let beta = (lo + hi) / 2, information = derivatives(beta).information
        guard information > 0, beta.isFinite else {
            c.notes[key] = "prior: look-alikes' contrasts do not differ"
            return
        }
        c.population.structureContrastSlope = beta
        let se = 1 / information.squareRoot()
        c.standardErrors[key] = se
        c.notes[key] = String(format: "maximum likelihood over %d false clicks on look-alikes, %@ per contrast unit", count, plusMinus(se, digits: 3))
        c.summary.append(String(format: "look-alikes drawn by contrast: slope %.3f %@ beyond the detection curve", beta, plusMinus(se, digits: 3)))
    }
}
