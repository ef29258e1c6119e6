import CGSL
import Consensus
import Foundation
import Randomness

/// One simulated worker: parameters drawn once from the population.
public struct WorkerAgent: Sendable, Equatable {
    public var id: String
    /// Pareto activity weight (x_min = 1): how often this worker shows up and how much they take.
    public var activity: Double
    /// Best detection probability (for very visible objects).
    public var plateau: Double
    /// Radial pointing RMSE in px.
    public var rmse: Double
    /// Median click period in seconds (from Fitts' law and the worker's error).
    public var period: Double
    public var careless: Bool
    /// This worker's patience: the annotations per image they tolerate, relative to the population's.
    public var patience: Double = 1
    /// This worker's false-positive rate relative to the population's (mean 1 over workers).
    public var falseFactor: Double = 1

    public init(id: String, activity: Double, plateau: Double, rmse: Double, period: Double, careless: Bool, patience: Double = 1) {
        self.id = id; self.activity = activity; self.plateau = plateau; self.rmse = rmse; self.period = period
        self.careless = careless; self.patience = patience
    }
}

/// The pool of workers a job can draw on.
public struct CrowdPool: Sendable {
    public var workers: [WorkerAgent]
    public var population: Population

    /// Draws `size` workers. Worker ids look like Mechanical Turk's (`A` + 13 characters) and are
    /// a function of the seed.
    public init(population p: Population, size: Int, seed: UInt64) {
        population = p
        let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xC0FFEE))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        // Beta parameters from the plateau's mean and SD (method of moments).
        let m = min(max(p.detectionPlateau, 0.01), 0.99)
        let v = min(p.detectionPlateauSD * p.detectionPlateauSD, m * (1 - m) * 0.95)
        let k = v > 0 ? m * (1 - m) / v - 1 : 1e6
        var out: [WorkerAgent] = []
        out.reserveCapacity(size)
        var seen = Set<String>()
        for _ in 0..<size {
            var id = ""
            repeat { id = "A" + String((0..<13).map { _ in alphabet[rng.int(alphabet.count)] }) } while !seen.insert(id).inserted
            var activity = rng.pareto(a: p.paretoAlpha, b: 1)
            let careless = rng.uniform() < p.carelessShare
            // Careless workers stay light: requesters reject their work, and the approval-rate
            // screens most HITs require (95 % and up) keep them from becoming the busiest workers.
            if careless { activity = min(activity, p.medianActivity) }
            var plateau = v > 0 ? rng.beta(m * k, (1 - m) * k) : m
            // Busier workers choose larger error and so shorter periods (Hughes et al. Fig. 1f),
            // relative to the median worker, whose error is the population's median. The link
            // saturates at the busiest 5 % (activity's 95th percentile): beyond it the heavy
            // Pareto tail would otherwise push errors past anything people do.
            let busy = min(activity, pow(0.05, -1 / p.paretoAlpha)) / p.medianActivity
            var rmse = p.rmseMedian * exp(p.rmseLogSD * rng.gaussian(sigma: 1)) * pow(busy, p.activityErrorExponent)
            if careless { plateau *= p.carelessDetectionFactor; rmse *= p.carelessErrorFactor }
            rmse = min(max(rmse, 0.3), 60)
            let fitts = p.fittsA + p.fittsB * log2((p.fittsC + rmse) / rmse)
            let period = max(0.15, fitts * exp(p.periodLogSD * rng.gaussian(sigma: 1)))
            let patience = exp(p.patienceLogSD * rng.gaussian(sigma: 1))
            let s = p.falsePositiveWorkerLogSD
            var agent = WorkerAgent(id: id, activity: activity, plateau: plateau, rmse: rmse, period: period, careless: careless, patience: patience)
            agent.falseFactor = s > 0 ? Self.carefulFalseFactor(z: rng.gaussian(sigma: 1), logSD: s, population: p) : 1
            out.append(agent)
        }
        workers = out
    }

    public init(population: Population, workers: [WorkerAgent]) { self.population = population; self.workers = workers }

    /// A careful worker's false-positive factor: log-normal (of mean 1 before the cut), drawn from
    /// the standard normal `z`, truncated where the worker's highest rate would make most of their
    /// clicks false. A calibration counts such workers careless (`DetectionScore.isMostlyFalse`)
    /// and measures them as a class of their own, so the careful workers' spread it measures holds
    /// none of them; without the truncation the log-normal's tail draws careful workers (who find
    /// as much as anyone) clicking two to ten times as often as they find, which no real crowd
    /// shows. `z` is mapped through the normal's distribution function into the truncated range,
    /// so one draw stays one draw.
    static func carefulFalseFactor(z: Double, logSD s: Double, population p: Population) -> Double {
        let highest = max(p.falsePositiveFirst, p.falsePositiveLater)
        guard highest > 0 else { return exp(s * z - s * s / 2) }
        let zMax = (log(DetectionScore.mostlyFalseShare / highest) + s * s / 2) / s
        let u = gsl_cdf_ugaussian_P(z) * gsl_cdf_ugaussian_P(zMax)
        return exp(s * gsl_cdf_ugaussian_Pinv(min(max(u, 1e-300), 1 - 1e-16)) - s * s / 2)
    }
}
