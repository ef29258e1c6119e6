import Consensus
import Foundation

extension Detector {
    /// Detection settings read off the training data, and how well they reproduce the labels.
    public struct DetectionFit: Sendable, Equatable {
        public var settings: DetectionSettings
        /// The detections with those settings against the training labels.
        public var score: DetectionScore
    }

    /// The output level and suppression window whose peaks best reproduce the labels (the highest
    /// F, one-to-one matching within `radius`; of equal F the larger window, then the higher level).
    /// The paper thresholds at 1.0 of a target peak of 7 with a 25 x 25 window, which suits a
    /// network trained until its peaks reach near 7 on nuclei more than 12 px apart. A shorter
    /// schedule, or objects wider than the network's 7 x 7 px view can centre, leave the peaks
    /// lower, and a fixed 1.0 then drops whole objects while precision stays at 1; touching objects
    /// closer than half the window suppress each other. The levels tried are 2 % to 60 % of the
    /// target's peak in steps of 1 % and the paper's 1.0; the windows 25 (the paper's) down to 7.
    public func fittedDetection(images: [DetectorImage], labels: PointLabels, radius: Double) throws -> DetectionFit {
        let results: [Result<[Float], Error>] = images.parallelMap { im in Result { try density(im) } }
        let outputs = try zip(images, results).map { im, r in Output(name: im.name, width: im.width, height: im.height, values: try r.get()) }
        return Detector.bestDetection(outputs, labels: labels, radius: radius, peak: peak)
    }

    /// A network's output on one image.
    public struct Output: Sendable {
        public var name: String, width: Int, height: Int, values: [Float]
        public init(name: String, width: Int, height: Int, values: [Float]) {
            self.name = name; self.width = width; self.height = height; self.values = values
        }
    }

    /// The search of `fittedDetection` on outputs already computed.
    public static func bestDetection(_ outputs: [Output], labels: PointLabels, radius: Double, peak: Double) -> DetectionFit {
        let levels = (Array(2...60).map { peak * Double($0) / 100 } + [DetectionSettings.paper.threshold]).sorted()
        let windows = [DetectionSettings.paper.suppression, 21, 17, 13, 9, 7]
        var best: DetectionFit?
        for window in windows {
            let found = outputs.map { peaks($0.values, width: $0.width, height: $0.height, threshold: levels[0], window: window) }
            for t in levels {
                var total = DetectionScore()
                for (out, list) in zip(outputs, found) {
                    let kept = list.filter { $0.score >= t }.map { (col: Double($0.col), row: Double($0.row)) }
                    total = total + DetectionEvaluation.score(kept, against: labels.byImage[out.name] ?? [], radius: radius)
                }
                // Windows run from large to small, so a smaller one must do strictly better; within a
                // window the levels rise, so an equal F there moves to the higher level.
                if let b = best, b.settings.suppression == window ? total.f1 < b.score.f1 : total.f1 <= b.score.f1 { continue }
                best = DetectionFit(settings: DetectionSettings(threshold: t, suppression: window), score: total)
            }
        }
        return best!
    }
}
