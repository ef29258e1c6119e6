import Consensus
import Foundation
import Randomness

/// What is known about a crowd, as distributions its workers are drawn from. Every field is
/// documented in the YAML this writes; `Scenarios/populations/paper.yaml` says where each default
/// comes from (Hughes et al., Nat. Methods 15:587, 2018, and the real exports in Data/).
public struct Population: Sendable, Equatable {
    public enum VisibilityMeasure: String, Sendable, CaseIterable { case snr, contrast }

    // Detection: p(v) = plateau / (1 + exp(-(v - threshold)/width)), the plateau drawn per worker
    // from a Beta with this mean and standard deviation.
    public var measure: VisibilityMeasure = .snr
    public var detectionPlateau = 0.72
    public var detectionPlateauSD = 0.15
    public var detectionThreshold = 5.0
    public var detectionWidth = 1.6
    /// Salience an object has beyond the measure (neighbours, background, shape): an offset to its
    /// visibility, N(0, objectVisibilitySD²), the same for every worker who sees it.
    public var objectVisibilitySD = 0.0
    /// Objects closer than this (px) look like one blob and get one click: about the FWHM of the
    /// point-spread function (2.355 × 1.75 px for the real spot images).
    public var resolution = 4.0

    // False positives per annotation, falling linearly over the first annotations of a job.
    public var falsePositiveFirst = 0.037
    public var falsePositiveLater = 0.013
    public var learningAnnotations = 50
    /// Share of false clicks that land on a distractor (e.g. a pore) when the image has any.
    public var distractorConfusion = 0.25
    /// Workers differ in how often they click what is not there: each one's false-positive rate is
    /// the population's times a log-normal factor of mean 1 with this SD.
    public var falsePositiveWorkerLogSD = 0.0
    /// Share of the other false clicks that land on image structure that looks like an object
    /// (`LookAlikes`) when the image is given; the rest fall anywhere.
    public var structureShare = 0.5
    /// How much more a look-alike's contrast draws false clicks than the detection curve alone
    /// says: look-alike k is drawn in proportion to `p(v_k) · exp(slope · v_k)`. Zero reads
    /// look-alikes exactly as objects; real workers on smFISH fields pick the brightest far more.
    public var structureContrastSlope = 0.0
    /// Share of the false clicks on no look-alike that land beside an object (structure next to
    /// what the truth marks) rather than anywhere: at a random object plus a normal offset of SD
    /// `nearObjectSD`, redrawn while within `nearObjectInner` px of it (where it would be on it).
    public var nearObjectShare = 0.0
    public var nearObjectSD = 10.0
    public var nearObjectInner = 8.0

    // Careless workers: a small share who click little and badly.
    public var carelessShare = 0.05
    public var carelessDetectionFactor = 0.08
    public var carelessFalsePositive = 0.7
    public var carelessErrorFactor = 2.5

    // Pointing: radial RMSE per worker (log-normal), click period from Fitts' law t = a + b·log2((c+s)/s).
    public var rmseMedian = 3.0
    public var rmseLogSD = 0.35
    public var fittsA = 0.2
    public var fittsB = 0.56
    public var fittsC = 25.0
    public var periodLogSD = 0.35
    /// Seconds before the first click of an image.
    public var firstClickDelay = 3.0
    /// Exponent linking activity to error: more active workers choose larger error (shorter periods).
    public var activityErrorExponent = 0.1
    /// Width (px) of the portal's viewer: a wider image is shown scaled by `displayScale(width:)`,
    /// and pointing error and resolution grow by that factor in image pixels (`DisplayScale`).
    public var displayWidth = 500.0

    // Effort and pay.
    /// Clicks per image the median worker spends at the reference pay (their click budget), and
    /// so the annotations per image tolerated before images and takers fall off.
    public var toleratedAnnotations = 60.0
    public var referencePay = 0.02
    /// Tolerance grows as (pay / reference)^elasticity.
    public var payElasticity = 1.0
    /// Workers differ in patience: each one's budget is the population's times a log-normal
    /// factor with this SD.
    public var patienceLogSD = 0.8
    /// Images the median worker means to do in a job, within tolerance (a worker's budget is this
    /// times activity / median activity); above tolerance, times (tolerated/objects)^imagesExponent.
    public var imagesPerWorker = 4.0
    public var imagesExponent = 2.0
    /// Above tolerance, the chance a worker takes the HIT at all: (tolerated/objects)^acceptanceExponent.
    public var acceptanceExponent = 3.0

    // Participation and the marketplace.
    /// Pareto shape of worker activity (a job's budgets follow it). 1.16 gives the 80/20 law for an
    /// unbounded Pareto; a job bounds budgets (a worker does each image once, and the job ends), so
    /// a heavier tail is needed for 80/20 in one.
    public var paretoAlpha = 0.7
    /// Workers arriving at the HIT list per hour at the reference pay.
    public var arrivalsPerHour = 250.0
    /// Arrivals grow as (pay / reference)^arrivalElasticity.
    public var arrivalElasticity = 1.0

    /// Standard errors of fitted values, by YAML key (`detection.threshold`, ...), as calibration
    /// measured them: `crowdlab predict` draws populations from them. Empty for built-in populations.
    public var standardErrors: [String: Double] = [:]
    /// Correlations between fitted values' estimates, keyed `a|b` by their YAML keys (a fit's
    /// parameters trade off: a higher plateau with a higher threshold fits the same detections).
    public var correlations: [String: Double] = [:]

    public init() {}

    /// The median of the Pareto activity (x_min 1): workers' budgets are scaled to it, since a
    /// Pareto law this heavy has no mean to scale to.
    public var medianActivity: Double { pow(2, 1 / paretoAlpha) }

    /// Images a worker of this activity means to do in a job (before rounding to a count, at least
    /// one): the median worker's budget scaled by activity over the median, times what effort allows.
    public func budget(activity: Double, imagesShare: Double) -> Double {
        imagesPerWorker * imagesShare * activity / medianActivity
    }

    /// Mean images a worker who takes a job does when the job holds `cap` images and effort allows
    /// `imagesShare` of their budget: over the Pareto activity's quantiles, each budget at least one
    /// image and at most the job.
    public func meanImagesPerTaker(cap: Int, imagesShare: Double) -> Double {
        var total = 0.0
        for k in 0..<400 {
            let activity = pow(1 - (Double(k) + 0.5) / 400, -1 / paretoAlpha)
            total += min(Double(max(1, cap)), max(1, budget(activity: activity, imagesShare: imagesShare)))
        }
        return total / 400
    }

    /// The chance weight of a look-alike of contrast `v` drawing a false click: the detection curve
    /// (a look-alike is taken for an object as an object is noticed) times `exp(slope · v)`.
    public func lookAlikeWeight(_ v: Double) -> Double { lookAlikeWeight(v, slope: structureContrastSlope) }

    func lookAlikeWeight(_ v: Double, slope: Double) -> Double {
        exp(min(slope * v, 300)) / (1 + exp(-(v - detectionThreshold) / detectionWidth))
    }

    /// Tolerated annotations per image at `pay` (USD per image).
    public func tolerance(pay: Double) -> Double { toleratedAnnotations * pow(max(pay, 1e-6) / referencePay, payElasticity) }

    /// Clicks on objects a worker of `patience` spends on one image at `pay`, whatever it holds.
    public func clickBudget(pay: Double, patience: Double) -> Double { tolerance(pay: pay) * patience }

    /// Workers coming to look at a HIT paying `pay` per image, per second (Poisson).
    public func arrivalsPerSecond(pay: Double) -> Double { arrivalsPerHour * pow(max(pay, 1e-6) / referencePay, arrivalElasticity) / 3600 }

    /// How much smaller than its pixels the portal shows an image of this width (1: not scaled).
    public func displayScale(width: Int) -> Double { max(1, Double(width) / displayWidth) }

    /// Effort factors for a HIT of `objects` annotations at `pay`: the share of their budget a worker
    /// does and the chance they take the HIT at all (the share of an image they click depends on
    /// their own patience: `clickBudget`).
    public func effort(objects: Double, pay: Double) -> (images: Double, acceptance: Double) {
        let t = tolerance(pay: pay)
        guard objects > t else { return (1, 1) }
        let r = t / objects
        return (pow(r, imagesExponent), pow(r, acceptanceExponent))
    }
}

extension Population {
    /// Where each built-in value comes from; written as comments into `Scenarios/populations/paper.yaml`.
    public static let paperSources: [String: String] = [
        "detection.measure": "the paper's SNR-graded spot images",
        "detection.plateau": "spot data: high-SNR spots found by 0.62-0.72 of workers per image",
        "detection.plateau_sd": "spread of worker detection in the spot data",
        "detection.threshold": "spot data: detection halves near SNR 5",
        "detection.width": "spot data: detection rises from 0.2 at SNR < 5 to 0.6 at SNR 10",
        "detection.object_sd": "none: nominal SNR only (calibrate on images to measure it)",
        "detection.resolution_px": "FWHM of a sigma 1.75 px spot",
        "false_positives.rate_first": "Hughes et al. 2018 Fig. 1d: 3.7 % at the first annotations",
        "false_positives.rate_later": "Fig. 1d: 1.3 % after 50 annotations",
        "false_positives.learning_annotations": "Fig. 1d: linear fall over the first 50",
        "false_positives.distractor_confusion": "transwell pores are the commonest false clicks (Fig. 1b-c)",
        "false_positives.worker_log_sd": "none: every worker the same (calibrate measures it: real false clicks come mostly from a few workers)",
        "false_positives.structure_share": "prior; calibrate --images measures it (real smFISH crowds click look-alikes the expert left out)",
        "careless.share": "rare poor workers the consensus dilutes (Fig. S1); they stay light (activity at most the median): approval-rate screens keep them from the busiest",
        "careless.detection_factor": "real exports: careless workers find 0.057 (synth-tissue) and 0.039 (synth-cells) of the objects, the others 0.60: 0.095 and 0.064 (crowdlab calibrate)",
        "careless.false_positive_rate": "real exports: 0.67 of their clicks are false in synth-tissue, 0.79 in synth-cells (crowdlab calibrate)",
        "careless.error_factor": "spot data: their errors are 2-3x the median",
        "pointing.rmse_median_px": "Fig. 1e: about 3 px RMSE",
        "pointing.rmse_log_sd": "Fig. 1e-f: all workers under 13 px",
        "pointing.fitts_a_s": "Fig. 1e: Fitts' law fit",
        "pointing.fitts_b_s": "Fig. 1e: median about 2 s per click at 3 px",
        "pointing.fitts_c_px": "typical distance between successive clicks",
        "pointing.period_log_sd": "Fig. 1e scatter about the fit",
        "pointing.first_click_s": "spot data: first clicks about 3 s into an image",
        "pointing.activity_error_exponent": "Fig. 1f: busier workers choose shorter periods, larger error",
        "pointing.display_width_px": "real smFISH export: clicks on its 700 px wide field fall on the lattice of a 500 px viewer",
        "effort.tolerated_annotations": "Fig. S3: about 60 annotations per image tolerated at 2 cents; real crowds spend 50-95 clicks per image on smFISH fields whatever they hold (crowdlab calibrate)",
        "effort.reference_pay_usd": "Fig. S3: 2 cents per image",
        "effort.pay_elasticity": "Fig. S3: higher pay broadly reverses the losses",
        "effort.patience_log_sd": "people differ in patience (the real smFISH crowd's budgets spread far more, log SD 2.5: crowdlab calibrate)",
        "effort.images_per_worker": "Fig. S3 and S2: with the Pareto shape, about 15 images per worker in a large job (about 7 in the paper scenarios' 60-image jobs)",
        "effort.images_exponent": "Fig. S3: images per worker fall from 15 to 8 above the threshold (most workers do one image either way, so the busy ones must fall more)",
        "effort.acceptance_exponent": "Fig. S3: collection rate falls from 25,000 to 3,000 per hour (fewer take the HIT; those who do click more per image)",
        "participation.pareto_alpha": "Fig. S2: about 20 % of workers do 80 % of the images of a large job (1000 images x 5 workers in crowdlab paper)",
        "marketplace.arrivals_per_hour": "Fig. S3: above 25,000 annotations an hour at 2 cents below the threshold, about 100,000 for 110 objects at 6 cents",
        "marketplace.arrival_elasticity": "Fig. S3: pay brings workers",
    ]
}

// MARK: - YAML

extension Population {
    /// Reads a population file; unknown keys, wrong types and impossible values are refused with
    /// the file, line and key.
    public static func load(path: String) throws -> Population {
        var y = try YAMLConfig.load(path: path)
        return try from(&y)
    }

    public static func parse(_ text: String, file: String = "population.yaml") throws -> Population {
        var y = try YAMLConfig(text: text, file: file)
        return try from(&y)
    }

    /// One YAML key of a population: where it lives in the struct, what values are possible, what it means.
    struct Field: @unchecked Sendable {  // key paths are immutable values
        enum Slot: @unchecked Sendable { case number(WritableKeyPath<Population, Double>), whole(WritableKeyPath<Population, Int>) }
        let key: String, slot: Slot, range: ClosedRange<Double>, doc: String
    }

    /// Sections in file order, each with its comment and keys. Reading and writing share this table.
    static let sections: [(name: String, comment: String, fields: [Field])] = [
        ("detection", "p(v) = plateau / (1 + exp(-(v - threshold) / width)), v = visibility of an object", [
            Field(key: "plateau", slot: .number(\.detectionPlateau), range: 0.01...1, doc: "mean over workers of the best detection rate"),
            Field(key: "plateau_sd", slot: .number(\.detectionPlateauSD), range: 0...0.5, doc: "spread of that plateau between workers (Beta)"),
            Field(key: "threshold", slot: .number(\.detectionThreshold), range: -1000...1e6, doc: "visibility at half the plateau"),
            Field(key: "width", slot: .number(\.detectionWidth), range: 1e-3...1e6, doc: "logistic width of the psychometric curve"),
            Field(key: "object_sd", slot: .number(\.objectVisibilitySD), range: 0...1e6, doc: "visibility offset SD between objects, shared by all workers"),
            Field(key: "resolution_px", slot: .number(\.resolution), range: 0...1000, doc: "objects closer than this look like one and get one click"),
        ]),
        ("false_positives", "share of a worker's annotations that match no object", [
            Field(key: "rate_first", slot: .number(\.falsePositiveFirst), range: 0...0.9, doc: "at the first annotation of a job"),
            Field(key: "rate_later", slot: .number(\.falsePositiveLater), range: 0...0.9, doc: "after learning_annotations (linear in between)"),
            Field(key: "learning_annotations", slot: .whole(\.learningAnnotations), range: 1...100_000, doc: "annotations over which workers learn"),
            Field(key: "worker_log_sd", slot: .number(\.falsePositiveWorkerLogSD), range: 0...3, doc: "log-normal spread of the rate between careful workers (factor of mean 1, cut where most of their clicks would be false)"),
            Field(key: "distractor_confusion", slot: .number(\.distractorConfusion), range: 0...1, doc: "share of false clicks on distractors, when present"),
            Field(key: "structure_share", slot: .number(\.structureShare), range: 0...1, doc: "share of other false clicks on look-alikes in the image, when given"),
            Field(key: "near_object_share", slot: .number(\.nearObjectShare), range: 0...1, doc: "share of the rest beside an object (the others anywhere)"),
            Field(key: "near_object_sd_px", slot: .number(\.nearObjectSD), range: 0.5...1000, doc: "SD of their offset from the object"),
            Field(key: "near_object_inner_px", slot: .number(\.nearObjectInner), range: 0...1000, doc: "offsets within this are redrawn (a click there is on the object)"),
            Field(key: "structure_contrast_slope", slot: .number(\.structureContrastSlope), range: -1...2, doc: "look-alike k drawn by p(v_k)·exp(slope·v_k): 0 reads look-alikes as objects"),
        ]),
        ("careless", "a minority who click little and badly", [
            Field(key: "share", slot: .number(\.carelessShare), range: 0...1, doc: "share of workers"),
            Field(key: "detection_factor", slot: .number(\.carelessDetectionFactor), range: 0...1, doc: "their detection relative to others"),
            Field(key: "false_positive_rate", slot: .number(\.carelessFalsePositive), range: 0...0.95, doc: "share of their clicks that are false"),
            Field(key: "error_factor", slot: .number(\.carelessErrorFactor), range: 1...100, doc: "their pointing error relative to others"),
        ]),
        ("pointing", "Fitts' law: period t = a + b*log2((c + s)/s), s = a worker's RMSE", [
            Field(key: "rmse_median_px", slot: .number(\.rmseMedian), range: 0.05...200, doc: "median radial RMSE over workers (screen px)"),
            Field(key: "rmse_log_sd", slot: .number(\.rmseLogSD), range: 0...3, doc: "log-normal spread of RMSE between workers"),
            Field(key: "fitts_a_s", slot: .number(\.fittsA), range: -60...60, doc: "Fitts a (s)"),
            Field(key: "fitts_b_s", slot: .number(\.fittsB), range: 0...60, doc: "Fitts b (s per bit)"),
            Field(key: "fitts_c_px", slot: .number(\.fittsC), range: 0.1...10_000, doc: "Fitts c: movement amplitude (screen px)"),
            Field(key: "period_log_sd", slot: .number(\.periodLogSD), range: 0...3, doc: "log-normal spread of click periods about the law"),
            Field(key: "first_click_s", slot: .number(\.firstClickDelay), range: 0...600, doc: "delay before the first click of an image (s)"),
            Field(key: "activity_error_exponent", slot: .number(\.activityErrorExponent), range: -2...2, doc: "RMSE grows as activity^this: busy workers go faster"),
            Field(key: "display_width_px", slot: .number(\.displayWidth), range: 50...100_000, doc: "the portal's viewer: wider images are shown scaled to it"),
        ]),
        ("effort", "how much work a worker takes at a given pay and image complexity", [
            Field(key: "tolerated_annotations", slot: .number(\.toleratedAnnotations), range: 1...1e6, doc: "clicks per image the median worker spends at the reference pay (click budget)"),
            Field(key: "reference_pay_usd", slot: .number(\.referencePay), range: 0.001...100, doc: "reference pay per image (USD)"),
            Field(key: "pay_elasticity", slot: .number(\.payElasticity), range: 0...10, doc: "tolerance grows as (pay/reference)^this"),
            Field(key: "patience_log_sd", slot: .number(\.patienceLogSD), range: 0...3, doc: "log-normal spread of the click budget between workers"),
            Field(key: "images_per_worker", slot: .number(\.imagesPerWorker), range: 1...10_000, doc: "images the median worker means to do in a job, within tolerance"),
            Field(key: "images_exponent", slot: .number(\.imagesExponent), range: 0...10, doc: "above tolerance, images attempted fall as (tolerated/objects)^this"),
            Field(key: "acceptance_exponent", slot: .number(\.acceptanceExponent), range: 0...10, doc: "above tolerance, chance to take the HIT = (tolerated/objects)^this"),
        ]),
        ("participation", "", [
            Field(key: "pareto_alpha", slot: .number(\.paretoAlpha), range: 0.2...20, doc: "Pareto shape of activity: budgets for a job (smaller: a few workers do more)"),
        ]),
        ("marketplace", "", [
            Field(key: "arrivals_per_hour", slot: .number(\.arrivalsPerHour), range: 0.01...1e7, doc: "workers looking at the HIT per hour at reference pay"),
            Field(key: "arrival_elasticity", slot: .number(\.arrivalElasticity), range: 0...10, doc: "arrivals grow as (pay/reference)^this"),
        ]),
    ]

    static func from(_ y: inout YAMLConfig) throws -> Population {
        var p = Population()
        if let v = try y.string("detection.measure", oneOf: VisibilityMeasure.allCases.map(\.rawValue)) { p.measure = VisibilityMeasure(rawValue: v)! }
        for section in sections {
            for f in section.fields {
                let key = section.name + "." + f.key
                switch f.slot {
                case .number(let path): if let v = try y.double(key, in: f.range) { p[keyPath: path] = v }
                case .whole(let path): if let v = try y.int(key, in: Int(f.range.lowerBound)...Int(f.range.upperBound)) { p[keyPath: path] = v }
                }
            }
        }
        for section in sections {
            for f in section.fields {
                let key = section.name + "." + f.key
                if let se = try y.double("uncertainty." + key, in: 0...1e6) { p.standardErrors[key] = se }
            }
        }
        let known = Set(sections.flatMap { s in s.fields.map { s.name + "." + $0.key } })
        for key in y.keys where key.hasPrefix("uncertainty.correlations.") {
            let pair = key.dropFirst("uncertainty.correlations.".count).split(separator: "|").map(String.init)
            guard pair.count == 2, known.contains(pair[0]), known.contains(pair[1]), pair[0] != pair[1] else {
                throw y.error(key, "a correlation names two fitted values, as detection.plateau|detection.threshold")
            }
            if let r = try y.double(key, in: -1...1) { p.correlations[pair[0] + "|" + pair[1]] = r }
        }
        try y.refuseUnknownKeys()
        if p.falsePositiveLater > p.falsePositiveFirst + 0.5 {
            throw InputError(file: y.file, field: "false_positives.rate_later", message: "is far above rate_first: learning lowers false positives")
        }
        return p
    }

    /// The population as commented YAML. `notes[key]` adds a comment (e.g. a fit's uncertainty or source).
    public func yaml(title: String, notes: [String: String] = [:]) -> String {
        func line(_ key: String, _ value: String, _ doc: String) -> String {
            let leaf = String(key.split(separator: ".").last!)
            var s = "  \(leaf): \(value)"
            s += String(repeating: " ", count: max(1, 40 - s.count)) + "# " + doc
            if let n = notes[key] { s += " [" + n + "]" }
            return s + "\n"
        }
        var s = "# " + title.replacingOccurrences(of: "\n", with: "\n# ") + "\n"
        s += "# A crowdlab population: the distributions simulated workers are drawn from.\n"
        s += "# Read by `crowdlab simulate --population`; written by `crowdlab calibrate`.\n\n"
        for section in Self.sections {
            s += section.name + ":" + (section.comment.isEmpty ? "" : "  # " + section.comment) + "\n"
            if section.name == "detection" {
                s += line("detection.measure", measure.rawValue, "snr: nominal SNR from the truth; contrast: measured in the image")
            }
            for f in section.fields {
                let value: String
                switch f.slot {
                case .number(let path): value = String(format: "%.6g", self[keyPath: path])
                case .whole(let path): value = String(self[keyPath: path])
                }
                s += line(section.name + "." + f.key, value, f.doc)
            }
        }
        if !standardErrors.isEmpty {
            s += "uncertainty:  # standard errors of the fitted values: crowdlab predict draws populations from them\n"
            for section in Self.sections {
                let keys = section.fields.filter { standardErrors[section.name + "." + $0.key]?.isFinite == true }
                guard !keys.isEmpty else { continue }
                s += "  " + section.name + ":\n"
                for f in keys { s += "    \(f.key): " + String(format: "%.6g", standardErrors[section.name + "." + f.key]!) + "\n" }
            }
            let pairs = correlations.filter { $0.value.isFinite }.sorted { $0.key < $1.key }
            if !pairs.isEmpty {
                s += "  correlations:  # between the estimates above\n"
                for (k, r) in pairs { s += "    \(k): " + String(format: "%.4f", r) + "\n" }
            }
        }
        return s
    }
}
