import Foundation

/// A DBSCAN baseline (Ester et al., KDD 1996) kept for comparison in the benchmarks.
/// `eps` and `minPts` follow the same data rules as the default method (3σ of the measured click
/// spread; the replicate-scaled vote), so the comparison isolates what the worker constraint and
/// reliability weights add. Support counts distinct workers; centres are medians.
public struct DensityConsensus: PointConsensusMethod {
    public var name: String { "dbscan" }
    public var minSupport = 2
    public var minSupportFraction = 1.0 / 8.0
    public init() {}

    public func consensus(_ job: ClickJob) -> [ImageConsensus] {
        let sigma = ClickSpread.estimate(job)
        let eps = 3 * sigma
        return job.images.parallelMap { im in
            let minPts = max(minSupport, Int((Double(im.workers.count) * minSupportFraction).rounded(.up)))
            let labels = dbscan(xs: im.xs, ys: im.ys, eps: eps, minPts: minPts)
            var groups: [Int: [Int]] = [:]
            for (i, l) in labels.enumerated() where l >= 0 { groups[l, default: []].append(i) }
            let points = groups.keys.sorted().compactMap { key -> ConsensusPoint? in
                let m = groups[key]!
                let s = distinctWorkers(im, m).count
                guard s >= minPts else { return nil }
                let c = centre(im, m)
                return ConsensusPoint(x: c.0, y: c.1, support: s, weightedSupport: Double(s), members: m)
            }
            return ImageConsensus(image: im.image, points: points, candidateSupports: groups.values.map { distinctWorkers(im, $0).count }.sorted(),
                                  diagnostics: { var d = MethodDiagnostics(); d.epsPx = eps; d.minPts = Double(minPts); d.sigmaPx = sigma; return d }())
        }
    }
}

/// Classic DBSCAN: labels per point, -1 for noise.
public func dbscan(xs: [Double], ys: [Double], eps: Double, minPts: Int) -> [Int] {
    let n = xs.count
    var labels = [Int](repeating: -2, count: n) // -2 unvisited, -1 noise
    guard n > 0 else { return [] }
    let grid = GridIndex(xs: xs, ys: ys, cell: eps)
    var cluster = 0
    for i in 0..<n where labels[i] == -2 {
        let nb = grid.neighbours(of: xs[i], ys[i], within: eps)
        if nb.count < minPts { labels[i] = -1; continue }
        labels[i] = cluster
        var queue = nb
        var q = 0
        while q < queue.count {
            let j = queue[q]; q += 1
            if labels[j] == -1 { labels[j] = cluster }
            if labels[j] != -2 { continue }
            labels[j] = cluster
            let nb2 = grid.neighbours(of: xs[j], ys[j], within: eps)
            if nb2.count >= minPts { queue.append(contentsOf: nb2) }
        }
        cluster += 1
    }
    return labels
}
