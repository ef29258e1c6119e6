import Consensus
import Crowd
import Foundation
import Phantoms
import Randomness
import Reports

/// The Quanti.us paper's crowd findings (Hughes et al., Nat. Methods 15:587, 2018) re-run on
/// phantoms with the simulated crowd and analysed with the same code as real exports. Each claim
/// has the paper's value, the simulated one, a stated tolerance, and `holds`, computed.
public enum Paper {
    public struct Claim: Sendable, Codable {
        public var id: String
        public var claim: String
        public var paper: Double
        public var simulated: Double
        public var tolerance: Double
        public var holds: Bool
        /// Why it happens, in one sentence (shown in the report).
        public var why: String
        public var experiment: String
    }

    public struct Experiment: Sendable {
        public var name: String
        public var outcome: LabRun.Outcome
    }

    /// What Fig. 1c draws (first seed): each worker's precision and recall, and whether they beat
    /// the pipeline on their own images; the pipeline's envelope over all images; the crowd's
    /// consensus, the filtered crowd's and the experts'.
    public struct Fig1c: Sendable {
        public var workers: [(precision: Double, recall: Double, beats: Bool)] = []
        public var envelope: [ClassicBaseline.Point] = []
        public var crowd: DetectionScore?
        public var filtered: DetectionScore?
        public var experts: DetectionScore?
    }

    public struct Result: Sendable {
        public var claims: [Claim]
        public var experiments: [Experiment]
        public var groupSizeF1: [(Int, Double)]
        public var fig1c: Fig1c
        public var complexity: [(objects: Int, pay: Double, recall: Double, imagesPerWorker: Double, rate: Double)]
        /// The same curves seed by seed (for the figures' bands over seeds).
        public var groupSizeF1BySeed: [[(Int, Double)]] = []
        public var complexityBySeed: [[(objects: Int, pay: Double, recall: Double, imagesPerWorker: Double, rate: Double)]] = []
        /// Wall time per experiment, and per kind of work (rendering phantoms, simulating crowds,
        /// consensus and scoring, the classic pipeline) summed over experiments.
        public var timings: [(String, Double)]
        public var phases: [(String, Double)]
    }

    /// The crowd on transwell images (Fig. 1c-f, S1): the paper population, except that cells 13 px
    /// across are seen by nearly everyone who looks (detection plateau 0.9 ± 0.08; the spot data's
    /// 0.72 is for 1.75 px spots) and that the median worker points as the real crowds in Data/ do,
    /// to 2.7 px (the paper: "about 3 px").
    /// Also `Scenarios/populations/transwell.yaml`.
    public static var transwellCrowd: Population {
        var p = Population()
        p.detectionPlateau = 0.9; p.detectionPlateauSD = 0.08; p.rmseMedian = 2.7
        return p
    }

    /// Experts for Fig. 1c: near-perfect detection, few false clicks, careful pointing.
    public static var experts: Population {
        var p = Population()
        p.detectionPlateau = 0.97; p.detectionPlateauSD = 0.02; p.carelessShare = 0
        p.falsePositiveFirst = 0.005; p.falsePositiveLater = 0.005; p.rmseMedian = 1.5; p.rmseLogSD = 0.2
        p.toleratedAnnotations = 10_000
        return p
    }

    /// The paper's experiments as scenarios, before seeds and `scale`: the transwell crowd and
    /// experts (Fig. 1c-f; Fig. S1 is drawn from the crowd's export), participation (Fig. S2), and
    /// the complexity-and-pay grid's scenario (Fig. S3), whose objects and pay `paper` varies over
    /// 30-150 objects at 2 and 6 cents. Each is shipped as `Scenarios/paper-<name>.yaml` (a test
    /// keeps the files and these equal), so `crowdlab run` and `sweep` reproduce any one of them.
    public static var experiments: [String: Scenario] {
        var tw = Scenario(name: "fig1c-transwell")
        tw.sceneKind = .transwell; tw.images = 80; tw.replicates = 10; tw.pay = 0.02
        tw.method = "subtractive"; tw.subtractiveRadius = "13px"; tw.overlays = 3
        tw.population = transwellCrowd; tw.populationSource = "transwell (Scenarios/populations/transwell.yaml)"
        // A click is on a cell when it falls within the cell (13 px across) give or take one
        // pointing error (about 3 px): 6.5 + 3.5 = 10 px, not the 8 px used for 1.75 px spots.
        tw.matchRadius = 10
        var ex = tw
        ex.name = "fig1c-experts"; ex.population = experts; ex.replicates = 5; ex.populationSource = "experts (Scenarios/populations/experts.yaml)"
        var big = Scenario(name: "s2-participation")
        big.images = 1000; big.objects = 50...50; big.replicates = 5; big.pay = 0.02; big.overlays = 0
        var c = Scenario(name: "s3-complexity")
        c.images = 60; c.objects = 110...110; c.replicates = 10; c.pay = 0.06; c.overlays = 0
        return [tw.name: tw, ex.name: ex, big.name: big, c.name: c]
    }

    static func claim(_ id: String, _ text: String, paper: Double, simulated: Double, tolerance: Double, experiment: String, why: String,
                      holds: Bool? = nil) -> Claim {
        Claim(id: id, claim: text, paper: paper, simulated: simulated, tolerance: tolerance,
              holds: holds ?? (simulated.isFinite && abs(simulated - paper) <= tolerance), why: why, experiment: experiment)
    }

    /// What one set of experiments measured (one seed), before it becomes claims.
    struct Measures {
        var v: [String: Double] = [:]
        var experiments: [Experiment] = []
        var groupF1: [(Int, Double)] = []
        var fig1c = Fig1c()
        var complexity: [(objects: Int, pay: Double, recall: Double, imagesPerWorker: Double, rate: Double)] = []
    }

    /// Runs the experiments for each seed and states the claims on the mean of what they measured:
    /// one simulated crowd varies (a few workers do most images), the model's expectation does not.
    /// Exports are those of the first seed. `scale` shrinks every experiment's image count (at least
    /// 4 images), for quick checks.
    public static func run(seeds: [UInt64] = [1, 2, 3, 4, 5], scale: Double = 1, progress: ((String) -> Void)? = nil) throws -> Result {
        var timings: [(String, Double)] = [], phases: [(String, Double)] = []
        var all: [Measures] = []
        for (k, seed) in seeds.enumerated() {
            all.append(try measure(seed: seed, scale: scale, keepExports: k == 0, progress: progress, timings: &timings, phases: &phases))
        }
        var m: [String: Double] = [:]
        for key in all[0].v.keys {
            let xs = all.compactMap { $0.v[key] }.filter(\.isFinite)
            m[key] = xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
        }
        let n = Double(all.count)
        let groupF1 = all[0].groupF1.indices.map { i in (all[0].groupF1[i].0, all.map { $0.groupF1[i].1 }.reduce(0, +) / n) }
        let complexity = all[0].complexity.indices.map { i in
            (objects: all[0].complexity[i].objects, pay: all[0].complexity[i].pay,
             recall: all.map { $0.complexity[i].recall }.reduce(0, +) / n,
             imagesPerWorker: all.map { $0.complexity[i].imagesPerWorker }.reduce(0, +) / n,
             rate: all.map { $0.complexity[i].rate }.reduce(0, +) / n)
        }
        var result = Result(claims: claims(m, seeds: seeds.count), experiments: all[0].experiments, groupSizeF1: groupF1, fig1c: all[0].fig1c, complexity: complexity, timings: timings, phases: phases)
        result.groupSizeF1BySeed = all.map(\.groupF1); result.complexityBySeed = all.map(\.complexity)
        return result
    }

    static func claims(_ m: [String: Double], seeds: Int) -> [Claim] {
        func v(_ k: String) -> Double { m[k] ?? .nan }
        let mean = seeds > 1 ? " (mean of \(seeds) seeds)" : ""
        var c: [Claim] = []
        c.append(claim("fig1c_crowd_precision", "10 workers per transwell image, subtractive clustering: precision 0.99",
                       paper: 0.99, simulated: v("tw_precision"), tolerance: 0.02, experiment: "fig1c-transwell" + mean,
                       why: "A false click is kept only when several workers make it at the same place, which almost never happens by chance."))
        c.append(claim("fig1c_crowd_recall", "10 workers per transwell image, subtractive clustering: recall 0.81",
                       paper: 0.81, simulated: v("tw_recall"), tolerance: 0.08, experiment: "fig1c-transwell" + mean,
                       why: "Cells most workers miss (dim, or touching another) are also missed by the consensus."))
        c.append(claim("fig1c_workers_beating_threshold_pipeline", "27 of 46 workers (59 %) beat the threshold-watershed-size pipeline in precision and recall (each on the images they annotated)",
                       paper: 0.59, simulated: v("beating_share"), tolerance: 0.15, experiment: "fig1c-transwell" + mean,
                       why: "Pores look like small dim cells to a size filter; people tell them apart by shape and context."))
        c.append(claim("fig1c_filtered_crowd_vs_experts", "dropping the bottom third by the worker score makes the crowd indistinguishable from 5 experts (F1 difference)",
                       paper: 0, simulated: v("filtered_minus_experts_f1"), tolerance: 0.05, experiment: "fig1c-transwell" + mean,
                       why: "The worker score finds the rare careless workers; without them the crowd's errors are as rare as an expert group's."))
        c.append(claim("fig1d_fp_rate_first_annotations", "false-positive rate per annotation starts near 3.7 %",
                       paper: 0.037, simulated: v("fp_first"), tolerance: 0.02, experiment: "fig1c-transwell" + mean,
                       why: "New workers click things that look like objects until the first images teach them what counts."))
        c.append(claim("fig1d_fp_rate_at_50", "and falls about linearly to 1.3 % by the 50th annotation",
                       paper: 0.013, simulated: v("fp_at50"), tolerance: 0.015, experiment: "fig1c-transwell" + mean,
                       why: "Learning is quick: by 50 annotations most workers have seen what the task wants."))
        c.append(claim("fig1e_median_click_period_s", "median click period about 2 s",
                       paper: 2.0, simulated: v("median_period"), tolerance: 0.6, experiment: "fig1c-transwell" + mean,
                       why: "Aiming at a 3 px target a few tens of pixels away takes about two seconds by Fitts' law."))
        c.append(claim("fig1e_median_rmse_px", "median worker RMSE about 3 px",
                       paper: 3.0, simulated: v("median_rmse"), tolerance: 1.0, experiment: "fig1c-transwell" + mean,
                       why: "People point to within about a cell radius of its centre."))
        c.append(claim("fig1e_fitts_slope", "slower workers are more accurate (Fitts' slope b > 0, s per bit)",
                       paper: 0.5, simulated: v("fitts_b"), tolerance: 0.5, experiment: "fig1c-transwell" + mean,
                       why: "Fitts' law: halving the error costs a fixed extra time per click.", holds: v("fitts_b") > 0))
        c.append(claim("fig1f_annotations_vs_rmse", "workers who annotate more choose larger RMSE (rank correlation over workers with 50+ annotations > 0), all under 13 px",
                       paper: 0.3, simulated: v("rho_annotations_rmse"), tolerance: 0.3, experiment: "fig1c-transwell" + mean,
                       why: "Busy workers trade accuracy for speed, but nobody is careless enough to leave 13 px.",
                       holds: v("rho_annotations_rmse") > 0 && v("max_rmse") < 13))
        c.append(claim("s1_group_size_plateau", "the crowd's advantage is reached with groups of 3 (F1 of 3 workers minus F1 of 10)",
                       paper: 0, simulated: v("f3_minus_f10"), tolerance: 0.05, experiment: "fig1c-transwell, groups of k drawn from it" + mean,
                       why: "Poor workers are rare, so two good workers out of three already outvote one poor one.",
                       holds: abs(v("f3_minus_f10")) <= 0.05 && v("f3_minus_f1") > 0))
        c.append(claim("s2_top20_share_of_images", "about 20 % of workers do about 80 % of the images",
                       paper: 0.8, simulated: v("top20"), tolerance: 0.1, experiment: "s2-participation" + mean,
                       why: "Activity on Mechanical Turk follows a Pareto law: a few workers make it their job."))
        c.append(claim("s3_tolerated_annotations_at_2c", "about 60 annotations per image tolerated at 2 cents per image",
                       paper: 60, simulated: v("tolerated"), tolerance: 30, experiment: "s3-complexity" + mean,
                       why: "Below that, the pay per click is worth a worker's time; above it, they leave sooner."))
        c.append(claim("s3_images_attempted_drop", "above that, images attempted per worker fall from 15 to 8 (ratio)",
                       paper: 8.0 / 15.0, simulated: v("images_ratio"), tolerance: 0.2, experiment: "s3-complexity" + mean,
                       why: "A worker's patience is counted in clicks, so fewer big images fit in it."))
        c.append(claim("s3_recall_above_110", "recall falls from above 0.8 to about 0.6 above 110 objects per image",
                       paper: 0.6, simulated: v("recall_150"), tolerance: 0.1, experiment: "s3-complexity" + mean,
                       why: "Underpaid workers click only part of what they see on crowded images.",
                       holds: abs(v("recall_150") - 0.6) <= 0.1 && v("recall_30") > 0.8))
        c.append(claim("s3_rate_drop", "collection rate falls from above 25,000 to about 3,000 annotations an hour (ratio)",
                       paper: 3000.0 / 25000.0, simulated: v("rate_ratio"), tolerance: 0.1, experiment: "s3-complexity" + mean,
                       why: "Fewer workers take underpaid HITs and those who do stop earlier."))
        c.append(claim("s3_pay_reverses_losses", "higher pay per image broadly reverses the losses in recall and rate (recall gain at 150 objects, 6 vs 2 cents)",
                       paper: 0.2, simulated: v("pay_recall_gain"), tolerance: 0.2, experiment: "s3-complexity" + mean,
                       why: "Pay raises the annotations a worker tolerates and brings more workers.",
                       holds: v("pay_recall_gain") > 0 && v("pay_rate_gain") > 1))
        c.append(claim("headline_rate_110_at_6c", "about 100,000 annotations an hour for 110-object images at 6 cents per image",
                       paper: 100_000, simulated: v("rate_110_6c"), tolerance: 50_000, experiment: "s3-complexity" + mean,
                       why: "Hundreds of workers clicking every two seconds at once."))
        c.append(claim("headline_cost_vs_expert", "the crowd costs about 30x less than one expert for the same annotations (cost ratio)",
                       paper: 30, simulated: v("expert_cost_ratio"), tolerance: 20, experiment: "s3-complexity" + mean,
                       why: "Two cents an image against an expert's hourly wage; the crowd also works in parallel (about 50x faster)."))
        return c
    }

    /// What one run of the paper's experiments keeps as it goes: the seed and scale, the wall time
    /// by experiment (`timings`) and by kind of work (`phases`).
    final class Bookkeeping {
        let seed: UInt64, scale: Double, keepExports: Bool, progress: ((String) -> Void)?
        var timings: [(String, Double)], phases: [(String, Double)]
        private var clock = Date()
        init(seed: UInt64, scale: Double, keepExports: Bool, progress: ((String) -> Void)?, timings: [(String, Double)], phases: [(String, Double)]) {
            self.seed = seed; self.scale = scale; self.keepExports = keepExports; self.progress = progress
            self.timings = timings; self.phases = phases
        }
        func images(_ n: Int) -> Int { max(4, Int((Double(n) * scale).rounded())) }
        func add(_ s: String, _ t: Double) {
            if let i = phases.firstIndex(where: { $0.0 == s }) { phases[i].1 += t } else { phases.append((s, t)) }
        }
        func account(_ o: LabRun.Outcome) {
            add("rendering phantoms", o.seconds.phantoms); add("simulating crowds", o.seconds.simulation); add("consensus and scoring", o.seconds.analysis)
        }
        func lap(_ s: String) {
            let t = Date().timeIntervalSince(clock)
            if let i = timings.firstIndex(where: { $0.0 == s }) { timings[i].1 += t } else { timings.append((s, t)) }
            clock = Date()
        }
    }

    static func measure(seed: UInt64, scale: Double, keepExports: Bool, progress: ((String) -> Void)?,
                        timings: inout [(String, Double)], phases: inout [(String, Double)]) throws -> Measures {
        let clock = Bookkeeping(seed: seed, scale: scale, keepExports: keepExports, progress: progress, timings: timings, phases: phases)
        defer { timings = clock.timings; phases = clock.phases }
        var out = Measures()
        let crowd = try measureTranswell(clock, &out)
        try measureGroupSizes(crowd, clock, &out)
        try measureParticipation(clock, &out)
        try measureComplexity(clock, &out)
        return out
    }

    /// Fig. 1c-f: the transwell crowd against the classic pipeline and the experts; learning,
    /// pointing and the speed-accuracy choice. Returns the crowd's run (Fig. S1 draws from it).
    static func measureTranswell(_ clock: Bookkeeping, _ out: inout Measures) throws -> LabRun.Outcome {
        let base = experiments
        // Fig. 1c-f: ten workers per transwell image, subtractive clustering at the cell size.
        clock.progress?("transwell crowd (Fig. 1c-f), seed \(clock.seed)")
        var tw = base["fig1c-transwell"]!
        tw.images = clock.images(tw.images); tw.seed = clock.seed
        let crowd = try LabRun.run(tw)
        clock.account(crowd)
        let a = crowd.analysis
        out.v["tw_precision"] = a.overall!.precision
        out.v["tw_recall"] = a.overall!.recall
        // Every minimum area from 1 to 320 px (cells are about 130 px): the pipeline's whole frontier.
        // Each worker is compared with the pipeline on the images that worker annotated (a paired
        // comparison): pooled over all images, one image where a global threshold fails (a dim
        // field with few cells) would decide the share for everyone.
        let pipelineStart = Date()
        let sweep = ClassicBaseline.sweep(crowd.phantoms, minAreas: Array(1...320), radius: tw.matchRadius)
        clock.add("classic pipeline", Date().timeIntervalSince(pipelineStart))
        let imageIndex = Dictionary(uniqueKeysWithValues: crowd.imageNames.enumerated().map { ($1, $0) })
        var imagesOf: [String: Set<Int>] = [:]
        for r in crowd.simulation.export.records { imagesOf[r.workerID, default: []].insert(imageIndex[r.imageFilename]!) }
        let scored = a.workers.filter { ($0.vsTruth?.tp ?? 0) + ($0.vsTruth?.fn ?? 0) > 0 && $0.annotations > 0 }
        out.fig1c.envelope = sweep.envelope()
        out.fig1c.workers = scored.map { w in
            (w.vsTruth!.precision, w.vsTruth!.recall,
             ClassicBaseline.beats(precision: w.vsTruth!.precision, recall: w.vsTruth!.recall, sweep.envelope(images: imagesOf[w.worker]!.sorted())))
        }
        out.v["beating_share"] = Double(out.fig1c.workers.filter(\.beats).count) / Double(max(1, scored.count))
        var ex = base["fig1c-experts"]!
        ex.images = tw.images; ex.seed = clock.seed
        let expert = try LabRun.run(ex, keepPhantoms: false)
        clock.account(expert)
        out.v["filtered_minus_experts_f1"] = a.filtered.score!.f1 - expert.analysis.overall!.f1
        out.fig1c.crowd = a.overall; out.fig1c.filtered = a.filtered.score; out.fig1c.experts = expert.analysis.overall
        if clock.keepExports {
            out.experiments.append(Experiment(name: "fig1c-transwell", outcome: crowd))
            out.experiments.append(Experiment(name: "fig1c-experts", outcome: expert))
        }
        out.v["fp_first"] = a.crowd.learningFit?.rateAtFirst ?? .nan
        out.v["fp_at50"] = a.crowd.learningFit?.rateAtEnd ?? .nan
        out.v["median_period"] = a.crowd.medianClickPeriodS ?? .nan
        out.v["median_rmse"] = a.crowd.medianWorkerRmsePx ?? .nan
        out.v["fitts_b"] = a.fitts?.b ?? .nan
        // The speed-accuracy choice of workers past the learning window (Fig. 1d's first 50
        // annotations): below it, light careless workers and learners dominate the RMSE ranks.
        let withRMSE = a.workers.compactMap { w -> (Double, Double)? in w.rmsePx.map { (Double(w.annotations), $0) } }
        let settled = withRMSE.filter { $0.0 >= Double(AnalysisOptions().learningWindow) }
        out.v["rho_annotations_rmse"] = spearman(settled.map(\.0), settled.map(\.1))
        out.v["max_rmse"] = withRMSE.map(\.1).max() ?? .nan
        clock.lap("transwell crowd and experts")
        return crowd
    }

    static func measureGroupSizes(_ crowd: LabRun.Outcome, _ clock: Bookkeeping, _ out: inout Measures) throws {
        // Fig. S1: group size, drawn from the ten-worker experiment as such curves are: k of each
        // image's workers at random (several draws), merged again by the same method.
        clock.progress?("group sizes (Fig. S1), seed \(clock.seed)")
        let groupStart = Date()
        out.groupF1 = try groupSizeF1(crowd, sizes: [1, 2, 3, 5, 10], draws: 5, seed: clock.seed)
        clock.add("consensus and scoring", Date().timeIntervalSince(groupStart))
        let f3 = out.groupF1.first { $0.0 == 3 }!.1
        out.v["f3_minus_f10"] = f3 - out.groupF1.last!.1
        out.v["f3_minus_f1"] = f3 - out.groupF1.first!.1
        clock.lap("group sizes")
    }

    static func measureParticipation(_ clock: Bookkeeping, _ out: inout Measures) throws {
        let base = experiments
        // Fig. S2: participation over a large job.
        clock.progress?("participation (Fig. S2), seed \(clock.seed)")
        var big = base["s2-participation"]!
        big.images = clock.images(big.images); big.seed = clock.seed
        let part = try LabRun.run(big, keepPhantoms: false)
        clock.account(part)
        if clock.keepExports { out.experiments.append(Experiment(name: "s2-participation", outcome: part)) }
        out.v["top20"] = part.analysis.crowd.top20ShareOfImages
        clock.lap("participation")
    }

    static func measureComplexity(_ clock: Bookkeeping, _ out: inout Measures) throws {
        let base = experiments
        // Fig. S3: image complexity and pay.
        clock.progress?("complexity and pay (Fig. S3), seed \(clock.seed)")
        for (n, pay) in [(30, 0.02), (60, 0.02), (90, 0.02), (110, 0.02), (150, 0.02), (110, 0.06), (150, 0.06)] {
            var c = base["s3-complexity"]!
            c.name = "s3-\(n)-objects-\(Int(pay * 100))c"
            c.images = clock.images(c.images); c.objects = n...n; c.pay = pay; c.seed = clock.seed
            let o = try LabRun.run(c, keepPhantoms: false)
            clock.account(o)
            let ipw = Double(o.simulation.imagesPerWorker.reduce(0, +)) / Double(max(1, o.simulation.imagesPerWorker.count))
            out.complexity.append((n, pay, o.analysis.overall!.recall, ipw, o.simulation.steadyAnnotationsPerHour))
        }
        func at(_ n: Int, _ pay: Double) -> (objects: Int, pay: Double, recall: Double, imagesPerWorker: Double, rate: Double) {
            out.complexity.first { $0.objects == n && $0.pay == pay }!
        }
        let low = at(30, 0.02), hi = at(150, 0.02), pay6 = at(150, 0.06)
        // Tolerated annotations: the largest complexity whose images per worker stay within 90 % of the simplest images'.
        out.v["tolerated"] = Double(out.complexity.filter { $0.pay == 0.02 && $0.imagesPerWorker >= 0.9 * low.imagesPerWorker }.map(\.objects).max() ?? 0)
        out.v["images_ratio"] = hi.imagesPerWorker / max(low.imagesPerWorker, 1e-9)
        out.v["recall_30"] = low.recall
        out.v["recall_150"] = hi.recall
        out.v["rate_ratio"] = hi.rate / max(low.rate, 1e-9)
        out.v["pay_recall_gain"] = pay6.recall - hi.recall
        out.v["pay_rate_gain"] = pay6.rate / max(hi.rate, 1e-9)
        out.v["rate_110_6c"] = at(110, 0.06).rate
        // Cost against one expert on the same annotations (60 images of 110 objects at 6 cents, 10 workers each).
        let s3 = base["s3-complexity"]!
        let annotations = Double(110 * clock.images(s3.images))
        let crowdCost = TurkFees.jobCost(images: clock.images(s3.images), replicates: s3.replicates, reward: 0.06).total
        let expertHours = annotations * 20.0 / 3600   // an expert clicks and checks each object: about 20 s
        out.v["expert_cost_ratio"] = expertHours * 25 / crowdCost
        clock.lap("complexity and pay")
    }

    /// Consensus F1 of groups of `k` workers per image drawn from a run's export: for each size,
    /// the mean over `draws` draws (one when every image has at most k workers).
    public static func groupSizeF1(_ o: LabRun.Outcome, sizes: [Int], draws: Int, seed: UInt64) throws -> [(Int, Double)] {
        var byImage: [String: [ExportRecord]] = [:]
        for r in o.simulation.export.records { byImage[r.imageFilename, default: []].append(r) }
        let names = byImage.keys.sorted()
        let most = byImage.values.map(\.count).max() ?? 0
        let method = try PointMethods.make(o.scenario.method, radius: o.scenario.subtractiveRadius)
        let radius = o.scenario.matchRadius, truth = o.truth
        let groups = byImage
        return sizes.map { k in
            let n = k >= most ? 1 : draws
            let f1s: [Double] = Array(0..<n).parallelMap { d in
                let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(k * 1000 + d)))
                var records: [ExportRecord] = []
                for name in names {
                    var rs = groups[name]!
                    for i in stride(from: rs.count - 1, to: 0, by: -1) { rs.swapAt(i, rng.int(i + 1)) }
                    records += rs.prefix(k)
                }
                // Only the consensus and its score: worker scores and fits are not needed here.
                let job = ClickJob(export: QuantiusExport(records: records))
                var score = DetectionScore()
                for (im, c) in zip(job.images, method.consensus(job)) {
                    if let t = truth.byImage[im.image] { score = score + scoreAgainstTruth(c.points, t, radius: radius).0 }
                }
                return score.f1
            }
            return (k, f1s.reduce(0, +) / Double(n))
        }
    }

    /// The truth of an experiment as `col,row,snr[,kind]` files (row from the top), one per image,
    /// named `<image stem>.csv` so `crowdlab analyze --truth DIR` matches them.
    public static func truthFiles(_ o: LabRun.Outcome) -> [(String, String)] {
        o.truth.byImage.keys.sorted().map { name in
            let t = o.truth.byImage[name]!
            let h = Double(o.simulation.export.records.first { $0.imageFilename == name }?.height ?? 0)
            var csv = "col,row,snr,kind\n"
            for (j, (x, y)) in zip(t.xs, t.ys).enumerated() { csv += "\(formatNumber(x)),\(formatNumber(h - y)),\(String(format: "%.6g", t.snr?[j] ?? 0)),object\n" }
            for (x, y) in zip(t.distractorXs, t.distractorYs) { csv += "\(formatNumber(x)),\(formatNumber(h - y)),0,pore\n" }
            return ((name as NSString).deletingPathExtension + ".csv", csv)
        }
    }

    /// Spearman rank correlation.
    static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count >= 3, a.count == b.count else { return .nan }
        func ranks(_ v: [Double]) -> [Double] {
            let order = v.indices.sorted { v[$0] < v[$1] }
            var r = [Double](repeating: 0, count: v.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
                for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
                i = j + 1
            }
            return r
        }
        let ra = ranks(a), rb = ranks(b)
        let ma = mean(ra), mb = mean(rb)
        var num = 0.0, da = 0.0, db = 0.0
        for i in ra.indices { num += (ra[i] - ma) * (rb[i] - mb); da += (ra[i] - ma) * (ra[i] - ma); db += (rb[i] - mb) * (rb[i] - mb) }
        return da > 0 && db > 0 ? num / (da * db).squareRoot() : .nan
    }

    public static func json(_ r: Result) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        struct Row: Encodable { var id: String; var claim: String; var paper: Double; var simulated: Double; var tolerance: Double; var holds: Bool }
        return try enc.encode(r.claims.map { Row(id: $0.id, claim: $0.claim, paper: $0.paper, simulated: $0.simulated, tolerance: $0.tolerance, holds: $0.holds) })
    }
}
