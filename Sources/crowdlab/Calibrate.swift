import ArgumentParser
import Consensus
import Crowd
import Foundation
import Imaging
import Reports

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a crowd population to a real export with truth; writes commented YAML.",
        discussion: """
        Fits detection against visibility (nominal SNR from the truth, or, with --images, the contrast measured in each image as a person sees it, dark or bright spots alike), the click budget per image at the export's pay and its spread between workers (a censored likelihood: workers click min(noticed, budget)), careless workers, false positives (a learning slope only where the data show one) and their spread between workers, the share of false clicks on look-alikes in the images, pointing error and Fitts' law, and participation. Each fitted value carries its uncertainty as a comment and in an `uncertainty:` section (crowdlab predict draws from it); what one export cannot show keeps the built-in prior, marked as such, and a fit that fails or lands outside what a population may hold falls back to the prior, named.

        Example:
          crowdlab calibrate Data/quanti-us/synth-tissue/export.json \\
            --truth Data/quanti-us/synth-tissue \\
            --images Data/quanti-us/synth-tissue/images \\
            --out out/tissue.yaml
        """)

    @Argument(help: "The real Quanti.us export.") var export: String
    @Option(help: "Truth CSV or folder (as for analyze).") var truth: String
    @OptionGroup var truthImage: TruthImageOption
    @Option(help: "Folder of the export's images: detection is then fitted against measured contrast.") var images: String?
    @Option(help: "Pay per image of the export, in USD.") var pay: Double = 0.02
    @Option(help: "Output population YAML.") var out: String
    @Option(help: "Also write a calibration report (report.html: observed against predicted) in this folder.") var report: String?

    func run() throws {
        guard pay > 0 && pay.isFinite else { throw CLIError("--pay: must be a positive amount in USD") }
        let data = try readSubmissions(export)
        let truthSet = try truthImage.load(truth, export: data)
        let measured = try images.map { try Visibility.measure(truthSet, imagesDir: $0) }
        let visibility = measured?.visibility, lookAlikes = measured?.lookAlikes
        let c = try Calibrator.calibrate(export: data, truth: truthSet, visibility: visibility, lookAlikes: lookAlikes, pay: pay, source: export)
        let truthNote = truthSet.imagesWithoutTruth.isEmpty ? "" : "; truth for \(truthSet.byImage.count) of \(truthSet.byImage.count + truthSet.imagesWithoutTruth.count) images"
        let title = "Calibrated by crowdlab calibrate on \((export as NSString).lastPathComponent) (\(data.records.count) submissions, \(data.clickCount) clicks\(truthNote))"
        let yaml = c.populationWithUncertainty.yaml(title: title, notes: c.notes)
        let page = report.map { _ in reportPage(c, visibilityMeasured: visibility != nil) }
        // Both outputs are ready before either is written.
        try AtomicFile.write(yaml, to: out)
        for line in c.summary { print(line) }
        print("wrote \(out)")
        if let report, let page {
            let path = (report as NSString).appendingPathComponent("report.html")
            try AtomicFile.write(page, to: path)
            print("wrote \(path)")
        }
    }

    /// The calibration report: what the pilot showed against what the fitted population predicts.
    func reportPage(_ c: Calibration, visibilityMeasured: Bool) -> String {
        let p = c.population
        let seen: (first: Double, later: Double) = c.observed.falseRatesSeen.first > 0 ? c.observed.falseRatesSeen : (p.falsePositiveFirst, p.falsePositiveLater)
        var inputs = CalibrationReport.Inputs(
            title: "Calibration: \(((export as NSString).deletingLastPathComponent as NSString).lastPathComponent)/\((export as NSString).lastPathComponent)",
            summary: c.summary, objects: c.observed.objects, clicks: c.observed.clicks, falseByIndex: c.observed.falseByIndex,
            falseFirst: seen.first, falseLater: seen.later, learningAnnotations: p.learningAnnotations,
            pointing: c.observed.pointing, fitts: (p.fittsA, p.fittsB, p.fittsC),
            bands: visibilityMeasured ? CrowdFigures.bands.dropLast() : [-.infinity, 5, 7.5, 10, 15, 20], measure: p.measure.rawValue)
        inputs.falseDistance = c.observed.falseDistance
        inputs.falseGenerated = p.falsePositiveFirst
        return CalibrationReport.html(inputs)
    }
}
