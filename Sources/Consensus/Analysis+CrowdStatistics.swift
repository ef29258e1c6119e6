import Foundation

// Crowd statistics: participation, click periods, the learning curve and the Fitts fit.
extension Analysis {
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
