import Consensus
import Foundation

/// Fits a population to a real export with truth (a pilot). What cannot be seen in one export (how
/// effort responds to pay, arrival rates) keeps the population's prior values and is marked so;
/// a fit that fails or lands outside what people do falls back to the prior and says which.
///
/// - Careless workers: precision below 0.5 against truth (at least 5 clicks).
/// - Click budget: real workers spend a budget of clicks per image whatever it holds. Each
///   worker's true clicks on an image are `min(D, B)`, D the objects they notice (from the detection
///   curve: mean and spread over workers) and B their budget (log-normal over workers); the budget's
///   median and spread, and the plateau's spread between workers, are fitted by maximum likelihood
///   of that censored model. Sparse images, where nobody runs out, bound the budget from below only.
/// - Detection: each object's detection share among the (non-careless) workers who saw its image is
///   fitted by Levenberg-Marquardt (GSL) to `plateau · s_k · 1/(1 + exp(-(v − threshold)/width))`,
///   with `s_k` the budget's share of what is noticed on image k, alternating with the budget fit;
///   objects differ in salience beyond the measure (a visibility offset per object, SD τ by the
///   method of moments).
/// - False positives: a weighted straight-line fit of the false share per annotation index over the
///   first `learning_annotations` annotations; a slope that is not negative beyond two standard
///   errors is no learning, and the rate is then flat.
/// - Look-alikes (with the images): the share of false clicks landing on image structure, against
///   what clicks placed anywhere would give.
/// - Pointing: per-worker RMSE against truth (log-normal), Fitts' law over workers, spread of periods.
/// - Participation: Pareto shape by maximum likelihood on images per worker.
public struct Calibration: Sendable {
    public var population: Population
    /// Comments for the YAML: fitted values with their standard errors, or "prior" for kept values.
    public var notes: [String: String]
    public var summary: [String]
    /// Standard errors of the fitted values, by YAML key (`detection.threshold`, ...): what
    /// `crowdlab predict` draws populations from.
    public var standardErrors: [String: Double] = [:]
    /// Correlations between fitted values' estimates, keyed `a|b` (as `Population.correlations`).
    public var correlations: [String: Double] = [:]
    /// The population with its errors and correlations, as `calibrate` writes it.
    public var populationWithUncertainty: Population {
        var p = population; p.standardErrors = standardErrors; p.correlations = correlations; return p
    }
    /// What the pilot showed, for the calibration report.
    public var observed = Observed()

    public struct Observed: Sendable {
        /// Per object with a visibility: visibility, observed detection share, the fitted curve's value.
        public var objects: [(visibility: Double, observed: Double, predicted: Double)] = []
        /// Per non-careless worker-image: true clicks, and the fitted model's expected true clicks.
        public var clicks: [(image: String, observed: Double, predicted: Double)] = []
        /// False share by annotation index (1-based) with its count.
        public var falseByIndex: [(index: Int, rate: Double, count: Double)] = []
        /// Per worker: RMSE (px, about each image's mean displacement from the truth) and median
        /// click period (s).
        public var pointing: [(rmse: Double, period: Double)] = []
        /// Careful workers' matched clicks' mean displacement from the truth over all images (image
        /// px, `y` up): the truth's convention or the crowd's bias, taken out of the RMSE.
        public var truthOffset: (x: Double, y: Double) = (0, 0)
        /// The false-positive rates as the pilot shows them (first, later), before they are scaled
        /// to the rates the simulator generates at.
        public var falseRatesSeen: (first: Double, later: Double) = (0, 0)
        /// False clicks of careful workers by distance to the nearest object (bins from `edge` px):
        /// the pilot's share and the simulated pilot's.
        public var falseDistance: [(edge: Double, observed: Double, simulated: Double)] = []
    }
}

public enum Calibrator {
    /// One worker's submission on one image, matched to truth.
    struct Row {
        var worker: Int, image: Int
        var hits: [Bool]
        var clicks: Int, tp: Int
        /// The matched clicks' displacements from their true objects: their spread about the
        /// image's mean displacement is the pointing error (`fitPointing`).
        var displacements: Displacements
        var flags: [Bool]
        var falseX: [Double], falseY: [Double]
        var periods: [Double], steps: [Double]
        var firstClick: Double?
        var completed: Double, record: Int
    }

    /// What the phases share: the pilot matched to truth.
    struct Pilot {
        var job: ClickJob
        var rows: [Row]
        var vis: [[Double]]
        var truth: TruthSet
        var careless: Set<Int> = []
        var seen: Set<Int>
        /// Per image, how much smaller the portal showed it (`DisplayScale`; 1: not scaled).
        var scale: [Double] = []
        func good(_ r: Row) -> Bool { !careless.contains(r.worker) }
        /// The share of clicks aimed at an object that land within the matching radius on image k,
        /// relative to an unscaled image: pointing error (median RMSE, screen px) grows by the scale.
        func captureRelative(_ k: Int, rmse: Double, radius: Double) -> Double {
            func capture(_ r: Double) -> Double { 1 - exp(-radius * radius / max(r * r, 1e-9)) }
            return capture(rmse * scale[k]) / capture(rmse)
        }
    }

    public static func calibrate(export: QuantiusExport, truth: TruthSet, visibility: [String: [Double]]?,
                                 lookAlikes: [String: LookAlikes]? = nil,
                                 pay: Double, prior: Population = Population(), matchRadius: Double = 8,
                                 source: String = "export") throws -> Calibration {
        var pilot = try match(export: export, truth: truth, visibility: visibility, matchRadius: matchRadius, source: source)
        var c = Calibration(population: prior, notes: [:], summary: [])
        c.population.measure = visibility == nil ? .snr : .contrast
        c.population.referencePay = pay
        c.notes["effort.reference_pay_usd"] = "pay of the calibration export (--pay)"
        fitDisplay(&pilot, &c)
        fitCareless(&pilot, &c)
        fitPointing(pilot, &c)
        fitDetectionAndBudget(pilot, matchRadius: matchRadius, &c)
        fitFalsePositives(pilot, &c)
        if let lookAlikes { fitLookAlikeShare(pilot, lookAlikes, matchRadius: matchRadius, &c) }
        fitNearObjectClicks(pilot, lookAlikes: lookAlikes, matchRadius: matchRadius, &c)
        fitParticipation(pilot, &c)
        for k in ["detection.resolution_px", "false_positives.learning_annotations", "false_positives.distractor_confusion",
                  "false_positives.structure_share", "careless.detection_factor", "careless.error_factor",
                  "pointing.activity_error_exponent", "effort.pay_elasticity", "effort.images_per_worker",
                  "effort.images_exponent", "effort.acceptance_exponent", "marketplace.arrivals_per_hour", "marketplace.arrival_elasticity"] where c.notes[k] == nil {
            c.notes[k] = "prior: not identifiable from one export"
        }
        keepWithinRanges(prior: prior, &c)
        matchFalseShareBySimulation(pilot, export: export, visibility: visibility, lookAlikes: lookAlikes, pay: pay, matchRadius: matchRadius, &c)
        return c
    }

    // MARK: - Phases

    /// Matches every submission to its image's truth; refuses pilots that cannot be calibrated on.
    static func match(export: QuantiusExport, truth: TruthSet, visibility: [String: [Double]]?, matchRadius: Double, source: String) throws -> Pilot {
        let job = ClickJob(export: export)
        guard !job.images.isEmpty else { throw InputError(file: source, message: "no crosshair submissions: nothing to calibrate on") }
        guard job.images.contains(where: { truth.byImage[$0.image] != nil }) else {
            throw InputError(file: source, message: "no image of the export has truth (--truth): nothing to calibrate on")
        }
        guard job.images.contains(where: { $0.count > 0 }) else { throw InputError(file: source, message: "the pilot has no clicks: nothing to calibrate on") }
        guard job.workerIDs.count >= 2 else {
            throw InputError(file: source, message: "one worker only: calibration needs at least 2 workers to tell people apart")
        }
        var completion: [String: (Double, Int)] = [:]
        for (i, r) in export.records.enumerated() {
            completion[r.workerID + "\u{1}" + r.imageFilename] = (r.timeWhenCompleted.map(portalCompletionSeconds) ?? 0, i)
        }
        var rows: [Row] = [], vis: [[Double]] = []
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
                let given = byWorker[w] ?? [], timeline = ClickTimeline(im, clicks: given)
                let idx = timeline.order.map { given[$0] }
                let m = matcher.match(ax: idx.map { im.xs[$0] }, ay: idx.map { im.ys[$0] })
                var hits = [Bool](repeating: false, count: t.count)
                var flags = [Bool](repeating: true, count: idx.count)
                var displacements = Displacements()
                for (a, b, _) in m.pairs {
                    hits[b] = true; flags[a] = false
                    displacements.append(im.xs[idx[a]] - t.xs[b], im.ys[idx[a]] - t.ys[b])
                }
                let periods = timeline.periods, steps = timeline.steps
                let falseIdx = idx.indices.filter { flags[$0] }.map { idx[$0] }
                let c = completion[job.workerIDs[w] + "\u{1}" + im.image] ?? (0, 0)
                rows.append(Row(worker: w, image: k, hits: hits, clicks: idx.count, tp: m.pairs.count, displacements: displacements, flags: flags,
                                falseX: falseIdx.map { im.xs[$0] }, falseY: falseIdx.map { im.ys[$0] },
                                periods: periods, steps: steps, firstClick: idx.first.map { im.timestamp[$0] / 1000 },
                                completed: c.0, record: c.1))
            }
        }
        return Pilot(job: job, rows: rows, vis: vis, truth: truth, seen: Set(rows.map(\.worker)))
    }

    /// How large the portal showed each image, read from the clicks' lattice (`DisplayScale`), and
    /// so the viewer's width; an image with too few clicks to tell is taken as the prior shows it.
    static func fitDisplay(_ pilot: inout Pilot, _ c: inout Calibration) {
        let prior = c.population
        let measured = pilot.job.images.map { DisplayScale.measure(xs: $0.xs, ys: $0.ys, width: $0.width, height: $0.height) }
        let scaled = pilot.job.images.indices.filter { (measured[$0] ?? 1) > 1 }
        let unscaledWidths = pilot.job.images.indices.filter { measured[$0] == 1 }.map { pilot.job.images[$0].width }
        if let k = scaled.max(by: { pilot.job.images[$0].width < pilot.job.images[$1].width }) {
            let im = pilot.job.images[k], s = measured[k]!
            c.population.displayWidth = (Double(im.width) / s).rounded()
            c.notes["pointing.display_width_px"] = String(format: "measured: clicks on %@ (%d px wide) fall on the lattice of a %.0f px viewer", im.image, im.width, Double(im.width) / s)
            c.summary.append(String(format: "display: %d of %d images shown scaled (viewer %.0f px wide)", scaled.count, pilot.job.images.count, c.population.displayWidth))
        } else if let widest = unscaledWidths.max(), Double(widest) > prior.displayWidth {
            c.population.displayWidth = Double(widest)
            c.notes["pointing.display_width_px"] = "at least this: images this wide were shown unscaled"
        } else {
            c.notes["pointing.display_width_px"] = "prior: no image of the pilot was shown scaled"
        }
        pilot.scale = pilot.job.images.indices.map { measured[$0] ?? c.population.displayScale(width: pilot.job.images[$0].width) }
    }

    static func fitCareless(_ pilot: inout Pilot, _ c: inout Calibration) {
        let nW = pilot.job.workerIDs.count
        var clicks = [Int](repeating: 0, count: nW), tps = [Int](repeating: 0, count: nW)
        for r in pilot.rows { clicks[r.worker] += r.clicks; tps[r.worker] += r.tp }
        let careless = Set(pilot.seen.filter { DetectionScore.isMostlyFalse(truePositives: tps[$0], clicks: clicks[$0]) })
        pilot.careless = careless
        c.population.carelessShare = Double(careless.count) / Double(max(1, pilot.seen.count))
        c.notes["careless.share"] = "\(careless.count) of \(pilot.seen.count) workers below 0.5 precision"
        guard !careless.isEmpty else { return }
        let n = careless.reduce(0) { $0 + clicks[$1] }, t = careless.reduce(0) { $0 + tps[$1] }
        c.population.carelessFalsePositive = min(0.95, Double(n - t) / Double(max(1, n)))
        c.notes["careless.false_positive_rate"] = "measured"
        // Their detection relative to the others': the share of the objects they saw that they
        // found, pooled over each group (visibility and effort weigh on both alike).
        func found(_ group: (Int) -> Bool) -> Double {
            let rs = pilot.rows.filter { group($0.worker) }
            return Double(rs.reduce(0) { $0 + $1.tp }) / Double(max(1, rs.reduce(0) { $0 + $1.hits.count }))
        }
        let others = found { !careless.contains($0) }, theirs = found { careless.contains($0) }
        if others > 0 {
            c.population.carelessDetectionFactor = min(1, theirs / others)
            c.notes["careless.detection_factor"] = "measured: they found \(String(format: "%.3f", theirs)) of the objects, the others \(String(format: "%.3f", others))"
        }
    }

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
            c.notes["detection.plateau"] = String(format: "fitted ± %.3f", d.se[0])
            c.notes["detection.threshold"] = String(format: "fitted ± %.3f", d.se[1])
            c.notes["detection.width"] = String(format: "fitted ± %.3f", d.se[2])
            c.notes["detection.object_sd"] = "matches the spread of per-object detection"
            c.standardErrors["detection.plateau"] = d.se[0]; c.standardErrors["detection.threshold"] = d.se[1]; c.standardErrors["detection.width"] = d.se[2]
            let keys = ["detection.plateau", "detection.threshold", "detection.width"]
            for i in 0..<3 { for j in (i + 1)..<3 where d.correlations.count == 3 { c.correlations[keys[i] + "|" + keys[j]] = d.correlations[i][j] } }
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
            c.notes["effort.tolerated_annotations"] = String(format: "fitted at %.3g USD: median budget %.0f ± %.0f clicks per image (censored likelihood over %d worker-images)", p.referencePay, b.median, b.seMedian, b.count)
            c.notes["effort.patience_log_sd"] = String(format: "fitted ± %.2f", b.seLogSD)
            c.standardErrors["effort.tolerated_annotations"] = b.seMedian; c.standardErrors["effort.patience_log_sd"] = b.seLogSD
            c.correlations["effort.patience_log_sd|effort.tolerated_annotations"] = b.correlation
            c.summary.append(String(format: "click budget: median %.0f clicks per image (log SD %.2f) at $%.3f", b.median, b.logSD, p.referencePay))
        } else {
            let most = budget?.largest ?? 0
            p.toleratedAnnotations = max(p.toleratedAnnotations, most)
            c.notes["effort.tolerated_annotations"] = String(format: "prior, at least %.0f: no image of the pilot ran workers out of clicks", most)
            c.notes["effort.patience_log_sd"] = "prior: the budget is not seen in the pilot"
            c.summary.append(String(format: "click budget: not reached in the pilot (workers clicked at most %.0f); prior %.0f kept", most, p.toleratedAnnotations))
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
                c.notes["pointing.fitts_a_s"] = String(format: "fitted ± %.3f", f.result.standardErrors[0])
                c.notes["pointing.fitts_b_s"] = String(format: "fitted ± %.3f", f.result.standardErrors[1])
                c.notes["pointing.fitts_c_px"] = f.amplitudeFixed ? "measured movement amplitude (c not determined by the fit)" : String(format: "fitted ± %.2f", f.result.standardErrors[2])
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
        c.notes[key] = String(format: "maximum likelihood over %d false clicks on look-alikes, ± %.3f per contrast unit", count, se)
        c.summary.append(String(format: "look-alikes drawn by contrast: slope %.3f ± %.3f beyond the detection curve", beta, se))
    }

    static func fitParticipation(_ pilot: Pilot, _ c: inout Calibration) {
        var p = c.population
        var images = [Double](repeating: 0, count: pilot.job.workerIDs.count)
        for r in pilot.rows { images[r.worker] += 1 }
        let counts = images.filter { $0 > 0 }
        let logSum = counts.reduce(0) { $0 + log($1) }
        if logSum > 0 {
            p.paretoAlpha = min(20, max(0.2, Double(counts.count) / logSum))
            c.notes["participation.pareto_alpha"] = String(format: "maximum likelihood ± %.2f (images per worker are capped by the job's size)", p.paretoAlpha / Double(counts.count).squareRoot())
        }
        if !counts.isEmpty {
            // Images a worker takes, within tolerance: the median worker's budget whose capped Pareto
            // mean is the observed mean (bisection: the mean grows with the budget).
            let shares = pilot.job.images.map { im in p.effort(objects: Double(pilot.truth.byImage[im.image]?.count ?? 0), pay: p.referencePay).images }
            let observed = mean(counts), share = max(mean(shares), 0.05)
            var lo = 1.0, hi = 10_000.0
            for _ in 0..<60 {
                var trial = p; trial.imagesPerWorker = (lo * hi).squareRoot()
                if trial.meanImagesPerTaker(cap: pilot.job.images.count, imagesShare: share) < observed { lo = trial.imagesPerWorker } else { hi = trial.imagesPerWorker }
            }
            p.imagesPerWorker = (lo * hi).squareRoot()
            c.notes["effort.images_per_worker"] = String(format: "mean images per worker %.2f of at most %d in the export, with the Pareto shape", observed, pilot.job.images.count)
        }
        c.population = p
    }

    /// Every value within what a population file allows (so `simulate` reads what this writes): a
    /// value outside, or not finite, goes back to the prior, and the note says so.
    static func keepWithinRanges(prior: Population, _ c: inout Calibration) {
        for section in Population.sections {
            for f in section.fields {
                guard case .number(let path) = f.slot else { continue }
                let key = section.name + "." + f.key
                let v = c.population[keyPath: path]
                if !v.isFinite || !f.range.contains(v) {
                    c.population[keyPath: path] = prior[keyPath: path]
                    c.notes[key] = "prior: the fitted value \(String(format: "%.4g", v)) is outside \(formatNumber(f.range.lowerBound))…\(formatNumber(f.range.upperBound))"
                    c.standardErrors[key] = nil
                    c.correlations = c.correlations.filter { !$0.key.split(separator: "|").contains(Substring(key)) }
                    c.summary.append("\(key): fitted \(String(format: "%.4g", v)) is impossible; prior \(formatNumber(prior[keyPath: path])) kept")
                }
            }
        }
        if c.population.falsePositiveLater > c.population.falsePositiveFirst + 0.5 { c.population.falsePositiveLater = c.population.falsePositiveFirst }
    }
}
