import Consensus
import Foundation
import Randomness

/// What a worker sees of one image: objects in click coordinates (`y` from the bottom) with their
/// visibility (nominal SNR or measured contrast), and distractors that attract false clicks.
public struct ImageTask: Sendable {
    public var name: String
    public var width: Int
    public var height: Int
    public var xs: [Double]
    public var ys: [Double]
    public var visibility: [Double]
    public var distractorXs: [Double] = []
    public var distractorYs: [Double] = []
    public var objectCount: Int { xs.count }

    /// The task as a person sees it: objects closer than `resolution` px (single linkage) look like
    /// one blob, clicked once at its centre and as visible as its most visible member.
    public func resolved(at resolution: Double) -> ImageTask {
        guard resolution > 0, xs.count > 1 else { return self }
        var parent = Array(0..<xs.count)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        let grid = GridIndex(xs: xs, ys: ys, cell: resolution)
        for i in 0..<xs.count {
            for j in grid.neighbours(of: xs[i], ys[i], within: resolution) where j > i {
                let a = find(i), b = find(j); if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var members: [Int: [Int]] = [:]
        for i in 0..<xs.count { members[find(i), default: []].append(i) }
        if members.count == xs.count { return self }
        var out = self
        out.xs = []; out.ys = []; out.visibility = []
        for root in members.keys.sorted() {
            let m = members[root]!
            out.xs.append(m.map { xs[$0] }.reduce(0, +) / Double(m.count))
            out.ys.append(m.map { ys[$0] }.reduce(0, +) / Double(m.count))
            out.visibility.append(m.map { visibility[$0] }.max()!)
        }
        return out
    }

    public init(name: String, width: Int, height: Int, xs: [Double], ys: [Double], visibility: [Double],
                distractorXs: [Double] = [], distractorYs: [Double] = []) {
        self.name = name; self.width = width; self.height = height; self.xs = xs; self.ys = ys
        self.visibility = visibility; self.distractorXs = distractorXs; self.distractorYs = distractorYs
    }
}

/// One worker annotating one image with crosshairs: detection by a psychometric curve, effort
/// limited by pay, false positives that fall with experience, pointing error, and click times.
public struct Annotator: Sendable {
    public let population: Population
    /// Spread of single click periods about the worker's median (log-normal): people are not metronomes.
    public var clickPeriodLogSD = 0.4

    public init(population: Population) { self.population = population }

    /// Probability that `worker` clicks an object of visibility `v` when taking everything seen.
    @inline(__always) public func detection(_ worker: WorkerAgent, _ v: Double) -> Double {
        worker.plateau / (1 + exp(-(v - population.detectionThreshold) / population.detectionWidth))
    }

    /// False-positive share of annotation number `index` (0-based, counted over the worker's job).
    @inline(__always) public func falsePositiveRate(_ worker: WorkerAgent, _ index: Int) -> Double {
        if worker.careless { return population.carelessFalsePositive }
        let f = min(Double(index), Double(population.learningAnnotations)) / Double(population.learningAnnotations)
        return population.falsePositiveFirst + (population.falsePositiveLater - population.falsePositiveFirst) * f
    }

    /// Annotates; `annotationIndex` is the worker's count of earlier annotations in the job and is
    /// advanced. Clicks are whole pixels, as the portal records them; timestamps in ms from the image's start.
    public func annotate(_ task: ImageTask, worker: WorkerAgent, recallShare: Double,
                         annotationIndex: inout Int, rng: SeededRandom, into out: inout [Vertex]) {
        // Objects this worker will click, in a reading order (bands of 40 px, alternating direction).
        var chosen: [Int] = []
        chosen.reserveCapacity(task.objectCount)
        for i in 0..<task.objectCount where rng.uniform() < detection(worker, task.visibility[i]) * recallShare {
            chosen.append(i)
        }
        let band = 40.0
        chosen.sort { a, b in
            let ba = Int((Double(task.height) - task.ys[a]) / band), bb = Int((Double(task.height) - task.ys[b]) / band)
            if ba != bb { return ba < bb }
            return ba % 2 == 0 ? task.xs[a] < task.xs[b] : task.xs[a] > task.xs[b]
        }
        let sigma = worker.rmse / 2.0.squareRoot()
        var t = population.firstClickDelay * 1000 * exp(0.3 * rng.gaussian(sigma: 1))
        let maxX = Double(task.width - 1), maxY = Double(task.height)
        var next = 0
        var firstClick = true
        while next < chosen.count {
            let fp = falsePositiveRate(worker, annotationIndex)
            var x: Double, y: Double
            if rng.uniform() < fp {
                if !task.distractorXs.isEmpty && rng.uniform() < population.distractorConfusion {
                    let d = rng.int(task.distractorXs.count)
                    x = task.distractorXs[d] + rng.gaussian(sigma: sigma); y = task.distractorYs[d] + rng.gaussian(sigma: sigma)
                } else {
                    x = rng.uniform() * maxX; y = rng.uniform() * maxY
                }
            } else {
                let i = chosen[next]; next += 1
                x = task.xs[i] + rng.gaussian(sigma: sigma); y = task.ys[i] + rng.gaussian(sigma: sigma)
            }
            if firstClick { firstClick = false } else {
                t += worker.period * 1000 * exp(clickPeriodLogSD * rng.gaussian(sigma: 1) - 0.5 * clickPeriodLogSD * clickPeriodLogSD)
            }
            out.append(Vertex(x: min(max(x.rounded(), 0), maxX), y: min(max(y.rounded(), 0), maxY), timestamp: t.rounded()))
            annotationIndex += 1
        }
    }
}
