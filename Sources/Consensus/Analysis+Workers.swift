import Foundation

// Per worker: tallies against the consensus and the truth, rows of workers.csv, and the re-run
// without the bottom third.
extension Analysis {
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
}
