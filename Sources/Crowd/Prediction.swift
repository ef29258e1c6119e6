import Consensus
import Foundation
import Randomness

/// What a real crowd of K workers per image would reach on given images, with intervals that hold
/// three sources of doubt: one simulated crowd against the next (seeds), what the calibration does
/// not know (each seed simulates a population drawn from the fitted standard errors), and how one
/// real crowd differs from another beyond both (`crowdVariation` per image, `crowdVariationOverall`
/// for a whole crowd, added as normal noise).
public enum Prediction {
    /// SD of a real crowd's consensus precision and recall about what its calibrated population
    /// predicts beyond chance (one crowd's chance variation is the spread between simulated crowds,
    /// already in the interval). Per image: `Validation.excessVariation` over the 18 images of the
    /// two real crowds of one kind, each predicted from the other (`crowdlab validate
    /// Data/quanti-us/synth-cells/export.json --calibrate-on Data/quanti-us/synth-tissue/export.json
    /// --seeds 8`, and the reverse), as a planner predicts a job from a pilot on its own kind of
    /// image. Per crowd: the root mean square error of leave-one-crowd-out over the 3 real crosshair
    /// crowds (`crowdlab validate` on all three, `--seeds 8`). docs/crowd-model.md.
    public static let crowdVariation = (precision: 0.045, recall: 0.035)
    public static let crowdVariationOverall = (precision: 0.041, recall: 0.034)

    /// The `level` interval of `xs` (one value per simulated crowd) with a real crowd's variation
    /// `sd` added: 20 normal draws about each value, clipped to [0, 1], seeded by `seed`.
    public static func interval(_ xs: [Double], crowdSD sd: Double, level: Double, seed: UInt64) -> Interval {
        let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xC40D))
        let noisy = xs.flatMap { x in (0..<20).map { _ in min(1, max(0, x + rng.gaussian(sigma: sd))) } }
        let q = quantiles(noisy, [(1 - level) / 2, (1 + level) / 2])
        return Interval(mean: xs.reduce(0, +) / Double(max(1, xs.count)), low: q[0], high: q[1])
    }

    public struct Interval: Sendable, Codable, Equatable {
        public var mean: Double, low: Double, high: Double
    }

    public struct Figures: Sendable, Codable, Equatable {
        public var precision: Interval
        public var recall: Interval
    }

    public struct Result: Sendable, Codable, Equatable {
        public var level: Double
        public var replicates: Int
        public var pay: Double
        public var seeds: Int
        public var consensus: Figures
        public var images: [String: Figures]
        public var clicksPerWorker: Interval
    }

    /// `seeds` simulated crowds (seed s simulates the population drawn with seed s) on `tasks`
    /// scored against `truth`.
    public static func run(population: Population, tasks: [ImageTask], truth: TruthSet, replicates: Int, pay: Double,
                           seeds: Int, level: Double = 0.9, progress: ((Int) -> Void)? = nil) -> Result {
        var overall: [(Double, Double)] = [], perImage: [String: [(Double, Double)]] = [:], clicks: [Double] = []
        for s in 1...seeds {
            let seed = UInt64(s)
            let pop = population.drawn(seed: seed)
            let sim = CrowdSimulation(population: pop, replicates: replicates, pay: pay, seed: seed).run(tasks)
            let a = Analysis.run(export: sim.export, truth: truth)
            if let o = a.overall { overall.append((o.precision, o.recall)) }
            for row in a.images { if let sc = row.score { perImage[row.image, default: []].append((sc.precision, sc.recall)) } }
            clicks.append(median(sim.clicksPerAssignment.map(Double.init)))
            progress?(s)
        }
        // Crowd-to-crowd noise, seeded apart from the simulations, one stream per figure.
        var stream: UInt64 = 0
        func figures(_ xs: [(Double, Double)], _ sd: (precision: Double, recall: Double)) -> Figures {
            stream += 2
            return Figures(precision: interval(xs.map(\.0), crowdSD: sd.precision, level: level, seed: UInt64(seeds) &+ stream),
                           recall: interval(xs.map(\.1), crowdSD: sd.recall, level: level, seed: UInt64(seeds) &+ stream &+ 1))
        }
        let consensus = figures(overall, crowdVariationOverall)
        var images: [String: Figures] = [:]
        for k in perImage.keys.sorted() { images[k] = figures(perImage[k]!, crowdVariation) }
        let q = quantiles(clicks, [(1 - level) / 2, (1 + level) / 2])
        return Result(level: level, replicates: replicates, pay: pay, seeds: seeds,
                      consensus: consensus, images: images,
                      clicksPerWorker: Interval(mean: clicks.reduce(0, +) / Double(max(1, clicks.count)), low: q[0], high: q[1]))
    }
}
