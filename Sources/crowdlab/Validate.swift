import ArgumentParser
import Consensus
import Crowd
import Foundation

/// Real crowds given on the command line: each export with its truth and images (by default the
/// export's folder and its `images/`).
struct RealCrowdOptions: ParsableArguments {
    @Argument(help: "Real Quanti.us exports (crosshairs) with truth.") var exports: [String] = []
    @Option(help: "Truth CSV or folder for each export, in order (default: the export's folder).") var truth: [String] = []
    @Option(help: "Image folder for each export, in order (default: <export's folder>/images).") var images: [String] = []

    func load(_ exports: [String]) throws -> [RealCrowd] {
        guard truth.isEmpty || truth.count == exports.count else { throw CLIError("--truth: give one per export (\(exports.count)) or none") }
        guard images.isEmpty || images.count == exports.count else { throw CLIError("--images: give one per export (\(exports.count)) or none") }
        return try exports.enumerated().map { i, e in
            try Self.load(e, truth: truth.isEmpty ? nil : truth[i], images: images.isEmpty ? nil : images[i])
        }
    }

    /// One export, its truth and images by default in the export's folder and its `images/`.
    static func load(_ export: String, truth: String? = nil, images: String? = nil) throws -> RealCrowd {
        let folder = (export as NSString).deletingLastPathComponent
        let crowd = try RealCrowd.load(export: export, truth: truth ?? (folder.isEmpty ? "." : folder),
                                       images: images ?? (folder as NSString).appendingPathComponent("images"))
        noteRepeatedSubmissions(crowd.export, file: export)
        return crowd
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How well calibration predicts real crowds it has not seen (leave-one-crowd-out).",
        discussion: """
        For each real export given, a population is calibrated on the other exports (pooled) or on --calibrate-on, and simulated crowds of it annotate the held crowd's own images, at its real image sizes and replicate count. The table sets the real crowd's figures against the prediction (the mean over --seeds simulated crowds): consensus precision and recall (the default method, 8 px), the mean per-image error of both, detection by visibility band (contrast in noise units), median clicks per worker, median worker RMSE and click period, the median worker's false-positive rate, and the consensus's missed and false objects by cause (as analyze gives them).

        With --pilot-workers K and/or --pilot-images M, each export is checked against pilots drawn from itself instead: --pilots draws of K of its workers on every image (or M of its images with all their workers), each calibrated on and used to predict the whole crowd as `crowdlab predict` does (--seeds simulated crowds, 90 % intervals), and whether the real crowd's precision and recall fall inside: how small a pilot can be trusted.

        Examples:
          crowdlab validate Data/quanti-us/synth-cells/export.json \\
            Data/quanti-us/synth-tissue/export.json --json out/validate.json
          crowdlab validate Data/quanti-us/smfish-inverted/export.json \\
            --pilot-workers 5 --pilots 3 --seeds 10
        """)

    @OptionGroup var crowds: RealCrowdOptions
    @Option(name: .customLong("calibrate-on"), help: "Calibrate once on this export instead of leaving one out.") var calibrateOn: String?
    @Option(name: .customLong("calibrate-on-truth"), help: "Truth CSV or folder of --calibrate-on (default: its folder).") var calibrateOnTruth: String?
    @Option(name: .customLong("calibrate-on-images"), help: "Image folder of --calibrate-on (default: <its folder>/images).") var calibrateOnImages: String?
    @Option(help: "Pay per image of the exports, in USD.") var pay: Double = 0.02
    @Option(help: "Simulated crowds per prediction.") var seeds: Int = 3
    @Option(name: .customLong("pilot-workers"), help: "Check pilots of this many workers per image, drawn from each export, against the whole crowd.") var pilotWorkers: Int?
    @Option(name: .customLong("pilot-images"), help: "Check pilots of this many images (all their workers), drawn from each export, against the whole crowd.") var pilotImages: Int?
    @Option(help: "Pilots drawn per export (with --pilot-workers or --pilot-images).") var pilots: Int = 5
    @Option(name: .customLong("pilot-seed"), help: "Seed of the pilots' draws.") var pilotSeed: UInt64 = 1
    @Option(name: .customLong("pilots-out"), help: "Write each pilot's fitted population here, as <crowd>-pilot-<n>.yaml.") var pilotsOut: String?
    @Option(help: "Write the rows as JSON here.") var json: String?

    func run() throws {
        guard !crowds.exports.isEmpty else { throw CLIError("give one or more exports") }
        guard seeds >= 1 && seeds <= 100 else { throw CLIError("--seeds: must be 1…100") }
        guard pay > 0 && pay.isFinite else { throw CLIError("--pay: must be a positive amount in USD") }
        guard calibrateOn != nil || (calibrateOnTruth == nil && calibrateOnImages == nil) else {
            throw CLIError("--calibrate-on-truth, --calibrate-on-images: give them with --calibrate-on")
        }
        if pilotWorkers != nil || pilotImages != nil {
            try checkPilotOptions()
            return try checkPilots(try crowds.load(crowds.exports))
        }
        let held = try crowds.load(crowds.exports)
        let source = try calibrateOn.map { try RealCrowdOptions.load($0, truth: calibrateOnTruth, images: calibrateOnImages) }
        let progress = Progress(stages: held.count * 2)
        let rows = try Validation.run(crowds: held, calibrateOn: source, pay: pay, seeds: (1...seeds).map(UInt64.init), progress: progress.stage)
        progress.done()
        print(ValidationTable.text(rows))
        let excess = Validation.excessVariation(rows)
        print("real crowds' per-image variation beyond chance: precision \(fixed(excess.precision, 3)), recall \(fixed(excess.recall, 3))")
        try write(rows)
    }

    func checkPilotOptions() throws {
        guard calibrateOn == nil else { throw CLIError("--calibrate-on: not with --pilot-workers or --pilot-images (each crowd's pilots are drawn from itself)") }
        guard pilotWorkers.map({ $0 >= 2 }) ?? true else { throw CLIError("--pilot-workers: must be 2 or more (calibration needs two workers)") }
        guard pilotImages.map({ $0 >= 1 }) ?? true else { throw CLIError("--pilot-images: must be 1 or more") }
        guard pilots >= 1 && pilots <= 100 else { throw CLIError("--pilots: must be 1…100") }
        guard seeds >= 2 else { throw CLIError("--seeds: must be 2 or more for an interval") }
        if let pilotsOut {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: pilotsOut, isDirectory: &isFolder), !isFolder.boolValue {
                throw CLIError("--pilots-out: \(pilotsOut) is a file, not a folder")
            }
        }
    }

    /// Pilots drawn from each crowd, each predicting the whole crowd.
    func checkPilots(_ held: [RealCrowd]) throws {
        let design = Validation.PilotDesign(workersPerImage: pilotWorkers, images: pilotImages)
        if let pilotsOut {
            do { try FileManager.default.createDirectory(atPath: pilotsOut, withIntermediateDirectories: true) }
            catch { throw CLIError("--pilots-out: cannot create the folder \(pilotsOut)") }
        }
        let progress = Progress(stages: held.count * pilots * 2)
        var rows: [Validation.PilotRow] = []
        for crowd in held {
            rows += try Validation.runPilots(of: crowd, design, draws: pilots, seed: pilotSeed, seeds: seeds, pay: pay, calibrated: { draw, c in
                guard let pilotsOut else { return }
                let title = "Calibrated by crowdlab validate on pilot \(draw) of \(crowd.name): \(design.description)"
                try AtomicFile.write(c.populationWithUncertainty.yaml(title: title, notes: c.notes), to: (pilotsOut as NSString).appendingPathComponent("\(crowd.name)-pilot-\(draw).yaml"))
            }, progress: progress.stage)
        }
        progress.done()
        print(PilotTable.text(rows, design: design))
        try write(rows)
    }

    func write<T: Encodable>(_ rows: T) throws {
        guard let json else { return }
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]; enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(String(decoding: try enc.encode(rows), as: UTF8.self) + "\n", to: json)
        print("wrote \(json)")
    }
}

enum PilotTable {
    static func text(_ rows: [Validation.PilotRow], design: Validation.PilotDesign) -> String {
        var s = ""
        var seen = Set<String>()
        for crowd in rows.map(\.crowd) where seen.insert(crowd).inserted {
            let mine = rows.filter { $0.crowd == crowd }
            s += "\(crowd): pilots of \(design.description), each predicting the whole crowd (\(mine[0].replicates) per image), 90 % intervals\n"
            func line(_ cells: [String]) -> String {
                "  " + zip(cells, [7, 8, 13, 26, 8, 26]).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined() + cells[6] + "\n"
            }
            s += line(["pilot", "images", "submissions", "precision predicted", "real", "recall predicted", "real"])
            for r in mine {
                s += line(["\(r.draw)", "\(r.pilotImages)", "\(r.pilotSubmissions)", r.predicted.precision.shown + (r.precisionInside ? "" : " out"),
                           fixed(r.realPrecision, 3), r.predicted.recall.shown + (r.recallInside ? "" : " out"), fixed(r.realRecall, 3)])
            }
            let n = Double(mine.count)
            let error = mine.map { $0.predicted.recall.mean - $0.realRecall }.reduce(0, +) / n
            let halfWidth = mine.map { ($0.predicted.recall.high - $0.predicted.recall.low) / 2 }.reduce(0, +) / n
            s += "  real figures inside the intervals: precision \(mine.filter(\.precisionInside).count) of \(mine.count), recall \(mine.filter(\.recallInside).count) of \(mine.count); "
            s += "recall predicted \(error >= 0 ? "+" : "")\(fixed(error, 3)) on average, interval half-width \(fixed(halfWidth, 3))\n"
        }
        return s
    }
}

enum ValidationTable {
    static func text(_ rows: [Validation.Row]) -> String {
        func f(_ v: Double, _ d: Int) -> String { v.isFinite ? fixed(v, d) : "-" }
        var s = ""
        for r in rows {
            s += "\(r.crowd) (\(r.replicates) per image), calibrated on \(r.calibratedOn)\n"
            s += "  figure                real    predicted  difference\n"
            func line(_ name: String, _ a: Double, _ b: Double, _ d: Int) {
                s += "  " + name.padding(toLength: 20, withPad: " ", startingAt: 0) + f(a, d).leftPad(8) + f(b, d).leftPad(11) + f(b - a, d).leftPad(12) + "\n"
            }
            line("consensus precision", r.real.precision, r.predicted.precision, 3)
            line("consensus recall", r.real.recall, r.predicted.recall, 3)
            for (b, name) in CrowdFigures.bandNames.enumerated() {
                line("detection " + name, r.real.detectionByBand[b], r.predicted.detectionByBand[b], 3)
            }
            line("clicks per worker", r.real.clicksPerWorker, r.predicted.clicksPerWorker, 1)
            line("RMSE (px)", r.real.rmse, r.predicted.rmse, 2)
            line("click period (s)", r.real.period, r.predicted.period, 2)
            line("false positives", r.real.falsePositiveRate, r.predicted.falsePositiveRate, 3)
            for c in ErrorBreakdown.causes {
                line(c.name.prefix { $0 != ":" } + ": " + c.short, r.real.errors[c.key] ?? .nan, r.predicted.errors[c.key] ?? .nan, 1)
            }
            s += "  per image: mean |error| precision \(f(r.perImagePrecisionError, 3)), recall \(f(r.perImageRecallError, 3))\n"
        }
        return s
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
