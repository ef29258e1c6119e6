import ArgumentParser
import Consensus
import Detection
import Foundation

struct DetectTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train an FCRN on labelled images and write the model file.",
        discussion: """
        The paper's schedule: random crops with flips first (--crop-epochs at --crop-lr), then \
        whole images (--image-epochs at --image-lr), each rate multiplied by --decay every epoch; \
        SGD with momentum 0.9 and weight decay 0.001; targets a Gaussian of peak 7 and spread \
        --sigma at each point. Images without points are left out (and counted). The same seed \
        gives the same model file on one thread or all. The detection threshold and suppression \
        window are then fitted to the training points (--detection auto), or set to the paper's \
        1.0 and 25 x 25 (--detection paper).
        """)
    @Option(help: "Folder of PNG images.") var images: String
    @Option(help: "CSV of the objects' centres: image,col,row (row from the top), or a crowdlab consensus.csv (image,x,y, y from the bottom).") var points: String
    @Option(help: "Channels of the PNGs to read, e.g. 0,1 (default: all).") var channels: String?
    @Option(help: "Epochs on random crops.") var cropEpochs = TrainingOptions().cropEpochs
    @Option(help: "Crops per image and epoch.") var cropsPerImage = TrainingOptions().cropsPerImage
    @Option(help: "Crop side, pixels.") var cropSize = TrainingOptions().cropSize
    @Option(help: "Learning rate on crops.") var cropLr = TrainingOptions().cropLearningRate
    @Option(help: "Epochs on whole images.") var imageEpochs = TrainingOptions().fullEpochs
    @Option(help: "Learning rate on whole images.") var imageLr = TrainingOptions().fullLearningRate
    @Option(help: "Each epoch's learning rate is the last one's times this.") var decay = TrainingOptions().decay
    @Option(help: "Spread of the target's Gaussian at each point, pixels.") var sigma = TrainingOptions().sigma
    @Option(help: "How the model reads objects off its output: auto (the threshold and suppression window that best reproduce the training points) or paper (threshold 1.0, 25 x 25 window).") var detection: DetectionChoice = .auto
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "The model file to write.") var out: String

    func run() throws {
        guard cropEpochs >= 0, imageEpochs >= 0, cropEpochs + imageEpochs > 0 else { throw CLIError("--crop-epochs, --image-epochs: at least one epoch in all") }
        guard cropsPerImage >= 1, cropSize >= 8 else { throw CLIError("--crops-per-image: at least 1; --crop-size: at least 8") }
        guard cropLr > 0, imageLr > 0, decay > 0, decay <= 1, sigma > 0 else { throw CLIError("--crop-lr, --image-lr, --sigma: positive; --decay: in (0, 1]") }
        var o = TrainingOptions()
        if detection == .paper { o.detection = .paper }
        o.cropEpochs = cropEpochs; o.cropsPerImage = cropsPerImage; o.cropSize = cropSize; o.cropLearningRate = cropLr
        o.fullEpochs = imageEpochs; o.fullLearningRate = imageLr; o.decay = decay; o.sigma = sigma; o.seed = seed
        let selection = try parseChannels(channels)
        let all = try detectorImages(folder: images, selection: selection)
        let read = try PointLabels.read(path: points)
        let names = Set(all.map(\.name))
        if let missing = read.byImage.keys.sorted().first(where: { !names.contains($0) }) {
            throw CLIError("\(points): image \(missing) is not in \(images)")
        }
        let labels = try read.inRows(heights: Dictionary(all.map { ($0.name, $0.height) }, uniquingKeysWith: { a, _ in a }))
        let used = all.filter { labels.byImage[$0.name] != nil }
        guard !used.isEmpty else { throw CLIError("\(points): no points for any image in \(images)") }
        if used.count < all.count { FileHandle.standardError.write(Data("left out \(all.count - used.count) image(s) of \(images) without points\n".utf8)) }
        let progress = Progress(stages: 1)
        progress.stage("training")
        let (detector, history, fit) = try Detector.train(images: used, labels: labels, channelSelection: selection, options: o) { e in
            progress.tick(e.epoch, e.epochs, String(format: "training on %@: loss %.4f, epoch", e.stage, e.loss))
        }
        progress.done()
        try AtomicFile.write(DetectorFile.encode(detector), to: out)
        let objects = used.reduce(0) { $0 + (labels.byImage[$1.name]?.count ?? 0) }
        print(String(format: "trained on %d image(s), %d points: loss %.4f -> %.4f; model %@", used.count, objects, history.first?.loss ?? 0, history.last?.loss ?? 0, out))
        if let fit {
            print(String(format: "detection fitted to the training points: threshold %.2f, %d x %d window (P %.3f, R %.3f, F %.3f at %.0f px)",
                         fit.settings.threshold, fit.settings.suppression, fit.settings.suppression, fit.score.precision, fit.score.recall, fit.score.f1, o.fitRadius))
        }
    }
}

/// How `detect train` sets the detection threshold and window.
enum DetectionChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, paper
}
