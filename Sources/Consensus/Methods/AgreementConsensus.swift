import Foundation

/// crowdlab's default point consensus: worker-constrained clustering, fragment merging and a
/// reliability-weighted vote.
///
/// Why each step (no constant here is fitted to particular files; all scale with the data):
/// 1. **Click spread from the data.** A pilot clustering at `pilotRadius` gives residuals of
///    clicks about their cluster medians; for isotropic Gaussian pointing error the median squared
///    residual is `2 ln 2 σ²`, so `σ = sqrt(median r² / 2 ln 2)`, pooled over the job.
/// 2. **Clusters of radius `3σ`** (99 % of a 2-D Gaussian's mass lies within 3.03σ), in which a
///    worker contributes at most one click, since a worker clicks an object at most once.
/// 3. **Fragments merged.** The tail of the pointing error (careless workers have 2-3x the median
///    spread) leaves small clusters beside a large one. A neighbour within `5σ` whose workers mostly
///    did *not* click the large cluster is the same object (an object nearby would have been
///    clicked by the same workers), so its clicks join it.
/// 4. **Support counts distinct workers**, weighted by reliability: each worker's share of clicks
///    landing in accepted objects (Beta(1,1) prior), relative to the crowd's mean, re-estimated a
///    few times (the one-coin agreement model of Dawid & Skene 1979, restricted to precision).
/// 5. **The vote grows with the replicates**: an object needs `max(minSupport, ceil(N·minSupportFraction))`
///    weighted votes of the N workers who saw the image. Chance coincidences and error-tail fragments
///    both grow in proportion to N, so a fixed count is wrong for 3 replicates or for 30.
///    Defaults: 2 and 1/8 (2 votes up to 16 workers, 4 at 30).
/// Centres are component-wise medians, robust to a stray click.
public struct AgreementConsensus: PointConsensusMethod {
    public var name: String { "agreement" }
    public var pilotRadius = 8.0
    public var radiusInSigmas = 3.0
    public var mergeRadiusInSigmas = 5.0
    public var minSupport = 2
    public var minSupportFraction = 1.0 / 8.0
    /// What the vote fraction applies to: the workers who saw the image (clicks: each worker marks
    /// every object they see), or the support a real object can have at most when workers mark only
    /// some objects (outlines: total annotations / the most one worker made, since no worker marks
    /// an object twice).
    public enum SupportBasis: Sendable { case workers, annotationsPerObject }
    public var supportBasis = SupportBasis.workers
    public var reliabilityIterations = 3
    /// Floor on σ: clicks are whole pixels, so a crowd that agrees to the pixel still spreads ±0.5 px.
    public var minimumSigma = 0.5
    public var sigmaSampleImages = 32
    /// Use this click spread instead of measuring it (the filtered re-run keeps the full crowd's σ).
    public var fixedSigma: Double?
    /// Also return the candidates one weighted vote short of acceptance (`ImageConsensus.nearMisses`).
    public var reportNearMisses = false
    /// How many weighted votes short a reported near-miss may be.
    public var nearMissMargin = 1.0

    public init() {}

    func votesNeeded(basis: Double) -> Int { max(minSupport, Int((basis * minSupportFraction).rounded(.up))) }

    /// The vote `workers` workers' clicks would need (the support an object needs counts workers).
    public func votesNeeded(workers: Int) -> Int? {
        supportBasis == .workers ? votesNeeded(basis: Double(workers)) : nil
    }

    public func keepingScale(of consensus: [ImageConsensus]) -> any PointConsensusMethod {
        guard let sigma = consensus.first?.diagnostics.sigmaPx else { return self }
        var fixed = self
        fixed.fixedSigma = sigma
        return fixed
    }

    public func consensus(_ job: ClickJob) -> [ImageConsensus] {
        let sigma = fixedSigma ?? estimateSigma(job)
        let r = radiusInSigmas * sigma, rm = mergeRadiusInSigmas * sigma
        let clustered: [[[Int]]] = job.images.parallelMap { im in
            mergeFragments(im, workerConstrainedClusters(im, radius: r), mergeRadius: rm)
        }
        return vote(job, clustered, sigma: sigma)
    }

    /// Without some workers, the full crowd's clusters less their clicks are voted on again at the
    /// full crowd's σ: who votes changes, and the clustering, which the remaining clicks would
    /// mostly repeat, is not done twice.
    public func rerun(_ consensus: [ImageConsensus], of job: ClickJob, without dropped: Set<Int>) -> [ImageConsensus] {
        guard consensus.count == job.images.count, consensus.allSatisfy({ !$0.clusters.isEmpty || $0.candidateSupports.isEmpty }),
              let sigma = consensus.first?.diagnostics.sigmaPx else {
            return keepingScale(of: consensus).consensus(job.without(workers: dropped))
        }
        let kept = job.without(workers: dropped), index = job.indices(without: dropped)
        let clustered: [[[Int]]] = Array(job.images.indices).parallelMap { k in
            consensus[k].clusters.compactMap { members in
                let left = members.compactMap { index[k][$0] >= 0 ? index[k][$0] : nil }
                return left.isEmpty ? nil : left
            }
        }
        return vote(kept, clustered, sigma: sigma)
    }

    /// Steps 4 and 5 on clusters already formed: the reliability-weighted vote.
    func vote(_ job: ClickJob, _ clustered: [[[Int]]], sigma: Double) -> [ImageConsensus] {
        let r = radiusInSigmas * sigma, rm = mergeRadiusInSigmas * sigma
        let nWorkers = job.workerIDs.count
        var clicksPerWorker = [Double](repeating: 0, count: nWorkers)
        for im in job.images { for w in im.worker { clicksPerWorker[Int(w)] += 1 } }
        var weight = [Double](repeating: 1, count: nWorkers)
        var accepted: [[Bool]] = []
        let clusterWorkers: [[[Int]]] = Array(job.images.indices).parallelMap { k in
            clustered[k].map { distinctWorkerList(job.images[k], $0) }
        }
        let thresholds = job.images.map { im -> Double in
            var basis = Double(im.workers.count)
            if supportBasis == .annotationsPerObject {
                var perWorker: [Int32: Int] = [:]
                for w in im.worker { perWorker[w, default: 0] += 1 }
                basis = Double(im.count) / Double(max(1, perWorker.values.max() ?? 1))
            }
            return Double(votesNeeded(basis: basis))
        }
        for iteration in 0...reliabilityIterations {
            accepted = []
            var good = [Double](repeating: 0, count: nWorkers)
            for k in job.images.indices {
                var acc: [Bool] = []
                for ws in clusterWorkers[k] {
                    var support = 0.0
                    for w in ws { support += weight[w] }
                    let ok = support >= thresholds[k] - 1e-9
                    acc.append(ok)
                    if ok { for w in ws { good[w] += 1 } }
                }
                accepted.append(acc)
            }
            if iteration == reliabilityIterations { break }
            // Reliability: share of a worker's clicks that land in accepted objects, Beta(1,1) prior.
            var p = [Double](repeating: 0, count: nWorkers)
            var total = 0.0, n = 0.0
            for w in 0..<nWorkers {
                p[w] = (good[w] + 1) / (clicksPerWorker[w] + 2)
                if clicksPerWorker[w] > 0 { total += p[w]; n += 1 }
            }
            let m = n > 0 ? total / n : 1
            for w in 0..<nWorkers { weight[w] = m > 0 ? p[w] / m : 1 }
        }
        let finalWeight = weight, finalAccepted = accepted
        return Array(job.images.indices).parallelMap { k in
            let im = job.images[k]
            var points: [ConsensusPoint] = [], nearMisses: [ConsensusPoint] = []
            var supports: [Int] = []
            for (c, members) in clustered[k].enumerated() {
                let ws = clusterWorkers[k][c]
                supports.append(ws.count)
                let accepted = finalAccepted[k][c]
                guard accepted || (reportNearMisses && ws.count >= 2) else { continue }
                var w = 0.0
                for x in ws { w += finalWeight[x] }
                if !accepted && w < thresholds[k] - nearMissMargin - 1e-9 { continue }
                let ctr = centre(im, members)
                let point = ConsensusPoint(x: ctr.0, y: ctr.1, support: ws.count, weightedSupport: w, members: members)
                if accepted { points.append(point) } else { nearMisses.append(point) }
            }
            var result = ImageConsensus(image: im.image, points: points, candidateSupports: supports,
                                  diagnostics: diagnostics(sigma: sigma, radius: r, mergeRadius: rm,
                                                           threshold: thresholds[k], workers: im.workers.count))
            result.nearMisses = nearMisses
            result.clusters = clustered[k]
            return result
        }
    }

    func diagnostics(sigma: Double, radius: Double, mergeRadius: Double, threshold: Double, workers: Int) -> MethodDiagnostics {
        var d = MethodDiagnostics()
        d.sigmaPx = sigma; d.radiusPx = radius; d.mergeRadiusPx = mergeRadius
        d.minWeightedSupport = threshold; d.workers = Double(workers)
        return d
    }

    /// Pooled click spread σ from a pilot clustering (see step 1), floored at `minimumSigma`.
    public func estimateSigma(_ job: ClickJob) -> Double {
        ClickSpread.estimate(job, pilotRadius: pilotRadius, sampleImages: sigmaSampleImages, minimumSigma: minimumSigma)
    }

    /// Step 3: joins a small neighbouring cluster to a larger one when most of its workers did not
    /// click the larger one; clicks of workers already in the larger cluster stay a cluster of their own.
    /// Repeats until nothing changes (at most 10 passes); only changed clusters get new centres.
    func mergeFragments(_ im: ImageClicks, _ initial: [[Int]], mergeRadius rm: Double) -> [[Int]] {
        var clusters = initial
        var cx = [Double](), cy = [Double]()
        for m in clusters { let c = centre(im, m); cx.append(c.0); cy.append(c.1) }
        let nWorkers = Int(im.worker.max() ?? 0) + 1
        var stamp = [Int](repeating: -1, count: nWorkers)
        var stampID = 0
        var changed = true
        var passes = 0
        while changed && passes < 10 {
            changed = false; passes += 1
            var alive = [Bool](repeating: true, count: clusters.count)
            var dirty = [Bool](repeating: false, count: clusters.count)
            let grid = GridIndex(xs: cx, ys: cy, cell: rm)
            let order = clusters.indices.sorted { clusters[$0].count != clusters[$1].count ? clusters[$0].count > clusters[$1].count : $0 < $1 }
            var extra: [[Int]] = []
            var near: [(Int, Double)] = []
            for a in order where alive[a] {
                near.removeAll(keepingCapacity: true)
                grid.forEach(near: cx[a], cy[a], within: rm) { b, d in
                    if b != a { near.append((b, d)) }
                }
                if near.isEmpty { continue }
                near.sort { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
                // Workers of a, marked with a fresh stamp.
                stampID += 1
                for j in clusters[a] { stamp[Int(im.worker[j])] = stampID }
                for (b, _) in near where alive[b] && clusters[b].count <= clusters[a].count {
                    let wb = distinctWorkerList(im, clusters[b])
                    var shared = 0
                    for w in wb where stamp[w] == stampID { shared += 1 }
                    guard 2 * shared <= wb.count else { continue }
                    var add: [Int] = [], rest: [Int] = []
                    for j in clusters[b] { if stamp[Int(im.worker[j])] == stampID { rest.append(j) } else { add.append(j) } }
                    clusters[a].append(contentsOf: add)
                    for j in add { stamp[Int(im.worker[j])] = stampID }
                    alive[b] = false
                    dirty[a] = true
                    if !rest.isEmpty { extra.append(rest) }
                    changed = true
                }
            }
            var nextClusters: [[Int]] = [], nx: [Double] = [], ny: [Double] = []
            for k in clusters.indices where alive[k] {
                if dirty[k] {
                    clusters[k].sort()
                    let c = centre(im, clusters[k]); nx.append(c.0); ny.append(c.1)
                } else { nx.append(cx[k]); ny.append(cy[k]) }
                nextClusters.append(clusters[k])
            }
            for m in extra {
                let sorted = m.sorted()
                let c = centre(im, sorted); nx.append(c.0); ny.append(c.1)
                nextClusters.append(sorted)
            }
            clusters = nextClusters; cx = nx; cy = ny
        }
        return clusters
    }
}
