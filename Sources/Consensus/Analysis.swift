import Foundation

/// What `crowdlab analyze` computes from one export: the consensus, per-worker figures, crowd
/// statistics and fits, and (with truth) detection scores. Simulated and real exports take this
/// same path.
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

}
