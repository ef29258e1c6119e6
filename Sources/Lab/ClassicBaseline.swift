import Consensus
import Foundation
import Imaging
import Phantoms

/// The FIJI-style pipeline (threshold, watershed, particle-size filter) swept over size thresholds:
/// its precision-recall envelope on phantoms, and which crowd workers beat it.
public enum ClassicBaseline {
    public struct Point: Sendable, Equatable {
        public var minArea: Int; public var precision: Double; public var recall: Double
        public init(minArea: Int, precision: Double, recall: Double) { self.minArea = minArea; self.precision = precision; self.recall = recall }
    }

    /// The pipeline's counts on each image (outer) at each minimum particle area (inner), scored
    /// against the objects (not distractors) at `radius` px.
    public struct Sweep: Sendable {
        public var minAreas: [Int]
        public var counts: [[DetectionScore]]

        /// One operating point per minimum area, pooled over the given images (all by default).
        public func envelope(images: [Int]? = nil) -> [Point] {
            let ims = images ?? Array(counts.indices)
            return minAreas.indices.map { a in
                var s = DetectionScore()
                for i in ims { s = s + counts[i][a] }
                return Point(minArea: minAreas[a], precision: s.precision, recall: s.recall)
            }
        }
    }

    public static func sweep(_ phantoms: [Phantom], minAreas: [Int], radius: Double = 8) -> Sweep {
        let counts: [[DetectionScore]] = phantoms.parallelMap { p in
            let particles = ClassicSegmentation.particles(p.image)
            let objects = p.truth.filter { !$0.kind.isDistractor }
            return minAreas.map { a in
                let kept = ClassicSegmentation.filter(particles, area: a...Int.max)
                let m = matchPoints(ax: kept.map(\.col), ay: kept.map(\.row), bx: objects.map(\.col), by: objects.map(\.row), radius: radius)
                return DetectionScore(tp: m.pairs.count, fp: m.unmatchedA, fn: m.unmatchedB)
            }
        }
        return Sweep(minAreas: minAreas, counts: counts)
    }

    /// One operating point per minimum particle area, pooled over the images.
    public static func envelope(_ phantoms: [Phantom], minAreas: [Int], radius: Double = 8) -> [Point] {
        sweep(phantoms, minAreas: minAreas, radius: radius).envelope()
    }

    /// A worker beats the pipeline when no operating point has both precision and recall at least
    /// as high as the worker's.
    public static func beats(precision: Double, recall: Double, _ envelope: [Point]) -> Bool {
        !envelope.contains { $0.precision >= precision && $0.recall >= recall }
    }
}
