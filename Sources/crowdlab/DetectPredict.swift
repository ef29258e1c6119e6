import ArgumentParser
import Consensus
import Detection
import Foundation

struct DetectPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Find objects with a trained model: image,col,row,score per detection.")
    @Option(help: "The model file (crowdlab detect train).") var model: String
    @Option(help: "Folder of PNG images.") var images: String
    @Option(help: "Detection threshold on the network's output (default: the model's, fitted at training or the paper's 1.0).") var threshold: Double?
    @Option(help: "CSV to write.") var out: String

    func run() throws {
        let detector = try DetectorFile.read(path: model)
        let frames = try detectorImages(folder: images, selection: detector.channelSelection)
        let progress = Progress(stages: 1)
        progress.stage("detecting in \(frames.count) image(s)")
        let found = try detector.detect(frames, threshold: threshold)
        progress.done()
        if threshold == nil { print(String(format: "threshold %.2f, %d x %d suppression window (the model's)", detector.detection.threshold, detector.detection.suppression, detector.detection.suppression)) }
        var csv = "image,col,row,score\n"
        for (im, list) in zip(frames, found) {
            for d in list { csv += "\(im.name),\(d.col),\(d.row),\(fixed(d.score, 4))\n" }
        }
        try AtomicFile.write(Data(csv.utf8), to: out)
        print("\(found.reduce(0) { $0 + $1.count }) object(s) in \(frames.count) image(s) -> \(out)")
    }
}
