import Consensus
import Foundation
import Imaging

/// A real crowd's export with its truth and images, ready to be calibrated on or predicted: each
/// image with truth becomes the task simulated workers get (its real size, objects, measured
/// contrast and look-alikes), and the crowd's replicate count is its median workers per image.
public struct RealCrowd: Sendable {
    public var name: String
    public var export: QuantiusExport
    public var truth: TruthSet
    public var visibility: [String: [Double]]
    public var lookAlikes: [String: LookAlikes]
    public var tasks: [ImageTask]
    public var replicates: Int

    /// Reads `export` with its truth (as `analyze --truth`) and the folder of its images. Every
    /// image with truth must be there: contrast is measured in it.
    public static func load(export path: String, truth: String, images: String, name: String? = nil) throws -> RealCrowd {
        let export = try ExportReader.readSubmissions(path: path)
        let truthSet = try TruthSet.load(path: truth, export: export)
        var size: [String: (Int, Int)] = [:], workers: [String: Set<String>] = [:]
        for r in export.records where r.annotationType == .crosshairs {
            if size[r.imageFilename] == nil { size[r.imageFilename] = (r.width, r.height) }
            workers[r.imageFilename, default: []].insert(r.workerID)
        }
        let names = export.imageNames.filter { truthSet.byImage[$0] != nil && size[$0] != nil }
        guard !size.isEmpty else {
            let kinds = Set(export.records.map(\.annotationType.rawValue)).sorted().joined(separator: ", ")
            throw InputError(file: path, message: "no crosshair submissions (\(export.records.count) record(s)\(kinds.isEmpty ? "" : " of " + kinds)): calibration and prediction work from clicks")
        }
        guard !names.isEmpty else { throw InputError(file: path, message: "no crosshair image of the export has truth in \(truth)") }
        let measured = try Visibility.measure(TruthSet(byImage: truthSet.byImage.filter { names.contains($0.key) }), imagesDir: images)
        let visibility = measured.visibility, lookAlikes = measured.lookAlikes
        let tasks = names.map { name -> ImageTask in
            let t = truthSet.byImage[name]!, (w, h) = size[name]!
            return ImageTask(name: name, width: w, height: h, xs: t.xs, ys: t.ys, visibility: visibility[name]!,
                             distractorXs: t.distractorXs, distractorYs: t.distractorYs, structure: lookAlikes[name])
        }
        let counts = names.map { Double(workers[$0]?.count ?? 0) }
        return RealCrowd(name: name ?? defaultName(path),
                         export: export, truth: truthSet, visibility: visibility, lookAlikes: lookAlikes,
                         tasks: tasks, replicates: max(1, Int(median(counts).rounded())))
    }

    /// A crowd's name: its export's file name, or its folder's where the export is `export.json`.
    static func defaultName(_ path: String) -> String {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return stem == "export" ? ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent : stem
    }

    /// Several crowds as one pilot (their images are distinct; worker ids are kept apart by crowd).
    public static func pooled(_ crowds: [RealCrowd]) -> RealCrowd {
        var out = crowds[0]
        out.name = crowds.map(\.name).joined(separator: "+")
        guard crowds.count > 1 else { return out }
        var records = crowds[0].export.records
        for c in crowds.dropFirst() {
            records += c.export.records.map { r in var r = r; r.workerID = c.name + ":" + r.workerID; return r }
            for (k, v) in c.truth.byImage { out.truth.byImage[k] = v }
            out.visibility.merge(c.visibility) { a, _ in a }
            out.lookAlikes.merge(c.lookAlikes) { a, _ in a }
            out.tasks += c.tasks
        }
        out.export = QuantiusExport(records: records)
        return out
    }

    /// A population fitted to this crowd.
    public func calibrate(pay: Double, prior: Population = Population()) throws -> Calibration {
        try Calibrator.calibrate(export: export, truth: truth, visibility: visibility, lookAlikes: lookAlikes, pay: pay, prior: prior, source: name)
    }
}

/// What a crowd did on images with truth, in the figures a prediction is judged by.
public struct CrowdFigures: Sendable, Codable, Equatable {
    /// Consensus (the default method) against truth, one-to-one within 8 px.
    public var precision: Double
    public var recall: Double
    /// Share of (worker, object) pairs in which the worker clicked the object, per visibility band.
    public var detectionByBand: [Double]
    /// Median clicks per submission.
    public var clicksPerWorker: Double
    /// Median worker RMSE to the truth (px) and median click period (s).
    public var rmse: Double
    public var period: Double
    /// Median share of a worker's clicks that match no object (workers with 10 clicks or more).
    public var falsePositiveRate: Double
    /// Consensus precision and recall per image.
    public var perImage: [String: [Double]]
    /// The consensus's missed and false objects by cause (`ErrorBreakdown`, keyed as in metrics.json):
    /// a prediction should miss for the real crowd's reasons, not only as often.
    public var errors: [String: Double] = [:]

    /// Visibility bands (contrast in noise units) for detection: below 3 a spot barely stands out
    /// of the noise; above 12 it is plain.
    public static let bands: [Double] = [-.infinity, 3, 6, 12, .infinity]
    public static let bandNames = ["<3", "3-6", "6-12", ">=12"]

    /// Measured on the crowd's tasks alone (its images with truth), the images a prediction
    /// simulates: a real export's other images would otherwise enter its clicks, pointing and
    /// worker weights but not the prediction's.
    public static func measure(_ all: QuantiusExport, on crowd: RealCrowd, radius: Double = 8) -> CrowdFigures {
        let simulated = Set(crowd.tasks.map(\.name))
        let export = all.records.allSatisfy { simulated.contains($0.imageFilename) } ? all
                   : QuantiusExport(records: all.records.filter { simulated.contains($0.imageFilename) })
        var options = AnalysisOptions(); options.matchRadius = radius
        let a = Analysis.run(export: export, truth: crowd.truth, options: options)
        var perImage: [String: [Double]] = [:]
        for row in a.images { if let s = row.score { perImage[row.image] = [s.precision, s.recall] } }
        let clicks = export.records.filter { $0.annotationType == .crosshairs }.map { Double($0.allVertices.count) }
        let detection = CrowdComparison.detectionByBand(export: export, truth: crowd.truth, values: { crowd.visibility[$0] }, bands: bands, radius: radius)
        let fp = a.workers.compactMap { w -> Double? in
            guard let s = w.vsTruth, s.tp + s.fp >= 10 else { return nil }
            return Double(s.fp) / Double(s.tp + s.fp)
        }
        let o = a.overall ?? DetectionScore()
        return CrowdFigures(precision: o.precision, recall: o.recall,
                            detectionByBand: detection.map(\.rate),
                            clicksPerWorker: clicks.isEmpty ? 0 : median(clicks),
                            rmse: a.crowd.medianWorkerRmsePx ?? .nan, period: a.crowd.medianClickPeriodS ?? .nan,
                            falsePositiveRate: fp.isEmpty ? .nan : median(fp), perImage: perImage,
                            errors: a.errors.map { ErrorBreakdown.byKey($0.counts.map(Double.init)) } ?? [:])
    }

    /// The mean of several crowds' figures (NaN entries left out).
    public static func mean(_ xs: [CrowdFigures]) -> CrowdFigures {
        func m(_ f: (CrowdFigures) -> Double) -> Double {
            let v = xs.map(f).filter(\.isFinite); return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
        }
        var perImage: [String: [Double]] = [:]
        for k in xs[0].perImage.keys { perImage[k] = [m { $0.perImage[k]?[0] ?? .nan }, m { $0.perImage[k]?[1] ?? .nan }] }
        return CrowdFigures(precision: m(\.precision), recall: m(\.recall),
                            detectionByBand: xs[0].detectionByBand.indices.map { b in m { $0.detectionByBand[b] } },
                            clicksPerWorker: m(\.clicksPerWorker), rmse: m(\.rmse), period: m(\.period),
                            falsePositiveRate: m(\.falsePositiveRate), perImage: perImage,
                            errors: Dictionary(uniqueKeysWithValues: xs[0].errors.keys.map { k in (k, m { $0.errors[k] ?? .nan }) }))
    }
}
