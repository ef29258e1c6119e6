import Consensus
import Foundation
import Imaging

/// The files `crowdlab analyze` writes. `consensus.csv` is the contract other tools read:
/// header `image,x,y,support,…`, one row per consensus object, `x, y` in the export's own
/// coordinates (`y` from the bottom edge), `support` = distinct workers.
public enum AnalysisOutputs {
    public static func consensusCSV(_ r: AnalysisResult) -> String { consensusCSV([r]) }

    /// Several analyses' objects in one contract file (the exports of one job: each image in one of them).
    public static func consensusCSV(_ results: [AnalysisResult]) -> String {
        let parts: [String] = results.flatMap(\.consensus).parallelMap { c in
            var s = ""
            let name = csvField(c.image)
            for p in c.points {
                s += name + "," + num(p.x) + "," + num(p.y) + "," + String(p.support) + "," + num(p.weightedSupport)
                    + "," + (p.confidence.map(num) ?? "") + "\n"
            }
            return s
        }
        return "image,x,y,support,weighted_support,confidence\n" + parts.joined()
    }

    public static func workersCSV(_ r: AnalysisResult) -> String {
        let withTruth = r.workers.contains { $0.vsTruth != nil }
        var s = "worker,images,annotations,median_click_period_s,score"
        if withTruth { s += ",tp,fp,fn,rmse" }
        s += ",coverage,reliability\n"
        for w in r.workers {
            s += "\(csvField(w.worker)),\(w.images),\(w.annotations),\(w.medianClickPeriodS.map(num) ?? ""),\(num(w.score))"
            if withTruth {
                let t = w.vsTruth ?? DetectionScore()
                s += ",\(t.tp),\(t.fp),\(t.fn),\(w.rmsePx.map(num) ?? "")"
            }
            s += ",\(w.coverage.map(num) ?? ""),\(w.reliability.map(num) ?? "")\n"
        }
        return s
    }

    /// metrics.json of an analysis: the crowd, the scores, the fits, and for outlines and traces a
    /// `shapes` section.
    public struct Metrics: Encodable {
        struct ExportSummary: Encodable {
            var records: Int, emptyRecords: Int, repeatedRecordsLeftOut: Int, clicks: Int, images: Int, workers: Int, skippedShapeRecords: Int
        }
        var method: String
        var matchRadiusPx: Double
        var export: ExportSummary
        var overall: DetectionScore?
        var errors: ErrorBreakdown?
        var spatialRmsePx: Double?
        var images: [ImageRow]
        var crowd: CrowdStatistics
        var fitts: FittsSummary?
        var filteredBottomThird: FilteredRun
        var notes: [String]
        var shapes: ShapeOutputs.Metrics?
    }

    public static func metrics(_ r: AnalysisResult, shapes: ShapeAnalysisResult? = nil, baselines: ClassicBaselines = ClassicBaselines()) -> Metrics {
        let d = r.tpDistances
        return Metrics(method: r.method, matchRadiusPx: r.matchRadius,
                       export: .init(records: r.crowd.records, emptyRecords: r.crowd.emptyRecords,
                                     repeatedRecordsLeftOut: r.crowd.repeatedRecordsLeftOut, clicks: r.crowd.clicks,
                                     images: r.crowd.images, workers: r.crowd.workers, skippedShapeRecords: r.skippedShapeRecords),
                       overall: r.overall, errors: r.errors,
                       spatialRmsePx: d.isEmpty ? nil : (d.reduce(0) { $0 + $1 * $1 } / Double(d.count)).squareRoot(),
                       images: r.images, crowd: r.crowd, fitts: r.fitts, filteredBottomThird: r.filtered, notes: r.truthNotes,
                       shapes: shapes.map { ShapeOutputs.metrics($0, baselines: baselines) })
    }

    public static func metricsJSON(_ r: AnalysisResult) throws -> Data { try encode(metrics(r)) }

    /// The one JSON encoding of crowdlab's metrics files: sorted snake_case keys, pretty printed,
    /// non-finite numbers as strings.
    public static func encode(_ value: some Encodable) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try enc.encode(value)
    }

    /// The files every analysis folder holds, written the one way for `analyze`, `run` and Turk
    /// jobs: consensus.csv, workers.csv and metrics.json (`metrics`: the analysis's `Metrics`, or a
    /// document holding it). The caller adds the report and pictures, then commits the stage.
    public static func write(_ r: AnalysisResult, metrics: some Encodable, into stage: OutputStage) throws {
        try stage.write(consensusCSV(r), "consensus.csv")
        try stage.write(workersCSV(r), "workers.csv")
        try stage.write(encode(metrics), "metrics.json")
    }

    /// An overlay of one image: every click (small grey-blue crosses), consensus objects (red
    /// circles; orange where the image admitted them), and, when known, truth (green crosses).
    /// Points are drawn at `row = height - y`.
    public static func overlay(image: Image, clicks: [(Double, Double)], consensus: [ConsensusPoint], truth: TruthPoints?, radius: Double) -> Image {
        var out = image.rgb8ForDisplay()
        let h = Double(out.height)
        for (x, y) in clicks { out.drawCross(x: x, row: h - y, arm: 1, (90, 160, 255)) }
        if let t = truth { for (x, y) in zip(t.xs, t.ys) { out.drawCross(x: x, row: h - y, arm: 3, (60, 230, 60)) } }
        for p in consensus {
            out.drawCircle(x: p.x, row: h - p.y, radius: max(3, radius / 2), p.admittedByImage ? (255, 150, 0) : (255, 40, 40))
        }
        return out
    }
}

/// Numbers for CSV: integers as integers, halves (medians of whole pixels) exactly, others to
/// four decimals. Hand-formatted because this runs once per consensus object.
func num(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e12 { return String(Int64(v)) }
    if (v * 2) == (v * 2).rounded() && abs(v) < 1e12 {
        let whole = Int64(abs(v).rounded(.down))
        return (v < 0 ? "-" : "") + String(whole) + ".5"
    }
    return fourDecimals(v)
}

/// `String(format: "%.4f", v)`, character for character, without Foundation's formatter (a
/// tenth of a fractional export's `analyze` went to it). `v·10⁴` as a double is within a
/// millionth of the exact product for |v| < 10⁹, so wherever its fraction is farther than that
/// from one half, rounding it rounds the exact value the same way; near a tie, at larger
/// magnitudes and for non-finite values printf itself decides.
func fourDecimals(_ v: Double) -> String {
    let scaled = abs(v) * 10_000
    guard v.isFinite, abs(v) < 1e9, abs(scaled - scaled.rounded(.down) - 0.5) > 1e-6 else {
        return String(format: "%.4f", v)
    }
    let units = Int64(scaled.rounded())
    let fraction = String(units % 10_000)
    return (v < 0 ? "-" : "") + String(units / 10_000) + "." + String(repeating: "0", count: 4 - fraction.count) + fraction
}

/// Quotes a CSV field when it holds a comma, quote or newline (RFC 4180).
public func csvField(_ s: String) -> String {
    if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return s
}
