import Consensus
import Crowd
import Foundation
import Phantoms
import Reports

/// Finds the cheapest job design (pay per image, a replicate policy, whether to drop the bottom
/// third of workers) that meets recall and precision targets, by simulating each candidate on a
/// pilot of images like the planned ones over several seeds. A design qualifies when its
/// 10th-percentile precision and recall over the seeds meet the targets, so it should meet them in
/// about 9 runs of 10; then budget and deadline are applied.
///
/// Policies: a fixed number of workers per image (`replicateOptions`), and adaptive ones
/// (`adaptivePolicies`) that add workers only where the consensus is unsettled. An adaptive
/// design's cost is what its simulated jobs asked for (mean over seeds; the budget is held to the
/// 90th percentile, since the spend is not known in advance); its hours are those of the capped
/// job, an upper bound.
public struct Planner: Sendable {
    public var objectsPerImage: Int
    public var images: Int
    public var targetRecall: Double
    public var targetPrecision: Double
    public var budget: Double?
    public var deadlineHours: Double?
    public var population: Population
    public var seeds: Int = 8
    public var pilotImages: Int = 12
    public var pays: [Double] = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10]
    public var replicateOptions: [Int] = [3, 5, 7, 10, 15]
    public var adaptivePolicies: [AdaptiveReplicates] = [AdaptiveReplicates()]
    /// Verify stages to price after each fixed design (none by default: in simulation a verify
    /// stage costs more than the first-stage workers that buy the same F1; docs/replicates.md).
    public var verifyStages: [VerifyStage] = []
    /// Also price crowd labels for this many images and a detector for the rest.
    public var detectorAfter: Int? = nil
    public var seed: UInt64 = 1

    public init(objectsPerImage: Int, images: Int, targetRecall: Double, targetPrecision: Double, budget: Double?, deadlineHours: Double?, population: Population) {
        self.objectsPerImage = objectsPerImage; self.images = images; self.targetRecall = targetRecall; self.targetPrecision = targetPrecision
        self.budget = budget; self.deadlineHours = deadlineHours; self.population = population
    }

    public struct Design: Sendable, Codable {
        public var payUsd: Double
        /// `fixed:K` or `adaptive:START,CAP,THRESHOLD`, as `--policy` and scenarios take it.
        public var policy: String
        /// Workers per image: K, or an adaptive policy's cap.
        public var replicates: Int
        /// Assignments per image the policy pays for (mean over seeds).
        public var assignmentsPerImage: Double
        public var dropBottomThird: Bool
        /// Expected cost of the planned job, fees included.
        public var costUsd: Double
        /// The 90th percentile of the cost over seeds (equal to the cost for a fixed policy).
        public var costP90Usd: Double
        public var feesUsd: Double
        public var hours: Double
        public var recallMean: Double, recallP10: Double, recallP90: Double
        public var precisionMean: Double, precisionP10: Double, precisionP90: Double
        public var meetsTargets: Bool
        public var withinBudget: Bool
        public var withinDeadline: Bool

        public var isAdaptive: Bool { policy.hasPrefix("adaptive") }
        /// Workers per image in words: `10`, `adaptive 3-15 (6.2 on average)`, or `5 + verify (7.1 assignments per image)`.
        public var workersPerImage: String {
            if VerifiedDesign(parsing: policy) != nil { return String(format: "%d + verify (%.1f assignments per image)", replicates, assignmentsPerImage) }
            guard isAdaptive, let p = try? ReplicatePolicies.parse(policy) else { return "\(replicates)" }
            return String(format: "adaptive %d-%d (%.1f on average)", p.start, p.cap, assignmentsPerImage)
        }
    }

    public struct Plan: Sendable, Codable {
        public var objectsPerImage: Int, images: Int
        public var targetRecall: Double, targetPrecision: Double
        public var budgetUsd: Double?, deadlineHours: Double?
        public var seeds: Int, pilotImages: Int
        public var recommended: Design?
        /// When nothing meets every constraint: the cheapest design that meets the targets whatever
        /// the budget and deadline, and the best within them (highest 10th-percentile recall among
        /// those meeting the precision target, or any, then cheapest).
        public var cheapestMeetingTargets: Design?
        public var bestWithinLimits: Design?
        public var designs: [Design]
        /// Designs no other design beats on cost, recall and time at once.
        public var front: [Design]
        /// With `detectorAfter`: the recommended design for the first images, a detector for the rest.
        public var detector: DetectorOption? = nil
    }

    /// Crowd labels for the first `crowdImages` images, then a detector trained on their consensus
    /// (`crowdlab detect train`) for the rest, against the crowd labelling every image. The crowd's
    /// cost and time are the design's per image (rewards and fees are per assignment, and a job's
    /// hours grow with its images); the detector costs nothing per image. Whether it is good enough
    /// is for `crowdlab detect evaluate` on crowd-labelled images it did not train on: on the
    /// paper's nuclei phantoms the crowd-trained detector's F levels off after about 6 frames
    /// (docs/detection.md).
    public struct DetectorOption: Sendable, Codable {
        public var crowdImages: Int, detectorImages: Int
        public var costUsd: Double, feesUsd: Double, hours: Double
        public var labellingEverythingUsd: Double, labellingEverythingHours: Double
        public var savingUsd: Double
    }

    /// The detector option for a design of this plan.
    public static func detectorOption(_ d: Design, images: Int, crowdImages: Int) -> DetectorOption {
        let share = Double(crowdImages) / Double(max(1, images))
        return DetectorOption(crowdImages: crowdImages, detectorImages: images - crowdImages, costUsd: d.costUsd * share, feesUsd: d.feesUsd * share,
                              hours: d.hours * share, labellingEverythingUsd: d.costUsd, labellingEverythingHours: d.hours,
                              savingUsd: d.costUsd * (1 - share))
    }

    /// The scenario a design corresponds to (spots like the planned images).
    public func scenario(pay: Double, replicates: Int, seed: UInt64, images: Int) -> Scenario {
        scenario(pay: pay, policy: FixedReplicates(workers: replicates), seed: seed, images: images)
    }

    public func scenario(pay: Double, policy: any ReplicatePolicy, seed: UInt64, images: Int) -> Scenario {
        var s = Scenario(name: "plan")
        s.images = images; s.objects = objectsPerImage...objectsPerImage; s.replicates = policy.cap; s.pay = pay
        if let a = policy as? AdaptiveReplicates { s.policy = .adaptive; s.adaptive = a }
        if let v = policy as? VerifiedDesign { s.policy = .verify; s.verify = v.stage }
        // Each seed simulates a population drawn from the calibration's errors (none for built-in
        // populations), as `crowdlab predict` does.
        s.population = population.drawn(seed: seed); s.seed = seed; s.overlays = 0
        return s
    }

    /// One simulated pilot job: its consensus with every worker and without the bottom third, and
    /// what it paid for per image.
    struct PilotScores: Sendable {
        var recall: Double, precision: Double, filteredRecall: Double, filteredPrecision: Double
        var assignmentsPerImage: Double, costPerImage: Double, feesPerImage: Double
    }

    /// Every candidate simulated over the seeds, in candidate order then seed order.
    func simulate(_ candidates: [(pay: Double, policy: any ReplicatePolicy)], pilot n: Int,
                  progress: (@Sendable (Int, Int) -> Void)?) throws -> [PilotScores] {
        let runs = candidates.flatMap { c in (0..<seeds).map { (c.pay, c.policy, seed + UInt64($0)) } }
        let counter = Sweep.Counter()
        let results: [Result<PilotScores, Error>] = runs.parallelMap { r in
            defer { progress?(counter.increment(), runs.count) }
            return Result {
                let o = try LabRun.run(scenario(pay: r.0, policy: r.1, seed: r.2, images: n), keepPhantoms: false)
                let a = o.analysis
                return PilotScores(recall: a.overall?.recall ?? 0, precision: a.overall?.precision ?? 0,
                                   filteredRecall: a.filtered.score?.recall ?? 0, filteredPrecision: a.filtered.score?.precision ?? 0,
                                   assignmentsPerImage: Double(o.assignments) / Double(n),
                                   costPerImage: o.cost.total / Double(n), feesPerImage: o.cost.fees / Double(n))
            }
        }
        return try results.map { try $0.get() }
    }

    public func plan(progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Plan {
        let n = min(images, pilotImages)
        let verified: [any ReplicatePolicy] = verifyStages.flatMap { v in replicateOptions.map { VerifiedDesign(workers: $0, stage: v) } }
        let policies: [any ReplicatePolicy] = replicateOptions.map { FixedReplicates(workers: $0) } + adaptivePolicies + verified
        let candidates = pays.flatMap { p in policies.map { (pay: p, policy: $0) } }
        let values = try simulate(candidates, pilot: n, progress: progress)
        var designs: [Design] = []
        for (ci, c) in candidates.enumerated() {
            let rs = Array(values[(ci * seeds)..<((ci + 1) * seeds)])
            let fixed = c.policy is FixedReplicates
            let fixedCost = TurkFees.jobCost(images: images, replicates: c.policy.cap, reward: c.pay)
            let costs = rs.map { $0.costPerImage * Double(images) }
            let cost = fixed ? fixedCost.total : mean(costs)
            let costP90 = fixed ? fixedCost.total : quantile(costs, 0.9)
            let fees = fixed ? fixedCost.fees : mean(rs.map { $0.feesPerImage * Double(images) })
            // Time: the marketplace alone run on the whole planned job (capped), over the same seeds.
            let hours = mean((0..<seeds).map { k in
                CrowdSimulation(population: population, replicates: c.policy.cap, pay: c.pay, seed: seed + UInt64(k))
                    .expectedHours(images: images, objectsPerImage: Double(objectsPerImage))
            })
            for drop in [false, true] {
                let rec = rs.map { drop ? $0.filteredRecall : $0.recall }, pre = rs.map { drop ? $0.filteredPrecision : $0.precision }
                // Percentiles as `predict` gives them: over seeds and population draws, with a real
                // crowd's variation for a calibrated population (a built-in one has no real crowd
                // behind it to vary about).
                let calibrated = !population.standardErrors.isEmpty
                let sd = Prediction.crowdVariationOverall
                let seedOf = seed &+ UInt64(ci * 2 + (drop ? 1 : 0))
                let ri = Prediction.interval(rec, crowdSD: calibrated ? sd.recall : 0, level: 0.8, seed: seedOf)
                let pi = Prediction.interval(pre, crowdSD: calibrated ? sd.precision : 0, level: 0.8, seed: seedOf &+ 7919)
                let r10 = calibrated ? ri.low : quantile(rec, 0.1), p10 = calibrated ? pi.low : quantile(pre, 0.1)
                let meets = r10 >= targetRecall && p10 >= targetPrecision
                designs.append(Design(payUsd: c.pay, policy: c.policy.description, replicates: c.policy.cap,
                                      assignmentsPerImage: mean(rs.map(\.assignmentsPerImage)), dropBottomThird: drop,
                                      costUsd: cost, costP90Usd: costP90, feesUsd: fees, hours: hours,
                                      recallMean: mean(rec), recallP10: r10, recallP90: calibrated ? ri.high : quantile(rec, 0.9),
                                      precisionMean: mean(pre), precisionP10: p10, precisionP90: calibrated ? pi.high : quantile(pre, 0.9),
                                      meetsTargets: meets, withinBudget: budget.map { costP90 <= $0 } ?? true,
                                      withinDeadline: deadlineHours.map { hours <= $0 } ?? true))
            }
        }
        return choose(designs, pilot: n)
    }

    /// The recommendation (cheapest meeting every constraint), the two nearest answers when there
    /// is none, and the cost / recall / time front.
    func choose(_ designs: [Design], pilot n: Int) -> Plan {
        let ok = designs.filter { $0.meetsTargets && $0.withinBudget && $0.withinDeadline }
        let byCost: (Design, Design) -> Bool = { ($0.costUsd, $0.hours, $0.dropBottomThird ? 1 : 0) < ($1.costUsd, $1.hours, $1.dropBottomThird ? 1 : 0) }
        let best = ok.min(by: byCost)
        var cheapest: Design? = nil, within: Design? = nil
        if best == nil {
            cheapest = designs.filter(\.meetsTargets).min(by: byCost)
            let limits = designs.filter { $0.withinBudget && $0.withinDeadline }
            let precise = limits.filter { $0.precisionP10 >= targetPrecision }
            within = (precise.isEmpty ? limits : precise).min { a, b in a.recallP10 != b.recallP10 ? a.recallP10 > b.recallP10 : byCost(a, b) }
        }
        let front = designs.filter { d in
            !designs.contains { e in e.costUsd <= d.costUsd && e.recallMean >= d.recallMean && e.hours <= d.hours
                && (e.costUsd < d.costUsd || e.recallMean > d.recallMean || e.hours < d.hours) }
        }.sorted { $0.costUsd < $1.costUsd }
        var plan = Plan(objectsPerImage: objectsPerImage, images: images, targetRecall: targetRecall, targetPrecision: targetPrecision,
                        budgetUsd: budget, deadlineHours: deadlineHours, seeds: seeds, pilotImages: n, recommended: best,
                        cheapestMeetingTargets: cheapest, bestWithinLimits: within, designs: designs, front: front)
        if let k = detectorAfter, let d = best ?? cheapest { plan.detector = Planner.detectorOption(d, images: images, crowdImages: k) }
        return plan
    }

    /// A scenario file for the recommended design, to run it or sweep it with other seeds.
    public static func scenarioYAML(_ p: Plan, populationPath: String?) -> String? {
        guard let d = p.recommended else { return nil }
        return """
        # Written by crowdlab plan: the cheapest design found for \(p.images) images of \(p.objectsPerImage) objects
        # with recall >= \(p.targetRecall) and precision >= \(p.targetPrecision) in 9 runs of 10.
        # \(d.dropBottomThird ? "Read the figures without the bottom third of workers (filtered_* in metrics.json)." : "Use all workers.")
        name: planned
        description: Recommended by crowdlab plan (\(String(format: "$%.3f", d.payUsd)) per image, \(d.workersPerImage) workers per image\(d.dropBottomThird ? ", bottom third dropped" : "")).
        seed: 101
        scene:
          kind: spots
          images: \(p.images)
          objects: \(p.objectsPerImage)
        crowd:
          population: \(populationPath ?? "paper")
        job:
        \(jobPolicyYAML(d))  pay_usd: \(formatNumber(d.payUsd))
        report:
          overlays: 3

        """
    }

    /// The scenario's `job` lines for a design's policy (each ends in a newline, indented).
    static func jobPolicyYAML(_ d: Design) -> String {
        if let v = VerifiedDesign(parsing: d.policy) {
            return "  replicates: \(v.workers)\n  policy: verify\n  verify_workers: \(v.stage.workersPerQuestion)\n  verify_questions_per_hit: \(v.stage.questionsPerHIT)\n"
        }
        guard d.isAdaptive, let a = (try? ReplicatePolicies.parse(d.policy)) as? AdaptiveReplicates else { return "  replicates: \(d.replicates)\n" }
        return "  policy: adaptive\n  adaptive_start: \(a.start)\n  adaptive_cap: \(a.cap)\n  adaptive_threshold: \(formatNumber(a.threshold))\n"
    }

}
