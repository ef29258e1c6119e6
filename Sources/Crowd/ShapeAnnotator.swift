import Consensus
import Foundation
import Randomness

/// Workers drawing shapes on movie frames, in the Quanti.us export format: polylines traced along
/// filaments (vertex spacing, lateral error, stopping or jumping at crossings), polygons outlined
/// around objects (vertex count, boundary error, a worker's own inflation, an occasional errant
/// outline), and labelled crosshairs (one annotation per label, in the truth's label order).
/// Worker traits come from the population (pointing error, detection, speed, carelessness); the
/// drawing traits are drawn per worker from the seed.
public struct ShapeSimulation: Sendable {
    public enum Tool: String, Sendable, CaseIterable { case polyline, polygon, crosshairs }

    public var population: Population
    public var replicates: Int
    public var seed: UInt64
    public var tool: Tool
    /// Chances, at each crossing a trace passes, of stopping there or following the other filament.
    public var stopAtCrossing = 0.12
    public var jumpAtCrossing = 0.04
    /// Chance of an errant outline (careless workers: ten times more).
    public var errantOutline = 0.02

    public init(population: Population, replicates: Int, seed: UInt64, tool: Tool) {
        self.population = population; self.replicates = replicates; self.seed = seed; self.tool = tool
    }

    /// One frame: its image name, size and truth objects in the export's coordinates (y up).
    public struct Frame: Sendable {
        public var image: String
        public var width: Int
        public var height: Int
        public var objects: [ShapeTruth.Object]
        public init(image: String, width: Int, height: Int, objects: [ShapeTruth.Object]) {
            self.image = image; self.width = width; self.height = height; self.objects = objects
        }
    }

    public func run(_ frames: [Frame]) -> QuantiusExport {
        let pool = CrowdPool(population: population, size: max(replicates * 4, 40), seed: seed)
        var running: [Double] = []
        var sum = 0.0
        for w in pool.workers { sum += w.activity; running.append(sum) }
        let cumulative = running, total = sum
        let records: [[ExportRecord]] = Array(frames.indices).parallelMap { k in
            let frame = frames[k]
            let pick = SeededRandom(seed: SeededRandom.derive(seed, 0x5A00_0000 &+ UInt64(k)))
            var chosen: [Int] = []
            while chosen.count < min(replicates, pool.workers.count) {
                let u = pick.uniform() * total
                let w = cumulative.firstIndex { $0 >= u } ?? pool.workers.count - 1
                if !chosen.contains(w) { chosen.append(w) }
            }
            return chosen.map { w in
                let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(k) << 20 &+ UInt64(w)))
                let traits = SeededRandom(seed: SeededRandom.derive(seed, 0x7A17_0000 &+ UInt64(w)))
                return draw(frame, worker: pool.workers[w], traits: traits, rng: rng)
            }
        }
        return QuantiusExport(records: records.flatMap { $0 })
    }

    func draw(_ frame: Frame, worker: WorkerAgent, traits: SeededRandom, rng: SeededRandom) -> ExportRecord {
        let sigma = worker.rmse / 2.0.squareRoot()
        let spacing = 6 + traits.uniform() * 8
        let polygonVertices = 10 + traits.int(14)
        let inflation = 1 + traits.gaussian(sigma: 0.025)
        var t = population.firstClickDelay * 1000
        var shapes: [[Vertex]] = []
        func stamp() -> Double { t += worker.period * 1000 * (0.5 + rng.uniform()) * 0.6; return t.rounded() }
        func vertex(_ x: Double, _ y: Double) -> Vertex {
            Vertex(x: min(max((x + rng.gaussian(sigma: sigma)).rounded(), 0), Double(frame.width - 1)),
                   y: min(max((y + rng.gaussian(sigma: sigma)).rounded(), 0), Double(frame.height)), timestamp: stamp())
        }
        let detect = min(1, worker.plateau + (1 - worker.plateau) * 0.5)
        switch tool {
        case .crosshairs:
            // One annotation per label, so the label travels with the click.
            for o in frame.objects {
                guard let p = o.points.first else { continue }
                shapes.append(rng.uniform() < detect ? [vertex(p[0], p[1])] : [])
            }
        case .polygon:
            for o in frame.objects where o.kind == "polygon" && o.points.count >= 3 {
                guard rng.uniform() < detect else { continue }
                let xs = o.points.map { $0[0] }, ys = o.points.map { $0[1] }
                let c = Geometry.centroid(xs, ys, closed: true)
                let errant = rng.uniform() < errantOutline * (worker.careless ? 10 : 1)
                let scale = errant ? 2.5 : inflation
                let perimeter = Geometry.length(xs, ys, closed: true)
                let (rx, ry) = Geometry.resample(xs + [xs[0]], ys + [ys[0]], step: perimeter / Double(polygonVertices * 8))
                let start = rng.int(max(1, rx.count))
                var shape: [Vertex] = []
                for j in 0..<polygonVertices {
                    let i = (start + j * rx.count / polygonVertices) % rx.count
                    shape.append(vertex(c.x + (rx[i] - c.x) * scale, c.y + (ry[i] - c.y) * scale))
                }
                shapes.append(shape)
            }
        case .polyline:
            let lines = frame.objects.filter { $0.kind == "polyline" && $0.points.count >= 2 }
            for (li, o) in lines.enumerated() {
                guard rng.uniform() < detect else { continue }
                var path = o.points.map { ($0[0], $0[1]) }
                if rng.uniform() < 0.5 { path.reverse() }
                // Ends placed with the pointing error along the line.
                path = extendEnds(path, start: rng.gaussian(sigma: sigma), end: rng.gaussian(sigma: sigma))
                // Crossings along the way, in order: stop there, or follow the other filament.
                var crossings: [(s: Double, x: Double, y: Double, other: Int)] = []
                for (oj, other) in lines.enumerated() where oj != li {
                    for hit in intersections(path, other.points.map { ($0[0], $0[1]) }) { crossings.append((hit.s, hit.x, hit.y, oj)) }
                }
                crossings.sort { $0.s < $1.s }
                for c in crossings {
                    let u = rng.uniform()
                    if u < stopAtCrossing {
                        path = truncate(path, at: c.s); break
                    } else if u < stopAtCrossing + jumpAtCrossing {
                        let head = truncate(path, at: c.s)
                        let other = lines[c.other].points.map { ($0[0], $0[1]) }
                        // Continue toward the end of the other filament that turns least.
                        let dir = (head.last!.0 - head[max(0, head.count - 2)].0, head.last!.1 - head[max(0, head.count - 2)].1)
                        let a = other.first!, b = other.last!
                        let toA = (a.0 - c.x) * dir.0 + (a.1 - c.y) * dir.1, toB = (b.0 - c.x) * dir.0 + (b.1 - c.y) * dir.1
                        path = head + [toA > toB ? a : b]
                        break
                    }
                }
                let (vx, vy) = Geometry.resample(path.map(\.0), path.map(\.1), step: spacing * (0.8 + 0.4 * rng.uniform()))
                guard vx.count >= 2 else { continue }
                shapes.append(zip(vx, vy).map { vertex($0, $1) })
            }
        }
        let type: AnnotationType = tool == .crosshairs ? .crosshairs : (tool == .polygon ? .polygon : .polyline)
        return ExportRecord(imageFilename: frame.image, workerID: worker.id, annotationType: type, width: frame.width, height: frame.height,
                            timeWhenCompleted: nil, rawData: shapes)
    }

    func extendEnds(_ p: [(Double, Double)], start: Double, end: Double) -> [(Double, Double)] {
        guard p.count >= 2 else { return p }
        var out = p
        func unit(_ a: (Double, Double), _ b: (Double, Double)) -> (Double, Double) {
            let l = max(1e-9, hypot(b.0 - a.0, b.1 - a.1)); return ((b.0 - a.0) / l, (b.1 - a.1) / l)
        }
        let u0 = unit(p[1], p[0]), u1 = unit(p[p.count - 2], p[p.count - 1])
        out[0] = (p[0].0 + u0.0 * start, p[0].1 + u0.1 * start)
        out[out.count - 1] = (p[p.count - 1].0 + u1.0 * end, p[p.count - 1].1 + u1.1 * end)
        return out
    }

    /// Where a path crosses another line: arc length along the path and the point.
    func intersections(_ path: [(Double, Double)], _ other: [(Double, Double)]) -> [(s: Double, x: Double, y: Double)] {
        var out: [(Double, Double, Double)] = []
        var s0 = 0.0
        for i in 1..<path.count {
            let (ax, ay) = path[i - 1], (bx, by) = path[i]
            let segment = hypot(bx - ax, by - ay)
            for j in 1..<max(1, other.count) where other.count >= 2 {
                let (cx, cy) = other[j - 1], (dx, dy) = other[j]
                let den = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx)
                guard abs(den) > 1e-12 else { continue }
                let u = ((cx - ax) * (dy - cy) - (cy - ay) * (dx - cx)) / den
                let v = ((cx - ax) * (by - ay) - (cy - ay) * (bx - ax)) / den
                if u > 0, u < 1, v >= 0, v <= 1 { out.append((s0 + u * segment, ax + u * (bx - ax), ay + u * (by - ay))) }
            }
            s0 += segment
        }
        return out.map { (s: $0.0, x: $0.1, y: $0.2) }
    }

    func truncate(_ path: [(Double, Double)], at s: Double) -> [(Double, Double)] {
        var out = [path[0]]
        var acc = 0.0
        for i in 1..<path.count {
            let l = hypot(path[i].0 - path[i - 1].0, path[i].1 - path[i - 1].1)
            if acc + l >= s {
                let f = l > 0 ? (s - acc) / l : 0
                out.append((path[i - 1].0 + f * (path[i].0 - path[i - 1].0), path[i - 1].1 + f * (path[i].1 - path[i - 1].1)))
                return out
            }
            out.append(path[i]); acc += l
        }
        return out
    }
}
