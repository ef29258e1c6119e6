import Consensus
import Crowd
import Foundation
import Imaging
import Phantoms
import Randomness
import Reports

/// One scenario end to end: render the phantoms, let the simulated crowd annotate them, analyse
/// the export with the same code as a real one, and price the job.
public struct LabRun: Sendable {
    public struct Outcome: Sendable {
        public var scenario: Scenario
        public var phantoms: [Phantom]
        public var imageNames: [String]
        public var simulation: CrowdSimulation.Result
        public var analysis: AnalysisResult
        public var truth: TruthSet
        public var cost: (rewards: Double, fees: Double, total: Double)
        /// Assignments paid for (images × replicates, or what an adaptive policy asked).
        public var assignments = 0
        /// A verify stage's figures, when the scenario has one.
        public var verify: VerifyFigures?
        /// Wall time of each phase: rendering the phantoms, simulating the crowd, consensus and scoring.
        public var seconds: (phantoms: Double, simulation: Double, analysis: Double) = (0, 0, 0)
    }

    /// What a verify stage asked and decided.
    public struct VerifyFigures: Sendable, Encodable {
        public var questions: Int, hits: Int, assignments: Int
        /// First-stage objects the verifiers turned down, and near misses they confirmed.
        public var removed: Int, added: Int
        public var costUsd: Double, feesUsd: Double
    }

    public static func run(_ s: Scenario, keepPhantoms: Bool = true) throws -> Outcome {
        let t0 = Date()
        let scene = s.scene
        // Pixels only when someone looks at them (the report's overlays, the classic pipeline, or
        // workers whose detection is measured in the image); otherwise the layout's truth suffices.
        let pixels = keepPhantoms || s.population.measure == .contrast || s.imageEvidence
        let phantoms: [Phantom] = Array(0..<s.images).parallelMap { i in
            let seed = SeededRandom.derive(s.seed, UInt64(i))
            return pixels ? scene.render(seed: seed) : scene.layout(seed: seed)
        }
        let names = (0..<s.images).map { String(format: "%@_%04d.png", s.sceneKind.rawValue, $0) }
        // What workers see, in click coordinates (y from the bottom).
        let tasks: [ImageTask] = Array(0..<s.images).parallelMap { i in
            let p = phantoms[i], h = Double(p.image.height)
            let objects = p.truth.filter { !$0.kind.isDistractor }
            let distractors = p.truth.filter { $0.kind.isDistractor }
            let xs = objects.map(\.col), ys = objects.map { h - $0.row }
            let visibility = s.population.measure == .contrast ? Visibility.contrast(image: p.image, xs: xs, ys: ys) : objects.map(\.snr)
            return ImageTask(name: names[i], width: p.image.width, height: p.image.height, xs: xs, ys: ys, visibility: visibility,
                             distractorXs: distractors.map(\.col), distractorYs: distractors.map { h - $0.row })
        }
        let t1 = Date()
        // An adaptive job: the crowd is simulated up to the cap, then played back as it would
        // arrive, each image taking workers until its consensus is settled; what was not asked for
        // is not paid for. (Hours are the capped job's: an upper bound.)
        let policy = s.replicatePolicy
        var sim = CrowdSimulation(population: s.population, replicates: policy.cap, pay: s.pay, seed: s.seed).run(tasks)
        var usedPerImage = Dictionary(uniqueKeysWithValues: names.map { ($0, policy.cap) })
        if s.policy == .adaptive {
            let r = Replay.run(sim.export, policy: policy, seed: s.seed)
            sim.export = r.export
            sim.clicks = r.export.clickCount
            usedPerImage = r.workersPerImage
        }
        let t2 = Date()
        var truth = TruthSet(byImage: [:], imagesWithoutTruth: [], unusedTruthFiles: [])
        for (i, t) in tasks.enumerated() {
            let snr = phantoms[i].truth.filter { !$0.kind.isDistractor }.map(\.snr)
            truth.byImage[names[i]] = TruthPoints(xs: t.xs, ys: t.ys, snr: snr, source: names[i], distractorXs: t.distractorXs, distractorYs: t.distractorYs)
        }
        var options = AnalysisOptions()
        options.method = try s.pointMethod(images: s.imageEvidence ? Dictionary(uniqueKeysWithValues: zip(names, phantoms.map(\.image))) : nil)
        options.matchRadius = s.matchRadius
        var analysis = Analysis.run(export: sim.export, truth: truth, options: options)
        var verify: VerifyFigures? = nil
        if s.policy == .verify { (analysis, verify) = verified(analysis, s, tasks: Dictionary(uniqueKeysWithValues: zip(names, tasks)), truth: truth) }
        var o = Outcome(scenario: s, phantoms: keepPhantoms ? phantoms : [], imageNames: names, simulation: sim, analysis: analysis, truth: truth,
                        cost: s.policy != .adaptive ? TurkFees.jobCost(images: s.images, replicates: s.replicates, reward: s.pay)
                            // Summed in image order: a dictionary's order changes from run to run.
                            : names.map { usedPerImage[$0] ?? 0 }.reduce((0.0, 0.0, 0.0)) { acc, used in
                                let c = TurkFees.jobCost(images: 1, replicates: used, reward: s.pay)
                                return (acc.0 + c.rewards, acc.1 + c.fees, acc.2 + c.total)
                            })
        o.assignments = usedPerImage.values.reduce(0, +)
        if let v = verify {
            o.verify = v
            o.assignments += v.assignments
            o.cost = (o.cost.rewards + v.costUsd - v.feesUsd, o.cost.fees + v.feesUsd, o.cost.total + v.costUsd)
        }
        o.seconds = (t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), Date().timeIntervalSince(t2))
        return o
    }

    /// The verify stage on a first-stage analysis: its undecided objects asked of simulated
    /// verifiers, decided by their answers, and the analysis re-scored with the result.
    static func verified(_ a: AnalysisResult, _ s: Scenario, tasks: [String: ImageTask], truth: TruthSet) -> (AnalysisResult, VerifyFigures) {
        let stage = s.verify
        let questions = stage.questions(a.consensus)
        let verifiers = VerifierCrowd(population: s.population, seed: SeededRandom.derive(s.seed, 0x5E_71F1), radius: s.matchRadius)
        let answers = verifiers.answer(questions, tasks: tasks, stage: stage)
        let posteriors = stage.posteriors(answers)
        let final = stage.apply(a.consensus, questions: questions, posteriors: posteriors)
        let hits = stage.hits(questions: questions.count)
        let cost = TurkFees.jobCost(images: hits, replicates: stage.workersPerQuestion, reward: s.verifyPay ?? s.pay)
        let removed = zip(questions, posteriors).filter { $0.0.acceptedFirst && $0.1 < 0.5 }.count
        let added = zip(questions, posteriors).filter { !$0.0.acceptedFirst && $0.1 >= 0.5 }.count
        let figures = VerifyFigures(questions: questions.count, hits: hits, assignments: stage.assignments(questions: questions.count),
                                    removed: removed, added: added, costUsd: cost.total, feesUsd: cost.fees)
        return (Analysis.rescored(a, consensus: final, truth: truth), figures)
    }

    /// Writes the run's files into `out`, all-or-nothing: report.html, metrics.json, the export,
    /// the images with their truth, consensus.csv and workers.csv, and overlays.
    public static func write(_ o: Outcome, to out: String) throws {
        let stage = try OutputStage(destination: out)
        try stage.write(ExportWriter.encode(o.simulation.export), "export.json")
        for (i, p) in o.phantoms.enumerated() {
            let stem = (o.imageNames[i] as NSString).deletingPathExtension
            try stage.write(PNG.encode(p.image), "images/" + o.imageNames[i])
            try stage.write(truthCSV(p.truth), "truth/\(stem).csv")
        }
        try AnalysisOutputs.write(o.analysis, metrics: metrics(o), into: stage)
        var overlays: [(image: String, file: String)] = []
        let job = o.analysis.job
        for (k, im) in job.images.enumerated().prefix(o.scenario.overlays) {
            guard let i = o.imageNames.firstIndex(of: im.image), i < o.phantoms.count else { continue }
            let file = "overlays/" + (im.image as NSString).deletingPathExtension + ".png"
            let picture = AnalysisOutputs.overlay(image: o.phantoms[i].image, clicks: Array(zip(im.xs, im.ys)),
                                                  consensus: o.analysis.consensus[k].points, truth: o.truth.byImage[im.image], radius: o.scenario.matchRadius)
            try stage.write(PNG.encode(picture), file)
            overlays.append((im.image, file))
        }
        try stage.write(AnalysisReport.html(o.analysis, exportName: "scenario \(o.scenario.name)", overlays: overlays, preface: preface(o)), "report.html")
        try stage.commit()
    }

    /// The scenario's design and the job's figures, shown above the analysis in the report.
    public static func preface(_ o: Outcome) -> [(String, String)] {
        let s = o.scenario, sim = o.simulation
        var rows: [(String, String)] = []
        if !s.description.isEmpty { rows.append(("what it shows", s.description)) }
        rows.append(("scene", "\(s.images) \(s.sceneKind.rawValue) image(s), seed \(s.seed)"))
        rows.append(("crowd", "population \(s.populationSource); \(sim.imagesPerWorker.count) workers took part"))
        if let v = o.verify {
            rows.append(("job", String(format: "%d workers per image at $%.3f per image, then a verify stage: %d undecided objects asked of %d new workers each on crops (%d HITs of %d at $%.3f): %d first-stage objects turned down, %d near misses confirmed", s.replicates, s.pay, v.questions, s.verify.workersPerQuestion, v.hits, s.verify.questionsPerHIT, s.verifyPay ?? s.pay, v.removed, v.added)))
        } else if s.policy == .adaptive {
            rows.append(("job", String(format: "%@: %.1f workers per image on average (%d assignments) at $%.3f per image; hours are those of the job capped at %d", s.adaptive.description, Double(o.assignments) / Double(max(1, s.images)), o.assignments, s.pay, s.adaptive.cap)))
        } else {
            rows.append(("job", String(format: "%d workers per image at $%.3f per image", s.replicates, s.pay)))
        }
        rows.append(("cost", String(format: "$%.2f = $%.2f rewards + $%.2f Mechanical Turk fees", o.cost.total, o.cost.rewards, o.cost.fees)))
        if let score = s.requireScore {
            rows.append(("pool", "job.require_score \(score) applies to jobs posted with crowdlab job submit; this simulation draws a fresh crowd"))
        }
        rows.append(("time", String(format: "%.2f h to collect %d annotations (%.0f per hour); %d arrivals declined", sim.hours, sim.clicks, sim.annotationsPerHour, sim.declinedArrivals)))
        return rows
    }

    struct JobMetrics: Encodable {
        var scenario: String, seed: UInt64, images: Int, replicates: Int, payUsd: Double, policy: String, assignments: Int
        var costUsd: Double, rewardsUsd: Double, feesUsd: Double
        var hours: Double, annotations: Int, annotationsPerHour: Double, annotationsPerHourRunning: Double, workers: Int, declinedArrivals: Int
        var precision: Double?, recall: Double?, f1: Double?
        var filteredPrecision: Double?, filteredRecall: Double?
        var verify: VerifyFigures?
    }

    /// metrics.json of a run: `{"analysis": …, "job": …}`.
    struct RunMetrics: Encodable {
        var analysis: AnalysisOutputs.Metrics
        var job: JobMetrics
    }

    static func metrics(_ o: Outcome) -> RunMetrics {
        let a = o.analysis, sim = o.simulation
        let job = JobMetrics(scenario: o.scenario.name, seed: o.scenario.seed, images: o.scenario.images, replicates: o.scenario.replicates,
                             payUsd: o.scenario.pay, policy: o.scenario.policyDescription, assignments: o.assignments, costUsd: o.cost.total, rewardsUsd: o.cost.rewards, feesUsd: o.cost.fees,
                             hours: sim.hours, annotations: sim.clicks, annotationsPerHour: sim.annotationsPerHour, annotationsPerHourRunning: sim.steadyAnnotationsPerHour,
                             workers: sim.imagesPerWorker.count, declinedArrivals: sim.declinedArrivals,
                             precision: a.overall?.precision, recall: a.overall?.recall, f1: a.overall?.f1,
                             filteredPrecision: a.filtered.score?.precision, filteredRecall: a.filtered.score?.recall, verify: o.verify)
        return RunMetrics(analysis: AnalysisOutputs.metrics(a), job: job)
    }

    public static func metricsJSON(_ o: Outcome) throws -> Data { try AnalysisOutputs.encode(metrics(o)) }
}
