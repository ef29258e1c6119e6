import Foundation
import Randomness

/// A real export played back as if its workers arrived one at a time per image, in a seeded random
/// order of their real submissions (shuffled from `ExportRecord.canonicallyOrdered`, so the export's
/// own listing does not change it); the policy decides after each whether to ask another. What a
/// job run with that policy would have paid for, and the consensus it would have reached.
public enum Replay {
    /// What a replay plays back: each worker's clicks (crosshairs) or their outlines (polygons),
    /// the one a record's tool gives. An export holding both is replayed by its clicks.
    public enum Tool: String, Sendable {
        case crosshairs, polygon

        /// The tool `export` is replayed by: crosshairs where there are any, else polygons; nil
        /// when it holds neither (lines and freehand traces are not replayed).
        public init?(of export: QuantiusExport) {
            if export.records.contains(where: { $0.annotationType == .crosshairs }) { self = .crosshairs }
            else if export.records.contains(where: { $0.annotationType == .polygon }) { self = .polygon }
            else { return nil }
        }

        public var annotationType: AnnotationType { self == .crosshairs ? .crosshairs : .polygon }
    }

    public struct Result: Sendable {
        public var policy: String
        public var seed: UInt64
        /// The submissions the policy would have paid for, in the export's order.
        public var export: QuantiusExport
        /// Workers used per image.
        public var workersPerImage: [String: Int]
        public var assignments: Int { workersPerImage.values.reduce(0, +) }
    }

    /// Whether one image's submissions so far call for another worker under `policy` (the decision
    /// a replay makes after each arrival, and a Mechanical Turk job before adding an assignment).
    /// Clicks are measured by `method`; outlines by the shape consensus's grouping of their
    /// centroids (`ShapeConsensusMethod.polygonGroups`), whose vote counts the support an object
    /// can have when each worker outlines only some objects.
    public static func wantsAnother(_ submissions: [ExportRecord], policy: any ReplicatePolicy,
                                    method: AgreementConsensus = AgreementConsensus()) -> Bool {
        let n = submissions.count
        guard n < policy.cap else { return false }
        guard n >= policy.start else { return true }
        let export = QuantiusExport(records: submissions)
        let groups = Tool(of: export) == .polygon ? ShapeConsensusMethod().polygonGroups(ShapeJob(export: export))
                                                  : method.consensus(ClickJob(export: export))
        guard let c = groups.first else { return false }
        return policy.wantsAnother(c, workers: n)
    }

    public static func run(_ export: QuantiusExport, policy: any ReplicatePolicy, seed: UInt64,
                           method: AgreementConsensus = AgreementConsensus()) -> Result {
        let replayed = Tool(of: export)?.annotationType
        let groups = export.canonicalRecords { $0.annotationType == replayed }.images.filter { !$0.indices.isEmpty }
        let byImage = Dictionary(uniqueKeysWithValues: groups.map { ($0.image, $0.indices) })
        let names = byImage.keys.sorted()
        let chosen: [[Int]] = Array(names.indices).parallelMap { k in
            var order = byImage[names[k]]!
            let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(k)))
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(i + 1)) }
            var n = min(policy.start, order.count)
            while n < order.count && wantsAnother(order.prefix(n).map { export.records[$0] }, policy: policy, method: method) {
                n += 1
            }
            return Array(order.prefix(n))
        }
        var used: [String: Int] = [:]
        for (k, name) in names.enumerated() { used[name] = chosen[k].count }
        let keep = Set(chosen.flatMap { $0 })
        let records = export.records.indices.filter { keep.contains($0) }.map { export.records[$0] }
        return Result(policy: policy.description, seed: seed, export: QuantiusExport(records: records), workersPerImage: used)
    }
}

extension Replay {
    /// One replayed order's consensus, and what the curve and the command read of it, the same for
    /// clicks and outlines (an outline counts as an object at its centroid).
    public struct Analysed: Sendable {
        /// The analysis of the clicks paid for (crosshairs).
        public var points: AnalysisResult?
        /// The shape consensus of the outlines paid for (polygons).
        public var shapes: ShapeAnalysisResult?
        /// Against the truth, over all images and per image.
        public var overall: DetectionScore?
        public var imageScores: [String: DetectionScore]
        /// Each image's objects (outlines: their centroids).
        public var imageObjects: [String: (xs: [Double], ys: [Double])]
        /// The objects twice the workers are expected to add (`MissedObjects`), where estimated (clicks).
        public var imageMissed: [String: Double]
        /// The misses and false objects by cause (`ErrorBreakdown`; clicks with truth).
        public var errors: ErrorBreakdown? = nil

        public init(_ a: AnalysisResult) {
            points = a
            overall = a.overall
            errors = a.errors
            imageScores = Dictionary(a.images.compactMap { row in row.score.map { (row.image, $0) } }, uniquingKeysWith: +)
            imageObjects = Dictionary(zip(a.consensus.map(\.image), a.consensus.map { (xs: $0.points.map(\.x), ys: $0.points.map(\.y)) }),
                                      uniquingKeysWith: { first, _ in first })
            imageMissed = Dictionary(a.images.compactMap { row in row.expectedMissedObjects.map { (row.image, $0) } }, uniquingKeysWith: +)
        }

        public init(_ s: ShapeAnalysisResult) {
            shapes = s
            overall = s.score
            imageScores = Dictionary(s.perImage.map { ($0.image, $0.score) }, uniquingKeysWith: +)
            imageObjects = Dictionary(grouping: s.consensus.shapes.filter { $0.kind == "polygon" }, by: \.image)
                .mapValues { (xs: $0.map { $0.centroid[0] }, ys: $0.map { $0.centroid[1] }) }
            imageMissed = [:]
        }
    }

    /// The consensus of what an order paid for, scored against `truth`: the point analysis for
    /// clicks (with `options`' method), the shape consensus for outlines (at `options`' match radius).
    public static func analyse(_ r: Result, truth: TruthSet?, options: AnalysisOptions = AnalysisOptions()) -> Analysed {
        if Tool(of: r.export) == .polygon {
            return Analysed(ShapeAnalysis.run(export: r.export, pointTruth: truth, shapeTruth: nil, matchRadius: options.matchRadius))
        }
        return Analysed(Analysis.run(export: r.export, truth: truth, options: options))
    }
}
