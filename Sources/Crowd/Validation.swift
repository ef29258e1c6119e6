import Consensus
import Foundation

/// Leave-one-crowd-out: for each real crowd, a population calibrated on the others (or on one fixed
/// source) simulates that crowd's own images, sizes and replicate counts, and the simulated crowd's
/// figures are set against the real ones. This is how far a prediction from a pilot can be trusted.
public enum Validation {
    public struct Row: Sendable, Codable {
        public var crowd: String
        public var calibratedOn: String
        public var replicates: Int
        public var real: CrowdFigures
        /// Mean over the simulated seeds.
        public var predicted: CrowdFigures
        /// Mean over images of |predicted − real| consensus precision and recall.
        public var perImagePrecisionError: Double
        public var perImageRecallError: Double
        /// Per image, the SD over the simulated crowds of consensus precision and recall: how much
        /// one crowd varies from the next by chance alone.
        public var perImageSpread: [String: [Double]]
        /// The seeds simulated.
        public var seeds: Int
    }

    /// The real crowds' variation beyond chance: per image, the root mean square of the error of the
    /// mean prediction less what one crowd's chance variation and the mean's own noise explain,
    /// `sqrt(mean(err² − sd²·(1 + 1/seeds)))`, for precision and recall.
    public static func excessVariation(_ rows: [Row]) -> (precision: Double, recall: Double) {
        var p: [Double] = [], r: [Double] = []
        for row in rows {
            for (k, real) in row.real.perImage {
                guard let pred = row.predicted.perImage[k], let sd = row.perImageSpread[k] else { continue }
                let f = 1 + 1 / Double(row.seeds)
                p.append(pow(pred[0] - real[0], 2) - sd[0] * sd[0] * f)
                r.append(pow(pred[1] - real[1], 2) - sd[1] * sd[1] * f)
            }
        }
        func root(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : max(0, xs.reduce(0, +) / Double(xs.count)).squareRoot() }
        return (root(p), root(r))
    }

    /// Simulated crowds of a population on a real crowd's tasks, one per seed, and their figures.
    public static func predict(_ population: Population, on crowd: RealCrowd, pay: Double, seeds: [UInt64]) -> [CrowdFigures] {
        seeds.map { seed in
            let sim = CrowdSimulation(population: population, replicates: crowd.replicates, pay: pay, seed: seed).run(crowd.tasks)
            return CrowdFigures.measure(sim.export, on: crowd)
        }
    }

    public static func run(crowds: [RealCrowd], calibrateOn fixed: RealCrowd? = nil, pay: Double, seeds: [UInt64],
                           progress: ((String) -> Void)? = nil) throws -> [Row] {
        guard fixed != nil || crowds.count >= 2 else {
            throw InputError(file: crowds.first?.name ?? "validate", message: "leave-one-out needs two crowds or more (or --calibrate-on)")
        }
        var rows: [Row] = []
        for (i, held) in crowds.enumerated() {
            let source = fixed ?? RealCrowd.pooled(crowds.enumerated().filter { $0.offset != i }.map(\.element))
            progress?("\(held.name): calibrating on \(source.name)")
            let population = try source.calibrate(pay: pay).population
            progress?("\(held.name): simulating \(seeds.count) crowd(s) of \(held.replicates) per image")
            let crowds = predict(population, on: held, pay: pay, seeds: seeds)
            let predicted = CrowdFigures.mean(crowds)
            var spread: [String: [Double]] = [:]
            for k in predicted.perImage.keys {
                func sd(_ i: Int) -> Double {
                    let v = crowds.compactMap { $0.perImage[k]?[i] }.filter(\.isFinite)
                    guard v.count > 1 else { return 0 }
                    let m = v.reduce(0, +) / Double(v.count)
                    return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
                }
                spread[k] = [sd(0), sd(1)]
            }
            let real = CrowdFigures.measure(held.export, on: held)
            var ep: [Double] = [], er: [Double] = []
            for (k, r) in real.perImage { if let p = predicted.perImage[k] { ep.append(abs(p[0] - r[0])); er.append(abs(p[1] - r[1])) } }
            rows.append(Row(crowd: held.name, calibratedOn: source.name, replicates: held.replicates, real: real, predicted: predicted,
                            perImagePrecisionError: ep.isEmpty ? .nan : ep.reduce(0, +) / Double(ep.count),
                            perImageRecallError: er.isEmpty ? .nan : er.reduce(0, +) / Double(er.count),
                            perImageSpread: spread, seeds: seeds.count))
        }
        return rows
    }
}
