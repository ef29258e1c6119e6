import Consensus
import Foundation
import Imaging
import Phantoms

/// The FIJI-style pipeline (threshold, watershed, particle-size filter) swept over size thresholds:
/// its precision-recall envelope on phantoms, and which crowd workers beat it.
public enum ClassicBaseline {
    public struct Point: Sendable, Equatable { public var minArea: Int; public var precision: Double; public var recall: Double }

    /// One operating point per minimum particle area, scored against the objects (not distractors)
    /// at `radius` px, pooled over the images.
    public static func envelope(_ phantoms: [Phantom], minAreas: [Int], radius: Double = 8) -> [Point] {
        let particles: [[ClassicSegmentation.Particle]] = phantoms.parallelMap { ClassicSegmentation.particles($0.image) }
        return minAreas.map { a in
            var s = DetectionScore()
            for (k, p) in phantoms.enumerated() {
                let kept = ClassicSegmentation.filter(particles[k], area: a...Int.max)
                let objects = p.truth.filter { !distractorKinds.contains($0.kind) }
                let m = matchPoints(ax: kept.map(\.col), ay: kept.map(\.row), bx: objects.map(\.col), by: objects.map(\.row), radius: radius)
                s = s + DetectionScore(tp: m.pairs.count, fp: m.unmatchedA, fn: m.unmatchedB)
            }
            return Point(minArea: a, precision: s.precision, recall: s.recall)
        }
    }

    /// A worker beats the pipeline when no operating point has both precision and recall at least
    /// as high as the worker's.
    public static func beats(precision: Double, recall: Double, _ envelope: [Point]) -> Bool {
        !envelope.contains { $0.precision >= precision && $0.recall >= recall }
    }
}
