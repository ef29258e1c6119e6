import Consensus
import Foundation
import Randomness

/// How the FCRN is trained, after the paper's methods: pre-training on 100 x 100 crops with flips
/// (half of them at labelled objects, `objectCropShare`) at learning rate 1e-3, then whole images at 1e-2, each rate decaying exponentially by
/// epoch; SGD with momentum 0.9 and weight decay 0.001 on the weights; targets a Gaussian of peak
/// 7 at each labelled centre. The spread σ = 2 px is Xie et al.'s for cells of this size; the
/// epochs, crops and batch sizes are not given by the paper and are chosen to train in about a
/// minute on two cores on 14 frames of 500 x 500.
public struct TrainingOptions: Sendable, Equatable {
    public var cropSize = 100
    public var cropEpochs = 20
    public var cropsPerImage = 16
    public var cropBatch = 8
    /// Share of crops centred (give or take a quarter of the crop) on a labelled object rather
    /// than placed anywhere: frames are mostly background, and crops drawn uniformly spend most
    /// of the training on it. The paper draws crops at random; 0 does that.
    public var objectCropShare = 0.5
    public var cropLearningRate = 1e-3
    public var fullEpochs = 10
    public var fullBatch = 2
    public var fullLearningRate = 1e-2
    /// Each epoch's learning rate is the last one's times this.
    public var decay = 0.9
    public var momentum = 0.9
    public var weightDecay = 0.001
    public var sigma = 2.0
    public var peak = 7.0
    /// How detections are read off the output: `nil` fits the threshold and suppression window to
    /// the training labels after training (`Detector.fittedDetection`); the paper's are 1.0 and 25.
    public var detection: DetectionSettings? = nil
    /// How many training images (evenly spaced) detection is fitted on; nil: all.
    public var fitImages: Int? = nil
    /// Matching radius when fitting detection, px (the paper scores at 10).
    public var fitRadius = 10.0
    public var seed: UInt64 = 1
    public init() {}
}

/// What training reports after each epoch: the stage, the epoch (1-based) of how many, and the
/// epoch's mean loss.
public struct TrainingEpoch: Sendable {
    public var stage: String, epoch: Int, epochs: Int, loss: Double
}

extension Detector {
    /// Trains a detector on images and their labelled centres (an image without labels is learnt
    /// as background: `crowdlab detect train` leaves such images out).
    /// The same seed gives the same parameters to the last bit on one thread or many: each sample's
    /// gradient is its own, and a batch's are summed in sample order.
    public static func train(images: [DetectorImage], labels: PointLabels, channelSelection: [Int]?, options o: TrainingOptions,
                             report: (TrainingEpoch) -> Void = { _ in }) throws -> (detector: Detector, losses: [TrainingEpoch], detection: DetectionFit?) {
        guard let first = images.first else { throw InputError(file: "--images", message: "no training images") }
        let normalisation = Normalisation.of(images)
        let inputs = images.map { $0.normalised(normalisation) }
        let targets = images.map { densityTarget(width: $0.width, height: $0.height, points: labels.byImage[$0.name] ?? [], sigma: o.sigma, peak: o.peak) }
        var net = FCRN(channels: first.channels, seed: o.seed)
        var velocity = [Float](repeating: 0, count: net.parameters.count)
        var history: [TrainingEpoch] = []
        let pool = WorkspacePool(channels: first.channels)

        // Stage 1: crops with flips.
        var lr = o.cropLearningRate
        for epoch in 0..<o.cropEpochs {
            let rng = SeededRandom(seed: SeededRandom.derive(o.seed, 0xC0_0000 &+ UInt64(epoch)))
            var samples: [Sample] = []
            for (k, im) in inputs.enumerated() {
                let w = min(o.cropSize, im.width), h = min(o.cropSize, im.height)
                let objects = labels.byImage[im.name] ?? []
                for _ in 0..<o.cropsPerImage {
                    var c = rng.int(im.width - w + 1), r = rng.int(im.height - h + 1)
                    if !objects.isEmpty && rng.uniform() < o.objectCropShare {
                        let p = objects[rng.int(objects.count)]
                        c = min(im.width - w, max(0, Int(p.col) - w / 2 + rng.int(w / 2 + 1) - w / 4))
                        r = min(im.height - h, max(0, Int(p.row) - h / 2 + rng.int(h / 2 + 1) - h / 4))
                    }
                    let fx = rng.uniform() < 0.5, fy = rng.uniform() < 0.5
                    let target = DetectorImage(name: "", width: im.width, height: im.height, channels: 1, planes: targets[k])
                    samples.append(Sample(width: w, height: h, input: im.crop(col: c, row: r, width: w, height: h, flipX: fx, flipY: fy),
                                          target: target.crop(col: c, row: r, width: w, height: h, flipX: fx, flipY: fy)))
                }
            }
            let loss = try epochOfSGD(&net, &velocity, samples, batch: o.cropBatch, learningRate: lr, warmUp: epoch == 0, options: o, pool: pool)
            let e = TrainingEpoch(stage: "crops", epoch: epoch + 1, epochs: o.cropEpochs, loss: loss)
            history.append(e); report(e)
            lr *= o.decay
        }
        // Stage 2: whole images, in a shuffled order.
        lr = o.fullLearningRate
        for epoch in 0..<o.fullEpochs {
            let rng = SeededRandom(seed: SeededRandom.derive(o.seed, 0xF0_0000 &+ UInt64(epoch)))
            var order = Array(inputs.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(i + 1)) }
            let samples = order.map { Sample(width: inputs[$0].width, height: inputs[$0].height, input: inputs[$0].planes, target: targets[$0]) }
            let loss = try epochOfSGD(&net, &velocity, samples, batch: o.fullBatch, learningRate: lr, options: o, pool: pool)
            let e = TrainingEpoch(stage: "images", epoch: epoch + 1, epochs: o.fullEpochs, loss: loss)
            history.append(e); report(e)
            lr *= o.decay
        }
        var detector = Detector(network: net, channelSelection: channelSelection, normalisation: normalisation, sigma: o.sigma, peak: o.peak)
        if let fixed = o.detection {
            detector.detection = fixed
            return (detector, history, nil)
        }
        let fit = try detector.fittedDetection(images: evenlySpaced(images, count: o.fitImages), labels: labels, radius: o.fitRadius)
        detector.detection = fit.settings
        return (detector, history, fit)
    }

    /// `count` of the images, evenly spaced from the first to the last (all when nil or enough).
    static func evenlySpaced(_ images: [DetectorImage], count: Int?) -> [DetectorImage] {
        guard let k = count, k >= 1, k < images.count else { return images }
        guard k > 1 else { return [images[0]] }
        return (0..<k).map { images[$0 * (images.count - 1) / (k - 1)] }
    }

    struct Sample: Sendable { var width: Int, height: Int, input: [Float], target: [Float] }

    /// One pass over the samples in batches; returns the mean loss over samples. With `warmUp` the
    /// rate climbs linearly from a batch's share of it to all of it over the pass (gradual warm-up,
    /// Goyal et al., "Accurate, large minibatch SGD", 2017): from random weights the first steps'
    /// gradients are the largest, and a full-rate step with momentum behind it can leave every
    /// ReLU of a layer dead, a network that outputs background whatever it is shown.
    static func epochOfSGD(_ net: inout FCRN, _ velocity: inout [Float], _ samples: [Sample], batch: Int, learningRate: Double,
                           warmUp: Bool = false, options o: TrainingOptions, pool: WorkspacePool) throws -> Double {
        var total = 0.0
        let weights = net.layout.weights
        let batches = Double((samples.count + max(1, batch) - 1) / max(1, batch))
        for start in stride(from: 0, to: samples.count, by: max(1, batch)) {
            let rate = warmUp ? learningRate * Double(start / max(1, batch) + 1) / batches : learningRate
            let chunk = Array(samples[start..<min(samples.count, start + max(1, batch))])
            let (losses, gradients) = try pool.gradients(net, chunk)
            total += losses.reduce(0, +)
            // Summed in sample order, so the thread count never changes a bit.
            var g = [Double](repeating: 0, count: net.parameters.count)
            for grad in gradients { for i in g.indices { g[i] += Double(grad[i]) } }
            let scale = 1 / Double(chunk.count)
            for i in g.indices { g[i] *= scale }
            for range in weights { for i in range { g[i] += o.weightDecay * Double(net.parameters[i]) } }
            for i in g.indices {
                velocity[i] = Float(o.momentum * Double(velocity[i]) - rate * g[i])
                net.parameters[i] += velocity[i]
            }
        }
        return total / Double(max(1, samples.count))
    }
}

/// Workspaces (oneDNN primitives and buffers) per thread and image size, kept across batches.
final class WorkspacePool: @unchecked Sendable {  // each slot is used by one thread at a time
    let channels: Int
    let threads: Int
    private final class Slot { var bySize: [String: FCRNWorkspace] = [:] }
    private let slots: [Slot]

    init(channels: Int) {
        self.channels = channels
        threads = Parallelism.maxThreads > 0 ? Parallelism.maxThreads : ProcessInfo.processInfo.activeProcessorCount
        slots = (0..<threads).map { _ in Slot() }
    }

    private func workspace(_ slot: Int, width: Int, height: Int) throws -> FCRNWorkspace {
        let key = "\(width)x\(height)", s = slots[slot]
        if let ws = s.bySize[key] { return ws }
        let ws = try FCRNWorkspace(channels: channels, height: height, width: width)
        s.bySize[key] = ws
        return ws
    }

    /// Each sample's loss and gradient; sample i runs on slot i mod threads.
    func gradients(_ net: FCRN, _ samples: [Detector.Sample]) throws -> ([Double], [[Float]]) {
        let n = samples.count, used = min(threads, n)
        let box = GradientBox(count: n)
        DispatchQueue.concurrentPerform(iterations: used) { slot in
            DNNLContext.oneOpenMPThread()
            for i in stride(from: slot, to: n, by: used) {
                do {
                    let s = samples[i]
                    let ws = try self.workspace(slot, width: s.width, height: s.height)
                    var g = [Float](repeating: 0, count: net.parameters.count)
                    let loss = try ws.lossAndGradient(net, s.input, target: s.target, into: &g)
                    box.set(i, loss, g)
                } catch { box.fail(error) }
            }
        }
        return try box.values()
    }
}

private final class GradientBox: @unchecked Sendable {  // state only under `lock`
    private let lock = NSLock()
    private var losses: [Double], grads: [[Float]]
    private var error: Error?
    init(count: Int) { losses = Array(repeating: 0, count: count); grads = Array(repeating: [], count: count) }
    func set(_ i: Int, _ loss: Double, _ g: [Float]) { lock.lock(); losses[i] = loss; grads[i] = g; lock.unlock() }
    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
    func values() throws -> ([Double], [[Float]]) {
        lock.lock(); defer { lock.unlock() }
        if let error { throw error }
        return (losses, grads)
    }
}
