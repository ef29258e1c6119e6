import Foundation

/// What `crowdlab analyze` computes from one export: the consensus, per-worker figures, crowd
/// statistics and fits, and (with truth) detection scores. Simulated and real exports take this
/// same path.
public struct AnalysisOptions: Sendable {
    public var method: any PointConsensusMethod = AgreementConsensus()
    /// Radius for every one-to-one matching (consensus vs truth, worker vs consensus).
    public var matchRadius: Double = defaultMatchRadius()
    /// Weight of misses in the worker score `1 - (fp' + k·fn') / (2·tp')`.
    public var scoreMissWeight: Double = 0.2
    /// Share of workers dropped by score when re-running the consensus on a filtered crowd.
    public var dropShare: Double = 1.0 / 3.0
    /// Annotations over which the learning curve's linear fit runs.
    public var learningWindow: Int = 50
    public init() {}
}

/// What workers' clicks are judged against: the truth when it is given, else the consensus.
public enum Reference: String, Sendable, Codable {
    case truth, consensus
}

public struct WorkerRow: Sendable, Codable {
    public var worker: String
    public var images: Int
    public var annotations: Int
    public var medianClickPeriodS: Double?
    public var score: Double
    public var vsConsensus: DetectionScore
    public var rmseVsConsensusPx: Double?
    public var vsTruth: DetectionScore?
    public var rmsePx: Double?
    /// Mean over their images of the chance they click an object there, and the share of their
    /// clicks in consensus objects weighted by each object's confidence (`ObjectConfidence`).
    public var coverage: Double? = nil
    public var reliability: Double? = nil
}

public struct ImageRow: Sendable, Codable {
    public var image: String
    public var workers: Int
    public var emptySubmissions: Int
    public var clicks: Int
    public var consensusObjects: Int
    public var truthObjects: Int?
    public var score: DetectionScore?
    /// What the method derived for the image (its radii, the vote it took).
    public var parameters: MethodDiagnostics
    /// Consensus objects expected to be false: the sum of one less their confidence.
    public var expectedFalseObjects: Double? = nil
    /// Candidates within one vote of the support an object needs (`Settledness.undecided`): what
    /// one more worker could turn, and what the adaptive policy weighs. Nil for methods without a vote.
    public var undecidedObjects: Int? = nil
    /// Objects twice the workers would find that the consensus misses (`MissedObjects`), and that
    /// crowd's size. Nil for methods without a vote, or below five workers or three objects.
    public var expectedMissedObjects: Double? = nil
    public var missedAtWorkers: Int? = nil
    /// With truth: the mean displacement of workers' matched clicks from the true objects, `[x, y]`
    /// in the export's coordinates (`y` up). Workers' RMSE against the truth is measured about it.
    public var truthOffsetPx: [Double]? = nil
    /// With truth: the missed and false objects by cause (`ErrorBreakdown`).
    public var errors: ErrorBreakdown? = nil
}

extension ImageRow {
    mutating func setMissed(_ e: MissedObjects.Estimate?) {
        expectedMissedObjects = e?.expected
        missedAtWorkers = e?.atWorkers
    }
}

public struct LearningPoint: Sendable, Codable {
    public var index: Int
    public var annotations: Int
    public var falsePositives: Int
    public var rate: Double
}

public struct CrowdStatistics: Sendable, Codable {
    public var workers: Int
    public var records: Int
    public var emptyRecords: Int
    /// A worker's later submissions on an image they had already submitted, not counted in `records`.
    public var repeatedRecordsLeftOut: Int
    public var clicks: Int
    public var images: Int
    /// Share of worker-image submissions made by the most active 20 % of workers.
    public var top20ShareOfImages: Double
    /// Cumulative share of submissions by the top k workers, k = 1…n (the participation curve).
    public var participationCurve: [Double]
    public var medianClickPeriodS: Double?
    public var clickPeriodQuartilesS: [Double]
    public var medianWorkerRmsePx: Double?
    /// With truth: the mean displacement of workers' matched clicks from the true objects over
    /// every image, `[x, y]` (`y` up). A truth with its own pixel convention (an expert's 1-based
    /// indices: a pixel right and down) shows here, not in the workers' RMSE.
    public var truthOffsetPx: [Double]? = nil
    /// What a false positive was judged against.
    public var falsePositiveReference: Reference
    /// False-positive rate by annotation index over the workers who learn: those whose clicks
    /// are mostly right. Workers with at least 5 clicks and precision under 0.5 against the
    /// reference (the rare poor workers of Hughes et al. Fig. S1, whom the consensus dilutes) are
    /// counted in `learningExcludedWorkers` and left out, as `crowdlab calibrate` leaves them out
    /// of the learning fit; one of them in a small crowd would otherwise set the whole curve.
    public var learningCurve: [LearningPoint]
    public var learningExcludedWorkers: Int
    /// Linear fit of the false-positive rate over the first `learningWindow` annotations.
    public var learningFit: LinearFitSummary?
}

public struct LinearFitSummary: Sendable, Codable {
    public var intercept: Double, slope: Double, seIntercept: Double, seSlope: Double
    public var rateAtFirst: Double, rateAtEnd: Double, window: Int
}

public struct FittsSummary: Sendable, Codable {
    public var a: Double, b: Double, c: Double
    public var seA: Double, seB: Double, seC: Double
    public var workers: Int
    public var chiSquared: Double
    public var converged: Bool
    public var reference: Reference
    /// True when c was fixed at the measured movement amplitude (see `FittsLaw`).
    public var amplitudeFixed: Bool
    public var measuredAmplitudePx: Double
}

public struct FilteredRun: Sendable, Codable {
    public var droppedWorkers: [String]
    public var consensusObjects: Int
    public var score: DetectionScore?
}

public struct AnalysisResult: Sendable {
    /// The clicks per image as the methods saw them (overlays and reports reuse it).
    public var job: ClickJob
    public var method: String
    public var consensus: [ImageConsensus]
    public var images: [ImageRow]
    public var workers: [WorkerRow]
    public var crowd: CrowdStatistics
    public var fitts: FittsSummary?
    public var overall: DetectionScore?
    public var filtered: FilteredRun
    public var filteredConsensus: [ImageConsensus]
    public var skippedShapeRecords: Int
    public var truthNotes: [String]
    public var matchRadius: Double
    public var tpDistances: [Double]
    /// With truth: the errors of every image with truth by cause.
    public var errors: ErrorBreakdown? {
        overall == nil ? nil : images.compactMap(\.errors).reduce(ErrorBreakdown(), +)
    }
    /// Wall seconds per phase, for benchmarks (not written to metrics.json: it would break byte-identical outputs).
    public var timings: [(phase: String, seconds: Double)] = []
}

public enum Analysis {
    public static func run(export: QuantiusExport, truth: TruthSet?, options: AnalysisOptions = AnalysisOptions()) -> AnalysisResult {
        var timings: [(phase: String, seconds: Double)] = []
        var clock = Date()
        func lap(_ phase: String) { let now = Date(); timings.append((phase, now.timeIntervalSince(clock))); clock = now }
        let job = ClickJob(export: export)
        lap("job")
        let merged = options.method.consensus(job)
        // Each object's confidence and each worker's coverage, image by image.
        let annotated: [(ImageConsensus, [ObjectConfidence.Coverage])] = Array(job.images.indices).parallelMap { k in
            var c = merged[k]
            let coverage = ObjectConfidence.annotate(job.images[k], &c)
            return (c, coverage)
        }
        let consensus = annotated.map(\.0)
        lap("consensus")
        let r = options.matchRadius
        let scored = scoreImages(export: export, job: job, consensus: consensus, truth: truth, radius: r, method: options.method)
        lap("score vs truth")
        var scoredRows = scored.rows
        let (tallies, fpFlags, offsets) = tallyWorkers(job: job, consensus: consensus, truth: truth, radius: r)
        for k in scoredRows.indices { scoredRows[k].truthOffsetPx = offsets.perImage[k].map { [$0.x, $0.y] } }
        let workers = workerRows(job: job, tallies: tallies, coverage: annotated.map(\.1), scoreMissWeight: options.scoreMissWeight)
        lap("worker tallies")
        // Crowd statistics and fits run on another thread while the filtered consensus is computed:
        // neither reads what the other writes.
        let statsBox = ResultSlot<(CrowdStatistics, FittsSummary?)>()
        let statsDone = DispatchGroup()
        let reference: Reference = truth != nil ? .truth : .consensus, window = options.learningWindow
        DispatchQueue.global().async(group: statsDone) {
            var crowd = crowdStatistics(export: export, job: job, workers: workers, fpFlags: fpFlags,
                                        reference: reference, window: window, allPeriods: tallies.flatMap(\.periods))
            crowd.truthOffsetPx = offsets.pooled.map { [$0.x, $0.y] }
            // Movement amplitude for Fitts' c: the median over workers of each worker's median step
            // between successive clicks.
            let fitts = fittsSummary(workers, reference: reference,
                                     amplitude: median(tallies.filter { !$0.steps.isEmpty }.map { median($0.steps) }))
            statsBox.value = (crowd, fitts)
        }
        let (filtered, filteredConsensus) = filteredRun(job: job, consensus: consensus, workers: workers, tallies: tallies,
                                                        truth: truth, options: options)
        lap("filtered consensus (with crowd statistics and fits beside it)")
        statsDone.wait()
        let (crowd, fitts) = statsBox.value!
        lap("waiting for crowd statistics")
        return AnalysisResult(job: job, method: options.method.name, consensus: consensus, images: scoredRows, workers: workers,
                              crowd: crowd, fitts: fitts, overall: scored.overall, filtered: filtered,
                              filteredConsensus: filteredConsensus, skippedShapeRecords: job.skippedShapeRecords,
                              truthNotes: truthNotes(truth), matchRadius: r, tpDistances: scored.distances, timings: timings)
    }

    /// The same analysis with a later stage's consensus (a verify stage's answer): objects, scores
    /// against the truth, expected false and missed objects recomputed (by the agreement method's
    /// vote, the one a verify stage follows); the crowd's figures stay the first stage's.
    public static func rescored(_ r: AnalysisResult, consensus: [ImageConsensus], truth: TruthSet?) -> AnalysisResult {
        var out = r
        out.consensus = consensus
        out.overall = truth == nil ? nil : DetectionScore()
        out.tpDistances = []
        for k in out.images.indices {
            let points = consensus[k].points
            out.images[k].consensusObjects = points.count
            out.images[k].expectedFalseObjects = points.reduce(0) { $0 + (1 - ($1.confidence ?? 1)) }
            out.images[k].undecidedObjects = undecided(consensus[k])
            out.images[k].setMissed(missed(consensus[k], workers: out.images[k].workers, method: AgreementConsensus()))
            if let t = truth?.byImage[out.images[k].image] {
                let (score, d, errors) = scored(consensus[k], truth: t, clicks: r.job.images[k], matchRadius: r.matchRadius)
                out.images[k].score = score
                out.images[k].errors = errors
                out.overall = out.overall! + score
                out.tpDistances += d
            }
        }
        return out
    }

    static func undecided(_ c: ImageConsensus) -> Int? {
        c.diagnostics.minWeightedSupport == nil ? nil : Settledness(c).undecided
    }

    /// What twice the image's workers would find that its consensus misses (`MissedObjects`).
    static func missed(_ c: ImageConsensus, workers n: Int, method: any PointConsensusMethod) -> MissedObjects.Estimate? {
        guard let vote = method.votesNeeded(workers: 2 * n) else { return nil }
        return MissedObjects.estimate(candidateSupports: c.candidateSupports, acceptedSupports: c.points.map(\.support),
                                      workers: n, atWorkers: 2 * n, vote: vote)
    }

    /// Per image: the consensus against the truth, and the counts a report shows.
    static func scoreImages(export: QuantiusExport, job: ClickJob, consensus: [ImageConsensus], truth: TruthSet?,
                            radius r: Double, method: any PointConsensusMethod) -> (rows: [ImageRow], overall: DetectionScore?, distances: [Double]) {
        var imageRows: [ImageRow] = []
        var overall = truth == nil ? nil : DetectionScore()
        var tpDistances: [Double] = []
        let missing = Array(job.images.indices).parallelMap { k in missed(consensus[k], workers: job.images[k].workers.count, method: method) }
        let empties = Dictionary(grouping: export.records.filter { $0.isEmpty && $0.annotationType == .crosshairs }, by: \.imageFilename).mapValues(\.count)
        for (k, im) in job.images.enumerated() {
            var row = ImageRow(image: im.image, workers: im.workers.count, emptySubmissions: empties[im.image] ?? 0,
                               clicks: im.count, consensusObjects: consensus[k].points.count, truthObjects: nil,
                               score: nil, parameters: consensus[k].diagnostics,
                               expectedFalseObjects: consensus[k].points.reduce(0) { $0 + (1 - ($1.confidence ?? 1)) },
                               undecidedObjects: undecided(consensus[k]))
            row.setMissed(missing[k])
            if let t = truth?.byImage[im.image] {
                let (s, d, errors) = scored(consensus[k], truth: t, clicks: im, matchRadius: r)
                row.truthObjects = t.count; row.score = s
                row.errors = errors
                overall = overall! + s
                tpDistances += d
            }
            imageRows.append(row)
        }
        return (imageRows, overall, tpDistances)
    }

    /// One image's consensus against its truth, matched once: the score, the true positives'
    /// distances, and the errors by cause at the vote the method took there and twice its click spread.
    static func scored(_ c: ImageConsensus, truth: TruthPoints, clicks: ImageClicks,
                       matchRadius: Double) -> (score: DetectionScore, distances: [Double], errors: ErrorBreakdown) {
        let m = matchPoints(ax: c.points.map(\.x), ay: c.points.map(\.y), bx: truth.xs, by: truth.ys, radius: matchRadius)
        let errors = ErrorBreakdown.of(c.points, truth: truth, clicks: clicks, matchRadius: matchRadius,
                                       pointingRadius: c.diagnostics.sigmaPx.map { 2 * $0 } ?? matchRadius / 2,
                                       vote: c.diagnostics.minWeightedSupport.map { Int($0.rounded(.up)) }, matching: m)
        return (DetectionScore(tp: m.pairs.count, fp: m.unmatchedA, fn: m.unmatchedB), m.pairs.map(\.2), errors)
    }

    /// The mean displacement of workers' matched clicks from the truth (`Displacements.offset`):
    /// per image (nil where the image has no truth or no matched click) and over all images.
    struct TruthOffsets: Sendable {
        var perImage: [(x: Double, y: Double)?]
        var pooled: (x: Double, y: Double)?
    }

    /// Per worker: matched against the consensus (always) and the truth (when given), image by
    /// image in parallel, then summed in image order so the result does not depend on threads;
    /// with each worker's click-level false flags by image, for the learning curve. Errors against
    /// the truth are taken about each image's mean displacement (`TruthOffsets`), which is the
    /// truth's convention or the crowd's shared bias, not one worker's pointing.
    static func tallyWorkers(job: ClickJob, consensus: [ImageConsensus], truth: TruthSet?,
                             radius r: Double) -> ([Tally], [[Int: [Bool]]], TruthOffsets) {
        let perImage: [[WorkerImageTally]] = Array(job.images.indices).parallelMap { k in
            workerTallies(job.images[k], consensus[k].points, truth?.byImage[job.images[k].image], radius: r)
        }
        let displacements = perImage.map { list in list.reduce(into: Displacements()) { $0.append($1.truthDisplacements) } }
        let offsets = TruthOffsets(perImage: displacements.map(\.offset),
                                   pooled: displacements.reduce(into: Displacements()) { $0.append($1) }.offset)
        var tallies = [Tally](repeating: Tally(), count: job.workerIDs.count)
        var fpFlags = [[Int: [Bool]]](repeating: [:], count: job.workerIDs.count)
        for (k, list) in perImage.enumerated() {
            for var t in list {
                if t.vsTruth != nil { t.squaredErrorTruth = t.truthDisplacements.squaredDistance(about: offsets.perImage[k] ?? (0, 0)) }
                let w = t.worker
                tallies[w].images += 1
                tallies[w].clicks += t.clicks
                tallies[w].vsConsensus = tallies[w].vsConsensus + t.vsConsensus
                tallies[w].squaredErrorConsensus += t.squaredErrorConsensus
                if let v = t.vsTruth { tallies[w].hasTruth = true; tallies[w].vsTruth = tallies[w].vsTruth + v; tallies[w].squaredErrorTruth += t.squaredErrorTruth }
                tallies[w].periods += t.periods
                tallies[w].steps += t.steps
                fpFlags[w][k] = t.fpFlags
            }
        }
        return (tallies, fpFlags, offsets)
    }

    /// One row per worker: the Quanti.us score, errors against consensus and truth, and the
    /// coverage and reliability of the object-confidence model.
    static func workerRows(job: ClickJob, tallies: [Tally], coverage: [[ObjectConfidence.Coverage]], scoreMissWeight: Double) -> [WorkerRow] {
        let nW = job.workerIDs.count
        var coverageSum = [Double](repeating: 0, count: nW), coverageImages = coverageSum, confidentClicks = coverageSum
        for list in coverage {
            for c in list { coverageSum[c.worker] += c.coverage; coverageImages[c.worker] += 1; confidentClicks[c.worker] += c.confidentClicks }
        }
        return (0..<nW).map { w in
            let t = tallies[w]
            let tpC = Double(t.vsConsensus.tp)
            // The Quanti.us worker score; tp' is floored at 1 so a worker who matched nothing scores finitely.
            let score = 1 - (Double(t.vsConsensus.fp) + scoreMissWeight * Double(t.vsConsensus.fn)) / (2 * max(tpC, 1))
            return WorkerRow(worker: job.workerIDs[w], images: t.images, annotations: t.clicks,
                             medianClickPeriodS: t.periods.isEmpty ? nil : median(t.periods), score: score,
                             vsConsensus: t.vsConsensus, rmseVsConsensusPx: t.vsConsensus.tp > 0 ? (t.squaredErrorConsensus / tpC).squareRoot() : nil,
                             vsTruth: t.hasTruth ? t.vsTruth : nil,
                             rmsePx: t.hasTruth && t.vsTruth.tp > 0 ? (t.squaredErrorTruth / Double(t.vsTruth.tp)).squareRoot() : nil,
                             coverage: coverageImages[w] > 0 ? coverageSum[w] / coverageImages[w] : nil,
                             reliability: t.clicks > 0 ? confidentClicks[w] / Double(t.clicks) : nil)
        }
    }

    /// The consensus again without the bottom share of workers by score, at the same pointing scale
    /// (only who votes changes), scored against the truth when given.
    static func filteredRun(job: ClickJob, consensus: [ImageConsensus], workers: [WorkerRow], tallies: [Tally], truth: TruthSet?,
                            options: AnalysisOptions) -> (FilteredRun, [ImageConsensus]) {
        let ranked = (0..<job.workerIDs.count).filter { tallies[$0].images > 0 }
            .sorted { workers[$0].score != workers[$1].score ? workers[$0].score < workers[$1].score : $0 < $1 }
        let dropCount = Int((Double(ranked.count) * options.dropShare).rounded(.down))
        let dropped = Set(ranked.prefix(dropCount))
        let filteredConsensus = options.method.rerun(consensus, of: job, without: dropped)
        var filteredScore: DetectionScore? = truth == nil ? nil : DetectionScore()
        if let truth {
            for c in filteredConsensus { if let t = truth.byImage[c.image] { filteredScore = filteredScore! + scoreAgainstTruth(c.points, t, radius: options.matchRadius).0 } }
        }
        let filtered = FilteredRun(droppedWorkers: dropped.sorted().map { job.workerIDs[$0] },
                                   consensusObjects: filteredConsensus.reduce(0) { $0 + $1.points.count }, score: filteredScore)
        return (filtered, filteredConsensus)
    }

    /// What the truth left out: images without a truth file, truth files for no image.
    static func truthNotes(_ truth: TruthSet?) -> [String] {
        var notes: [String] = []
        if let truth {
            if !truth.imagesWithoutTruth.isEmpty { notes.append("\(truth.imagesWithoutTruth.count) image(s) have no truth and are not scored: \(truth.imagesWithoutTruth.prefix(3).joined(separator: ", "))\(truth.imagesWithoutTruth.count > 3 ? ", …" : "")") }
            if !truth.unusedTruthFiles.isEmpty { notes.append("\(truth.unusedTruthFiles.count) truth file(s) matched no image in the export") }
        }
        return notes
    }

    final class ResultSlot<T>: @unchecked Sendable { var value: T? }

    struct Tally: Sendable {
        var vsConsensus = DetectionScore(), vsTruth = DetectionScore(), hasTruth = false
        var squaredErrorConsensus = 0.0, squaredErrorTruth = 0.0, images = 0, clicks = 0
        var periods: [Double] = [], steps: [Double] = []
    }

    /// One worker's figures on one image.
    struct WorkerImageTally: Sendable {
        var worker: Int, clicks: Int
        var vsConsensus: DetectionScore, squaredErrorConsensus: Double
        var vsTruth: DetectionScore?, squaredErrorTruth: Double
        /// The matched clicks' displacements from their true objects.
        var truthDisplacements = Displacements()
        var periods: [Double], steps: [Double]
        /// Per click in time order: true when it matched nothing (truth if given, else consensus).
        var fpFlags: [Bool]
    }

    /// Against the consensus, a worker's click is a hit when it is one of the clicks that formed a
    /// consensus object (its cluster membership: the same agreement the consensus was built from),
    /// one hit per object; against truth, one-to-one matching within the radius.
    static func workerTallies(_ im: ImageClicks, _ cons: [ConsensusPoint], _ truth: TruthPoints?, radius r: Double) -> [WorkerImageTally] {
        let truthMatcher = truth.map { PointMatcher(bx: $0.xs, by: $0.ys, radius: r) }
        var objectOf = [Int](repeating: -1, count: im.count)
        for (k, p) in cons.enumerated() { for j in p.members { objectOf[j] = k } }
        var byWorker: [Int: [Int]] = [:]
        for i in 0..<im.count { byWorker[Int(im.worker[i]), default: []].append(i) }
        var hitBy = [Int](repeating: -1, count: cons.count)
        return im.workers.map { w in
            let idx = byWorker[w] ?? []
            var tp = 0, sq = 0.0
            var consensusMiss = [Bool](repeating: true, count: idx.count)
            for (a, j) in idx.enumerated() {
                let k = objectOf[j]
                guard k >= 0, hitBy[k] != w else { continue }
                hitBy[k] = w
                tp += 1
                sq += dist2(im.xs[j], im.ys[j], cons[k].x, cons[k].y)
                consensusMiss[a] = false
            }
            var t = WorkerImageTally(worker: w, clicks: idx.count,
                                     vsConsensus: DetectionScore(tp: tp, fp: idx.count - tp, fn: cons.count - tp),
                                     squaredErrorConsensus: sq, vsTruth: nil, squaredErrorTruth: 0, periods: [], steps: [], fpFlags: [])
            var flags = consensusMiss
            if let tm = truthMatcher {
                let xs = idx.map { im.xs[$0] }, ys = idx.map { im.ys[$0] }
                flags = [Bool](repeating: true, count: idx.count)
                let mt = tm.match(ax: xs, ay: ys)
                t.vsTruth = DetectionScore(tp: mt.pairs.count, fp: mt.unmatchedA, fn: mt.unmatchedB)
                if let tr = truth { for p in mt.pairs { t.truthDisplacements.append(xs[p.0] - tr.xs[p.1], ys[p.0] - tr.ys[p.1]) } }
                for p in mt.pairs { flags[p.0] = false }
            }
            // Clicks in the order they were made within the submission.
            let timeline = ClickTimeline(im, clicks: idx)
            t.fpFlags = timeline.order.map { flags[$0] }
            t.periods = timeline.periods; t.steps = timeline.steps
            return t
        }
    }

    static func crowdStatistics(export: QuantiusExport, job: ClickJob, workers: [WorkerRow], fpFlags: [[Int: [Bool]]],
                                reference: Reference, window: Int, allPeriods: [Double]) -> CrowdStatistics {
        let active = workers.map(\.images).filter { $0 > 0 }.sorted(by: >)
        let total = Double(active.reduce(0, +))
        var curve: [Double] = []
        var acc = 0.0
        for a in active { acc += Double(a); curve.append(total > 0 ? acc / total : 0) }
        let top = max(1, Int((Double(active.count) * 0.2).rounded(.up)))
        let topShare = curve.isEmpty ? 0 : curve[min(top, curve.count) - 1]

        // Learning curve: each worker's annotations in the order they were made, across images
        // (records ordered by completion time, then export order).
        let workerIndex = Dictionary(uniqueKeysWithValues: job.workerIDs.enumerated().map { ($1, $0) })
        let imageIndex = Dictionary(uniqueKeysWithValues: job.images.enumerated().map { ($1.image, $0) })
        var recordOrder = [[(time: Double, record: Int, image: Int)]](repeating: [], count: job.workerIDs.count)
        for (i, r) in export.records.enumerated() where r.annotationType == .crosshairs {
            guard let w = workerIndex[r.workerID], let k = imageIndex[r.imageFilename] else { continue }
            recordOrder[w].append((r.timeWhenCompleted.map(portalCompletionSeconds) ?? 0, i, k))
        }
        var fpAt: [Int] = [], nAt: [Int] = []
        let poor: Set<Int> = Set(job.workerIDs.indices.filter { w in
            let d = reference == .truth ? (workers[w].vsTruth ?? workers[w].vsConsensus) : workers[w].vsConsensus
            return DetectionScore.isMostlyFalse(truePositives: d.tp, clicks: d.tp + d.fp)
        })
        for w in job.workerIDs.indices where !poor.contains(w) {
            let recs = recordOrder[w].sorted { $0.time != $1.time ? $0.time < $1.time : $0.record < $1.record }
            var index = 0
            var seen = Set<Int>()
            for rec in recs where seen.insert(rec.image).inserted {
                for f in fpFlags[w][rec.image] ?? [] {
                    if index >= nAt.count { nAt.append(0); fpAt.append(0) }
                    nAt[index] += 1; fpAt[index] += f ? 1 : 0
                    index += 1
                }
            }
        }
        var curvePoints: [LearningPoint] = []
        let bin = 10
        var start = 0
        while start < nAt.count && start < 500 {
            let end = min(start + bin, nAt.count)
            let n = nAt[start..<end].reduce(0, +), f = fpAt[start..<end].reduce(0, +)
            if n > 0 { curvePoints.append(LearningPoint(index: start + 1, annotations: n, falsePositives: f, rate: Double(f) / Double(n))) }
            start = end
        }
        var fit: LinearFitSummary? = nil
        let w = min(window, nAt.count)
        if w >= 5 {
            let xs = (0..<w).map { Double($0 + 1) }
            let ys = (0..<w).map { nAt[$0] > 0 ? Double(fpAt[$0]) / Double(nAt[$0]) : 0 }
            let ws = (0..<w).map { Double(nAt[$0]) }
            if let l = linearFit(xs: xs, ys: ys, weights: ws) {
                fit = LinearFitSummary(intercept: l.intercept, slope: l.slope, seIntercept: l.seIntercept, seSlope: l.seSlope,
                                       rateAtFirst: l.intercept + l.slope, rateAtEnd: l.intercept + l.slope * Double(w), window: w)
            }
        }
        let rmses = workers.compactMap { $0.rmsePx ?? $0.rmseVsConsensusPx }
        return CrowdStatistics(workers: active.count, records: export.records.count, emptyRecords: export.emptyRecordCount,
                               repeatedRecordsLeftOut: export.repeatedSubmissionsLeftOut,
                               clicks: export.clickCount, images: job.images.count, top20ShareOfImages: topShare,
                               participationCurve: curve,
                               medianClickPeriodS: allPeriods.isEmpty ? nil : median(workers.compactMap(\.medianClickPeriodS)),
                               clickPeriodQuartilesS: allPeriods.isEmpty ? [] : quantiles(allPeriods, [0.25, 0.5, 0.75]),
                               medianWorkerRmsePx: rmses.isEmpty ? nil : median(rmses),
                               falsePositiveReference: reference, learningCurve: curvePoints,
                               learningExcludedWorkers: poor.count, learningFit: fit)
    }

    /// Fitts' fit over workers with enough matched clicks for a stable RMSE (at least 10).
    static func fittsSummary(_ workers: [WorkerRow], reference: Reference, amplitude: Double) -> FittsSummary? {
        var s: [Double] = [], t: [Double] = []
        for w in workers {
            let tp = reference == .truth ? (w.vsTruth?.tp ?? 0) : w.vsConsensus.tp
            guard tp >= 10, let p = w.medianClickPeriodS, let e = (reference == .truth ? w.rmsePx : w.rmseVsConsensusPx), e > 0 else { continue }
            s.append(e); t.append(p)
        }
        guard amplitude.isFinite, let fit = FittsLaw.fit(rmse: s, period: t, amplitude: amplitude) else { return nil }
        let f = fit.result
        return FittsSummary(a: f.parameters[0], b: f.parameters[1], c: f.parameters[2],
                            seA: f.standardErrors[0], seB: f.standardErrors[1], seC: f.standardErrors[2],
                            workers: s.count, chiSquared: f.chiSquared, converged: f.converged, reference: reference,
                            amplitudeFixed: fit.amplitudeFixed, measuredAmplitudePx: amplitude)
    }
}
