import Consensus
import Crowd
import Detection
import Foundation
import Imaging
import Phantoms
import Randomness

/// The Quanti.us paper's Fig. 2d and Supplementary Fig. 4 in the lab: FCRN detectors trained on
/// nuclei frames labelled by an expert (the phantom's exact truth), by the consensus of a simulated
/// crowd of `workers` per frame, and by single workers (one worker's clicks per frame), scored on
/// frames none of them saw against the truth, beside Otsu thresholding. Also
/// the F of crowd-trained detectors against how many frames the crowd labelled.
public struct DetectorExperiment: Sendable {
    public var trainFrames = 14
    public var testFrames = 5
    public var workers = 10
    public var pay = 0.05
    /// Matching radius for scoring (the paper's 10 px).
    public var radius = 10.0
    /// Crowd-labelled frames for the learning curve.
    public var curveFrames = [2, 6, 10, 14]
    public var seed: UInt64 = 1
    public var training = TrainingOptions()
    public var population = Population()
    public var scene = NucleiScene()
    /// The two stained channels of the frames (green cytoplasm, blue nuclei).
    public var channels = [1, 2]

    public init() {}

    public struct Outcome: Sendable {
        public var expert: DetectionScore, crowd: DetectionScore, singleWorker: DetectionScore, otsu: DetectionScore
        public var curve: [(frames: Int, f1: Double)]
        /// The crowd's consensus on the training frames against the truth (what the crowd-trained detector learnt from).
        public var crowdLabels: DetectionScore
        public var singleWorkerLabels: DetectionScore
    }

    public func run(progress: (String) -> Void = { _ in }) throws -> Outcome {
        let n = trainFrames + testFrames
        let scene = self.scene
        let frames: [Phantom] = Array(0..<n).parallelMap { scene.render(seed: SeededRandom.derive(seed, 0xD0_0000 &+ UInt64($0))) }
        let names = (0..<n).map { String(format: "nuclei_%04d.png", $0) }
        let images = try zip(frames, names).map { try DetectorImage($0.image, name: $1, selection: channels) }
        let train = Array(images.prefix(trainFrames)), test = Array(images.suffix(testFrames))
        var expert = PointLabels(byImage: [:])
        for (f, name) in zip(frames, names) { expert.byImage[name] = f.truth.map { ($0.col, $0.row) } }

        progress("simulating \(workers) workers on \(trainFrames) frames")
        let (crowd, single) = crowdLabels(frames: Array(frames.prefix(trainFrames)), names: Array(names.prefix(trainFrames)))
        let labelScore = { (labels: PointLabels) in score(labels, against: expert, images: Array(names.prefix(self.trainFrames))) }

        func trained(_ labels: PointLabels, frames k: Int, _ what: String) throws -> DetectionScore {
            progress("training on \(what)")
            let d = try Detector.train(images: Array(train.prefix(k)), labels: labels, channelSelection: channels, options: training).detector
            let found = try d.detect(test)
            var predicted = PointLabels(byImage: [:])
            for (im, list) in zip(test, found) { predicted.byImage[im.name] = list.map { (Double($0.col), Double($0.row)) } }
            return score(predicted, against: expert, images: test.map(\.name))
        }
        var out = Outcome(expert: try trained(expert, frames: trainFrames, "the expert's labels"),
                          crowd: try trained(crowd, frames: trainFrames, "the crowd's consensus"),
                          singleWorker: try trained(single, frames: trainFrames, "single workers"),
                          otsu: otsuScore(frames: Array(frames.suffix(testFrames)), names: test.map(\.name), expert: expert),
                          curve: [], crowdLabels: labelScore(crowd), singleWorkerLabels: labelScore(single))
        for k in curveFrames where k <= trainFrames {
            out.curve.append((k, k == trainFrames ? out.crowd.f1 : try trained(crowd, frames: k, "the crowd's consensus of \(k) frames").f1))
        }
        return out
    }

    /// The crowd's consensus per training frame, and one worker's clicks per frame (the first to
    /// submit), in image coordinates.
    func crowdLabels(frames: [Phantom], names: [String]) -> (consensus: PointLabels, single: PointLabels) {
        let tasks = zip(frames, names).map { f, name in
            let h = Double(f.image.height)
            return ImageTask(name: name, width: f.image.width, height: f.image.height, xs: f.truth.map(\.col), ys: f.truth.map { h - $0.row },
                             visibility: f.truth.map(\.snr))
        }
        let sim = CrowdSimulation(population: population, replicates: workers, pay: pay, seed: SeededRandom.derive(seed, 0xC8_0001)).run(tasks)
        let analysis = Analysis.run(export: sim.export, truth: nil, options: AnalysisOptions())
        let heights = Dictionary(uniqueKeysWithValues: zip(names, frames.map { Double($0.image.height) }))
        var consensus = PointLabels(byImage: [:]), single = PointLabels(byImage: [:])
        for c in analysis.consensus { consensus.byImage[c.image] = c.points.map { ($0.x, heights[c.image]! - $0.y) } }
        for record in sim.export.records where single.byImage[record.imageFilename] == nil {
            let h = heights[record.imageFilename] ?? 0
            single.byImage[record.imageFilename] = record.rawData.flatMap { $0 }.map { ($0.x, h - $0.y) }
        }
        for name in names where consensus.byImage[name] == nil { consensus.byImage[name] = [] }
        return (consensus, single)
    }

    /// Otsu thresholding as the paper's baseline: the nuclear channel smoothed (σ 1 px), Otsu's
    /// threshold, and a nucleus at the centroid of each connected region of at least a quarter of
    /// the smallest nucleus's area. Touching nuclei make one region, so one detection.
    func otsuScore(frames: [Phantom], names: [String], expert: PointLabels) -> DetectionScore {
        var found = PointLabels(byImage: [:])
        let minArea = Int(0.25 * .pi * scene.radius.lowerBound * scene.radius.lowerBound * 0.7)
        for (f, name) in zip(frames, names) {
            let w = f.image.width, h = f.image.height
            var blue = Image(width: w, height: h)
            for i in 0..<(w * h) { blue.samples[i] = f.image.samples[i * 3 + 2] }
            let (labels, sizes) = ClassicShapes.components(ClassicShapes.mask(blue, sigma: 1), width: w, height: h)
            var sc = [Double](repeating: 0, count: sizes.count), sr = sc
            for i in labels.indices where labels[i] >= 0 { sc[labels[i]] += Double(i % w); sr[labels[i]] += Double(i / w) }
            found.byImage[name] = sizes.indices.filter { sizes[$0] >= minArea }.map { (sc[$0] / Double(sizes[$0]), sr[$0] / Double(sizes[$0])) }
        }
        return score(found, against: expert, images: names)
    }

    func score(_ found: PointLabels, against truth: PointLabels, images: [String]) -> DetectionScore {
        // Only `images` are scored: the truth is cut to them, and predictions elsewhere are not read.
        var t = PointLabels(byImage: [:])
        for name in images { t.byImage[name] = truth.byImage[name] ?? [] }
        return DetectionEvaluation.evaluate(predictions: found, truths: [("truth", t)], radius: radius).sets[0].score
    }
}
