import Consensus
import Foundation
import Imaging

/// Outputs of the shape side of `crowdlab analyze`.
public enum ShapeOutputs {
    /// `consensus_shapes.json`: a list of `{"image", "kind", "points": [[x, y], ...], "support"}`
    /// (plus area or length), in the export's coordinates.
    public static func consensusShapesJSON(_ r: ShapeAnalysisResult) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        return try enc.encode(r.consensus.shapes)
    }

    struct Metrics: Encodable {
        var shapeRecords: Int, shapes: Int, degenerateShapes: Int, consensusShapes: Int, unsupportedShapes: Int, errantShapes: Int
        var precision: Double?, recall: Double?, f1: Double?, tp: Int?, fp: Int?, fn: Int?
        var medianAreaError: Double?
        var areas: [Area]
        var lengths: Lengths
        var tracks: [TrackRow]
        struct Area: Encodable { var image: String; var consensusArea: Double; var truthArea: Double? }
        struct Lengths: Encodable {
            var consensus: [Double], workers: [Double], truth: [Double]
            var ksConsensusVsTruth: Double?, ksWorkersVsTruth: Double?
        }
        struct TrackRow: Encodable { var frames: [Int]; var xs: [Double]; var ys: [Double]; var meanSpeedPxPerFrame: Double? }
    }

    /// The `shapes` section of metrics.json.
    public static func metricsJSON(_ r: ShapeAnalysisResult) throws -> Data {
        let s = r.score
        let truthKS = r.truthLengths.isEmpty ? nil : ksStatistic(r.consensusLengths, r.truthLengths)
        let workerKS = r.truthLengths.isEmpty || r.workerLengths.isEmpty ? nil : ksStatistic(r.workerLengths, r.truthLengths)
        let m = Metrics(shapeRecords: r.job.shapeRecords, shapes: r.job.images.reduce(0) { $0 + $1.shapes.count }, degenerateShapes: r.job.degenerateShapes,
                        consensusShapes: r.consensus.shapes.count, unsupportedShapes: r.consensus.unsupported, errantShapes: r.consensus.errant,
                        precision: s?.precision, recall: s?.recall, f1: s?.f1, tp: s?.tp, fp: s?.fp, fn: s?.fn,
                        medianAreaError: r.areaErrors.isEmpty ? nil : median(r.areaErrors.map(\.error)),
                        areas: r.areaOverTime.map { .init(image: $0.image, consensusArea: $0.consensus, truthArea: $0.truth) },
                        lengths: .init(consensus: r.consensusLengths, workers: r.workerLengths, truth: r.truthLengths,
                                       ksConsensusVsTruth: truthKS, ksWorkersVsTruth: workerKS),
                        tracks: r.tracks.map { .init(frames: $0.frames, xs: $0.xs, ys: $0.ys, meanSpeedPxPerFrame: $0.meanSpeed) })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try enc.encode(m)
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
    /// Empirical CDF as a step line.
    static func cdf(_ v: [Double], name: String, color: String) -> SVGPlot.Series {
        let s = v.sorted()
        let ys = s.indices.map { Double($0 + 1) / Double(s.count) }
        return SVGPlot.Series(name: name, xs: s, ys: ys, mark: .line, color: color)
    }

    public static func section(_ r: ShapeAnalysisResult, into page: inout HTMLPage, overlays: [(image: String, file: String)], baselineLengths: [Double]? = nil) {
        page.heading("Shapes: outlines and traces")
        let shapes = r.job.images.reduce(0) { $0 + $1.shapes.count }
        page.paragraph("\(r.job.shapeRecords) shape submissions, \(shapes) shapes (\(r.job.degenerateShapes) degenerate, not used); \(r.consensus.shapes.count) consensus shapes; \(r.consensus.unsupported) shapes without enough independent votes; \(r.consensus.errant) errant outlines rejected.")
        if let s = r.score {
            page.table(["", "precision", "recall", "F1", "tp", "fp", "fn"],
                       [["consensus centroids vs truth", fmt(s.precision), fmt(s.recall), fmt(s.f1), "\(s.tp)", "\(s.fp)", "\(s.fn)"]])
        }
        if !r.areaErrors.isEmpty {
            page.paragraph("Median relative area error of matched outlines: \(fmt(median(r.areaErrors.map(\.error)) * 100, 1)) %.")
        }
        let withArea = r.areaOverTime.filter { $0.consensus > 0 }
        if withArea.count >= 2 {
            var plot = SVGPlot(title: "Area over time", xLabel: "frame", yLabel: "area (px²)")
            plot.add(.init(name: "crowd consensus", xs: withArea.indices.map(Double.init), ys: withArea.map(\.consensus), mark: .line, color: SVGPlot.palette[1]))
            let truth = withArea.compactMap(\.truth)
            if truth.count == withArea.count {
                plot.add(.init(name: "truth", xs: withArea.indices.map(Double.init), ys: truth, mark: .line, color: SVGPlot.palette[2]))
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
        let speeds = r.tracks.compactMap(\.meanSpeed)
        if !speeds.isEmpty {
            var plot = SVGPlot(title: "Track speeds", xLabel: "mean speed (px / frame)", yLabel: "cumulative share")
            plot.add(cdf(speeds, name: "tracks of consensus shapes", color: SVGPlot.palette[4]))
            page.figure(plot.render(), caption: "\(r.tracks.count) tracks linked over frames (LAP linking with gap closing); \(speeds.count) span two frames or more.")
        }
        for o in overlays.prefix(6) { page.raw("<figure><img src=\"\(esc(o.file))\" alt=\"overlay of \(esc(o.image))\"><figcaption>\(esc(o.image)): worker shapes (blue), consensus (red outlines, orange traces)</figcaption></figure>") }
    }
}
