import Foundation
import Imaging
import Randomness

/// One object of a movie frame, in image coordinates (row from the top).
public struct MovieObject: Sendable, Codable, Equatable {
    public var id: String
    /// The same physical object in every frame.
    public var track: String
    /// "polyline", "polygon" or "point".
    public var kind: String
    public var label: String?
    public var points: [[Double]]
}

public struct MovieFrame: Sendable {
    public var image: Image
    public var objects: [MovieObject]

    /// `<id>_truth.json`: `{"width", "height", "objects": [...]}`.
    public func truthJSON() throws -> Data {
        struct Truth: Encodable { var width: Int; var height: Int; var objects: [MovieObject] }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return try enc.encode(Truth(width: image.width, height: image.height, objects: objects))
    }
}

/// A scene that changes over frames. The motion is a function of the seed and the frame index,
/// the noise is drawn per frame from a seed derived from both, so any frame renders alone.
public protocol MovieScene: Sendable {
    var name: String { get }
    func frame(_ t: Int, of count: Int, seed: UInt64) -> MovieFrame
}

/// Microtubules in a gliding assay: straight filaments of a log-normal length distribution, each
/// gliding along its own axis at its own speed, crossing and overlapping, all of similar brightness
/// (which is what breaks automatic segmentation into junction-bounded pieces).
public struct FilamentScene: MovieScene, Equatable {
    public var name: String { "filaments" }
    public var width = 256, height = 256
    public var filaments = 14
    /// Median length (px) and log-normal spread.
    public var medianLength = 55.0
    public var lengthLogSD = 0.45
    /// Gliding speeds, px per frame.
    public var speed: ClosedRange<Double> = 1.5...4.0
    /// Peak SNR of a filament.
    public var snr: ClosedRange<Double> = 7...10
    public var lineSigma = 1.2
    public var camera = Camera()
    public init() {}

    public struct Filament: Sendable { public var x0: Double, y0: Double, ux: Double, uy: Double, length: Double, speed: Double, snr: Double }

    /// The filaments' fixed properties (seeded): each starts so it stays in view for `count` frames.
    public func filamentSet(seed: UInt64, count: Int) -> [Filament] {
        let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xF11A))
        var out: [Filament] = []
        for _ in 0..<filaments {
            let length = min(Double(min(width, height)) * 0.6, max(12, medianLength * exp(lengthLogSD * rng.gaussian(sigma: 1))))
            let angle = rng.uniform() * 2 * .pi
            let ux = cos(angle), uy = sin(angle)
            let v = speed.lowerBound + rng.uniform() * (speed.upperBound - speed.lowerBound)
            let travel = v * Double(max(count - 1, 0))
            // The centre's path over the movie must keep the whole filament inside with a margin.
            let margin = 6 + length / 2
            let spanX = Double(width) - 2 * margin - abs(ux) * travel, spanY = Double(height) - 2 * margin - abs(uy) * travel
            let cx = margin + (ux < 0 ? abs(ux) * travel : 0) + rng.uniform() * max(0, spanX)
            let cy = margin + (uy < 0 ? abs(uy) * travel : 0) + rng.uniform() * max(0, spanY)
            out.append(Filament(x0: cx, y0: cy, ux: ux, uy: uy, length: length, speed: v,
                                snr: snr.lowerBound + rng.uniform() * (snr.upperBound - snr.lowerBound)))
        }
        return out
    }

    public func frame(_ t: Int, of count: Int, seed: UInt64) -> MovieFrame {
        let set = filamentSet(seed: seed, count: count)
        var field = [Double](repeating: camera.backgroundPhotons, count: width * height)
        var objects: [MovieObject] = []
        for (i, f) in set.enumerated() {
            let cx = f.x0 + f.ux * f.speed * Double(t), cy = f.y0 + f.uy * f.speed * Double(t)
            let ax = cx - f.ux * f.length / 2, ay = cy - f.uy * f.length / 2
            let bx = cx + f.ux * f.length / 2, by = cy + f.uy * f.length / 2
            drawLine(&field, ax, ay, bx, by, amplitude: f.snr * camera.noiseSD)
            objects.append(MovieObject(id: "f\(i)_t\(t)", track: "f\(i)", kind: "polyline", label: nil, points: [[ax, ay], [bx, by]]))
        }
        let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(t) &+ 1))
        return MovieFrame(image: camera.expose(field, width: width, height: height, rng: rng), objects: objects)
    }

    /// A line with a Gaussian cross-section (σ = lineSigma), peak `amplitude` photons, added once per
    /// pixel (the maximum over the line's points, so overlapping ends do not double).
    func drawLine(_ field: inout [Double], _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, amplitude: Double) {
        let reach = 4 * lineSigma
        let c0 = max(0, Int(min(ax, bx) - reach)), c1 = min(width - 1, Int(max(ax, bx) + reach))
        let r0 = max(0, Int(min(ay, by) - reach)), r1 = min(height - 1, Int(max(ay, by) + reach))
        guard c0 <= c1, r0 <= r1 else { return }
        let dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy
        for r in r0...r1 {
            for c in c0...c1 {
                let px = Double(c), py = Double(r)
                let s = l2 > 0 ? min(1, max(0, ((px - ax) * dx + (py - ay) * dy) / l2)) : 0
                let d2 = pow(px - (ax + s * dx), 2) + pow(py - (ay + s * dy), 2)
                if d2 <= reach * reach { field[r * width + c] += amplitude * exp(-d2 / (2 * lineSigma * lineSigma)) }
            }
        }
    }
}

/// An epithelial outline in phase contrast that grows and branches over the movie: steady growth,
/// a stall (no change in area), then a buckling step where branches push out. Cells migrating
/// around it on the background are bright blobs that contrast segmentation merges with the tissue.
public struct TissueScene: MovieScene, Equatable {
    public var name: String { "tissue" }
    public var width = 256, height = 256
    public var initialRadius = 40.0
    /// Area growth per frame outside the stall (fraction of the initial area).
    public var growthPerFrame = 0.06
    /// The stall as fractions of the movie: [start, end).
    public var stall = 0.4..<0.6
    /// Branch amplitude before and after the buckling step (fraction of the radius).
    public var branchBefore = 0.06, branchAfter = 0.22
    public var branches = 5
    public var migratingCells = 8
    public var camera = Camera()
    public init() {}

    /// Area scale factor at frame t: grows, holds during the stall, grows again.
    public func growth(_ t: Int, of count: Int) -> Double {
        let n = Double(max(count - 1, 1))
        let f = Double(t) / n
        let active = min(f, stall.lowerBound) + max(0, f - stall.upperBound)
        return 1 + growthPerFrame * n * active
    }

    public func radius(_ theta: Double, _ t: Int, of count: Int, phase: Double) -> Double {
        let f = Double(t) / Double(max(count - 1, 1))
        let amplitude = f < stall.upperBound ? branchBefore : branchAfter
        // Radius scaled so the area follows `growth` (the branch term adds area ∝ amplitude²/2).
        let base = initialRadius * (growth(t, of: count) / (1 + amplitude * amplitude / 2)).squareRoot()
        return base * (1 + amplitude * cos(Double(branches) * theta + phase))
    }

    public func frame(_ t: Int, of count: Int, seed: UInt64) -> MovieFrame {
        let fixed = SeededRandom(seed: SeededRandom.derive(seed, 0x7155))
        let phase = fixed.uniform() * 2 * .pi
        let cx = Double(width) / 2 + fixed.gaussian(sigma: 5), cy = Double(height) / 2 + fixed.gaussian(sigma: 5)
        // Migrating cells: each on a slow straight path.
        var cells: [(x: Double, y: Double)] = []
        for _ in 0..<migratingCells {
            let x0 = fixed.uniform() * Double(width), y0 = fixed.uniform() * Double(height)
            let a = fixed.uniform() * 2 * .pi, v = 0.5 + fixed.uniform() * 1.5
            cells.append((x0 + cos(a) * v * Double(t), y0 + sin(a) * v * Double(t)))
        }
        let level = camera.backgroundPhotons
        var field = [Double](repeating: level, count: width * height)
        // Phase contrast: the tissue a little brighter than the medium, with a bright halo at its edge.
        for r in 0..<height {
            for c in 0..<width {
                let dx = Double(c) - cx, dy = Double(r) - cy
                let rho = hypot(dx, dy), theta = atan2(dy, dx)
                let edge = radius(theta, t, of: count, phase: phase)
                let inside = 1 / (1 + exp((rho - edge) / 1.0))
                let halo = exp(-pow(rho - edge - 2.5, 2) / (2 * 1.5 * 1.5))
                field[r * width + c] += level * (0.35 * inside + 0.45 * halo)
            }
        }
        for p in cells { addGaussian(&field, width, height, p.x, p.y, 4, level * 0.5) }
        let outline: [[Double]] = (0..<64).map { k in
            let theta = 2 * Double.pi * Double(k) / 64
            let rr = radius(theta, t, of: count, phase: phase)
            return [cx + rr * cos(theta), cy + rr * sin(theta)]
        }
        let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(t) &+ 1))
        return MovieFrame(image: camera.expose(field, width: width, height: height, rng: rng),
                          objects: [MovieObject(id: "tissue_t\(t)", track: "tissue", kind: "polygon", label: "tissue", points: outline)])
    }
}

/// A mouse seen from below walking across the field: nose, four paws (digits) and tail base as
/// labelled keypoints; the paws step in a diagonal (trot) gait; contrast varies over the movie.
public struct MouseScene: MovieScene, Equatable {
    public var name: String { "mouse" }
    public var width = 320, height = 240
    /// Body speed, px per frame, and stride period in frames.
    public var speed = 4.0
    public var stridePeriod = 8.0
    public var camera = Camera()
    public static let labels = ["nose", "fore_left", "fore_right", "hind_left", "hind_right", "tail_base"]
    public init() {}

    public func keypoints(_ t: Int, seed: UInt64) -> [(String, Double, Double)] {
        let fixed = SeededRandom(seed: SeededRandom.derive(seed, 0x0305E))
        let y0 = Double(height) / 2 + fixed.gaussian(sigma: 8)
        let bx = 60 + speed * Double(t), by = y0 + 6 * sin(Double(t) / 9)
        let phase = 2 * Double.pi * Double(t) / stridePeriod
        // Diagonal pairs move together: fore-left with hind-right.
        let swingA = 7 * sin(phase), swingB = 7 * sin(phase + .pi)
        return [("nose", bx + 38, by),
                ("fore_left", bx + 20 + swingA, by - 14), ("fore_right", bx + 20 + swingB, by + 14),
                ("hind_left", bx - 18 + swingB, by - 16), ("hind_right", bx - 18 + swingA, by + 16),
                ("tail_base", bx - 34, by)]
    }

    public func frame(_ t: Int, of count: Int, seed: UInt64) -> MovieFrame {
        let kp = keypoints(t, seed: seed)
        let level = camera.backgroundPhotons
        // Contrast swings between 40 % and 100 % over the movie (lighting, focus).
        let contrast = 0.7 + 0.3 * cos(2 * .pi * Double(t) / Double(max(count, 2)))
        var field = [Double](repeating: level, count: width * height)
        let body = kp.first { $0.0 == "nose" }!, tail = kp.first { $0.0 == "tail_base" }!
        let cx = (body.1 + tail.1) / 2, cy = (body.2 + tail.2) / 2
        for r in 0..<height {
            for c in 0..<width {
                let dx = (Double(c) - cx) / 36, dy = (Double(r) - cy) / 16
                if dx * dx + dy * dy < 1 { field[r * width + c] += level * 0.6 * contrast }
            }
        }
        for (label, x, y) in kp where label != "tail_base" {
            addGaussian(&field, width, height, x, y, label == "nose" ? 3 : 2.5, level * 1.2 * contrast)
        }
        addGaussian(&field, width, height, tail.1, tail.2, 3, level * 0.9 * contrast)
        let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(t) &+ 1))
        let objects = kp.map { MovieObject(id: "\($0.0)_t\(t)", track: $0.0, kind: "point", label: $0.0, points: [[$0.1, $0.2]]) }
        return MovieFrame(image: camera.expose(field, width: width, height: height, rng: rng), objects: objects)
    }
}
