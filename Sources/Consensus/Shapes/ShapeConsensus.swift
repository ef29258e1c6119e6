import CGSL
import Foundation

/// One merged shape: the crowd's outline of an object or trace of a line.
public struct ConsensusShape: Sendable, Codable, Equatable {
    public var image: String
    /// "polygon" or "polyline".
    public var kind: String
    /// Vertices in the export's coordinates (`y` from the bottom edge).
    public var points: [[Double]]
    /// Distinct workers whose shapes were merged.
    public var support: Int
    public var centroid: [Double]
    /// Polygons: enclosed area in px².
    public var area: Double?
    /// Polylines: length in px, and how it was measured ("deming" for a straight line: the extent
    /// of the points along their orthogonal regression line; "arc" for a bent one).
    public var length: Double?
    public var lengthMethod: String?
    /// Member shapes rejected as errant (an outline far larger or smaller than the group's).
    public var errant: Int
}

/// Shape consensus, after the Quanti.us paper (Hughes et al., Nat. Methods 15:587, 2018): shapes
/// are grouped by their centroids (polygons) or by how close the traces run (polylines), one shape
/// per worker per group; a group needs the votes of independent workers; outlines far from the
/// group's typical size are rejected as errant; the consensus outline takes one outline of the
/// group, moves each of its vertices to the local centroid of the nearby vertices of the others,
/// and runs a periodic interpolating cubic spline (GSL `cspline_periodic`) through them.
public struct ShapeConsensusMethod: Sendable {
    /// Polygon grouping: the point agreement method on centroids, its vote taken on the support an
    /// object can have when workers outline only some objects (see `AgreementConsensus.SupportBasis`).
    public var centroidGrouping: AgreementConsensus = {
        var a = AgreementConsensus()
        a.supportBasis = .annotationsPerObject
        return a
    }()
    /// Polylines: a trace joins a longer one when its points lie within this mean distance (px) of it.
    public var traceDistance = 4.0
    /// Share of the support basis a polyline group needs (at least 2 workers).
    public var voteFraction = 1.0 / 8.0
    /// An outline whose area is over this factor from the group's median is errant.
    public var errantAreaFactor = 3.5
    /// An outline spanning over this factor of the image's median span encloses more than one object.
    public var errantSpanFactor = 3.0
    /// Points on each consensus outline.
    public var outlinePoints = 32

    public init() {}

    public struct Result: Sendable {
        public var shapes: [ConsensusShape]
        /// Shapes in groups that did not get enough votes.
        public var unsupported: Int
        public var errant: Int
    }

    /// Each image's polygons as clicks at their centroids, the errant outlines (far larger than the
    /// image's typical one) left out first: what the polygons are grouped on.
    struct CentroidClicks {
        var job: ClickJob
        /// The polygons behind each image's clicks, in click order.
        var polygons: [[WorkerShape]]
        var errant: Int
    }

    func centroidClicks(_ job: ShapeJob) -> CentroidClicks {
        var errant = 0
        var workerIDs: [String] = []
        var workerIndex: [String: Int] = [:]
        var clickImages: [ImageClicks] = []
        var polygonsOf: [[WorkerShape]] = []
        for im in job.images {
            var polygons = im.shapes.filter(\.isClosed)
            // Outlines far larger than the image's typical one (a frame around everything, a long
            // sliver joining distant objects) enclose no one object: errant before any grouping.
            if polygons.count >= 3 {
                let areas = polygons.map { Geometry.area($0.xs, $0.ys) }
                let spans = polygons.map { p -> Double in
                    let c = Geometry.centroid(p.xs, p.ys, closed: true)
                    return 2 * zip(p.xs, p.ys).map { hypot($0 - c.x, $1 - c.y) }.max()!
                }
                let medArea = median(areas), medSpan = median(spans)
                let keep = polygons.indices.filter { areas[$0] <= medArea * errantAreaFactor && spans[$0] <= medSpan * errantSpanFactor }
                errant += polygons.count - keep.count
                polygons = keep.map { polygons[$0] }
            }
            var c = ImageClicks(image: im.image, width: im.width, height: im.height, workers: [], xs: [], ys: [], worker: [], timestamp: [])
            for w in im.workers {
                let i: Int
                if let k = workerIndex[w] { i = k } else { i = workerIDs.count; workerIndex[w] = i; workerIDs.append(w) }
                c.workers.append(i)
            }
            for p in polygons {
                let ctr = Geometry.centroid(p.xs, p.ys, closed: true)
                c.xs.append(ctr.x); c.ys.append(ctr.y); c.worker.append(Int32(workerIndex[p.worker]!)); c.timestamp.append(0)
            }
            if !polygons.isEmpty { clickImages.append(c); polygonsOf.append(polygons) }
        }
        return CentroidClicks(job: ClickJob(workerIDs: workerIDs, images: clickImages), polygons: polygonsOf, errant: errant)
    }

    /// The polygons' groups as a point consensus of their centroids, one per image holding a polygon:
    /// what an adaptive policy measures an outline job's settledness on.
    public func polygonGroups(_ job: ShapeJob) -> [ImageConsensus] {
        let clicks = centroidClicks(job)
        return clicks.job.images.isEmpty ? [] : centroidGrouping.consensus(clicks.job)
    }

    public func consensus(_ job: ShapeJob) -> Result {
        var shapes: [ConsensusShape] = []
        var unsupported = 0
        // Polygons: one click job of centroids, so sigma is estimated over all images together.
        let clicks = centroidClicks(job)
        var errant = clicks.errant
        let polygonsOf = clicks.polygons
        if !clicks.job.images.isEmpty {
            let groups = centroidGrouping.consensus(clicks.job)
            for (k, g) in groups.enumerated() {
                let polygons = polygonsOf[k]
                let used = g.points.reduce(0) { $0 + $1.members.count }
                unsupported += polygons.count - used
                for p in g.points {
                    var members = p.members.map { polygons[$0] }
                    let areas = members.map { Geometry.area($0.xs, $0.ys) }
                    let med = median(areas)
                    let keep = members.indices.filter { areas[$0] <= med * errantAreaFactor && areas[$0] >= med / errantAreaFactor }
                    let rejected = members.count - keep.count
                    errant += rejected
                    members = keep.map { members[$0] }
                    guard !members.isEmpty else { continue }
                    let (ox, oy) = consensusOutline(members)
                    let ctr = Geometry.centroid(ox, oy, closed: true)
                    shapes.append(ConsensusShape(image: g.image, kind: "polygon", points: zip(ox, oy).map { [$0, $1] }, support: Set(members.map(\.worker)).count,
                                                 centroid: [ctr.x, ctr.y], area: Geometry.area(ox, oy), length: nil, lengthMethod: nil, errant: rejected))
                }
            }
        }
        // Polylines and freehand lines: grouped by how close the traces run.
        for im in job.images {
            let lines = im.shapes.filter { !$0.isClosed }
            guard !lines.isEmpty else { continue }
            var perWorker: [String: Int] = [:]
            for l in lines { perWorker[l.worker, default: 0] += 1 }
            let basis = Double(lines.count) / Double(max(1, perWorker.values.max() ?? 1))
            let votes = max(2, Int((basis * voteFraction).rounded(.up)))
            let lengths = lines.map { Geometry.length($0.xs, $0.ys, closed: false) }
            let order = lines.indices.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
            var assigned = [Bool](repeating: false, count: lines.count)
            for seed in order where !assigned[seed] {
                assigned[seed] = true
                var members = [seed]
                var workers: Set<String> = [lines[seed].worker]
                // Each other worker's closest trace, if it runs near the seed.
                var best: [String: (Int, Double)] = [:]
                for j in order where !assigned[j] && !workers.contains(lines[j].worker) {
                    // How far the candidate runs from the seed: a trace that stopped early (at a
                    // crossing) still lies along the longer one.
                    let d = Geometry.directedDistance(lines[j], to: lines[seed])
                    if d <= traceDistance, d < (best[lines[j].worker]?.1 ?? .infinity) { best[lines[j].worker] = (j, d) }
                }
                for (w, m) in best.sorted(by: { $0.value.0 < $1.value.0 }) { members.append(m.0); workers.insert(w) }
                guard members.count >= votes else { unsupported += 1; continue }
                for m in members { assigned[m] = true }
                let shapesOf = members.map { lines[$0] }
                let (ox, oy) = consensusTrace(shapesOf)
                let (len, method) = Self.lineLength(ox, oy)
                let ctr = Geometry.centroid(ox, oy, closed: false)
                shapes.append(ConsensusShape(image: im.image, kind: "polyline", points: zip(ox, oy).map { [$0, $1] }, support: members.count,
                                             centroid: [ctr.x, ctr.y], area: nil, length: len, lengthMethod: method, errant: 0))
            }
        }
        return Result(shapes: Self.withoutContainedTraces(shapes, within: traceDistance), unsupported: unsupported, errant: errant)
    }

    /// A consensus trace lying along a better-supported (or, at equal support, longer) one of the
    /// same image is the same line found twice (a group seeded by a trace that jumped at a
    /// crossing): only the better one is kept.
    static func withoutContainedTraces(_ shapes: [ConsensusShape], within tau: Double) -> [ConsensusShape] {
        var out: [ConsensusShape] = []
        var kept: [String: [WorkerShape]] = [:]
        let order = shapes.indices.sorted {
            let a = shapes[$0], b = shapes[$1]
            if a.kind != b.kind { return a.kind < b.kind }
            if a.support != b.support { return a.support > b.support }
            return (a.length ?? 0) != (b.length ?? 0) ? (a.length ?? 0) > (b.length ?? 0) : $0 < $1
        }
        var keep = Set<Int>()
        for i in order {
            let s = shapes[i]
            guard s.kind == "polyline" else { keep.insert(i); continue }
            let w = WorkerShape(image: s.image, worker: "", kind: .polyline, xs: s.points.map { $0[0] }, ys: s.points.map { $0[1] })
            if (kept[s.image] ?? []).contains(where: { Geometry.directedDistance(w, to: $0) <= tau }) { continue }
            kept[s.image, default: []].append(w)
            keep.insert(i)
        }
        for i in shapes.indices where keep.contains(i) { out.append(shapes[i]) }
        return out
    }

    /// The paper's consensus outline: one member as the reference; each of its
    /// vertices moved to the centroid of itself and the nearest vertex of every other member
    /// within half the reference's equivalent radius; a periodic cubic spline through them.
    public func consensusOutline(_ drawn: [WorkerShape]) -> ([Double], [Double]) {
        // Each outline as the smooth curve through its clicks (a periodic spline): a few clicks on
        // a round shape cut its corners as chords; the curve through them does not.
        let members = drawn.map { m -> WorkerShape in
            guard m.count >= 3 else { return m }
            var smooth = m
            (smooth.xs, smooth.ys) = Self.periodicSpline(m.xs, m.ys, points: max(48, 3 * m.count))
            return smooth
        }
        let areas = members.map { Geometry.area($0.xs, $0.ys) }
        // The reference: the most finely drawn outline (most vertices), the median area breaking
        // ties; the spline through it resolves the shape best.
        let medianArea = median(areas)
        let ref = members[members.indices.max { a, b in
            drawn[a].count != drawn[b].count ? drawn[a].count < drawn[b].count : abs(areas[a] - medianArea) > abs(areas[b] - medianArea)
        }!]
        let reach = max(2.0, 0.5 * (areas.max() ?? 0 > 0 ? (Geometry.area(ref.xs, ref.ys) / Double.pi).squareRoot() : 2))
        var cx: [Double] = [], cy: [Double] = []
        for i in ref.xs.indices {
            var sx = ref.xs[i], sy = ref.ys[i], n = 1.0
            for m in members where m != ref {
                var bestD = Double.infinity, bx = 0.0, by = 0.0
                for j in m.xs.indices {
                    let d = hypot(m.xs[j] - ref.xs[i], m.ys[j] - ref.ys[i])
                    if d < bestD { bestD = d; bx = m.xs[j]; by = m.ys[j] }
                }
                if bestD <= reach { sx += bx; sy += by; n += 1 }
            }
            let px = sx / n, py = sy / n
            if let lx = cx.last, let ly = cy.last, hypot(lx - px, ly - py) < 1e-6 { continue }
            cx.append(px); cy.append(py)
        }
        if cx.count >= 3, hypot(cx[0] - cx.last!, cy[0] - cy.last!) < 1e-6 { cx.removeLast(); cy.removeLast() }
        guard cx.count >= 3 else { return (cx, cy) }
        return Self.periodicSpline(cx, cy, points: outlinePoints)
    }

    /// A periodic interpolating cubic spline (GSL `cspline_periodic`) through a closed outline,
    /// parameterised by chord length, sampled at `points` equally spaced parameters.
    public static func periodicSpline(_ xs: [Double], _ ys: [Double], points: Int) -> ([Double], [Double]) {
        crowdlab_gsl_quiet_errors()
        let n = xs.count
        var t = [0.0]
        for i in 1...n { t.append(t[i - 1] + max(1e-6, hypot(xs[i % n] - xs[i - 1], ys[i % n] - ys[i - 1]))) }
        let px = xs + [xs[0]], py = ys + [ys[0]]
        let total = t[n]
        guard let sx = gsl_spline_alloc(crowdlab_gsl_interp_cspline_periodic(), n + 1),
              let sy = gsl_spline_alloc(crowdlab_gsl_interp_cspline_periodic(), n + 1),
              let acc = gsl_interp_accel_alloc() else { return (xs, ys) }
        defer { gsl_spline_free(sx); gsl_spline_free(sy); gsl_interp_accel_free(acc) }
        guard gsl_spline_init(sx, t, px, n + 1) == 0, gsl_spline_init(sy, t, py, n + 1) == 0 else { return (xs, ys) }
        var ox: [Double] = [], oy: [Double] = []
        for k in 0..<points {
            let u = min(total, total * Double(k) / Double(points))
            ox.append(gsl_spline_eval(sx, u, acc)); oy.append(gsl_spline_eval(sy, u, acc))
        }
        return (ox, oy)
    }

    /// The consensus of traces: the member of median length resampled at 2 px, each point moved to
    /// the centroid of itself and the nearest point of every other member's trace within 2 trace distances.
    public func consensusTrace(_ members: [WorkerShape]) -> ([Double], [Double]) {
        let lengths = members.map { Geometry.length($0.xs, $0.ys, closed: false) }
        let ref = members[lengths.indices.sorted { lengths[$0] < lengths[$1] }[lengths.count / 2]]
        let (rx, ry) = Geometry.resample(ref.xs, ref.ys, step: 2)
        let others = members.filter { $0 != ref }.map { Geometry.resample($0.xs, $0.ys, step: 1) }
        var cx: [Double] = [], cy: [Double] = []
        for i in rx.indices {
            var sx = rx[i], sy = ry[i], n = 1.0
            for (ox, oy) in others {
                var bestD = Double.infinity, bx = 0.0, by = 0.0
                for j in ox.indices {
                    let d = hypot(ox[j] - rx[i], oy[j] - ry[i])
                    if d < bestD { bestD = d; bx = ox[j]; by = oy[j] }
                }
                if bestD <= 2 * traceDistance { sx += bx; sy += by; n += 1 }
            }
            cx.append(sx / n); cy.append(sy / n)
        }
        return (cx, cy)
    }

    /// Length of a consensus trace: a straight one (points within 1.5 px RMS of their orthogonal
    /// regression line) by its extent along that line, a bent one by the arc length of a natural
    /// cubic spline through the trace resampled every 5 px (which smooths the averaging's jitter).
    public static func lineLength(_ xs: [Double], _ ys: [Double]) -> (Double, String) {
        crowdlab_gsl_quiet_errors()
        guard xs.count >= 2 else { return (0, "arc") }
        let line = Geometry.demingLine(xs, ys)
        if line.rms <= 1.5 {
            var lo = Double.infinity, hi = -Double.infinity
            for i in xs.indices {
                let p = (xs[i] - line.cx) * line.ux + (ys[i] - line.cy) * line.uy
                lo = min(lo, p); hi = max(hi, p)
            }
            return (hi - lo, "deming")
        }
        let (sx, sy) = Geometry.resample(xs, ys, step: 5)
        guard sx.count >= 3 else { return (Geometry.length(xs, ys, closed: false), "arc") }
        var t = [0.0]
        for i in 1..<sx.count { t.append(t[i - 1] + max(1e-6, hypot(sx[i] - sx[i - 1], sy[i] - sy[i - 1]))) }
        guard let fx = gsl_spline_alloc(crowdlab_gsl_interp_cspline(), sx.count), let fy = gsl_spline_alloc(crowdlab_gsl_interp_cspline(), sx.count),
              let acc = gsl_interp_accel_alloc() else { return (Geometry.length(xs, ys, closed: false), "arc") }
        defer { gsl_spline_free(fx); gsl_spline_free(fy); gsl_interp_accel_free(acc) }
        gsl_spline_init(fx, t, sx, sx.count); gsl_spline_init(fy, t, sy, sy.count)
        var length = 0.0
        let steps = max(10, Int(t.last! * 2))
        var px = sx[0], py = sy[0]
        for k in 1...steps {
            let u = min(t.last!, t.last! * Double(k) / Double(steps))
            let x = gsl_spline_eval(fx, u, acc), y = gsl_spline_eval(fy, u, acc)
            length += hypot(x - px, y - py); px = x; py = y
        }
        return (length, "arc")
    }
}
