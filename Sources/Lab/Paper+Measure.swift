import Consensus
import Crowd
import Detection
import Foundation
import Phantoms
import Randomness
import Reports

// The experiments behind the claims, one seed at a time: what each figure of the paper measures.

extension Paper {
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
        try measureDetectors(clock, &out)
        return out
    }

    /// The paper's training schedule shortened so five seeds fit in the paper run: 12 epochs of 8
    /// crops of 48 x 48 per frame at a learning rate of 1e-2, no whole-frame stage (the full
    /// schedule is `crowdlab detect train`'s default; docs/detection.md compares them).
    static var paperTraining: TrainingOptions {
        var o = TrainingOptions()
        o.cropSize = 48; o.cropsPerImage = 8; o.cropEpochs = 12; o.cropLearningRate = 1e-2; o.fullEpochs = 0
        o.fitImages = 4  // detection fitted on 4 of the training frames: whole-frame passes are most of the time
        return o
    }

    /// Fig. 2d and S4: FCRNs trained on nuclei frames labelled by the expert (the truth), the
    /// crowd's consensus and single workers, against Otsu; the learning curve on the first seed.
    static func measureDetectors(_ clock: Bookkeeping, _ out: inout Measures) throws {
        clock.progress?("detectors trained on crowd labels (Fig. 2d), seed \(clock.seed)")
        var e = DetectorExperiment()
        e.seed = clock.seed
        e.trainFrames = clock.scale < 1 ? 4 : 14
        e.testFrames = clock.scale < 1 ? 2 : 5
        e.training = paperTraining
        e.training.seed = clock.seed
        e.curveFrames = clock.keepExports ? [2, 6, 10].filter { $0 < e.trainFrames } + [e.trainFrames] : []
        let r = try e.run()
        out.v[.fcrnExpertF] = r.expert.f1; out.v[.fcrnCrowdF] = r.crowd.f1; out.v[.fcrnSingleF] = r.singleWorker.f1; out.v[.otsuF] = r.otsu.f1
        out.v[.fcrnCrowdRecall] = r.crowd.recall; out.v[.fcrnSingleRecall] = r.singleWorker.recall
        // A detector that finds nothing makes no false detection: its precision counts as 1.
        func precision(_ s: DetectionScore) -> Double { s.tp + s.fp == 0 ? 1 : s.precision }
        out.v[.fcrnCrowdPrecision] = precision(r.crowd); out.v[.fcrnSinglePrecision] = precision(r.singleWorker)
        out.detectors = r
        clock.lap("detectors (Fig. 2d)")
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
        out.v[.twPrecision] = a.overall!.precision
        out.v[.twRecall] = a.overall!.recall
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
        out.v[.beatingShare] = Double(out.fig1c.workers.filter(\.beats).count) / Double(max(1, scored.count))
        var ex = base["fig1c-experts"]!
        ex.images = tw.images; ex.seed = clock.seed
        let expert = try LabRun.run(ex, keepPhantoms: false)
        clock.account(expert)
        out.v[.filteredMinusExpertsF1] = a.filtered.score!.f1 - expert.analysis.overall!.f1
        out.fig1c.crowd = a.overall; out.fig1c.filtered = a.filtered.score; out.fig1c.experts = expert.analysis.overall
        if clock.keepExports {
            out.experiments.append(Experiment(name: "fig1c-transwell", outcome: crowd))
            out.experiments.append(Experiment(name: "fig1c-experts", outcome: expert))
        }
        out.v[.fpFirst] = a.crowd.learningFit?.rateAtFirst ?? .nan
        out.v[.fpAt50] = a.crowd.learningFit?.rateAtEnd ?? .nan
        out.v[.medianPeriod] = a.crowd.medianClickPeriodS ?? .nan
        out.v[.medianRmse] = a.crowd.medianWorkerRmsePx ?? .nan
        out.v[.fittsB] = a.fitts?.b ?? .nan
        // The speed-accuracy choice of workers past the learning window (Fig. 1d's first 50
        // annotations): below it, light careless workers and learners dominate the RMSE ranks.
        let withRMSE = a.workers.compactMap { w -> (Double, Double)? in w.rmsePx.map { (Double(w.annotations), $0) } }
        let settled = withRMSE.filter { $0.0 >= Double(AnalysisOptions().learningWindow) }
        out.v[.rhoAnnotationsRmse] = spearman(settled.map(\.0), settled.map(\.1))
        out.v[.maxRmse] = withRMSE.map(\.1).max() ?? .nan
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
        out.v[.f3MinusF10] = f3 - out.groupF1.last!.1
        out.v[.f3MinusF1] = f3 - out.groupF1.first!.1
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
        out.v[.top20] = part.analysis.crowd.top20ShareOfImages
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
        out.v[.tolerated] = Double(out.complexity.filter { $0.pay == 0.02 && $0.imagesPerWorker >= 0.9 * low.imagesPerWorker }.map(\.objects).max() ?? 0)
        out.v[.imagesRatio] = hi.imagesPerWorker / max(low.imagesPerWorker, 1e-9)
        out.v[.recall30] = low.recall
        out.v[.recall150] = hi.recall
        out.v[.rateRatio] = hi.rate / max(low.rate, 1e-9)
        out.v[.payRecallGain] = pay6.recall - hi.recall
        out.v[.payRateGain] = pay6.rate / max(hi.rate, 1e-9)
        out.v[.rate110At6c] = at(110, 0.06).rate
        // Cost against one expert on the same annotations (60 images of 110 objects at 6 cents, 10 workers each).
        let s3 = base["s3-complexity"]!
        let annotations = Double(110 * clock.images(s3.images))
        let crowdCost = TurkFees.jobCost(images: clock.images(s3.images), replicates: s3.replicates, reward: 0.06).total
        let expertHours = annotations * 20.0 / 3600   // an expert clicks and checks each object: about 20 s
        out.v[.expertCostRatio] = expertHours * 25 / crowdCost
        clock.lap("complexity and pay")
    }

    /// Consensus F1 of groups of `k` workers per image drawn from a run's export: for each size,
    /// the mean over `draws` draws (one when every image has at most k workers).
    public static func groupSizeF1(_ o: LabRun.Outcome, sizes: [Int], draws: Int, seed: UInt64) throws -> [(Int, Double)] {
        var byImage: [String: [ExportRecord]] = [:]
        for r in o.simulation.export.records { byImage[r.imageFilename, default: []].append(r) }
        let names = byImage.keys.sorted()
        let most = byImage.values.map(\.count).max() ?? 0
        let method = try o.scenario.pointMethod()
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
}
