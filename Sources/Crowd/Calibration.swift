import Consensus
import Foundation

/// Fits a population to a real export with truth. What cannot be seen in one export (how effort
/// responds to pay, arrival rates) keeps the population's prior values and is marked so.
///
/// - Detection: each object's detection share among the (non-careless) workers who saw its image is
///   fitted by Levenberg-Marquardt (GSL) to `plateau · R(n) · 1/(1 + exp(-(v − threshold)/width))`,
///   where `R(n) = E_p[min(1, (p·tolerated/n)^recall_exponent)]` is the effort share for an image of n
///   objects, averaged over workers' patience p,
///   at the export's pay: images with many objects are clicked less thoroughly, which is how the
///   tolerated annotations are measured.
/// - Careless workers: precision below 0.5 against truth (at least 5 clicks).
/// - False positives: a weighted straight-line fit of the false share per annotation index over the
///   first `learning_annotations` annotations (workers' submissions in completion order).
/// - Pointing: per-worker RMSE against truth (log-normal), Fitts' law over workers, spread of periods.
/// - Participation: Pareto shape by maximum likelihood on images per worker.
public struct Calibration: Sendable {
    public var population: Population
    /// Comments for the YAML: fitted values with their standard errors, or "prior" for kept values.
    public var notes: [String: String]
    public var summary: [String]
}

public enum Calibrator {
    public static func calibrate(export: QuantiusExport, truth: TruthSet, visibility: [String: [Double]]?,
                                 pay: Double, prior: Population = Population(), matchRadius: Double = 8) throws -> Calibration {
        var p = prior
        var notes: [String: String] = [:]
        var summary: [String] = []
        p.measure = visibility == nil ? .snr : .contrast
        let job = ClickJob(export: export)
        struct WorkerImage { var worker: Int; var image: Int; var hits: [Bool]; var clicks: Int; var tp: Int; var sq: Double
            var flags: [Bool]; var periods: [Double]; var steps: [Double]; var firstClick: Double?; var completed: Double; var record: Int }
        var rows: [WorkerImage] = []
        var vis: [[Double]] = []
        var completion: [String: (Double, Int)] = [:]
        for (i, r) in export.records.enumerated() {
            completion[r.workerID + "\u{1}" + r.imageFilename] = (r.timeWhenCompleted.map(portalCompletionSeconds) ?? 0, i)
        }
        for (k, im) in job.images.enumerated() {
            guard let t = truth.byImage[im.image] else { vis.append([]); continue }
            if let v = visibility {
                guard let vi = v[im.image], vi.count == t.count else {
                    throw InputError(file: im.image, message: "no image to measure contrast in (calibrate --images)")
                }
                vis.append(vi)
            } else {
                guard let snr = t.snr else { throw InputError(file: t.source, field: "snr", message: "truth has no snr column; pass --images to calibrate on measured contrast") }
                vis.append(snr)
            }
            let matcher = PointMatcher(bx: t.xs, by: t.ys, radius: matchRadius)
            var byWorker: [Int: [Int]] = [:]
            for i in 0..<im.count { byWorker[Int(im.worker[i]), default: []].append(i) }
            for w in im.workers {
                let idx = (byWorker[w] ?? []).sorted { im.timestamp[$0] != im.timestamp[$1] ? im.timestamp[$0] < im.timestamp[$1] : $0 < $1 }
                let m = matcher.match(ax: idx.map { im.xs[$0] }, ay: idx.map { im.ys[$0] })
                var hits = [Bool](repeating: false, count: t.count)
                var flags = [Bool](repeating: true, count: idx.count)
                var sq = 0.0
                for (a, b, d) in m.pairs { hits[b] = true; flags[a] = false; sq += d * d }
                var periods: [Double] = [], steps: [Double] = []
                for j in 1..<max(1, idx.count) where im.timestamp[idx[j]] > im.timestamp[idx[j - 1]] {
                    periods.append((im.timestamp[idx[j]] - im.timestamp[idx[j - 1]]) / 1000)
                    steps.append(((im.xs[idx[j]] - im.xs[idx[j - 1]]) * (im.xs[idx[j]] - im.xs[idx[j - 1]])
                                  + (im.ys[idx[j]] - im.ys[idx[j - 1]]) * (im.ys[idx[j]] - im.ys[idx[j - 1]])).squareRoot())
                }
                let c = completion[job.workerIDs[w] + "\u{1}" + im.image] ?? (0, 0)
                rows.append(WorkerImage(worker: w, image: k, hits: hits, clicks: idx.count, tp: m.pairs.count, sq: sq,
                                        flags: flags, periods: periods, steps: steps, firstClick: idx.first.map { im.timestamp[$0] / 1000 },
                                        completed: c.0, record: c.1))
            }
        }
        guard !rows.isEmpty else { throw InputError(file: "--truth", message: "no image of the export has truth: nothing to calibrate on") }
        let nW = job.workerIDs.count

        // Careless workers.
        var clicks = [Int](repeating: 0, count: nW), tps = [Int](repeating: 0, count: nW)
        for r in rows { clicks[r.worker] += r.clicks; tps[r.worker] += r.tp }
        let seen = Set(rows.map(\.worker))
        let careless = Set(seen.filter { DetectionScore.isMostlyFalse(truePositives: tps[$0], clicks: clicks[$0]) })
        p.carelessShare = Double(careless.count) / Double(max(1, seen.count))
        notes["careless.share"] = "\(careless.count) of \(seen.count) workers below 0.5 precision"
        if !careless.isEmpty {
            let c = careless.reduce(0) { $0 + clicks[$1] }, t = careless.reduce(0) { $0 + tps[$1] }
            p.carelessFalsePositive = min(0.95, Double(c - t) / Double(max(1, c)))
            notes["careless.false_positive_rate"] = "measured"
            // Their detection relative to the others': the share of the objects they saw that they
            // found, pooled over each group (visibility and effort weigh on both alike).
            func found(_ group: (Int) -> Bool) -> Double {
                let rs = rows.filter { group($0.worker) }
                return Double(rs.reduce(0) { $0 + $1.tp }) / Double(max(1, rs.reduce(0) { $0 + $1.hits.count }))
            }
            let others = found { !careless.contains($0) }
            if others > 0 {
                p.carelessDetectionFactor = min(1, found { careless.contains($0) } / others)
                notes["careless.detection_factor"] = "measured: they found \(String(format: "%.3f", found { careless.contains($0) })) of the objects, the others \(String(format: "%.3f", others))"
            }
        }

        // Detection curve over objects, from the non-careless workers.
        var xs: [(v: Double, n: Double)] = [], ys: [Double] = [], workersPerObject: [Double] = []
        // Objects with a neighbour closer than the resolution are left out: workers see such a pair
        // as one blob and click it once, which the simulator reproduces by itself.
        for k in job.images.indices where !vis[k].isEmpty {
            let rs = rows.filter { $0.image == k && !careless.contains($0.worker) }
            guard !rs.isEmpty, let t = truth.byImage[job.images[k].image] else { continue }
            let n = Double(vis[k].count)
            let grid = GridIndex(xs: t.xs, ys: t.ys, cell: max(p.resolution, 1))
            for j in vis[k].indices {
                if p.resolution > 0 && grid.neighbours(of: t.xs[j], t.ys[j], within: p.resolution).count > 1 { continue }
                xs.append((vis[k][j], n))
                ys.append(Double(rs.filter { $0.hits[j] }.count) / Double(rs.count))
                workersPerObject.append(Double(rs.count))
            }
        }
        let beta = p.recallExponent, sigmaP = p.patienceLogSD
        let vs = xs.map(\.v), ns = xs.map(\.n), ms = workersPerObject
        let start = [log(p.detectionPlateau / (1 - p.detectionPlateau)), median(vs),
                     log(max(0.5, quantile(vs, 0.75) - quantile(vs, 0.25)) / 3), log(max(20, quantile(ns, 0.5)))]
        // Objects differ in salience beyond what the measure captures (neighbours, background,
        // shape): a visibility offset per object, N(0, τ²), shared by every worker. τ is chosen so
        // the curve's expected spread of per-object detection shares (salience plus binomial noise)
        // matches the observed one: a method of moments over the random-effects psychometric model.
        var best: (tau: Double, fit: FitResult)? = nil
        if let base = fitDetection(vs: vs, ns: ns, ys: ys, beta: beta, tau: 0, patience: sigmaP, start: start) {
            let width0 = exp(base.parameters[2])
            var previous: (tau: Double, gap: Double, fit: FitResult)? = nil
            for c in [0.0, 0.5, 1, 1.5, 2, 3, 4, 6, 8] {
                let tau = c * width0
                guard let f = fitDetection(vs: vs, ns: ns, ys: ys, beta: beta, tau: tau, patience: sigmaP, start: base.parameters) else { continue }
                let (observed, expected) = detectionSpread(f.parameters, vs: vs, ns: ns, ms: ms, ys: ys, beta: beta, tau: tau, patience: sigmaP)
                let gap = expected - observed
                if gap >= 0 {
                    if let prev = previous, prev.gap < 0 {
                        // Interpolate between the grid points and refit there.
                        let t = prev.tau + (tau - prev.tau) * (-prev.gap) / (gap - prev.gap)
                        best = fitDetection(vs: vs, ns: ns, ys: ys, beta: beta, tau: t, patience: sigmaP, start: f.parameters).map { (t, $0) } ?? (tau, f)
                    } else { best = (tau, f) }
                    break
                }
                previous = (tau, gap, f)
                best = (tau, f)
            }
        }
        if let (tau, f) = best {
            let plateau = 1 / (1 + exp(-f.parameters[0]))
            p.detectionPlateau = plateau
            p.detectionThreshold = f.parameters[1]
            p.detectionWidth = exp(f.parameters[2])
            p.toleratedAnnotations = exp(f.parameters[3])
            p.objectVisibilitySD = tau
            p.referencePay = pay
            notes["detection.plateau"] = String(format: "fitted ± %.3f", plateau * (1 - plateau) * f.standardErrors[0])
            notes["detection.threshold"] = String(format: "fitted ± %.3f", f.standardErrors[1])
            notes["detection.width"] = String(format: "fitted ± %.3f", p.detectionWidth * f.standardErrors[2])
            notes["detection.object_sd"] = "matches the spread of per-object detection"
            notes["effort.tolerated_annotations"] = String(format: "fitted at %.3g USD ± %.1f", pay, p.toleratedAnnotations * f.standardErrors[3])
            notes["effort.reference_pay_usd"] = "pay of the calibration export (--pay)"
            summary.append(String(format: "detection: plateau %.3f, threshold %.2f, width %.2f, object SD %.2f", plateau, p.detectionThreshold, p.detectionWidth, tau)
                           + " (\(p.measure.rawValue))" + String(format: ", tolerated %.0f annotations at $%.3f", p.toleratedAnnotations, pay))
        }
        // Spread of the plateau between workers: detection of clearly visible objects, corrected
        // for effort and for binomial noise.
        var rates: [Double] = [], noiseVar: [Double] = []
        for w in seen where !careless.contains(w) {
            var hit = 0.0, n = 0.0, expected = 0.0
            for r in rows where r.worker == w {
                let nObj = Double(vis[r.image].count)
                let share = patienceAveragedShare(ratio: p.toleratedAnnotations / nObj, beta: beta, patienceLogSD: sigmaP).share
                for (j, v) in vis[r.image].enumerated() where v > p.detectionThreshold + 2 * p.detectionWidth {
                    n += 1; hit += r.hits[j] ? 1 : 0; expected += share
                }
            }
            if n >= 20 && expected > 0 {
                rates.append(hit / expected)   // detection relative to the effort-limited expectation
                let pr = min(max(hit / n, 0.01), 0.99)
                noiseVar.append(pr * (1 - pr) / n * pow(n / expected, 2))
            }
        }
        if rates.count >= 3 {
            let m = mean(rates)
            let v = rates.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(rates.count - 1) - mean(noiseVar)
            p.detectionPlateauSD = min(0.45, max(0, v).squareRoot() * p.detectionPlateau / max(m, 1e-6))
            notes["detection.plateau_sd"] = "from \(rates.count) workers' detection of visible objects"
        }

        // False positives by annotation index (non-careless workers).
        var fpAt: [Double] = [], nAt: [Double] = []
        for w in seen where !careless.contains(w) {
            var index = 0
            for r in rows.filter({ $0.worker == w }).sorted(by: { $0.completed != $1.completed ? $0.completed < $1.completed : $0.record < $1.record }) {
                for f in r.flags {
                    if index >= nAt.count { nAt.append(0); fpAt.append(0) }
                    nAt[index] += 1; fpAt[index] += f ? 1 : 0
                    index += 1
                }
            }
        }
        let window = min(p.learningAnnotations, nAt.count)
        if window >= 5, let l = linearFit(xs: (0..<window).map { Double($0 + 1) }, ys: (0..<window).map { fpAt[$0] / nAt[$0] }, weights: Array(nAt.prefix(window))) {
            p.falsePositiveFirst = min(0.9, max(0, l.intercept + l.slope))
            p.falsePositiveLater = min(0.9, max(0, l.intercept + l.slope * Double(p.learningAnnotations)))
            notes["false_positives.rate_first"] = String(format: "fitted ± %.4f", l.seIntercept)
            notes["false_positives.rate_later"] = String(format: "fitted; slope %.5f ± %.5f per annotation", l.slope, l.seSlope)
            summary.append(String(format: "false positives: %.2f %% at the first annotation, %.2f %% at the %dth", p.falsePositiveFirst * 100, p.falsePositiveLater * 100, p.learningAnnotations))
        }

        // Pointing.
        var sq = [Double](repeating: 0, count: nW), tp = [Double](repeating: 0, count: nW)
        var periods = [[Double]](repeating: [], count: nW)
        for r in rows { sq[r.worker] += r.sq; tp[r.worker] += Double(r.tp); periods[r.worker] += r.periods }
        var rmse: [Double] = [], period: [Double] = []
        for w in seen where !careless.contains(w) && tp[w] >= 10 && !periods[w].isEmpty {
            rmse.append((sq[w] / tp[w]).squareRoot()); period.append(median(periods[w]))
        }
        if rmse.count >= 4 {
            let logs = rmse.map { log($0) }
            let ml = mean(logs)
            p.rmseMedian = median(rmse)
            p.rmseLogSD = (logs.map { ($0 - ml) * ($0 - ml) }.reduce(0, +) / Double(logs.count - 1)).squareRoot()
            notes["pointing.rmse_median_px"] = "\(rmse.count) workers"
            notes["pointing.rmse_log_sd"] = "measured"
            let allSteps = rows.flatMap(\.steps)
            let amplitude = allSteps.isEmpty ? p.fittsC : median(allSteps)
            if let f = FittsLaw.fit(rmse: rmse, period: period, amplitude: amplitude) {
                p.fittsA = f.result.parameters[0]; p.fittsB = max(0, f.result.parameters[1]); p.fittsC = f.result.parameters[2]
                notes["pointing.fitts_a_s"] = String(format: "fitted ± %.3f", f.result.standardErrors[0])
                notes["pointing.fitts_b_s"] = String(format: "fitted ± %.3f", f.result.standardErrors[1])
                notes["pointing.fitts_c_px"] = f.amplitudeFixed ? "measured movement amplitude (c not determined by the fit)" : String(format: "fitted ± %.2f", f.result.standardErrors[2])
                let resid = zip(rmse, period).map { log($1 / max(0.05, FittsLaw.value([p.fittsA, p.fittsB, p.fittsC], $0))) }
                let mr = mean(resid)
                p.periodLogSD = (resid.map { ($0 - mr) * ($0 - mr) }.reduce(0, +) / Double(max(1, resid.count - 1))).squareRoot()
                notes["pointing.period_log_sd"] = "spread about the fitted law"
            }
            summary.append(String(format: "pointing: median RMSE %.2f px (log SD %.2f); Fitts a %.2f s, b %.2f s, c %.1f px", p.rmseMedian, p.rmseLogSD, p.fittsA, p.fittsB, p.fittsC))
        }
        let firstDelays = rows.compactMap(\.firstClick)
        if !firstDelays.isEmpty { p.firstClickDelay = median(firstDelays); notes["pointing.first_click_s"] = "median of first-click times" }

        // Participation: Pareto shape by maximum likelihood (x_min = 1).
        var images = [Double](repeating: 0, count: nW)
        for r in rows { images[r.worker] += 1 }
        let counts = images.filter { $0 > 0 }
        // Images a worker takes, within tolerance: the observed mean divided by the effort share of
        // the export's images (a lower bound when workers ran out of images, as in small jobs).
        let shares = job.images.map { im -> Double in
            p.effort(objects: Double(truth.byImage[im.image]?.count ?? 0), pay: p.referencePay).images
        }
        let logSum = counts.reduce(0) { $0 + log($1) }
        if logSum > 0 {
            p.paretoAlpha = min(20, max(0.2, Double(counts.count) / logSum))
            notes["participation.pareto_alpha"] = String(format: "maximum likelihood ± %.2f (images per worker are capped by the job's size)", p.paretoAlpha / Double(counts.count).squareRoot())
        }
        if !counts.isEmpty {
            // The median worker's budget whose capped Pareto mean is the observed mean (bisection:
            // the mean grows with the budget).
            let observed = mean(counts), share = max(mean(shares), 0.05)
            var lo = 1.0, hi = 10_000.0
            for _ in 0..<60 {
                var trial = p; trial.imagesPerWorker = (lo * hi).squareRoot()
                if trial.meanImagesPerTaker(cap: job.images.count, imagesShare: share) < observed { lo = trial.imagesPerWorker } else { hi = trial.imagesPerWorker }
            }
            p.imagesPerWorker = (lo * hi).squareRoot()
            notes["effort.images_per_worker"] = String(format: "mean images per worker %.2f of at most %d in the export, with the Pareto shape", observed, job.images.count)
        }
        for k in ["detection.resolution_px", "false_positives.learning_annotations", "false_positives.distractor_confusion", "careless.detection_factor", "careless.error_factor",
                  "pointing.activity_error_exponent", "effort.pay_elasticity", "effort.recall_exponent", "effort.patience_log_sd", "effort.images_per_worker",
                  "effort.images_exponent", "effort.acceptance_exponent", "marketplace.arrivals_per_hour", "marketplace.arrival_elasticity"] where notes[k] == nil {
            notes[k] = "prior: not identifiable from one export"
        }
        return Calibration(population: p, notes: notes, summary: summary)
    }
}

/// 9-point Gauss-Hermite rule for E[f(u)], u ~ N(0, τ²): nodes √2·τ·x_k, weights w_k/√π.
let hermiteNodes: [Double] = [-3.190993201781528, -2.266580584531843, -1.468553289216668, -0.7235510187528376, 0,
                              0.7235510187528376, 1.468553289216668, 2.266580584531843, 3.190993201781528]
let hermiteWeights: [Double] = [3.960697726326e-05, 0.004943624275537, 0.08847452739438, 0.4326515590026, 0.7202352156061,
                                0.4326515590026, 0.08847452739438, 0.004943624275537, 3.960697726326e-05].map { $0 / Double.pi.squareRoot() }

/// Marginal detection share of an object of visibility v in an image of n objects, and its gradient
/// in (logit plateau, threshold, log width, log tolerated), averaged over the object offset.
func marginalDetection(_ q: [Double], v: Double, n: Double, beta: Double, tau: Double, patience: Double = 0) -> (Double, [Double]) {
    let plateau = 1 / (1 + exp(-q[0])), width = exp(q[2]), tol = exp(q[3])
    let (r, dr) = patienceAveragedShare(ratio: tol / n, beta: beta, patienceLogSD: patience)
    var value = 0.0, g = [0.0, 0.0, 0.0, 0.0]
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
        g[3] += wk * plateau * logistic * dr
    }
    return (value, g)
}

func fitDetection(vs: [Double], ns: [Double], ys: [Double], beta: Double, tau: Double, patience: Double = 0, start: [Double]) -> FitResult? {
    NonlinearLeastSquares.fit(xs: Array(0..<vs.count).map(Double.init), ys: ys, initial: start) { q, x in
        let i = Int(x)
        return marginalDetection(q, v: vs[i], n: ns[i], beta: beta, tau: tau, patience: patience)
    }
}

/// The effort share `min(1, (ratio · p)^β)` averaged over workers' patience p (log-normal, SD σ),
/// and its derivative in log ratio: what a crowd of differently patient workers clicks on average.
func patienceAveragedShare(ratio: Double, beta: Double, patienceLogSD sigma: Double) -> (share: Double, dLogRatio: Double) {
    guard sigma > 0 else { return ratio < 1 ? (pow(ratio, beta), beta * pow(ratio, beta)) : (1, 0) }
    var share = 0.0, d = 0.0
    for k in 0..<9 {
        let x = ratio * exp(2.0.squareRoot() * sigma * hermiteNodes[k])
        if x < 1 { let r = pow(x, beta); share += hermiteWeights[k] * r; d += hermiteWeights[k] * beta * r } else { share += hermiteWeights[k] }
    }
    return (share, d)
}

/// Observed and expected sums of squared deviations of per-object detection shares from the curve.
func detectionSpread(_ q: [Double], vs: [Double], ns: [Double], ms: [Double], ys: [Double], beta: Double, tau: Double, patience: Double = 0) -> (Double, Double) {
    var observed = 0.0, expected = 0.0
    let plateau = 1 / (1 + exp(-q[0])), width = exp(q[2]), tol = exp(q[3])
    for i in vs.indices {
        let r = patienceAveragedShare(ratio: tol / ns[i], beta: beta, patienceLogSD: patience).share
        var mean = 0.0, second = 0.0, binomial = 0.0
        for k in 0..<(tau > 0 ? 9 : 1) {
            let u = tau > 0 ? 2.0.squareRoot() * tau * hermiteNodes[k] : 0
            let wk = tau > 0 ? hermiteWeights[k] : 1
            let mu = plateau * r / (1 + exp(-(vs[i] + u - q[1]) / width))
            mean += wk * mu; second += wk * mu * mu; binomial += wk * mu * (1 - mu)
        }
        observed += (ys[i] - mean) * (ys[i] - mean)
        expected += (second - mean * mean) + binomial / max(ms[i], 1)
    }
    return (observed, expected)
}
