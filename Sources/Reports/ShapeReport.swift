import Consensus
import Foundation
import Imaging

/// What the classic automatic pipelines measured on the same frames (from the images).
public struct ClassicBaselines: Sendable {
    /// Junction-split skeleton branch lengths, all frames.
    public var skeletonLengths: [Double] = []
    /// Contrast segmentation's area per frame (image name → px²).
    public var regionAreas: [String: Double] = [:]
    public init() {}
}

/// Outputs of the shape side of `crowdlab analyze`.
public enum ShapeOutputs {
    /// `consensus_shapes.json`: a list of `{"image", "kind", "points": [[x, y], ...], "support"}`
    /// (plus area or length), in the export's coordinates.
    public static func consensusShapesJSON(_ r: ShapeAnalysisResult) throws -> Data { try consensusShapesJSON([r]) }

    /// Several analyses' shapes in one file (the exports of one job: each image in one of them).
    public static func consensusShapesJSON(_ results: [ShapeAnalysisResult]) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        return try enc.encode(results.flatMap(\.consensus.shapes))
    }

    /// The `shapes` section of metrics.json.
    public struct Metrics: Encodable {
        var shapeRecords: Int, shapes: Int, degenerateShapes: Int, consensusShapes: Int, unsupportedShapes: Int, errantShapes: Int
        var precision: Double?, recall: Double?, f1: Double?, tp: Int?, fp: Int?, fn: Int?
        var medianAreaError: Double?
        var areas: [Area]
        var lengths: Lengths
        var tracks: [TrackRow]
        var velocities: [Velocity]
        var medianVelocityError: Double?
        var keypoints: [KeypointTrajectory]
        var classicMedianAreaError: Double?
        struct Area: Encodable { var image: String; var consensusArea: Double; var truthArea: Double?; var classicArea: Double? }
        struct Lengths: Encodable {
            var consensus: [Double], workers: [Double], truth: [Double], skeletonBaseline: [Double]
            var ksConsensusVsTruth: Double?, ksWorkersVsTruth: Double?, ksSkeletonVsTruth: Double?
        }
        struct TrackRow: Encodable { var frames: [Int]; var xs: [Double]; var ys: [Double]; var meanSpeedPxPerFrame: Double?; var fittedSpeedPxPerFrame: Double? }
        struct Velocity: Encodable { var track: Int; var speed: Double; var truth: Double; var relativeError: Double }
    }

    /// Median relative error of the classic area against the truth, over frames with both.
    public static func classicAreaError(_ r: ShapeAnalysisResult, _ b: ClassicBaselines) -> Double? {
        let e = r.areaOverTime.compactMap { a -> Double? in
            guard let t = a.truth, t > 0, let c = b.regionAreas[a.image] else { return nil }
            return abs(c - t) / t
        }
        return e.isEmpty ? nil : median(e)
    }

    /// The `shapes` section of metrics.json.
    public static func metrics(_ r: ShapeAnalysisResult, baselines b: ClassicBaselines = ClassicBaselines()) -> Metrics {
        let s = r.score
        let truthKS = r.truthLengths.isEmpty ? nil : ksStatistic(r.consensusLengths, r.truthLengths)
        let workerKS = r.truthLengths.isEmpty || r.workerLengths.isEmpty ? nil : ksStatistic(r.workerLengths, r.truthLengths)
        let m = Metrics(shapeRecords: r.job.shapeRecords, shapes: r.job.images.reduce(0) { $0 + $1.shapes.count }, degenerateShapes: r.job.degenerateShapes,
                        consensusShapes: r.consensus.shapes.count, unsupportedShapes: r.consensus.unsupported, errantShapes: r.consensus.errant,
                        precision: s?.precision, recall: s?.recall, f1: s?.f1, tp: s?.tp, fp: s?.fp, fn: s?.fn,
                        medianAreaError: r.areaErrors.isEmpty ? nil : median(r.areaErrors.map(\.error)),
                        areas: r.areaOverTime.map { .init(image: $0.image, consensusArea: $0.consensus, truthArea: $0.truth, classicArea: b.regionAreas[$0.image]) },
                        lengths: .init(consensus: r.consensusLengths, workers: r.workerLengths, truth: r.truthLengths, skeletonBaseline: b.skeletonLengths,
                                       ksConsensusVsTruth: truthKS, ksWorkersVsTruth: workerKS,
                                       ksSkeletonVsTruth: r.truthLengths.isEmpty || b.skeletonLengths.isEmpty ? nil : ksStatistic(b.skeletonLengths, r.truthLengths)),
                        tracks: r.tracks.map { .init(frames: $0.frames, xs: $0.xs, ys: $0.ys, meanSpeedPxPerFrame: $0.meanSpeed, fittedSpeedPxPerFrame: $0.fittedSpeed) },
                        velocities: r.velocities.map { .init(track: $0.track, speed: $0.speed, truth: $0.truth, relativeError: abs($0.speed - $0.truth) / $0.truth) },
                        medianVelocityError: r.velocities.isEmpty ? nil : median(r.velocities.map { abs($0.speed - $0.truth) / $0.truth }),
                        keypoints: r.keypoints, classicMedianAreaError: classicAreaError(r, b))
        return m
    }

    /// Consensus outlines (red) and traces (orange), and every worker's shape (thin blue), on the image.
    public static func overlay(image: Image, shapes: [WorkerShape], consensus: [ConsensusShape]) -> Image {
        var out = image.rgb8ForDisplay()
        let h = Double(out.height)
        func draw(_ xs: [Double], _ ys: [Double], closed: Bool, _ rgb: (UInt16, UInt16, UInt16)) {
            guard xs.count >= 2 else { return }
            for i in 1..<xs.count { out.drawLine(xs[i - 1], h - ys[i - 1], xs[i], h - ys[i], rgb) }
            if closed { out.drawLine(xs.last!, h - ys.last!, xs[0], h - ys[0], rgb) }
        }
        for s in shapes { draw(s.xs, s.ys, closed: s.isClosed, (90, 160, 255)) }
        for c in consensus {
            draw(c.points.map { $0[0] }, c.points.map { $0[1] }, closed: c.kind == "polygon", c.kind == "polygon" ? (255, 40, 40) : (255, 160, 0))
        }
        return out
    }
}

/// The report section for shapes: scores, area over time, length and speed distributions.
public enum ShapeReport {
    /// A page of its own, for exports with shapes only (no clicks to analyse as points).
    public static func html(_ r: ShapeAnalysisResult, exportName: String, overlays: [(image: String, file: String)], baselines: ClassicBaselines = ClassicBaselines()) -> String {
        var page = HTMLPage(title: "Crowd shapes: \(exportName)")
        section(r, into: &page, overlays: overlays, baselines: baselines)
        return page.render()
    }

    /// Empirical CDF as a step line.
    static func cdf(_ v: [Double], name: String, color: String) -> SVGPlot.Series {
        let s = v.sorted()
        let ys = s.indices.map { Double($0 + 1) / Double(s.count) }
        return SVGPlot.Series(name: name, xs: s, ys: ys, mark: .line, color: color)
    }

    public static func section(_ r: ShapeAnalysisResult, into page: inout HTMLPage, overlays: [(image: String, file: String)], baselines: ClassicBaselines = ClassicBaselines()) {
        let baselineLengths: [Double]? = baselines.skeletonLengths.isEmpty ? nil : baselines.skeletonLengths
        page.heading("Shapes: outlines and traces")
        let shapes = r.job.images.reduce(0) { $0 + $1.shapes.count }
        page.paragraph("\(r.job.shapeRecords) shape submissions, \(shapes) shapes (\(r.job.degenerateShapes) degenerate, not used); \(r.consensus.shapes.count) consensus shapes; \(r.consensus.unsupported) shapes without enough independent votes; \(r.consensus.errant) errant outlines rejected.")
        if let s = r.score {
            page.table(["", "precision", "recall", "F1", "tp", "fp", "fn"],
                       [["consensus centroids vs truth", fmt(s.precision), fmt(s.recall), fmt(s.f1), "\(s.tp)", "\(s.fp)", "\(s.fn)"]])
        }
        if !r.areaErrors.isEmpty {
            var text = "Median relative area error of matched outlines: \(fmt(median(r.areaErrors.map(\.error)) * 100, 1)) %"
            if let c = ShapeOutputs.classicAreaError(r, baselines) { text += "; classic contrast segmentation (smoothing, Otsu, largest region, holes filled): \(fmt(c * 100, 1)) %" }
            page.paragraph(text + ".")
        }
        let withArea = r.areaOverTime.filter { $0.consensus > 0 }
        if r.isMovie, withArea.count >= 2 {
            var plot = SVGPlot(title: "Area over time", xLabel: "frame", yLabel: "area (px²)")
            plot.add(.init(name: "crowd consensus", xs: withArea.indices.map(Double.init), ys: withArea.map(\.consensus), mark: .line, color: SVGPlot.palette[1]))
            let truth = withArea.compactMap(\.truth)
            if truth.count == withArea.count {
                plot.add(.init(name: "truth", xs: withArea.indices.map(Double.init), ys: truth, mark: .line, color: SVGPlot.palette[2]))
            }
            let classic = withArea.compactMap { baselines.regionAreas[$0.image] }
            if classic.count == withArea.count {
                plot.add(.init(name: "contrast segmentation", xs: withArea.indices.map(Double.init), ys: classic, mark: .line, color: SVGPlot.palette[3]))
            }
            page.figure(plot.render(), caption: "Summed outline area per frame: a stall shows as a flat stretch.")
        }
        if !r.consensusLengths.isEmpty {
            var plot = SVGPlot(title: "Length distributions", xLabel: "length (px)", yLabel: "cumulative share")
            plot.add(cdf(r.consensusLengths, name: "crowd consensus", color: SVGPlot.palette[1]))
            if !r.workerLengths.isEmpty { plot.add(cdf(r.workerLengths, name: "single workers", color: SVGPlot.palette[0])) }
            if !r.truthLengths.isEmpty { plot.add(cdf(r.truthLengths, name: "truth", color: SVGPlot.palette[2])) }
            if let b = baselineLengths, !b.isEmpty { plot.add(cdf(b, name: "skeleton baseline", color: SVGPlot.palette[3])) }
            var caption = "Empirical distributions of trace lengths."
            if !r.truthLengths.isEmpty {
                caption += " KS distance to truth: consensus \(fmt(ksStatistic(r.consensusLengths, r.truthLengths)))"
                if !r.workerLengths.isEmpty { caption += ", single workers \(fmt(ksStatistic(r.workerLengths, r.truthLengths)))" }
                if let b = baselineLengths, !b.isEmpty { caption += ", skeleton baseline \(fmt(ksStatistic(b, r.truthLengths)))" }
                caption += "."
            }
            page.figure(plot.render(), caption: caption)
        }
        let speeds = r.tracks.compactMap(\.fittedSpeed)
        if speeds.count >= 3 {
            var plot = SVGPlot(title: "Track speeds", xLabel: "speed (px / frame)", yLabel: "cumulative share")
            plot.add(cdf(speeds, name: "tracks of consensus shapes", color: SVGPlot.palette[4]))
            page.figure(plot.render(), caption: "\(r.tracks.count) tracks linked over frames (LAP linking with gap closing); speeds fitted over the \(speeds.count) that span three frames or more.")
        }
        if !r.velocities.isEmpty {
            var plot = SVGPlot(title: "Track speeds against the truth", xLabel: "true speed (px / frame)", yLabel: "tracked speed (px / frame)")
            plot.add(.init(name: "tracks", xs: r.velocities.map(\.truth), ys: r.velocities.map(\.speed), mark: .points, color: SVGPlot.palette[4]))
            let top = (r.velocities.map { max($0.truth, $0.speed) }.max() ?? 1) * 1.05
            plot.add(.init(name: "equal", xs: [0, top], ys: [0, top], mark: .line, color: "#999999"))
            let med = median(r.velocities.map { abs($0.speed - $0.truth) / $0.truth })
            page.figure(plot.render(), caption: "Speeds from a least-squares line through each track's positions; median relative error \(fmt(med * 100, 1)) % over \(r.velocities.count) tracks.")
        }
        if !r.keypoints.isEmpty {
            var plot = SVGPlot(title: "Keypoint trajectories", xLabel: "frame", yLabel: "x (px)")
            for (k, kp) in r.keypoints.enumerated() {
                plot.add(.init(name: kp.label, xs: kp.frames.map(Double.init), ys: kp.xs, mark: .line, color: SVGPlot.palette[k % SVGPlot.palette.count]))
            }
            page.figure(plot.render(), caption: "Consensus (median click) of each labelled keypoint per frame: the paws' steps show as the gait.")
            page.table(["keypoint", "frames", "RMSE to truth (px)"], r.keypoints.map { [$0.label, "\($0.frames.count)", fmt($0.rmse, 2)] })
        }
        for o in overlays.prefix(6) { page.raw("<figure><img src=\"\(esc(o.file))\" alt=\"overlay of \(esc(o.image))\"><figcaption>\(esc(o.image)): worker shapes (blue), consensus (red outlines, orange traces)</figcaption></figure>") }
    }
}
