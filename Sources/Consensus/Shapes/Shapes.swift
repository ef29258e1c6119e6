import Foundation

/// One shape a worker drew: a polygon (closed outline), a polyline (open trace) or a freehand line,
/// in the export's coordinates (`y` from the bottom edge).
public struct WorkerShape: Sendable, Equatable {
    public var image: String
    public var worker: String
    public var kind: AnnotationType
    public var xs: [Double]
    public var ys: [Double]

    public init(image: String, worker: String, kind: AnnotationType, xs: [Double], ys: [Double]) {
        self.image = image; self.worker = worker; self.kind = kind; self.xs = xs; self.ys = ys
    }

    public var isClosed: Bool { kind == .polygon }
    public var count: Int { xs.count }
}

/// Plane geometry of vertex lists.
public enum Geometry {
    /// Signed shoelace area (positive counter-clockwise, y up).
    public static func signedArea(_ xs: [Double], _ ys: [Double]) -> Double {
        let n = xs.count
        guard n >= 3 else { return 0 }
        var a = 0.0
        for i in 0..<n { let j = (i + 1) % n; a += xs[i] * ys[j] - xs[j] * ys[i] }
        return a / 2
    }

    public static func area(_ xs: [Double], _ ys: [Double]) -> Double { abs(signedArea(xs, ys)) }

    /// The area centroid of a polygon; the vertex mean for degenerate ones and open lines.
    public static func centroid(_ xs: [Double], _ ys: [Double], closed: Bool) -> (x: Double, y: Double) {
        let n = xs.count
        guard n > 0 else { return (.nan, .nan) }
        let a = signedArea(xs, ys)
        if closed && n >= 3 && abs(a) > 1e-9 {
            var cx = 0.0, cy = 0.0
            for i in 0..<n {
                let j = (i + 1) % n
                let c = xs[i] * ys[j] - xs[j] * ys[i]
                cx += (xs[i] + xs[j]) * c; cy += (ys[i] + ys[j]) * c
            }
            return (cx / (6 * a), cy / (6 * a))
        }
        if !closed && n >= 2 {
            // Length-weighted midpoint of the segments: a trace's centre does not depend on vertex spacing.
            var sx = 0.0, sy = 0.0, total = 0.0
            for i in 1..<n {
                let l = hypot(xs[i] - xs[i - 1], ys[i] - ys[i - 1])
                sx += l * (xs[i] + xs[i - 1]) / 2; sy += l * (ys[i] + ys[i - 1]) / 2; total += l
            }
            if total > 0 { return (sx / total, sy / total) }
        }
        return (xs.reduce(0, +) / Double(n), ys.reduce(0, +) / Double(n))
    }

    /// Length along the vertices (closing edge included for closed shapes).
    public static func length(_ xs: [Double], _ ys: [Double], closed: Bool) -> Double {
        let n = xs.count
        guard n >= 2 else { return 0 }
        var l = 0.0
        for i in 1..<n { l += hypot(xs[i] - xs[i - 1], ys[i] - ys[i - 1]) }
        if closed { l += hypot(xs[0] - xs[n - 1], ys[0] - ys[n - 1]) }
        return l
    }

    /// Distance from a point to the nearest point of a polyline (or closed outline).
    public static func distance(_ x: Double, _ y: Double, to xs: [Double], _ ys: [Double], closed: Bool) -> Double {
        let n = xs.count
        guard n > 1 else { return n == 1 ? hypot(x - xs[0], y - ys[0]) : .infinity }
        var best = Double.infinity
        let segments = closed ? n : n - 1
        for i in 0..<segments {
            let j = (i + 1) % n
            let dx = xs[j] - xs[i], dy = ys[j] - ys[i]
            let l2 = dx * dx + dy * dy
            let t = l2 > 0 ? min(1, max(0, ((x - xs[i]) * dx + (y - ys[i]) * dy) / l2)) : 0
            best = min(best, hypot(x - (xs[i] + t * dx), y - (ys[i] + t * dy)))
        }
        return best
    }

    /// Resamples a line at `step` spacing along its length (both ends kept).
    public static func resample(_ xs: [Double], _ ys: [Double], step: Double) -> ([Double], [Double]) {
        guard xs.count >= 2, step > 0 else { return (xs, ys) }
        var ox = [xs[0]], oy = [ys[0]]
        var carry = 0.0
        for i in 1..<xs.count {
            let dx = xs[i] - xs[i - 1], dy = ys[i] - ys[i - 1]
            let l = hypot(dx, dy)
            guard l > 0 else { continue }
            var t = step - carry
            while t < l { ox.append(xs[i - 1] + dx * t / l); oy.append(ys[i - 1] + dy * t / l); t += step }
            carry = l - (t - step)
        }
        if let lx = ox.last, let ly = oy.last, hypot(lx - xs.last!, ly - ys.last!) > 1e-9 { ox.append(xs.last!); oy.append(ys.last!) }
        return (ox, oy)
    }

    /// Mean distance from the points of `p` (resampled at 1 px) to the line `q`: how far `p` runs
    /// from `q` where it runs (zero for a piece of `q`).
    public static func directedDistance(_ p: WorkerShape, to q: WorkerShape) -> Double {
        let (rx, ry) = resample(p.xs, p.ys, step: 1)
        guard !rx.isEmpty else { return .infinity }
        var s = 0.0
        for i in rx.indices { s += distance(rx[i], ry[i], to: q.xs, q.ys, closed: q.isClosed) }
        return s / Double(rx.count)
    }


    /// Orthogonal (Deming, equal error variances) regression line through points: its centre,
    /// unit direction, and the RMS distance of the points from it.
    public static func demingLine(_ xs: [Double], _ ys: [Double]) -> (cx: Double, cy: Double, ux: Double, uy: Double, rms: Double) {
        let n = Double(xs.count)
        let mx = xs.reduce(0, +) / n, my = ys.reduce(0, +) / n
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in xs.indices { let dx = xs[i] - mx, dy = ys[i] - my; sxx += dx * dx; syy += dy * dy; sxy += dx * dy }
        // The principal axis of the scatter: the direction of least orthogonal residual.
        let theta = 0.5 * atan2(2 * sxy, sxx - syy)
        let ux = cos(theta), uy = sin(theta)
        var r2 = 0.0
        for i in xs.indices { let d = -(xs[i] - mx) * uy + (ys[i] - my) * ux; r2 += d * d }
        return (mx, my, ux, uy, (r2 / n).squareRoot())
    }
}

/// The shapes of an export, by image: polygon, polyline and freehand records, one shape per inner
/// list of `raw_data`. Degenerate shapes (a polygon of fewer than 3 vertices or no area, a line of
/// fewer than 2 vertices) are counted, not used.
public struct ShapeJob: Sendable {
    public struct Image: Sendable {
        public var image: String
        public var width: Int
        public var height: Int
        /// Everyone who submitted this image with a shape tool (also those who drew nothing).
        public var workers: [String]
        public var shapes: [WorkerShape]
    }

    public var images: [Image]
    public var degenerateShapes: Int
    public var shapeRecords: Int

    /// Images in the export's order, each image's records in `ExportRecord.canonicallyOrdered`: the
    /// same records listed in any order give the same job.
    public init(export: QuantiusExport) {
        var images: [Image] = []
        var degenerate = 0, records = 0
        for group in export.canonicalRecords(where: { $0.annotationType != .crosshairs }).images where !group.indices.isEmpty {
            let head = export.records[group.indices[0]]
            var image = Image(image: group.image, width: head.width, height: head.height, workers: [], shapes: [])
            for r in group.indices.map({ export.records[$0] }) {
                records += 1
                if image.workers.last != r.workerID { image.workers.append(r.workerID) }  // a worker's records are adjacent
                for shape in r.rawData {
                    let s = WorkerShape(image: r.imageFilename, worker: r.workerID, kind: r.annotationType, xs: shape.map(\.x), ys: shape.map(\.y))
                    let ok = s.isClosed ? (s.count >= 3 && Geometry.area(s.xs, s.ys) > 0.5) : s.count >= 2 && Geometry.length(s.xs, s.ys, closed: false) > 0
                    if ok { image.shapes.append(s) } else { degenerate += 1 }
                }
            }
            images.append(image)
        }
        self.images = images
        degenerateShapes = degenerate
        shapeRecords = records
    }
}
