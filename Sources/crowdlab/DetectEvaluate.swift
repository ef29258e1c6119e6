import ArgumentParser
import Consensus
import Detection
import Foundation

struct DetectEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Score detections against one or more truth sets: F per set and the mean, as the paper scores against six experts.")
    @Option(help: "Detections, image,col,row[,score] (crowdlab detect predict).") var predictions: String
    @Option(help: "A truth set, image,col,row; repeatable.") var truth: [String]
    @Option(help: "Matching radius, pixels.") var radius = 10.0
    @Option(help: "Folder of the images: needed only for a consensus.csv (y from the bottom) among the files.") var images: String?

    func run() throws {
        guard !truth.isEmpty else { throw CLIError("--truth: give at least one truth set") }
        guard radius > 0 else { throw CLIError("--radius: must be positive") }
        var heights: [String: Int] = [:]
        if let images { for im in try detectorImages(folder: images, selection: nil) { heights[im.name] = im.height } }
        func load(_ path: String) throws -> PointLabels {
            let labels = try PointLabels.read(path: path)
            if labels.yFromBottom && images == nil { throw CLIError("\(path): a consensus.csv (y from the bottom edge): give --images DIR so its y can be turned into rows") }
            return try labels.inRows(heights: heights)
        }
        let found = try load(predictions)
        let sets = try truth.map { (name: $0, labels: try load($0)) }
        let (scores, skipped) = DetectionEvaluation.evaluate(predictions: found, truths: sets, radius: radius)
        print("truth\tprecision\trecall\tF\ttp\tfp\tfn")
        for s in scores {
            print("\(s.name)\t\(fixed(s.score.precision, 3))\t\(fixed(s.score.recall, 3))\t\(fixed(s.score.f1, 3))\t\(s.score.tp)\t\(s.score.fp)\t\(s.score.fn)")
        }
        let mean = scores.reduce(0) { $0 + $1.score.f1 } / Double(scores.count)
        print("mean F over \(scores.count) truth set(s) at \(fixed(radius, 1)) px: \(fixed(mean, 3))")
        if skipped > 0 { print("skipped \(skipped) predicted image(s) that no truth set labels") }
    }
}
