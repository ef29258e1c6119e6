import Consensus
import Foundation

/// How objects are read off a network's output: peaks at or above `threshold`, one per
/// `suppression` x `suppression` window.
public struct DetectionSettings: Sendable, Equatable {
    public var threshold: Double, suppression: Int
    public init(threshold: Double, suppression: Int) { self.threshold = threshold; self.suppression = suppression }
    /// The Quanti.us paper's: 1.0 of a target peak of 7, 25 x 25.
    public static let paper = DetectionSettings(threshold: 1.0, suppression: 25)
}

/// A trained FCRN with everything needed to use it: which channels of the PNG it reads, the
/// training images' normalisation, the target it was trained on, and how detections are read off
/// its output. This is what a model file holds.
public struct Detector: Sendable, Equatable {
    public var network: FCRN
    /// Channels of the PNG the network reads (nil: all the image has, as when trained).
    public var channelSelection: [Int]?
    public var normalisation: Normalisation
    /// The target each labelled centre was given: a Gaussian of this spread and height.
    public var sigma: Double
    public var peak: Double
    /// How objects are read off the output: fitted to the training labels when trained
    /// (`fittedDetection`), or the paper's.
    public var detection = DetectionSettings.paper

    public init(network: FCRN, channelSelection: [Int]?, normalisation: Normalisation, sigma: Double, peak: Double) {
        self.network = network; self.channelSelection = channelSelection; self.normalisation = normalisation
        self.sigma = sigma; self.peak = peak
    }

    /// One detection: pixel column and row (from the top) and the network's output there.
    public struct Detection: Sendable, Equatable {
        public var col: Int, row: Int, score: Double
    }

    /// The network's output on an image (row-major, one value per pixel).
    public func density(_ image: DetectorImage) throws -> [Float] {
        guard image.channels == network.channels else {
            throw InputError(file: image.name, field: "channels", message: "has \(image.channels) channel(s) as read; the model reads \(network.channels)")
        }
        let ws = try FCRNWorkspace(channels: image.channels, height: image.height, width: image.width)
        return try ws.forward(network, image.normalised(normalisation).planes)
    }

    /// The objects in each image, images in parallel (one oneDNN thread each).
    public func detect(_ images: [DetectorImage], threshold: Double? = nil) throws -> [[Detection]] {
        let t = threshold ?? detection.threshold, window = detection.suppression
        let results: [Result<[Detection], Error>] = images.parallelMap { im in
            Result { Detector.peaks(try density(im), width: im.width, height: im.height, threshold: t, window: window) }
        }
        return try results.map { try $0.get() }
    }

    /// Non-maximum suppression: pixels at or above `threshold` that hold the maximum of the
    /// `window` x `window` square around them; of equal maxima in one window the first in raster
    /// order is kept.
    public static func peaks(_ v: [Float], width: Int, height: Int, threshold: Double, window: Int) -> [Detection] {
        let half = window / 2
        // The square's maximum, as a row pass then a column pass.
        var rowMax = [Float](repeating: -.infinity, count: v.count), boxMax = rowMax
        for r in 0..<height {
            for c in 0..<width {
                var m = -Float.infinity
                for q in max(0, c - half)...min(width - 1, c + half) { m = max(m, v[r * width + q]) }
                rowMax[r * width + c] = m
            }
        }
        for r in 0..<height {
            for c in 0..<width {
                var m = -Float.infinity
                for q in max(0, r - half)...min(height - 1, r + half) { m = max(m, rowMax[q * width + c]) }
                boxMax[r * width + c] = m
            }
        }
        var out: [Detection] = []
        for r in 0..<height {
            for c in 0..<width {
                let x = v[r * width + c]
                guard Double(x) >= threshold, x == boxMax[r * width + c] else { continue }
                let tie = out.contains { abs($0.col - c) <= half && abs($0.row - r) <= half && Float($0.score) == x }
                if !tie { out.append(Detection(col: c, row: r, score: Double(x))) }
            }
        }
        return out
    }
}
