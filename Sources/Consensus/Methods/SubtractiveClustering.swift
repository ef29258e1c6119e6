import Foundation

/// Subtractive clustering (Chiu, "Fuzzy model identification based on cluster estimation",
/// J. Intell. Fuzzy Syst. 2:267, 1994), as MATLAB's `subclust`, which the Quanti.us pipeline used
/// (Hughes et al., Nat. Methods 15:587, 2018).
///
/// Each click has potential `P_i = Σ_j exp(-α‖x_i − x_j‖²)`, `α = 4/r_a²`. The click of highest
/// potential becomes a centre; potentials are reduced by `P_k exp(-β‖x_i − x_k‖²)`, `β = 4/r_b²`,
/// `r_b = squash·r_a`. A candidate is accepted above `accept·P_1`, rejected below `reject·P_1`, and
/// in between accepted only if `d_min/r_a + P_k/P_1 ≥ 1` (otherwise its potential is set to 0 and
/// the next candidate is tried). As in `subclust`, a radius given as a fraction is relative to the
/// data range in each dimension (the data are normalised to the unit square).
/// Support is the number of distinct workers whose clicks are nearest to the centre within r_a.
public struct SubtractiveClustering: PointConsensusMethod {
    public enum Radius: Sendable, Equatable {
        /// Fraction of the data range per dimension (MATLAB's convention).
        case fraction(Double)
        case pixels(Double)

        /// `0.1` is a fraction; `8px` is pixels.
        public init(parsing s: String) throws {
            let t = s.trimmingCharacters(in: .whitespaces).lowercased()
            if t.hasSuffix("px"), let v = Double(t.dropLast(2)), v > 0 { self = .pixels(v); return }
            if let v = Double(t), v > 0, v <= 1 { self = .fraction(v); return }
            throw InputError(file: "--radius", message: "expected a fraction of the data range in (0, 1] or pixels like 8px, found \"\(s)\"")
        }
    }

    public var name: String { "subtractive" }
    public var radius: Radius = .fraction(0.1)
    public var squashFactor = 1.25
    public var acceptRatio = 0.5
    public var rejectRatio = 0.15

    public init() {}
    public init(radius: Radius) { self.radius = radius }

    public func consensus(_ job: ClickJob) -> [ImageConsensus] {
        job.images.parallelMap { im in
            let centres = self.centres(xs: im.xs, ys: im.ys)
            let ra = self.pixelRadius(xs: im.xs, ys: im.ys)
            var members = [[Int]](repeating: [], count: centres.count)
            if !centres.isEmpty {
                for i in 0..<im.count {
                    var best = -1; var bd = Double.infinity
                    for (k, c) in centres.enumerated() {
                        let d = dist2(im.xs[i], im.ys[i], c.0, c.1)
                        if d < bd { bd = d; best = k }
                    }
                    if best >= 0 && bd <= ra * ra { members[best].append(i) }
                }
            }
            let points = centres.enumerated().map { k, c in
                let s = distinctWorkers(im, members[k]).count
                return ConsensusPoint(x: c.0, y: c.1, support: s, weightedSupport: Double(s), members: members[k])
            }
            return ImageConsensus(image: im.image, points: points, candidateSupports: points.map(\.support),
                                  diagnostics: { var d = MethodDiagnostics(); d.radiusPx = ra; d.squash = squashFactor; d.accept = acceptRatio; d.reject = rejectRatio; return d }())
        }
    }

    /// The representative radius in pixels (geometric mean of the per-dimension radii).
    func pixelRadius(xs: [Double], ys: [Double]) -> Double {
        switch radius {
        case .pixels(let p): return p
        case .fraction(let f):
            let rx = max((xs.max() ?? 0) - (xs.min() ?? 0), 1e-9), ry = max((ys.max() ?? 0) - (ys.min() ?? 0), 1e-9)
            return f * (rx * ry).squareRoot()
        }
    }

    /// The cluster centres, in the input's coordinates, in the order they were found.
    public func centres(xs: [Double], ys: [Double]) -> [(Double, Double)] {
        let n = xs.count
        guard n > 0 else { return [] }
        // Normalise to the unit square as subclust does; pixel radii become per-dimension fractions.
        let minX = xs.min()!, minY = ys.min()!
        let spanX = max(xs.max()! - minX, 1e-9), spanY = max(ys.max()! - minY, 1e-9)
        let rax: Double, ray: Double
        switch radius {
        case .fraction(let f): rax = f; ray = f
        case .pixels(let p): rax = p / spanX; ray = p / spanY
        }
        let u = xs.map { ($0 - minX) / spanX }, v = ys.map { ($0 - minY) / spanY }
        // Per-dimension scaling as in subclust: distances are measured in units of the radius.
        @inline(__always) func d2(_ i: Int, _ j: Int) -> Double {
            let dx = (u[i] - u[j]) / rax, dy = (v[i] - v[j]) / ray
            return dx * dx + dy * dy
        }
        let alpha = 4.0, beta = 4.0 / (squashFactor * squashFactor)
        var potential = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var s = 0.0
            for j in 0..<n { s += exp(-alpha * d2(i, j)) }
            potential[i] = s
        }
        func argmax() -> Int {
            var b = 0
            for i in 1..<n where potential[i] > potential[b] { b = i }
            return b
        }
        var first = argmax()
        let p1 = potential[first]
        guard p1 > 0 else { return [] }
        var centres: [Int] = []
        func subtract(_ k: Int) {
            let pk = potential[k]
            for i in 0..<n { potential[i] -= pk * exp(-beta * d2(i, k)) }
        }
        centres.append(first)
        subtract(first)
        while true {
            first = argmax()
            let pk = potential[first]
            if pk > acceptRatio * p1 {
                centres.append(first); subtract(first)
            } else if pk < rejectRatio * p1 || pk <= 0 {
                break
            } else {
                var dmin = Double.infinity
                for c in centres { dmin = min(dmin, d2(first, c).squareRoot()) }
                if dmin + pk / p1 >= 1 {
                    centres.append(first); subtract(first)
                } else {
                    potential[first] = 0
                }
            }
            if centres.count >= n { break }
        }
        return centres.map { (xs[$0], ys[$0]) }
    }
}
