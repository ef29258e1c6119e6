import Consensus
import Foundation

extension Calibrator {
    /// Where the false clicks that are on no look-alike fall: beside the objects or anywhere. Real
    /// workers on smFISH fields put 95 % of them within 24 px of a marked spot (uniform clicks
    /// would put 28 % there): they click structure beside what the expert marked. Modelled as a
    /// mixture, a share `w` placed at a random object plus a 2-D normal offset of SD `s` (redrawn
    /// while within the matching radius, where a click counts as on the object) and the rest
    /// uniform; `w` and `s` by maximum likelihood of the false clicks' positions, conditioned on
    /// their being false (farther than the matching radius from every object and off the
    /// look-alikes), with the share of such clicks that can land there found from the offset's
    /// quantiles. Aimed clicks whose pointing error carries them past the matching radius are
    /// false clicks beside objects to this fit too, so the SD comes out low where pointing is
    /// loose (12 px generated with a 3 px RMSE reads as 9 px); the simulated pilot that sets the
    /// rate generated (`matchFalseShareBySimulation`) makes up the total.
    static func fitNearObjectClicks(_ pilot: Pilot, lookAlikes: [String: LookAlikes]?, matchRadius: Double, _ c: inout Calibration) {
        let shareKey = "false_positives.near_object_share", sdKey = "false_positives.near_object_sd_px"
        let reach = max(3, 1.5 * c.population.rmseMedian)
        let images = nearObjectImages(pilot, lookAlikes: lookAlikes, matchRadius: matchRadius, lookAlikeReach: reach)
        let count = images.reduce(0) { $0 + $1.clicks.count }
        guard count >= 30 else {
            c.notes[shareKey] = "prior: too few false clicks off the look-alikes (\(count)) to place"
            return
        }
        // The offset's SD on a log grid; at each, the share by golden section (what depends on
        // the SD alone is computed once per SD).
        func likelihood(sd s: Double) -> (Double) -> Double {
            let parts = images.map { $0.densities(sd: s, inner: matchRadius) }
            return { w in parts.reduce(0) { $0 + $1.logLikelihood(share: w) } }
        }
        var best = (w: 0.0, s: matchRadius, l: -Double.infinity)
        for step in 0...32 {
            let s = 2 * pow(40.0 / 2, Double(step) / 32)
            let l = likelihood(sd: s)
            let w = goldenMaximum(in: 0...1, l)
            if l(w) > best.l { best = (w, s, l(w)) }
        }
        func logLikelihood(_ w: Double, _ s: Double) -> Double { likelihood(sd: s)(w) }
        let (w, s) = (best.w, best.s)
        // Standard errors from the curvature (central differences), each with the other held.
        let hw = max(1e-4, min(0.01, w, 1 - w)), hs = 0.02 * s
        let cw = (logLikelihood(w + hw, s) - 2 * best.l + logLikelihood(w - hw, s)) / (hw * hw)
        let cs = (logLikelihood(w, s + hs) - 2 * best.l + logLikelihood(w, s - hs)) / (hs * hs)
        c.population.nearObjectShare = w
        c.population.nearObjectSD = s
        c.population.nearObjectInner = matchRadius
        // Near 0 or 1 the curvature overstates what is known; a share is known no better than by
        // counting that many clicks, so the binomial error is a floor.
        let counted = (max(w * (1 - w), 0.25 / Double(count)) / Double(count)).squareRoot()
        let seShare = max(cw < 0 ? 1 / (-cw).squareRoot() : counted, counted)
        c.standardErrors[shareKey] = seShare
        if cs < 0, w > 0.05 { c.standardErrors[sdKey] = 1 / (-cs).squareRoot() }
        c.notes[shareKey] = String(format: "maximum likelihood over %d false clicks off the look-alikes (%@)", count, plusMinus(seShare, digits: 3))
        c.notes[sdKey] = w > 0.05 ? "maximum likelihood, with the share" : "not determined: few false clicks fall beside objects"
        c.notes["false_positives.near_object_inner_px"] = "the matching radius of the calibration"
        c.summary.append(String(format: "false clicks beside objects: %.0f %% of those off the look-alikes, offset SD %.1f px", 100 * w, s))
    }

    /// Per image with truth: its objects, the false clicks of careful workers off the look-alikes,
    /// and the region a false click can be in.
    static func nearObjectImages(_ pilot: Pilot, lookAlikes: [String: LookAlikes]?, matchRadius: Double, lookAlikeReach: Double) -> [FalseClickImage] {
        var out: [FalseClickImage] = []
        for (k, im) in pilot.job.images.enumerated() where !pilot.vis[k].isEmpty {
            guard let t = pilot.truth.byImage[im.image], !t.xs.isEmpty else { continue }
            let objects = GridIndex(xs: t.xs, ys: t.ys, cell: matchRadius)
            let looks = lookAlikes?[im.image].map { GridIndex(xs: $0.xs, ys: $0.ys, cell: lookAlikeReach) }
            func possible(_ x: Double, _ y: Double) -> Bool {
                objects.neighbours(of: x, y, within: matchRadius).isEmpty
                    && (looks?.neighbours(of: x, y, within: lookAlikeReach).isEmpty ?? true)
            }
            var clicks: [(Double, Double)] = []
            for row in pilot.rows where row.image == k && pilot.good(row) {
                for (x, y) in zip(row.falseX, row.falseY) where possible(x, y) { clicks.append((x, y)) }
            }
            let w = im.width > 0 ? im.width : 300, h = im.height > 0 ? im.height : 300
            var regionCells = 0
            for yy in stride(from: 1, to: h, by: 2) {
                for xx in stride(from: 1, to: w, by: 2) where possible(Double(xx), Double(yy)) { regionCells += 1 }
            }
            out.append(FalseClickImage(objects: GridIndex(xs: t.xs, ys: t.ys, cell: 8), clicks: clicks,
                                       width: Double(w), height: Double(h), regionShare: Double(regionCells * 4) / Double(w * h), inRegion: possible))
        }
        return out
    }

    /// The maximum of a smooth function on an interval by golden-section search.
    static func goldenMaximum(in range: ClosedRange<Double>, _ f: (Double) -> Double) -> Double {
        let g = (5.0.squareRoot() - 1) / 2
        var a = range.lowerBound, b = range.upperBound
        var x1 = b - g * (b - a), x2 = a + g * (b - a)
        var f1 = f(x1), f2 = f(x2)
        for _ in 0..<40 {
            if f1 < f2 { a = x1; x1 = x2; f1 = f2; x2 = a + g * (b - a); f2 = f(x2) } else { b = x2; x2 = x1; f2 = f1; x1 = b - g * (b - a); f1 = f(x1) }
        }
        let mid = (a + b) / 2
        return [range.lowerBound, mid, range.upperBound].max { f($0) < f($1) }!
    }
}

/// One image's false clicks and the region they can fall in, for the near-object fit.
struct FalseClickImage {
    var objects: GridIndex
    var clicks: [(Double, Double)]
    var width: Double, height: Double
    /// The region's share of the image (on a 2 px lattice), and whether a point is in it.
    var regionShare: Double
    var inRegion: (Double, Double) -> Bool

    /// Density at a point of a click placed beside a random object (normal offset of SD `s`, kept
    /// beyond `inner` px of it); the point is beyond `inner` of every object.
    func nearDensity(_ x: Double, _ y: Double, sd s: Double, inner: Double) -> Double {
        let n = Double(objects.xs.count)
        let kept = exp(-inner * inner / (2 * s * s))
        var total = 0.0
        for k in objects.neighbours(of: x, y, within: inner + 4 * s) {
            let dx = objects.xs[k] - x, dy = objects.ys[k] - y
            total += exp(-(dx * dx + dy * dy) / (2 * s * s))
        }
        return total / (2 * Double.pi * s * s * kept * n)
    }

    /// The share of clicks placed beside objects that land in the region: the offset's quantiles
    /// (16 radii of the truncated normal by its inverse distribution, 16 angles) about every object.
    func nearMass(sd s: Double, inner: Double) -> Double {
        var inside = 0, total = 0
        for k in objects.xs.indices {
            for i in 0..<16 {
                let r = (inner * inner - 2 * s * s * log(1 - (Double(i) + 0.5) / 16)).squareRoot()
                for j in 0..<16 {
                    let a = 2 * Double.pi * (Double(j) + 0.5 * Double(i % 2)) / 16
                    let x = objects.xs[k] + r * cos(a), y = objects.ys[k] + r * sin(a)
                    total += 1
                    if x >= 0, x <= width, y >= 0, y <= height, inRegion(x, y) { inside += 1 }
                }
            }
        }
        return total > 0 ? Double(inside) / Double(total) : 0
    }

    /// What the likelihood needs at offset SD `s`: each click's near-object density, the region's
    /// near-object mass and its share of the image.
    func densities(sd s: Double, inner: Double) -> FalseClickDensities {
        FalseClickDensities(near: clicks.map { nearDensity($0.0, $0.1, sd: s, inner: inner) },
                            nearMass: nearMass(sd: s, inner: inner), regionShare: regionShare, area: width * height)
    }
}

struct FalseClickDensities {
    var near: [Double]
    var nearMass: Double, regionShare: Double, area: Double

    /// Log-likelihood of the clicks, given they fell in the region, with share `w` beside objects.
    func logLikelihood(share w: Double) -> Double {
        guard !near.isEmpty else { return 0 }
        let inRegion = w * nearMass + (1 - w) * regionShare
        return near.reduce(0) { $0 + log(max(w * $1 + (1 - w) / area, 1e-300)) } - Double(near.count) * log(max(inRegion, 1e-300))
    }
}
