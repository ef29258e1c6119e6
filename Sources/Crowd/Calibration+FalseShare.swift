import Consensus
import Foundation

extension Calibrator {
    /// The false-click rates the simulator needs for the false shares the pilot shows. A pilot's
    /// false share counts clicks matched to no object; a simulated false click that lands within
    /// the matching radius of an object (beside one, or anywhere on a dense field) is matched like a
    /// true one, so generating at the observed rate shows less: on the smFISH pilot the careful
    /// rates are generated at 2.5 times the share the pilot shows. Indirect inference: simulate the pilot (its
    /// images, replicates per image, pay) with the calibrated population (three seeds), measure what
    /// the pilot's figures measure, and move the generating values until the simulated pilot shows
    /// the real one's:
    /// - the careful workers' pooled false share, by the careful rates; the share grows more slowly
    ///   than the rate (the rate's spread is cut where a worker would turn careless,
    ///   `CrowdPool.carefulFalseFactor`), so each round steps by the secant in logs;
    /// - the careless workers' false share and the share of the objects they find, by their false
    ///   rate (in odds) and their detection factor, over the simulated workers drawn careless. Both
    ///   at once: raising the rate alone would multiply their clicks, since a worker's false clicks
    ///   come on top of the objects they click.
    static func matchFalseShareBySimulation(_ pilot: Pilot, export: QuantiusExport, visibility: [String: [Double]]?,
                                            lookAlikes: [String: LookAlikes]?, pay: Double, matchRadius: Double, _ c: inout Calibration) {
        let key = "false_positives.rate_first"
        let observed = carefulFalseShare(pilot)
        let tasks = pilotTasks(pilot, export: export, visibility: visibility, lookAlikes: lookAlikes)
        guard observed > 0, !tasks.isEmpty else { return }
        let replicates = max(1, Int(median(pilot.job.images.map { Double($0.workers.count) }).rounded()))
        let fitted = c.population.falsePositiveFirst
        c.observed.falseRatesSeen = (c.population.falsePositiveFirst, c.population.falsePositiveLater)
        // The simulated pilots, matched and with careless workers found as in the real one; each
        // with the workers the simulation drew careless (indices into its job's workers).
        func simulatedPilots() -> [(pilot: Pilot, drawnCareless: Set<Int>)] {
            (UInt64(1)...3).compactMap { seed in
                let sim = CrowdSimulation(population: c.population, replicates: replicates, pay: pay, seed: seed).run(tasks)
                guard var simulated = try? match(export: sim.export, truth: pilot.truth, visibility: visibility, matchRadius: matchRadius, source: "simulated pilot") else { return nil }
                var scratch = Calibration(population: c.population, notes: [:], summary: [])
                fitCareless(&simulated, &scratch)
                let drawn = Set(sim.pool.workers.filter(\.careless).map(\.id))
                return (simulated, Set(simulated.job.workerIDs.indices.filter { drawn.contains(simulated.job.workerIDs[$0]) }))
            }
        }
        let careless = figures(pilot) { pilot.careless.contains($0) }
        var last: (logRate: Double, logShare: Double)?
        for _ in 0..<4 {
            let pilots = simulatedPilots()
            let shares = pilots.map { carefulFalseShare($0.pilot) }
            let simulated = shares.isEmpty ? 0 : shares.reduce(0, +) / Double(shares.count)
            guard simulated > 0 else { return }
            let logRate = log(c.population.falsePositiveFirst), logShare = log(simulated)
            var slope = 1.0
            if let l = last, abs(logRate - l.logRate) > 1e-6 { slope = min(1.5, max(0.2, (logShare - l.logShare) / (logRate - l.logRate))) }
            last = (logRate, logShare)
            let factor = exp((log(observed) - logShare) / slope)
            c.population.falsePositiveFirst = min(0.9, c.population.falsePositiveFirst * factor)
            c.population.falsePositiveLater = min(0.9, c.population.falsePositiveLater * factor)
            if let real = careless {
                let sims = pilots.compactMap { s in figures(s.pilot) { s.drawnCareless.contains($0) } }
                if !sims.isEmpty { matchCareless(real, simulated: sims, &c.population) }
            }
        }
        if let real = careless {
            c.notes["careless.false_positive_rate"] = String(format: "measured %.3f; generated at %.3f so that the simulated pilot's careless workers show it", real.falseShare, c.population.carelessFalsePositive)
            c.notes["careless.detection_factor"] = (c.notes["careless.detection_factor"] ?? "measured") + String(format: "; generated at %.3f so that the simulated pilot's careless workers find as many", c.population.carelessDetectionFactor)
        }
        // Where the false clicks fall, the pilot's against the simulated pilots' at the final rates.
        let real = falseDistances(pilot), simulated = simulatedPilots().map { falseDistances($0.pilot) }
        c.observed.falseDistance = real.indices.map { b in
            (falseDistanceEdges[b], real[b], simulated.isEmpty ? .nan : simulated.reduce(0) { $0 + $1[b] } / Double(simulated.count))
        }
        let scale = c.population.falsePositiveFirst / max(fitted, 1e-9)
        c.standardErrors[key] = c.standardErrors[key].map { $0 * scale }
        c.notes[key] = (c.notes[key] ?? "measured") + String(format: "; generated at %.2fx so that a simulated pilot shows the observed %.1f %% (some false clicks land on objects)", scale, 100 * observed)
        c.summary.append(String(format: "false positives generated at %.3f for the observed %.3f (simulated pilot)", c.population.falsePositiveFirst, observed))
        if let real = careless {
            c.summary.append(String(format: "careless workers generated with %.0f %% false clicks and %.3f of the others' detection, for the observed %.0f %% and %.3f of the objects found (simulated pilot)",
                                    100 * c.population.carelessFalsePositive, c.population.carelessDetectionFactor, 100 * real.falseShare, real.found))
        }
    }

    /// A group of workers' pooled false share and the share of the objects on their images they found.
    struct GroupFigures { var falseShare: Double, found: Double }

    /// The figures of the workers `member` admits; nil when they clicked nothing.
    static func figures(_ pilot: Pilot, of member: (Int) -> Bool) -> GroupFigures? {
        var clicks = 0, tp = 0, objects = 0
        for r in pilot.rows where member(r.worker) { clicks += r.clicks; tp += r.tp; objects += r.hits.count }
        guard clicks > 0 else { return nil }
        return GroupFigures(falseShare: Double(clicks - tp) / Double(clicks), found: Double(tp) / Double(max(1, objects)))
    }

    /// One step of the careless workers' rate (in odds) and detection factor towards the pilot's
    /// figures, averaged over the simulated pilots.
    static func matchCareless(_ real: GroupFigures, simulated sims: [GroupFigures], _ p: inout Population) {
        let share = sims.reduce(0) { $0 + $1.falseShare } / Double(sims.count)
        let found = sims.reduce(0) { $0 + $1.found } / Double(sims.count)
        func odds(_ x: Double) -> Double { let y = min(max(x, 1e-4), 1 - 1e-4); return y / (1 - y) }
        let o = odds(p.carelessFalsePositive) * odds(real.falseShare) / odds(share)
        p.carelessFalsePositive = min(0.95, o / (1 + o))
        if found > 0 { p.carelessDetectionFactor = min(1, p.carelessDetectionFactor * real.found / found) }
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
        figures(pilot) { !pilot.careless.contains($0) }?.falseShare ?? 0
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
