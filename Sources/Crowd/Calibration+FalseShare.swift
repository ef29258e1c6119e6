import Consensus
import Foundation

extension Calibrator {
    /// The false-click rate the simulator needs for the false share the pilot shows. A pilot's
    /// false share counts clicks matched to no object; a simulated false click that lands within
    /// the matching radius of an object (beside one, or anywhere on a dense field) is matched like a
    /// true one, so generating at the observed rate shows less: on the smFISH pilot the rates are
    /// generated at 1.6 times what the pilot shows. Indirect inference: simulate the pilot (its images, replicates per image, pay)
    /// with the calibrated population, measure the same pooled share of careful workers, and scale
    /// the rates by observed over simulated; two rounds of three seeds.
    static func matchFalseShareBySimulation(_ pilot: Pilot, export: QuantiusExport, visibility: [String: [Double]]?,
                                            lookAlikes: [String: LookAlikes]?, pay: Double, matchRadius: Double, _ c: inout Calibration) {
        let key = "false_positives.rate_first"
        let observed = carefulFalseShare(pilot)
        let tasks = pilotTasks(pilot, export: export, visibility: visibility, lookAlikes: lookAlikes)
        guard observed > 0, !tasks.isEmpty else { return }
        let replicates = max(1, Int(median(pilot.job.images.map { Double($0.workers.count) }).rounded()))
        let fitted = c.population.falsePositiveFirst
        c.observed.falseRatesSeen = (c.population.falsePositiveFirst, c.population.falsePositiveLater)
        // The simulated pilots (3 seeds), matched and with careless workers found as in the real one.
        func simulatedPilots() -> [Pilot] {
            (UInt64(1)...3).compactMap { seed in
                let sim = CrowdSimulation(population: c.population, replicates: replicates, pay: pay, seed: seed).run(tasks)
                guard var simulated = try? match(export: sim.export, truth: pilot.truth, visibility: visibility, matchRadius: matchRadius, source: "simulated pilot") else { return nil }
                var scratch = Calibration(population: c.population, notes: [:], summary: [])
                fitCareless(&simulated, &scratch)
                return simulated
            }
        }
        for _ in 0..<2 {
            let shares = simulatedPilots().map(carefulFalseShare)
            let simulated = shares.isEmpty ? 0 : shares.reduce(0, +) / Double(shares.count)
            guard simulated > 0 else { return }
            let factor = observed / simulated
            c.population.falsePositiveFirst = min(0.9, c.population.falsePositiveFirst * factor)
            c.population.falsePositiveLater = min(0.9, c.population.falsePositiveLater * factor)
        }
        // Where the false clicks fall, the pilot's against the simulated pilots' at the final rates.
        let real = falseDistances(pilot), simulated = simulatedPilots().map(falseDistances)
        c.observed.falseDistance = real.indices.map { b in
            (falseDistanceEdges[b], real[b], simulated.isEmpty ? .nan : simulated.reduce(0) { $0 + $1[b] } / Double(simulated.count))
        }
        let scale = c.population.falsePositiveFirst / max(fitted, 1e-9)
        c.standardErrors[key] = c.standardErrors[key].map { $0 * scale }
        c.notes[key] = (c.notes[key] ?? "measured") + String(format: "; generated at %.2fx so that a simulated pilot shows the observed %.1f %% (some false clicks land on objects)", scale, 100 * observed)
        c.summary.append(String(format: "false positives generated at %.3f for the observed %.3f (simulated pilot)", c.population.falsePositiveFirst, observed))
    }

    /// Bins of a false click's distance to the nearest object (px, from each edge).
    static let falseDistanceEdges: [Double] = [0, 8, 12, 16, 24, 32, 64]

    /// Careful workers' false clicks by distance to the nearest object, as shares per bin.
    static func falseDistances(_ pilot: Pilot) -> [Double] {
        var counts = [Double](repeating: 0, count: falseDistanceEdges.count)
        for r in pilot.rows where pilot.good(r) {
            guard let t = pilot.truth.byImage[pilot.job.images[r.image].image], !t.xs.isEmpty else { continue }
            for (x, y) in zip(r.falseX, r.falseY) {
                let d = zip(t.xs, t.ys).reduce(Double.infinity) { min($0, hypot($1.0 - x, $1.1 - y)) }
                counts[(falseDistanceEdges.lastIndex { $0 <= d }) ?? 0] += 1
            }
        }
        let total = counts.reduce(0, +)
        return counts.map { total > 0 ? $0 / total : 0 }
    }

    /// The share of careful workers' clicks matched to no object.
    static func carefulFalseShare(_ pilot: Pilot) -> Double {
        var clicks = 0, wrong = 0
        for r in pilot.rows where pilot.good(r) { clicks += r.clicks; wrong += r.clicks - r.tp }
        return clicks > 0 ? Double(wrong) / Double(clicks) : 0
    }

    /// The pilot's images with truth as simulated workers see them.
    static func pilotTasks(_ pilot: Pilot, export: QuantiusExport, visibility: [String: [Double]]?, lookAlikes: [String: LookAlikes]?) -> [ImageTask] {
        var size: [String: (Int, Int)] = [:]
        for r in export.records where r.annotationType == .crosshairs && size[r.imageFilename] == nil { size[r.imageFilename] = (r.width, r.height) }
        return pilot.job.images.indices.compactMap { k in
            let name = pilot.job.images[k].image
            guard !pilot.vis[k].isEmpty, let t = pilot.truth.byImage[name], let (w, h) = size[name] else { return nil }
            return ImageTask(name: name, width: w, height: h, xs: t.xs, ys: t.ys, visibility: pilot.vis[k],
                             distractorXs: t.distractorXs, distractorYs: t.distractorYs, structure: lookAlikes?[name])
        }
    }
}
