import Consensus
import Foundation

/// Detections scored against one or more people's labels, as the paper scores its detectors
/// against six experts: one-to-one matching within a radius (Hungarian, `matchPoints`), F per
/// truth set pooled over its images, and the mean F over the sets.
public enum DetectionEvaluation {
    public struct SetScore: Sendable {
        public var name: String
        public var score: DetectionScore
    }

    /// Scores per truth set; an image a set labels and the predictions do not name counts as
    /// predicted empty. `skipped` counts predicted images no truth set labels.
    public static func evaluate(predictions: PointLabels, truths: [(name: String, labels: PointLabels)], radius: Double) -> (sets: [SetScore], skipped: Int) {
        let labelled = Set(truths.flatMap { $0.labels.byImage.keys })
        let skipped = predictions.byImage.keys.filter { !labelled.contains($0) }.count
        let sets = truths.map { t -> SetScore in
            var total = DetectionScore()
            for image in t.labels.byImage.keys.sorted() {
                total = total + score(predictions.byImage[image] ?? [], against: t.labels.byImage[image] ?? [], radius: radius)
            }
            return SetScore(name: t.name, score: total)
        }
        return (sets, skipped)
    }

    /// One image's detections against one person's labels, matched one to one within `radius`.
    public static func score(_ found: [(col: Double, row: Double)], against truth: [(col: Double, row: Double)], radius: Double) -> DetectionScore {
        let m = matchPoints(ax: found.map(\.col), ay: found.map(\.row), bx: truth.map(\.col), by: truth.map(\.row), radius: radius)
        return DetectionScore(tp: m.pairs.count, fp: m.unmatchedA, fn: m.unmatchedB)
    }
}
