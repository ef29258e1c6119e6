import Consensus
import Foundation

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

    // Careless workers: a small share who click little and badly.
    public var carelessShare = 0.05
    public var carelessDetectionFactor = 0.25
    public var carelessFalsePositive = 0.5
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

    // Effort and pay.
    /// Annotations per image a worker tolerates at the reference pay.
    public var toleratedAnnotations = 60.0
    public var referencePay = 0.02
    /// Tolerance grows as (pay / reference)^elasticity.
    public var payElasticity = 1.0
    /// Above tolerance a worker clicks a share (tolerated/objects)^recallExponent of what they see.
    public var recallExponent = 0.475
    /// Images a worker attempts, within tolerance; above it, times (tolerated/objects)^imagesExponent.
    public var imagesPerWorker = 15.0
    public var imagesExponent = 1.04
    /// Above tolerance, the chance a worker takes the HIT at all: (tolerated/objects)^acceptanceExponent.
    public var acceptanceExponent = 1.8

    // Participation and the marketplace.
    /// Pareto shape of worker activity; 1.16 gives the 80/20 law.
    public var paretoAlpha = 1.16
    /// Workers arriving at the HIT list per hour at the reference pay.
    public var arrivalsPerHour = 120.0
    /// Arrivals grow as (pay / reference)^arrivalElasticity.
    public var arrivalElasticity = 1.0

    public init() {}

    /// Tolerated annotations per image at `pay` (USD per image).
    public func tolerance(pay: Double) -> Double { toleratedAnnotations * pow(max(pay, 1e-6) / referencePay, payElasticity) }

    /// Effort factors for a HIT of `objects` annotations at `pay`: (recall share, images share, acceptance).
    public func effort(objects: Double, pay: Double) -> (recall: Double, images: Double, acceptance: Double) {
        let t = tolerance(pay: pay)
        guard objects > t else { return (1, 1, 1) }
        let r = t / objects
        return (pow(r, recallExponent), pow(r, imagesExponent), pow(r, acceptanceExponent))
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
        "careless.share": "rare poor workers the consensus dilutes (Fig. S1)",
        "careless.detection_factor": "spot data: careless workers click a few spots",
        "careless.false_positive_rate": "spot data: their clicks are mostly false",
        "careless.error_factor": "spot data: their errors are 2-3x the median",
        "pointing.rmse_median_px": "Fig. 1e: about 3 px RMSE",
        "pointing.rmse_log_sd": "Fig. 1e-f: all workers under 13 px",
        "pointing.fitts_a_s": "Fig. 1e: Fitts' law fit",
        "pointing.fitts_b_s": "Fig. 1e: median about 2 s per click at 3 px",
        "pointing.fitts_c_px": "typical distance between successive clicks",
        "pointing.period_log_sd": "Fig. 1e scatter about the fit",
        "pointing.first_click_s": "spot data: first clicks about 3 s into an image",
        "pointing.activity_error_exponent": "Fig. 1f: busier workers choose shorter periods, larger error",
        "effort.tolerated_annotations": "Fig. S3: about 60 annotations per image tolerated at 2 cents",
        "effort.reference_pay_usd": "Fig. S3: 2 cents per image",
        "effort.pay_elasticity": "Fig. S3: higher pay broadly reverses the losses",
        "effort.recall_exponent": "Fig. S3: recall from above 0.8 to about 0.6 beyond 110 objects",
        "effort.images_per_worker": "Fig. S3: 15 images attempted per worker below the threshold",
        "effort.images_exponent": "Fig. S3: 8 images per worker above it",
        "effort.acceptance_exponent": "Fig. S3: collection rate falls from 25,000 to 3,000 per hour",
        "participation.pareto_alpha": "Fig. S2: about 20 % of workers do 80 % of the images",
        "marketplace.arrivals_per_hour": "order of magnitude of the paper's collection rates (refined with the lab's paper scenarios)",
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

    static func from(_ y: inout YAMLConfig) throws -> Population {
        var p = Population()
        if let v = try y.string("detection.measure", oneOf: VisibilityMeasure.allCases.map(\.rawValue)) { p.measure = VisibilityMeasure(rawValue: v)! }
        if let v = try y.double("detection.plateau", in: 0.01...1) { p.detectionPlateau = v }
        if let v = try y.double("detection.plateau_sd", in: 0...0.5) { p.detectionPlateauSD = v }
        if let v = try y.double("detection.threshold", in: -1000...1e6) { p.detectionThreshold = v }
        if let v = try y.double("detection.width", in: 1e-3...1e6) { p.detectionWidth = v }
        if let v = try y.double("detection.object_sd", in: 0...1e6) { p.objectVisibilitySD = v }
        if let v = try y.double("detection.resolution_px", in: 0...1000) { p.resolution = v }
        if let v = try y.double("false_positives.rate_first", in: 0...0.9) { p.falsePositiveFirst = v }
        if let v = try y.double("false_positives.rate_later", in: 0...0.9) { p.falsePositiveLater = v }
        if let v = try y.int("false_positives.learning_annotations", in: 1...100_000) { p.learningAnnotations = v }
        if let v = try y.double("false_positives.distractor_confusion", in: 0...1) { p.distractorConfusion = v }
        if let v = try y.double("careless.share", in: 0...1) { p.carelessShare = v }
        if let v = try y.double("careless.detection_factor", in: 0...1) { p.carelessDetectionFactor = v }
        if let v = try y.double("careless.false_positive_rate", in: 0...0.95) { p.carelessFalsePositive = v }
        if let v = try y.double("careless.error_factor", in: 1...100) { p.carelessErrorFactor = v }
        if let v = try y.double("pointing.rmse_median_px", in: 0.05...200) { p.rmseMedian = v }
        if let v = try y.double("pointing.rmse_log_sd", in: 0...3) { p.rmseLogSD = v }
        if let v = try y.double("pointing.fitts_a_s", in: -60...60) { p.fittsA = v }
        if let v = try y.double("pointing.fitts_b_s", in: 0...60) { p.fittsB = v }
        if let v = try y.double("pointing.fitts_c_px", in: 0.1...10_000) { p.fittsC = v }
        if let v = try y.double("pointing.period_log_sd", in: 0...3) { p.periodLogSD = v }
        if let v = try y.double("pointing.first_click_s", in: 0...600) { p.firstClickDelay = v }
        if let v = try y.double("pointing.activity_error_exponent", in: -2...2) { p.activityErrorExponent = v }
        if let v = try y.double("effort.tolerated_annotations", in: 1...1e6) { p.toleratedAnnotations = v }
        if let v = try y.double("effort.reference_pay_usd", in: 0.001...100) { p.referencePay = v }
        if let v = try y.double("effort.pay_elasticity", in: 0...10) { p.payElasticity = v }
        if let v = try y.double("effort.recall_exponent", in: 0...10) { p.recallExponent = v }
        if let v = try y.double("effort.images_per_worker", in: 1...10_000) { p.imagesPerWorker = v }
        if let v = try y.double("effort.images_exponent", in: 0...10) { p.imagesExponent = v }
        if let v = try y.double("effort.acceptance_exponent", in: 0...10) { p.acceptanceExponent = v }
        if let v = try y.double("participation.pareto_alpha", in: 0.2...20) { p.paretoAlpha = v }
        if let v = try y.double("marketplace.arrivals_per_hour", in: 0.01...1e7) { p.arrivalsPerHour = v }
        if let v = try y.double("marketplace.arrival_elasticity", in: 0...10) { p.arrivalElasticity = v }
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
            let pad = max(1, 40 - s.count)
            s += String(repeating: " ", count: pad) + "# " + doc
            if let n = notes[key] { s += " [" + n + "]" }
            return s + "\n"
        }
        func n(_ v: Double) -> String { String(format: "%.6g", v) }
        var s = "# " + title.replacingOccurrences(of: "\n", with: "\n# ") + "\n"
        s += "# A crowdlab population: the distributions simulated workers are drawn from.\n"
        s += "# Read by `crowdlab simulate --population`; written by `crowdlab calibrate`.\n\n"
        s += "detection:  # p(v) = plateau / (1 + exp(-(v - threshold) / width)), v = visibility of an object\n"
        s += line("detection.measure", measure.rawValue, "snr: nominal SNR from the truth; contrast: measured in the image")
        s += line("detection.plateau", n(detectionPlateau), "mean over workers of the best detection rate")
        s += line("detection.plateau_sd", n(detectionPlateauSD), "spread of that plateau between workers (Beta)")
        s += line("detection.threshold", n(detectionThreshold), "visibility at half the plateau")
        s += line("detection.width", n(detectionWidth), "logistic width of the psychometric curve")
        s += line("detection.object_sd", n(objectVisibilitySD), "visibility offset SD between objects, shared by all workers")
        s += line("detection.resolution_px", n(resolution), "objects closer than this look like one and get one click")
        s += "false_positives:  # share of a worker's annotations that match no object\n"
        s += line("false_positives.rate_first", n(falsePositiveFirst), "at the first annotation of a job")
        s += line("false_positives.rate_later", n(falsePositiveLater), "after learning_annotations (linear in between)")
        s += line("false_positives.learning_annotations", String(learningAnnotations), "annotations over which workers learn")
        s += line("false_positives.distractor_confusion", n(distractorConfusion), "share of false clicks on distractors, when present")
        s += "careless:  # a minority who click little and badly\n"
        s += line("careless.share", n(carelessShare), "share of workers")
        s += line("careless.detection_factor", n(carelessDetectionFactor), "their detection relative to others")
        s += line("careless.false_positive_rate", n(carelessFalsePositive), "share of their clicks that are false")
        s += line("careless.error_factor", n(carelessErrorFactor), "their pointing error relative to others")
        s += "pointing:  # Fitts' law: period t = a + b*log2((c + s)/s), s = a worker's RMSE\n"
        s += line("pointing.rmse_median_px", n(rmseMedian), "median radial RMSE over workers (px)")
        s += line("pointing.rmse_log_sd", n(rmseLogSD), "log-normal spread of RMSE between workers")
        s += line("pointing.fitts_a_s", n(fittsA), "Fitts a (s)")
        s += line("pointing.fitts_b_s", n(fittsB), "Fitts b (s per bit)")
        s += line("pointing.fitts_c_px", n(fittsC), "Fitts c: movement amplitude (px)")
        s += line("pointing.period_log_sd", n(periodLogSD), "log-normal spread of click periods about the law")
        s += line("pointing.first_click_s", n(firstClickDelay), "delay before the first click of an image (s)")
        s += line("pointing.activity_error_exponent", n(activityErrorExponent), "RMSE grows as activity^this: busy workers go faster")
        s += "effort:  # how much work a worker takes at a given pay and image complexity\n"
        s += line("effort.tolerated_annotations", n(toleratedAnnotations), "annotations per image tolerated at the reference pay")
        s += line("effort.reference_pay_usd", n(referencePay), "reference pay per image (USD)")
        s += line("effort.pay_elasticity", n(payElasticity), "tolerance grows as (pay/reference)^this")
        s += line("effort.recall_exponent", n(recallExponent), "above tolerance, share clicked = (tolerated/objects)^this")
        s += line("effort.images_per_worker", n(imagesPerWorker), "mean images a worker attempts within tolerance")
        s += line("effort.images_exponent", n(imagesExponent), "above tolerance, images attempted fall as (tolerated/objects)^this")
        s += line("effort.acceptance_exponent", n(acceptanceExponent), "above tolerance, chance to take the HIT = (tolerated/objects)^this")
        s += "participation:\n"
        s += line("participation.pareto_alpha", n(paretoAlpha), "Pareto shape of activity (1.16: 20 % do 80 %)")
        s += "marketplace:\n"
        s += line("marketplace.arrivals_per_hour", n(arrivalsPerHour), "workers reaching the HIT list per hour at reference pay")
        s += line("marketplace.arrival_elasticity", n(arrivalElasticity), "arrivals grow as (pay/reference)^this")
        return s
    }
}
