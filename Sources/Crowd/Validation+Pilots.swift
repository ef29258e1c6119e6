import Consensus
import Foundation
import Randomness

/// How small a pilot can be trusted: pilots drawn from one real crowd (some of its workers on every
/// image, or some of its images with all their workers), each calibrated on and used to predict the
/// whole crowd with `Prediction`'s intervals, as a planner predicts a job from a pilot. The real
/// crowd's figures fall inside those intervals or not.
extension Validation {
    /// What a pilot keeps of a crowd; nil keeps everything.
    public struct PilotDesign: Sendable, Codable, Equatable {
        public var workersPerImage: Int?
        public var images: Int?
        public init(workersPerImage: Int? = nil, images: Int? = nil) { self.workersPerImage = workersPerImage; self.images = images }

        public var description: String {
            [workersPerImage.map { "\($0) workers per image" }, images.map { "\($0) image(s)" }].compactMap { $0 }.joined(separator: ", ")
        }
    }

    public struct PilotRow: Sendable, Codable {
        public var crowd: String
        public var draw: Int
        public var pilotImages: Int
        public var pilotSubmissions: Int
        /// The whole crowd's workers per image, as predicted.
        public var replicates: Int
        public var realPrecision: Double
        public var realRecall: Double
        public var predicted: Prediction.Figures
        /// Whether the real figure lies within the predicted interval.
        public var precisionInside: Bool
        public var recallInside: Bool

        init(crowd: String, draw: Int, pilotImages: Int, pilotSubmissions: Int, replicates: Int, real: CrowdFigures, predicted: Prediction.Figures) {
            self.crowd = crowd; self.draw = draw; self.pilotImages = pilotImages; self.pilotSubmissions = pilotSubmissions
            self.replicates = replicates; realPrecision = real.precision; realRecall = real.recall; self.predicted = predicted
            precisionInside = predicted.precision.low <= real.precision && real.precision <= predicted.precision.high
            recallInside = predicted.recall.low <= real.recall && real.recall <= predicted.recall.high
        }
    }

    /// Pilot `draw` of `crowd`: images drawn first, then workers on each, from shuffles of the
    /// crowd's canonical order seeded by `seed` and the draw, so a draw is the same however the
    /// export lists its records.
    public static func pilot(of crowd: RealCrowd, _ design: PilotDesign, draw: Int, seed: UInt64 = 1) -> RealCrowd {
        let groups = crowd.export.canonicalRecords { $0.annotationType == .crosshairs }.images
            .filter { !$0.indices.isEmpty && crowd.truth.byImage[$0.image] != nil }
            .sorted { $0.image < $1.image }
        func shuffled<T>(_ xs: [T], stream: UInt64) -> [T] {
            var out = xs
            let rng = SeededRandom(seed: SeededRandom.derive(SeededRandom.derive(seed, UInt64(draw)), stream))
            for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, rng.int(i + 1)) }
            return out
        }
        let images = design.images.map { Array(shuffled(groups, stream: 0).prefix($0)) } ?? groups
        var keep = Set<Int>()
        for (k, g) in images.enumerated() {
            keep.formUnion(design.workersPerImage.map { shuffled(g.indices, stream: 1 + UInt64(k)).prefix($0) } ?? g.indices[...])
        }
        let names = Set(images.map(\.image))
        var out = crowd
        out.name = crowd.name + " pilot \(draw)"
        out.export = QuantiusExport(records: crowd.export.records.indices.filter { keep.contains($0) }.map { crowd.export.records[$0] })
        out.truth = TruthSet(byImage: crowd.truth.byImage.filter { names.contains($0.key) })
        out.tasks = crowd.tasks.filter { names.contains($0.name) }
        return out
    }

    /// `draws` pilots of `crowd`, each calibrated on and predicting the whole crowd (`seeds`
    /// simulated crowds, 90 % intervals); `calibrated` sees each pilot's calibration.
    public static func runPilots(of crowd: RealCrowd, _ design: PilotDesign, draws: Int, seed: UInt64 = 1, seeds: Int, pay: Double,
                                 calibrated: ((Int, Calibration) throws -> Void)? = nil,
                                 progress: ((String) -> Void)? = nil) throws -> [PilotRow] {
        let real = CrowdFigures.measure(crowd.export, on: crowd)
        return try (1...draws).map { draw in
            let pilot = pilot(of: crowd, design, draw: draw, seed: seed)
            progress?("\(crowd.name): pilot \(draw) of \(draws), calibrating")
            let calibration = try pilot.calibrate(pay: pay)
            try calibrated?(draw, calibration)
            progress?("\(crowd.name): pilot \(draw) of \(draws), predicting")
            // With the fitted errors, as `crowdlab predict` reads them from the pilot's YAML.
            let p = Prediction.run(population: calibration.populationWithUncertainty, tasks: crowd.tasks, truth: crowd.truth, replicates: crowd.replicates, pay: pay, seeds: seeds)
            return PilotRow(crowd: crowd.name, draw: draw, pilotImages: pilot.tasks.count, pilotSubmissions: pilot.export.records.count,
                            replicates: crowd.replicates, real: real, predicted: p.consensus)
        }
    }
}
