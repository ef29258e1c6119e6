import ArgumentParser
import Consensus
import Foundation
import Imaging
import Reports

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge a Quanti.us export's clicks into consensus objects and score the crowd.",
        discussion: """
        Reads a Quanti.us JSON export (real, or written by `crowdlab simulate`) and \
        writes into --out:
          consensus.csv  one row per object (image,x,y,support,...); x,y in the
                         export's coordinates (y from the bottom)
          workers.csv    per worker: images, annotations, median click period,
                         score (and tp, fp, fn, rmse with truth)
          metrics.json   precision/recall/F1 with truth; crowd statistics,
                         learning curve and Fitts fit always
          report.html    one self-contained page with plots; with --images,
                         PNG overlays beside it

        Exports with polygon, polyline or freehand records also get consensus_shapes.json \
        (merged outlines and traces with support, areas, lengths) and a "shapes" section in \
        metrics.json; with movie truth (a folder of <frame>_truth.json) areas, lengths, track \
        speeds and keypoint trajectories are compared with the truth, and with --images with \
        the classic pipelines (contrast segmentation, junction-split skeleton).

        Examples:
          crowdlab analyze Data/quanti-us/synth-cells/export.json \\
            --truth Data/quanti-us/synth-cells \\
            --images Data/quanti-us/synth-cells/images
          crowdlab analyze Data/quanti-us/smfish-inverted/export.json \\
            --truth Data/quanti-us/smfish-inverted \\
            --images Data/quanti-us/smfish-inverted/images --image-evidence
          crowdlab analyze export.json --method subtractive --radius 0.1
          crowdlab analyze Data/quanti-us/circle-spots/export.json \\
            --truth Data/quanti-us/circle-spots
        """)

    @Argument(help: "The Quanti.us export (JSON array of worker submissions).")
    var export: String

    @Option(help: "Truth: a folder of per-image CSVs (col,row[,snr]; row from the top) or <image>_truth.json shape truth, or one CSV for one image (see --truth-image).")
    var truth: String?

    @OptionGroup var truthImage: TruthImageOption

    @Option(help: "Folder holding the images named in the export, for overlays.")
    var images: String?

    @OptionGroup var evidence: ImageEvidenceOption

    @Option(help: "Point consensus method: \(PointMethods.names.joined(separator: ", ")).")
    var method: PointMethods.Name = .agreement

    @Option(help: "Radius for the subtractive method: a fraction of the data range (0.1) or pixels (8px).")
    var radius: String?

    @Option(help: "Match radius in pixels for scoring (default 8, or twice --object-fwhm).")
    var matchRadius: Double?

    @Option(help: "Object FWHM in pixels; the match radius becomes twice this.")
    var objectFwhm: Double?

    @Option(help: "Output folder.")
    var out: String = "Reports/analyze"

    @Option(help: "The report's title (default: the export's folder and file name).")
    var title: String?

    /// `synth-tissue/export.json` rather than `export.json`: every portal export has that name.
    static func defaultTitle(_ export: String) -> String {
        let folder = ((export as NSString).deletingLastPathComponent as NSString).lastPathComponent
        let file = (export as NSString).lastPathComponent
        return folder.isEmpty || folder == "." ? file : folder + "/" + file
    }

    func run() throws {
        let progress = Progress(stages: 4)
        var options = try analysisOptions()
        progress.stage("reading \(export)")
        let readStart = Date()
        let data = try readSubmissions(export)
        let readSeconds = Date().timeIntervalSince(readStart)
        if data.records.isEmpty {
            FileHandle.standardError.write(Data("crowdlab: warning: \(export) holds no submissions: the outputs are empty\n".utf8))
        }
        let (truthSet, shapeTruth) = try loadTruth(for: data)
        let heard = try evidence.method(for: data, images: images)
        if let heard { options.method = heard }
        progress.stage("consensus (\(options.method.name)) and scores")
        let result = Analysis.run(export: data, truth: truthSet, options: options)
        let hasShapes = data.records.contains { $0.annotationType != .crosshairs } || shapeTruth != nil
        let shapes = hasShapes ? ShapeAnalysis.run(export: data, pointTruth: truthSet, shapeTruth: shapeTruth, matchRadius: options.matchRadius) : nil
        progress.stage("writing \(out)")
        let writeStart = Date()
        let written = try writeOutputs(data: data, result: result, truth: truthSet, shapes: shapes, matchRadius: options.matchRadius,
                                       pictures: heard?.images ?? [:])
        progress.done()
        if ProcessInfo.processInfo.environment["CROWDLAB_PROFILE"] != nil {
            let line = ([("read", readSeconds)] + result.timings + [("write", Date().timeIntervalSince(writeStart))])
                .map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", ")
            FileHandle.standardError.write(Data("profile (s): \(line)\npeak_rss_kib \(peakRSSKiB())\n".utf8))
        }
        printSummary(data: data, result: written.result, shapes: shapes, baselines: written.baselines, matchRadius: options.matchRadius, overlays: written.overlays)
    }

    func analysisOptions() throws -> AnalysisOptions {
        var options = AnalysisOptions()
        options.method = try PointMethods.make(method, radius: radius)
        try evidence.check(images: images, method: method)
        if let m = matchRadius {
            guard m > 0, m.isFinite else { throw CLIError("--match-radius: must be a positive number of pixels") }
            options.matchRadius = m
        } else {
            options.matchRadius = defaultMatchRadius(objectFWHM: objectFwhm)
        }
        return options
    }

    /// Shape truth (phantom movies) is JSON per frame; point truth is CSV.
    func loadTruth(for data: QuantiusExport) throws -> (points: TruthSet?, shapes: [String: ShapeTruth]?) {
        var shapeTruth: [String: ShapeTruth]? = nil
        if let t = truth, let files = try? FileManager.default.contentsOfDirectory(atPath: t), files.contains(where: { $0.hasSuffix("_truth.json") }) {
            shapeTruth = try ShapeTruth.load(folder: t, images: data.imageNames)
        }
        if shapeTruth != nil && truthImage.truthImage != nil { throw CLIError("--truth-image: names the image of a single truth CSV, not of shape truth") }
        let truthSet = shapeTruth != nil ? nil : try truthImage.load(truth, export: data)
        return (truthSet, shapeTruth)
    }

    /// Everything into --out, all or nothing (`OutputStage`). The result comes back with a note for
    /// images missing from --images. `pictures`: images already read (for the evidence).
    func writeOutputs(data: QuantiusExport, result: AnalysisResult, truth truthSet: TruthSet?, shapes: ShapeAnalysisResult?,
                      matchRadius: Double, pictures: [String: Image]) throws -> (result: AnalysisResult, baselines: ClassicBaselines, overlays: Int) {
        let stage = try OutputStage(destination: out)
        let (baselines, shapePictures) = try classicBaselines(shapes)
        // metrics.json gains a "shapes" section for outlines and traces: lengths, areas, tracks, scores.
        try AnalysisOutputs.write(result, metrics: AnalysisOutputs.metrics(result, shapes: shapes, baselines: baselines), into: stage)
        if let shapes { try stage.write(ShapeOutputs.consensusShapesJSON(shapes), "consensus_shapes.json") }
        var shapeOverlays: [(image: String, file: String)] = []
        if let shapes {
            let byImage = Dictionary(grouping: shapes.consensus.shapes, by: \.image)
            for im in shapes.job.images {
                guard let picture = shapePictures[im.image] else { continue }
                let file = "overlays/" + ((im.image as NSString).deletingPathExtension) + "_shapes.png"
                try stage.write(PNG.encode(ShapeOutputs.overlay(image: picture, shapes: im.shapes, consensus: byImage[im.image] ?? [])), file)
                shapeOverlays.append((im.image, file))
            }
        }
        let (overlayFiles, missingImages) = try writePointOverlays(result, truth: truthSet, matchRadius: matchRadius, pictures: pictures, into: stage)
        var r = result
        if !missingImages.isEmpty { r.truthNotes.append("\(missingImages.count) image(s) not found in \(images!) and drawn without overlay") }
        let onlyShapes = shapes != nil && !data.records.contains { $0.annotationType == .crosshairs && !$0.isEmpty } && (shapes?.keypoints.isEmpty ?? true)
        if let shapes, onlyShapes {
            try stage.write(ShapeReport.html(shapes, exportName: title ?? Self.defaultTitle(export), overlays: shapeOverlays, baselines: baselines), "report.html")
        } else {
            try stage.write(AnalysisReport.html(r, exportName: title ?? Self.defaultTitle(export), overlays: overlayFiles, extra: { page in
                if let shapes { ShapeReport.section(shapes, into: &page, overlays: shapeOverlays, baselines: baselines) }
            }), "report.html")
        }
        try stage.commit()
        return (r, baselines, overlayFiles.count + shapeOverlays.count)
    }

    /// The classic pipelines on the same frames, when the images are at hand; the pictures are
    /// read once, for the baselines and the overlays.
    func classicBaselines(_ shapes: ShapeAnalysisResult?) throws -> (ClassicBaselines, [String: Image]) {
        var baselines = ClassicBaselines()
        var pictures: [String: Image] = [:]
        guard let shapes, let dir = images else { return (baselines, pictures) }
        for im in shapes.job.images {
            let p = (dir as NSString).appendingPathComponent(im.image)
            guard FileManager.default.fileExists(atPath: p) else { continue }
            let picture = try PNG.read(path: p)
            pictures[im.image] = picture
            if im.shapes.contains(where: { !$0.isClosed }) { baselines.skeletonLengths += ClassicShapes.skeletonBranchLengths(picture) }
            if im.shapes.contains(where: \.isClosed) { baselines.regionAreas[im.image] = ClassicShapes.largestRegionArea(picture) }
        }
        return (baselines, pictures)
    }

    /// One overlay per image found in --images: clicks, consensus and truth; the images not found.
    func writePointOverlays(_ result: AnalysisResult, truth truthSet: TruthSet?, matchRadius: Double, pictures: [String: Image],
                            into stage: OutputStage) throws -> (files: [(image: String, file: String)], missing: [String]) {
        var files: [(image: String, file: String)] = [], missing: [String] = []
        guard let dir = images else { return (files, missing) }
        let found = result.job.images.indices.filter { k in
            let name = result.job.images[k].image
            return pictures[name] != nil || FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(name))
        }
        let foundSet = Set(found)
        missing = result.job.images.indices.filter { !foundSet.contains($0) }.map { result.job.images[$0].image }
        // Drawn and encoded on all cores; written, and any error thrown, in the export's image order.
        let encoded: [Result<Data, Error>] = found.parallelMap { k in
            let im = result.job.images[k]
            return Result {
                let picture = try pictures[im.image] ?? PNG.read(path: (dir as NSString).appendingPathComponent(im.image))
                return try PNG.encode(AnalysisOutputs.overlay(image: picture, clicks: Array(zip(im.xs, im.ys)), consensus: result.consensus[k].points,
                                                              truth: truthSet?.byImage[im.image], radius: matchRadius))
            }
        }
        for (k, png) in zip(found, encoded) {
            let name = result.job.images[k].image
            let file = "overlays/" + ((name as NSString).deletingPathExtension) + ".png"
            try stage.write(png.get(), file)
            files.append((name, file))
        }
        return (files, missing)
    }

    /// A whole pixel or more between where the crowd clicks and where the truth puts its objects is
    /// a convention (1-based pixels, pixel corners), not pointing error: say so.
    static func truthOffsetNote(_ offset: [Double]?) -> String? {
        guard let o = offset, o.count == 2, hypot(o[0], o[1]) >= 1 else { return nil }
        return String(format: "note: workers' clicks sit %.2f px from the truth on average (%+.2f across, %+.2f up): another pixel convention in the truth? Worker RMSE is measured about it",
                      hypot(o[0], o[1]), o[0], o[1])
    }

    func printSummary(data: QuantiusExport, result r: AnalysisResult, shapes: ShapeAnalysisResult?, baselines: ClassicBaselines,
                      matchRadius: Double, overlays: Int) {
        let c = r.crowd
        print("\(c.records) submissions (\(c.emptyRecords) empty), \(c.clicks) clicks, \(c.workers) workers, \(c.images) images")
        if r.skippedShapeRecords > 0 { print("\(r.skippedShapeRecords) shape records, merged by the shape consensus") }
        let pointRecords = data.records.count - r.skippedShapeRecords
        if pointRecords > 0 { print("consensus (\(r.method)): \(r.consensus.reduce(0) { $0 + $1.points.count }) objects") }
        if pointRecords > 0, let line = evidence.summary(r.consensus) { print(line) }
        if pointRecords > 0, let o = r.overall {
            print(String(format: "vs truth at %.1f px: precision %.3f  recall %.3f  F1 %.3f  (tp %d, fp %d, fn %d)",
                         matchRadius, o.precision, o.recall, o.f1, o.tp, o.fp, o.fn))
            if let e = r.errors { print("  " + e.sentence) }
        }
        if let line = Self.truthOffsetNote(c.truthOffsetPx) { print(line) }
        if let shapes { printShapeSummary(shapes, baselines: baselines) }
        for n in r.truthNotes { print("note: \(n)") }
        print("wrote \(out)/report.html, consensus.csv, \(shapes == nil ? "" : "consensus_shapes.json, ")workers.csv, metrics.json\(overlays == 0 ? "" : ", \(overlays) overlays")")
    }

    func printShapeSummary(_ shapes: ShapeAnalysisResult, baselines: ClassicBaselines) {
        print("shapes: \(shapes.consensus.shapes.count) consensus shapes from \(shapes.job.images.reduce(0) { $0 + $1.shapes.count }) (\(shapes.consensus.unsupported) without enough votes, \(shapes.consensus.errant) errant, \(shapes.job.degenerateShapes) degenerate)")
        if let s = shapes.score {
            print(String(format: "shapes vs truth: precision %.3f  recall %.3f  F1 %.3f  (tp %d, fp %d, fn %d)", s.precision, s.recall, s.f1, s.tp, s.fp, s.fn))
        }
        if !shapes.areaErrors.isEmpty { print(String(format: "median area error %.1f %%", 100 * median(shapes.areaErrors.map(\.error)))) }
        if let c = ShapeOutputs.classicAreaError(shapes, baselines) { print(String(format: "classic contrast segmentation: median area error %.1f %%", 100 * c)) }
        if !shapes.truthLengths.isEmpty {
            var line = String(format: "length KS vs truth: consensus %.3f, single workers %.3f", ksStatistic(shapes.consensusLengths, shapes.truthLengths), ksStatistic(shapes.workerLengths, shapes.truthLengths))
            if !baselines.skeletonLengths.isEmpty { line += String(format: ", skeleton baseline %.3f", ksStatistic(baselines.skeletonLengths, shapes.truthLengths)) }
            print(line)
        }
        if !shapes.velocities.isEmpty {
            print(String(format: "track speeds: median error %.1f %% over %d tracks", 100 * median(shapes.velocities.map { abs($0.speed - $0.truth) / $0.truth }), shapes.velocities.count))
        }
        for k in shapes.keypoints { print(String(format: "keypoint %@: %d frames, RMSE %.2f px", k.label, k.frames.count, k.rmse ?? .nan)) }
    }
}
