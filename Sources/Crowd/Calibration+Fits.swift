import Consensus
import Foundation

// The models calibration fits: the psychometric detection curve under a click budget, and the
// budget itself as a censored log-normal.

/// A fitted detection curve with its standard errors (plateau, threshold, width) and, per object
/// used, its visibility, observed share and the curve's value.
struct DetectionFit {
    var plateau: Double, threshold: Double, width: Double, tau: Double
    var se: [Double]
    /// The width was narrower than the visibilities resolve and is held at that resolution (no error).
    var widthHeld = false
    /// Correlations between the plateau, threshold and width estimates.
    var correlations: [[Double]] = []
    var objectVisibility: [Double] = [], objectObserved: [Double] = [], predicted: [Double] = []
}

/// A fitted click budget: log-normal median and log SD over worker-images, with standard errors.
/// `bounded` is false when no image ran workers out of clicks (the data then give a lower bound
/// only).
struct BudgetFit {
    var median: Double, logSD: Double, plateauSD: Double, seMedian: Double, seLogSD: Double
    /// Correlation of the median's and the log SD's estimates.
    var correlation: Double = 0
    var bounded: Bool, count: Int
}

extension Calibrator {
    /// Detection and the click budget, fitted in turn: the budget's share of what is noticed on
    /// each image enters the detection fit, and the detection curve gives what each worker notices
    /// for the budget fit. Three rounds settle both.
    /// On an image shown scaled, clicks aimed at objects miss the matching radius more often; the
    /// detection and budget fits read the objects found, and the clicks aimed, net of that.
    static func fitDetectionAndBudget(_ pilot: Pilot, matchRadius: Double, _ c: inout Calibration) {
        let images = pilot.job.images.indices.filter { !pilot.vis[$0].isEmpty }
        let capture = pilot.job.images.indices.map { pilot.captureRelative($0, rmse: c.population.rmseMedian, radius: matchRadius) }
        var share = [Double](repeating: 1, count: pilot.job.images.count)
        var detection: DetectionFit? = nil
        var budget: BudgetFit? = nil
        for _ in 0..<3 {
            guard let d = fitDetection(pilot, images: images, share: zip(share, capture).map(*), resolution: c.population.resolution, prior: c.population) else { break }
            detection = d
            let noticed = images.map { k in Self.noticed(d, visibility: pilot.vis[k]) }
            var obs: [(clicks: Double, noticed: Noticed)] = []
            for (i, k) in images.enumerated() {
                for r in pilot.rows where r.image == k && pilot.good(r) { obs.append((Double(r.tp) / capture[k], noticed[i])) }
            }
            budget = fitBudget(obs)
            guard let b = budget, b.bounded else { break }
            for (i, k) in images.enumerated() { share[k] = budgetShare(median: b.median, logSD: b.logSD, noticed: noticed[i].mean) }
        }
        var p = c.population
        if let d = detection {
            p.detectionPlateau = d.plateau; p.detectionThreshold = d.threshold; p.detectionWidth = d.width; p.objectVisibilitySD = d.tau
            c.notes["detection.plateau"] = "fitted " + plusMinus(d.se[0], digits: 3)
            c.notes["detection.threshold"] = "fitted " + plusMinus(d.se[1], digits: 3)
            c.notes["detection.width"] = d.widthHeld ? "fitted: narrower than the visibilities resolve, held at a thousandth of their range"
                                                     : "fitted " + plusMinus(d.se[2], digits: 3)
            c.notes["detection.object_sd"] = "matches the spread of per-object detection"
            c.standardErrors["detection.plateau"] = d.se[0]; c.standardErrors["detection.threshold"] = d.se[1]; if !d.widthHeld { c.standardErrors["detection.width"] = d.se[2] }
            let keys = ["detection.plateau", "detection.threshold", "detection.width"]
            let fitted = d.widthHeld ? 2 : 3
            for i in 0..<fitted { for j in (i + 1)..<fitted where d.correlations.count == 3 { c.correlations[keys[i] + "|" + keys[j]] = d.correlations[i][j] } }
            c.summary.append(String(format: "detection: plateau %.3f, threshold %.2f, width %.2f, object SD %.2f (%@)", d.plateau, d.threshold, d.width, d.tau, p.measure.rawValue))
            for (k, v) in zip(d.objectVisibility, d.objectObserved).enumerated() {
                c.observed.objects.append((v.0, v.1, d.predicted[k]))
            }
        } else {
            c.notes["detection.threshold"] = "prior: the detection fit failed (too few objects, or no trend with visibility)"
            c.notes["detection.width"] = "prior: the detection fit failed"
            c.summary.append("detection: the fit failed; prior kept for plateau, threshold and width")
        }
        if let b = budget {
            p.detectionPlateauSD = b.plateauSD
            c.notes["detection.plateau_sd"] = String(format: "fitted with the budget (censored likelihood over %d worker-images)", b.count)
        }
        if let b = budget, b.bounded {
            p.toleratedAnnotations = b.median; p.patienceLogSD = b.logSD
            c.notes["effort.tolerated_annotations"] = String(format: "fitted at %.3g USD: median budget %.0f %@ clicks per image (censored likelihood over %d worker-images)", p.referencePay, b.median, plusMinus(b.seMedian, digits: 0), b.count)
            c.notes["effort.patience_log_sd"] = "fitted " + plusMinus(b.seLogSD, digits: 2)
            c.standardErrors["effort.tolerated_annotations"] = b.seMedian; c.standardErrors["effort.patience_log_sd"] = b.seLogSD
            c.correlations["effort.patience_log_sd|effort.tolerated_annotations"] = b.correlation
            c.summary.append(String(format: "click budget: median %.0f clicks per image (log SD %.2f) at $%.3f", b.median, b.logSD, p.referencePay))
        } else {
            // No worker ran out of clicks: each worker-image's true clicks (net of a scaled image's
            // capture, as the budget fit reads them) bound that worker's budget from below. The
            // median is the least those bounds do not refute, and never below the busiest worker's:
            // from a few widely spread bounds the least can fall below it (docs/crowd-model.md).
            let bounds = pilot.rows.filter { images.contains($0.image) && pilot.good($0) }.map { Double($0.tp) / capture[$0.image] }
            let most = bounds.max() ?? 0
            let floor = max(most, leastUnrefutedBudget(bounds, logSD: p.patienceLogSD))
            p.toleratedAnnotations = max(p.toleratedAnnotations, floor)
            c.notes["effort.tolerated_annotations"] = String(format: "prior, at least %.0f: no image of the pilot ran workers out of clicks (the most was %.0f); the least median that, at the prior's spread, gives the pilot's %d freely clicking worker-images a 5 %% chance, and not below the most", floor, most, bounds.count)
            c.notes["effort.patience_log_sd"] = "prior: the budget is not seen in the pilot"
            c.summary.append(String(format: "click budget: not reached in the pilot (workers clicked at most %.0f); median %.0f", most, p.toleratedAnnotations))
        }
        if let d = detection, let b = budget {
            let bm = b.bounded ? b.median : p.toleratedAnnotations, bs = b.bounded ? b.logSD : p.patienceLogSD
            for k in images {
                let n = Self.noticed(d, visibility: pilot.vis[k])
                let expected = expectedClicks(median: bm, logSD: bs, noticed: n.mean) * capture[k]
                for r in pilot.rows where r.image == k && pilot.good(r) {
                    c.observed.clicks.append((pilot.job.images[k].image, Double(r.tp), expected))
                }
            }
        }
        c.population = p
    }

    /// The least median budget a pilot in which no worker ran out of clicks does not refute. Each
    /// worker-image's clicks `c` are then a lower bound on that worker's budget there, and a
    /// log-normal budget of median m and log SD s gives all of them together the chance
    /// `Π P(B ≥ c)`; it grows with m, and the median returned is where it reaches `level`: the
    /// one-sided lower confidence bound. Taking the busiest worker's clicks as the median instead
    /// would cut half the simulated workers below what that worker clicked freely, which on a
    /// small crowd costs the consensus the objects the cut workers leave.
    static func leastUnrefutedBudget(_ bounds: [Double], logSD s: Double, level: Double = 0.05) -> Double {
        let lower = bounds.filter { $0 >= 1 }
        guard let most = lower.max(), s > 0 else { return bounds.max() ?? 0 }
        func logChance(_ logMedian: Double) -> Double {
            lower.reduce(0) { $0 + log(max(normalUpperTail((log($1) - logMedian) / s), 1e-300)) }
        }
        var lo = log(most) - 10 * s, hi = log(most) + 10 * s
        guard logChance(lo) < log(level) else { return exp(lo) }
        for _ in 0..<60 {
            let mid = 0.5 * (lo + hi)
            if logChance(mid) < log(level) { lo = mid } else { hi = mid }
        }
        return exp(hi)
    }

    /// Fits `plateau · share · E_u[1/(1 + exp(-(v + u − threshold)/width))]`, u ~ N(0, τ²), to the
    /// per-object detection shares; τ by the method of moments (the curve's expected spread of
    /// shares, salience plus binomial noise, equal to the observed). Nil when too few objects or
    /// when the fit lands outside what the visibilities allow.
    static func fitDetection(_ pilot: Pilot, images: [Int], share: [Double], resolution: Double, prior: Population) -> DetectionFit? {
        var vs: [Double] = [], ys: [Double] = [], ms: [Double] = [], ss: [Double] = []
        // Objects with a neighbour closer than the resolution are left out: workers see such a pair
        // as one blob and click it once, which the simulator reproduces by itself.
        for k in images {
            let rs = pilot.rows.filter { $0.image == k && pilot.good($0) }
            guard !rs.isEmpty, let t = pilot.truth.byImage[pilot.job.images[k].image] else { continue }
            let shown = resolution * pilot.scale[k]
            let grid = GridIndex(xs: t.xs, ys: t.ys, cell: max(shown, 1))
            for j in pilot.vis[k].indices {
                if shown > 0 && grid.neighbours(of: t.xs[j], t.ys[j], within: shown).count > 1 { continue }
                vs.append(pilot.vis[k][j]); ss.append(share[k])
                ys.append(Double(rs.filter { $0.hits[j] }.count) / Double(rs.count)); ms.append(Double(rs.count))
            }
        }
        guard vs.count >= 10, vs.allSatisfy(\.isFinite) else { return nil }
        let lo = vs.min()!, hi = vs.max()!, range = max(hi - lo, 1e-3)
        let spread = max(quantile(vs, 0.75) - quantile(vs, 0.25), 0.05 * range)
        let m0 = min(max(prior.detectionPlateau, 0.05), 0.95)
        let start = [log(m0 / (1 - m0)), median(vs), log(spread / 3)]
        // A transition narrower than a thousandth of the visibilities' range is not resolved by them:
        // the crowd either sees an object or does not (bright beads). The width is then held there
        // and the plateau and threshold fitted, rather than the curve thrown away for the prior's.
        let narrowest = 1e-3 * range
        func fit(_ tau: Double, _ from: [Double]) -> FitResult? {
            let xs = vs.indices.map(Double.init)
            guard let free = NonlinearLeastSquares.fit(xs: xs, ys: ys, initial: from, model: { q, x in
                marginalDetection(q, v: vs[Int(x)], share: ss[Int(x)], tau: tau)
            }) else { return nil }
            guard exp(free.parameters[2]) < narrowest else { return free }
            let held = log(narrowest)
            guard var f = NonlinearLeastSquares.fit(xs: xs, ys: ys, initial: Array(free.parameters.prefix(2)), model: { q, x in
                let (value, g) = marginalDetection([q[0], q[1], held], v: vs[Int(x)], share: ss[Int(x)], tau: tau)
                return (value, [g[0], g[1]])
            }) else { return nil }
            f.parameters.append(held); f.standardErrors.append(0)   // no error: how `DetectionFit.widthHeld` knows it
            f.correlations = f.correlations.count == 2 ? [f.correlations[0] + [0], f.correlations[1] + [0], [0, 0, 1]] : []
            return f
        }
        guard let base = fit(0, start) else { return nil }
        let width0 = exp(base.parameters[2])
        var best: (tau: Double, fit: FitResult)? = nil
        var previous: (tau: Double, gap: Double)? = nil
        for c in [0.0, 0.5, 1, 1.5, 2, 3, 4, 6, 8] {
            let tau = c * width0
            guard let f = fit(tau, base.parameters) else { continue }
            let spread = detectionSpread(f.parameters, vs: vs, shares: ss, ms: ms, ys: ys, tau: tau)
            let gap = spread.expected - spread.observed
            if gap >= 0 {
                if let prev = previous, prev.gap < 0 {
                    let t = prev.tau + (tau - prev.tau) * (-prev.gap) / (gap - prev.gap)
                    best = fit(t, f.parameters).map { (t, $0) } ?? (tau, f)
                } else { best = (tau, f) }
                break
            }
            previous = (tau, gap)
            best = (tau, f)
        }
        guard let (tau, f) = best, f.parameters.allSatisfy(\.isFinite) else { return nil }
        let plateau = 1 / (1 + exp(-f.parameters[0])), threshold = f.parameters[1], width = exp(f.parameters[2])
        // A curve whose midpoint or width lies far beyond the visibilities seen is not measured.
        guard threshold > lo - 2 * range, threshold < hi + 2 * range, width >= narrowest, width < 4 * range else { return nil }
        var out = DetectionFit(plateau: plateau, threshold: threshold, width: width, tau: tau,
                               se: [plateau * (1 - plateau) * f.standardErrors[0], f.standardErrors[1], width * f.standardErrors[2]])
        out.correlations = f.correlations
        out.widthHeld = f.standardErrors[2] == 0
        out.objectVisibility = vs; out.objectObserved = ys
        out.predicted = vs.indices.map { marginalDetection(f.parameters, v: vs[$0], share: ss[$0], tau: tau).0 }
        return out
    }

    /// Objects a worker notices on an image (before the budget): the mean, the binomial variance
    /// of the count, and the sum of the objects' chances before the plateau (a worker whose plateau
    /// is off by δ notices δ times that many more or fewer).
    static func noticed(_ d: DetectionFit, visibility: [Double]) -> Noticed {
        var sum = 0.0, binomial = 0.0
        for v in visibility {
            let chance = d.plateau * hermiteMean(tau: d.tau) { u in 1 / (1 + exp(-(v + u - d.threshold) / d.width)) }
            sum += chance; binomial += chance * (1 - chance)
        }
        return Noticed(mean: sum, binomialVariance: binomial, beforePlateau: sum / max(d.plateau, 1e-6))
    }

    /// Maximum likelihood of `clicks = min(D, B)`: D ~ N(mean, binomial + (plateau_sd · S)²) the
    /// objects noticed, B log-normal (median, log SD) the budget; `f(c) = f_B(c)·P(D > c) + f_D(c)·P(B > c)`.
    /// A grid over the three parameters, refined; standard errors from the curvature at the optimum.
    /// The plateau's spread and the budget's are told apart because the budget binds on crowded
    /// images only, while the plateau's spread shows on every image.
    static func fitBudget(_ obs: [(clicks: Double, noticed: Noticed)]) -> BudgetFit? {
        guard obs.count >= 5 else { return nil }
        let largest = obs.map(\.clicks).max() ?? 0
        func logLikelihood(_ m: Double, _ s: Double, _ psd: Double) -> Double {
            var total = 0.0
            for o in obs {
                let c = max(o.clicks, 0.5)
                let sd = max((o.noticed.binomialVariance + psd * psd * o.noticed.beforePlateau * o.noticed.beforePlateau).squareRoot(), 1)
                let zb = (log(c) - m) / s, zd = (c - o.noticed.mean) / sd
                let fb = exp(-0.5 * zb * zb) / (c * s * 2.5066282746310002), sb = normalUpperTail(zb)
                let fd = exp(-0.5 * zd * zd) / (sd * 2.5066282746310002), sdD = normalUpperTail(zd)
                total += log(max(fb * sdD + fd * sb, 1e-300))
            }
            return total
        }
        let mMax = log(max(20 * largest, 100))
        var best = (m: 0.0, s: 1.0, psd: 0.0, ll: -Double.infinity)
        for psd in stride(from: 0.0, through: 0.45, by: 0.05) {
            for m in stride(from: 0.0, through: mMax, by: 0.1) {
                for s in stride(from: 0.1, through: 3.0, by: 0.1) {
                    let ll = logLikelihood(m, s, psd); if ll > best.ll { best = (m, s, psd, ll) }
                }
            }
        }
        let coarse = best
        for dp in stride(from: -0.05, through: 0.05, by: 0.01) where coarse.psd + dp >= 0 {
            for dm in stride(from: -0.1, through: 0.1, by: 0.01) {
                for ds in stride(from: -0.1, through: 0.1, by: 0.01) where coarse.s + ds > 0.01 {
                    let ll = logLikelihood(coarse.m + dm, coarse.s + ds, coarse.psd + dp)
                    if ll > best.ll { best = (coarse.m + dm, coarse.s + ds, coarse.psd + dp, ll) }
                }
            }
        }
        // Bounded when the likelihood falls clearly (by 2 log units) towards ever larger budgets,
        // the plateau's spread free there too: on one image, or images where workers notice alike,
        // a spread of clicks is the plateau's as well as a budget's, and no budget is seen.
        var atLargest = (ll: -Double.infinity, psd: best.psd)
        for psd in Array(stride(from: 0.0, through: 0.45, by: 0.05)) + [best.psd] {
            for s in stride(from: 0.1, through: 3.0, by: 0.1) {
                let ll = logLikelihood(mMax, s, psd); if ll > atLargest.ll { atLargest = (ll, psd) }
            }
        }
        let bounded = best.m < mMax - 0.3 && best.ll - atLargest.ll > 2
        let h = 1e-3, f0 = best.ll
        let dmm = (logLikelihood(best.m + h, best.s, best.psd) - 2 * f0 + logLikelihood(best.m - h, best.s, best.psd)) / (h * h)
        let dss = (logLikelihood(best.m, best.s + h, best.psd) - 2 * f0 + logLikelihood(best.m, best.s - h, best.psd)) / (h * h)
        let dms = (logLikelihood(best.m + h, best.s + h, best.psd) - logLikelihood(best.m + h, best.s - h, best.psd)
                   - logLikelihood(best.m - h, best.s + h, best.psd) + logLikelihood(best.m - h, best.s - h, best.psd)) / (4 * h * h)
        // The covariance is the inverse of the negative Hessian.
        let det = dmm * dss - dms * dms
        let ok = dmm < 0 && det > 0
        let seM = ok ? (-dss / det).squareRoot() : .nan, seS = ok ? (-dmm / det).squareRoot() : .nan
        // Without a budget the plateau's spread is the one that explains the clicks alone.
        var out = BudgetFit(median: exp(best.m), logSD: best.s, plateauSD: bounded ? best.psd : atLargest.psd, seMedian: exp(best.m) * seM, seLogSD: seS,
                            bounded: bounded, count: obs.count)
        out.correlation = ok ? dms / (dmm * dss).squareRoot() : 0
        return out
    }
}

/// Objects a worker notices on one image, before the budget (see `Calibrator.noticed`).
struct Noticed { var mean: Double, binomialVariance: Double, beforePlateau: Double }

/// `E[min(1, B/n)]` for a log-normal budget B (median, log SD): the share of what is noticed that
/// the budget lets a worker click, exactly: `P(B > n) + E[B; B < n] / n`.
func budgetShare(median: Double, logSD s: Double, noticed n: Double) -> Double {
    guard n > 0 else { return 1 }
    guard s > 1e-6 else { return min(1, median / n) }
    let m = log(median), z = (log(n) - m) / s
    let above = normalUpperTail(z)
    let partial = exp(m + s * s / 2) * normalUpperTail(s - z)
    return above + partial / n
}

/// `P(Z > z)` for a standard normal Z.
func normalUpperTail(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }

/// Expected clicks `E[min(D, B)]` with D at its mean.
func expectedClicks(median: Double, logSD: Double, noticed n: Double) -> Double { n * budgetShare(median: median, logSD: logSD, noticed: n) }

/// 9-point Gauss-Hermite rule for E[f(u)], u ~ N(0, τ²): nodes √2·τ·x_k, weights w_k/√π.
let hermiteNodes: [Double] = [-3.190993201781528, -2.266580584531843, -1.468553289216668, -0.7235510187528376, 0,
                              0.7235510187528376, 1.468553289216668, 2.266580584531843, 3.190993201781528]
let hermiteWeights: [Double] = [3.960697726326e-05, 0.004943624275537, 0.08847452739438, 0.4326515590026, 0.7202352156061,
                                0.4326515590026, 0.08847452739438, 0.004943624275537, 3.960697726326e-05].map { $0 / Double.pi.squareRoot() }

/// E[f(u)] for u ~ N(0, τ²) (f(0) when τ is 0).
func hermiteMean(tau: Double, _ f: (Double) -> Double) -> Double {
    guard tau > 0 else { return f(0) }
    var s = 0.0
    for k in 0..<9 { s += hermiteWeights[k] * f(2.0.squareRoot() * tau * hermiteNodes[k]) }
    return s
}

/// Marginal detection share of an object of visibility v on an image whose budget lets workers
/// click `share` of what they notice, and its gradient in (logit plateau, threshold, log width),
/// averaged over the object offset.
func marginalDetection(_ q: [Double], v: Double, share r: Double, tau: Double) -> (Double, [Double]) {
    let plateau = 1 / (1 + exp(-q[0])), width = exp(q[2])
    var value = 0.0, g = [0.0, 0.0, 0.0]
    for k in 0..<(tau > 0 ? 9 : 1) {
        let u = tau > 0 ? 2.0.squareRoot() * tau * hermiteNodes[k] : 0
        let wk = tau > 0 ? hermiteWeights[k] : 1
        let e = exp(-(v + u - q[1]) / width)
        let logistic = 1 / (1 + e)
        let mu = plateau * r * logistic
        value += wk * mu
        g[0] += wk * mu * (1 - plateau)
        g[1] += wk * (-plateau * r * logistic * logistic * e / width)
        g[2] += wk * (-plateau * r * logistic * logistic * e * (v + u - q[1]) / width)
    }
    return (value, g)
}

/// Observed and expected sums of squared deviations of per-object detection shares from the curve.
func detectionSpread(_ q: [Double], vs: [Double], shares: [Double], ms: [Double], ys: [Double], tau: Double) -> (observed: Double, expected: Double) {
    var observed = 0.0, expected = 0.0
    let plateau = 1 / (1 + exp(-q[0])), width = exp(q[2])
    for i in vs.indices {
        var mean = 0.0, second = 0.0, binomial = 0.0
        for k in 0..<(tau > 0 ? 9 : 1) {
            let u = tau > 0 ? 2.0.squareRoot() * tau * hermiteNodes[k] : 0
            let wk = tau > 0 ? hermiteWeights[k] : 1
            let mu = plateau * shares[i] / (1 + exp(-(vs[i] + u - q[1]) / width))
            mean += wk * mu; second += wk * mu * mu; binomial += wk * mu * (1 - mu)
        }
        observed += (ys[i] - mean) * (ys[i] - mean)
        expected += (second - mean * mean) + binomial / max(ms[i], 1)
    }
    return (observed, expected)
}
