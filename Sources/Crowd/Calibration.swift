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
    /// A standard error as a note gives it: `± 0.123`, or what stands in for one the fit could not
    /// give (the likelihood flat, or its optimum on the edge of the parameter's range).
    static func plusMinus(_ se: Double, digits: Int) -> String {
        se.isFinite ? "± " + String(format: "%.\(digits)f", se) : "(error unknown: the likelihood is flat or at its range's edge there)"
    }

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
