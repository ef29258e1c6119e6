import Foundation

/// Greedy clustering with the crowd's one constraint: a worker clicks an object at most once.
/// Seeds are taken in order of how many distinct workers are near them; around a seed each worker
/// contributes only the click nearest to the current centre, and the centre is the component-wise
/// median of those clicks, re-gathered a few times.
func workerConstrainedClusters(_ im: ImageClicks, radius r: Double) -> [[Int]] {
    let n = im.count
    if n == 0 { return [] }
    let grid = GridIndex(xs: im.xs, ys: im.ys, cell: r)
    let r2 = r * r
    let nWorkers = Int(im.worker.max() ?? 0) + 1
    var density = [Int](repeating: 0, count: n)
    var mark = [Int](repeating: -1, count: nWorkers)
    var assigned = [Bool](repeating: false, count: n)
    var clusters: [[Int]] = []
    var bestD = [Double](repeating: .infinity, count: nWorkers)
    var bestI = [Int](repeating: -1, count: nWorkers)
    var touched: [Int] = []
    var scratch: [Double] = []
    im.xs.withUnsafeBufferPointer { xs in
    im.ys.withUnsafeBufferPointer { ys in
    im.worker.withUnsafeBufferPointer { worker in
    grid.starts.withUnsafeBufferPointer { starts in
    grid.items.withUnsafeBufferPointer { items in
        // Distinct workers within r of each click.
        for i in 0..<n {
            var c = 0
            let (x0, x1, y0, y1) = grid.cellRanges(xs[i], ys[i], r)
            if x0 <= x1 && y0 <= y1 {
                for cy in y0...y1 {
                    for cx in x0...x1 {
                        let cellIndex = cy * grid.nx + cx
                        for k in Int(starts[cellIndex])..<Int(starts[cellIndex + 1]) {
                            let j = Int(items[k])
                            let dx = xs[i] - xs[j], dy = ys[i] - ys[j]
                            if dx * dx + dy * dy <= r2 {
                                let w = Int(worker[j])
                                if mark[w] != i { mark[w] = i; c += 1 }
                            }
                        }
                    }
                }
            }
            density[i] = c
        }
        let order = (0..<n).sorted { density[$0] != density[$1] ? density[$0] > density[$1] : $0 < $1 }
        func medianOf(_ idx: [Int], _ v: UnsafeBufferPointer<Double>) -> Double {
            scratch.removeAll(keepingCapacity: true)
            for i in idx { scratch.append(v[i]) }
            scratch.sort(by: <)
            let m = scratch.count
            return m % 2 == 1 ? scratch[m / 2] : 0.5 * (scratch[m / 2 - 1] + scratch[m / 2])
        }
        for s in order where !assigned[s] {
            var cx = xs[s], cy = ys[s]
            var members: [Int] = [s]
            for _ in 0..<3 {
                touched.removeAll(keepingCapacity: true)
                let (x0, x1, y0, y1) = grid.cellRanges(cx, cy, r)
                if x0 <= x1 && y0 <= y1 {
                    for gy in y0...y1 {
                        for gx in x0...x1 {
                            let cellIndex = gy * grid.nx + gx
                            for k in Int(starts[cellIndex])..<Int(starts[cellIndex + 1]) {
                                let j = Int(items[k])
                                if assigned[j] { continue }
                                let dx = cx - xs[j], dy = cy - ys[j]
                                let d = dx * dx + dy * dy
                                if d > r2 { continue }
                                let w = Int(worker[j])
                                if bestI[w] < 0 { touched.append(w) }
                                if d < bestD[w] || (d == bestD[w] && j < bestI[w]) { bestD[w] = d; bestI[w] = j }
                            }
                        }
                    }
                }
                var next = touched.map { bestI[$0] }
                for w in touched { bestD[w] = .infinity; bestI[w] = -1 }
                if next.isEmpty { next = [s] }
                next.sort()
                let converged = next == members
                members = next
                cx = medianOf(next, xs); cy = medianOf(next, ys)
                if converged { break }
            }
            for j in members { assigned[j] = true }
            clusters.append(members)
        }
    }}}}}
    return clusters
}

func centre(_ im: ImageClicks, _ members: [Int]) -> (Double, Double) {
    switch members.count {
    case 1: return (im.xs[members[0]], im.ys[members[0]])
    case 2: return (0.5 * (im.xs[members[0]] + im.xs[members[1]]), 0.5 * (im.ys[members[0]] + im.ys[members[1]]))
    default: return (median(of: members, in: im.xs), median(of: members, in: im.ys))
    }
}

func distinctWorkers(_ im: ImageClicks, _ members: [Int]) -> Set<Int> {
    Set(members.map { Int(im.worker[$0]) })
}

/// The distinct workers of a cluster as a sorted array (cheaper than a Set for a few dozen).
func distinctWorkerList(_ im: ImageClicks, _ members: [Int]) -> [Int] {
    var w = members.map { Int(im.worker[$0]) }
    w.sort()
    var out: [Int] = []
    out.reserveCapacity(w.count)
    for x in w where out.last != x { out.append(x) }
    return out
}

/// How far a crowd's clicks on one object spread: σ of an isotropic normal from the median squared
/// distance of clicks to their cluster's centre (`σ = sqrt(median r² / 2 ln 2)`), clustering at
/// `pilotRadius` with one click per worker and keeping clusters of 3 or more. Methods that scale
/// their radii to the data share it. A few thousand residuals fix σ to about 1 %, so large jobs use
/// an evenly spaced sample of at most `sampleImages` images.
public enum ClickSpread {
    public static func estimate(_ job: ClickJob, pilotRadius: Double = 8, sampleImages: Int = 32, minimumSigma: Double = 0.5) -> Double {
        // Every stride-th image by name, so the sample does not follow the export's order.
        let byName = job.images.sorted { $0.image < $1.image }
        let stride = max(1, byName.count / sampleImages)
        let sample = Swift.stride(from: 0, to: byName.count, by: stride).map { byName[$0] }
        let residuals: [[Double]] = sample.parallelMap { im in
            var out: [Double] = []
            for members in workerConstrainedClusters(im, radius: pilotRadius) where members.count >= 3 {
                let c = centre(im, members)
                for j in members { out.append(dist2(im.xs[j], im.ys[j], c.0, c.1)) }
            }
            return out
        }
        let all = residuals.flatMap { $0 }
        guard all.count >= 10 else { return max(minimumSigma, pilotRadius / 3) }
        return max(minimumSigma, (median(all) / (2 * log(2.0))).squareRoot())
    }
}
