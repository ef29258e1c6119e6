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
    /// Look-alikes in the image (local maxima that are no object), where false clicks land; nil when
    /// no image was given (false clicks are then uniform).
    public var structure: LookAlikes?
    public var objectCount: Int { xs.count }

    /// Objects in the order a person reads the image: bands of 40 px from the top, alternating
    /// direction. Workers click what they chose in this order (it sets the distances they move).
    public var readingOrder: [Int] {
        let band = 40.0
        return xs.indices.sorted { a, b in
            let ba = Int((Double(height) - ys[a]) / band), bb = Int((Double(height) - ys[b]) / band)
            if ba != bb { return ba < bb }
            if xs[a] != xs[b] { return ba % 2 == 0 ? xs[a] < xs[b] : xs[a] > xs[b] }
            return a < b
        }
    }

    /// The task as the population's workers see it in the portal: blobs at their resolution, in
    /// screen pixels (`Population.displayScale`).
    public func asShown(to population: Population) -> ImageTask {
        resolved(at: population.resolution * population.displayScale(width: width))
    }

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
        // A set's root is its smallest member (unions point the larger root at the smaller), so
        // blobs come out in order of their first object, each averaged in member order.
        let n = xs.count
        var root = [Int](repeating: 0, count: n)
        var merged = false
        for i in 0..<n { root[i] = find(i); if root[i] != i { merged = true } }
        if !merged { return self }
        var sumX = [Double](repeating: 0, count: n), sumY = sumX, top = sumX, count = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let r = root[i]
            sumX[r] += xs[i]; sumY[r] += ys[i]
            top[r] = count[r] == 0 ? visibility[i] : max(top[r], visibility[i]); count[r] += 1
        }
        var out = self
        out.xs = []; out.ys = []; out.visibility = []
        for r in 0..<n where root[r] == r {
            out.xs.append(sumX[r] / Double(count[r])); out.ys.append(sumY[r] / Double(count[r])); out.visibility.append(top[r])
        }
        return out
    }

    public init(name: String, width: Int, height: Int, xs: [Double], ys: [Double], visibility: [Double],
                distractorXs: [Double] = [], distractorYs: [Double] = [], structure: LookAlikes? = nil) {
        self.name = name; self.width = width; self.height = height; self.xs = xs; self.ys = ys
        self.visibility = visibility; self.distractorXs = distractorXs; self.distractorYs = distractorYs
        self.structure = structure
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
        return min(0.9, worker.falseFactor * (population.falsePositiveFirst + (population.falsePositiveLater - population.falsePositiveFirst) * f))
    }

    /// Annotates; `annotationIndex` is the worker's count of earlier annotations in the job and is
    /// advanced. `budget` is the clicks on objects this worker spends on this image (`Population.clickBudget`).
    /// Clicks are whole pixels, as the portal records them; timestamps in ms from the image's start.
    public func annotate(_ task: ImageTask, worker: WorkerAgent, budget: Double,
                         annotationIndex: inout Int, rng: SeededRandom, into out: inout [Vertex]) {
        annotate(task, readingOrder: task.readingOrder, worker: worker, budget: budget,
                 annotationIndex: &annotationIndex, rng: rng, into: &out)
    }

    /// The worker-independent part of detection, `1/(1 + exp(-(v - threshold)/width))`, per object.
    public func detectability(_ task: ImageTask) -> [Double] {
        task.visibility.map { 1 / (1 + exp(-($0 - population.detectionThreshold) / population.detectionWidth)) }
    }

    /// As above, with what is the same for every worker of the task computed once by the caller:
    /// its reading order and its objects' detectability.
    public func annotate(_ task: ImageTask, readingOrder: [Int], detectability: [Double]? = nil, worker: WorkerAgent, budget: Double,
                         annotationIndex: inout Int, rng: SeededRandom, into out: inout [Vertex]) {
        let chosen = noticed(task, readingOrder: readingOrder, detectability: detectability ?? self.detectability(task), worker: worker, budget: budget, rng: rng)
        // Room for the chosen objects and the false clicks expected among them (one allocation).
        out.reserveCapacity(out.count + chosen.count + chosen.count / 8 + 4)
        // A worker's pointing error is on the screen: in image pixels it grows by the display scale.
        let scale = population.displayScale(width: task.width)
        let sigma = worker.rmse * scale / 2.0.squareRoot()
        var t = population.firstClickDelay * 1000 * exp(0.3 * rng.gaussian(sigma: 1))
        let maxX = Double(task.width - 1), maxY = Double(task.height)
        var next = 0
        var firstClick = true
        while next < chosen.count {
            let fp = falsePositiveRate(worker, annotationIndex)
            var x: Double, y: Double
            if rng.uniform() < fp {
                (x, y) = falseClick(task, sigma: sigma, rng: rng)
            } else {
                let i = chosen[next]; next += 1
                x = task.xs[i] + rng.gaussian(sigma: sigma); y = task.ys[i] + rng.gaussian(sigma: sigma)
            }
            if firstClick { firstClick = false } else {
                t += worker.period * 1000 * exp(clickPeriodLogSD * rng.gaussian(sigma: 1) - 0.5 * clickPeriodLogSD * clickPeriodLogSD)
            }
            if scale > 1 {
                // The portal records the screen pixel clicked: columns, and rows from the top, on its lattice.
                x = DisplayScale.record(x, scale: scale); y = Double(task.height) - DisplayScale.record(Double(task.height) - y, scale: scale)
            }
            out.append(Vertex(x: min(max(roundToPixel(x), 0), maxX), y: min(max(roundToPixel(y), 0), maxY), timestamp: roundToPixel(t)))
            annotationIndex += 1
        }
    }
}

extension Annotator {
    /// The objects a worker clicks on an image, in the order they click them.
    func noticed(_ task: ImageTask, readingOrder: [Int], detectability: [Double], worker: WorkerAgent, budget: Double, rng: SeededRandom) -> [Int] {
        // Objects this worker notices, in reading order (the order they are clicked in). Noticing
        // is the psychometric curve read as a latent salience: the worker perceives an object at
        // its visibility plus logistic noise of scale `width`, and notices it when that exceeds the
        // threshold (and their attention, the plateau, does not lapse).
        var chosen: [Int] = [], draw: [Double] = []
        chosen.reserveCapacity(task.objectCount); draw.reserveCapacity(task.objectCount)
        for i in readingOrder {
            let attends = rng.uniform() < worker.plateau
            let u = rng.uniform()
            if attends && u > 1 - detectability[i] { chosen.append(i); draw.append(u) }
        }
        // A worker spends a budget of clicks on an image whatever it holds (real crowds click 50-95
        // times on smFISH fields of 145-268 spots). When they notice more than that, the clicks go
        // to what they perceive as most salient, wherever it is in the image: faint objects lose
        // out for everyone, so a bigger crowd does not recover them.
        let spend = Int(budget + rng.uniform())
        if spend < chosen.count {
            let width = population.detectionWidth
            let salience = chosen.indices.map { k in task.visibility[chosen[k]] + width * log(draw[k] / max(1 - draw[k], 1e-300)) }
            let ranked = chosen.indices.sorted { salience[$0] != salience[$1] ? salience[$0] > salience[$1] : $0 < $1 }
            var keep = [Bool](repeating: false, count: chosen.count)
            for k in ranked.prefix(spend) { keep[k] = true }
            chosen = chosen.indices.filter { keep[$0] }.map { chosen[$0] }
        }
        return chosen
    }

    /// Where a false click lands: a distractor, a look-alike in the image, structure beside an
    /// object, or anywhere.
    func falseClick(_ task: ImageTask, sigma: Double, rng: SeededRandom) -> (Double, Double) {
        let maxX = Double(task.width - 1), maxY = Double(task.height)
        var x: Double, y: Double
        if !task.distractorXs.isEmpty && rng.uniform() < population.distractorConfusion {
            let d = rng.int(task.distractorXs.count)
            x = task.distractorXs[d] + rng.gaussian(sigma: sigma); y = task.distractorYs[d] + rng.gaussian(sigma: sigma)
        } else if let s = task.structure, !s.xs.isEmpty && rng.uniform() < population.structureShare {
            // Image structure that looks like an object to this worker: a look-alike drawn
            // by how detectable it is, so bright untruthed spots draw the same false clicks
            // from many workers (and the consensus keeps some, as real ones do).
            let k = s.draw(rng.uniform())
            x = s.xs[k] + rng.gaussian(sigma: sigma); y = s.ys[k] + rng.gaussian(sigma: sigma)
        } else if population.nearObjectShare > 0 && task.objectCount > 0 && rng.uniform() < population.nearObjectShare {
            // Structure beside an object (real false clicks hug what the truth marks).
            (x, y) = besideObject(task, rng: rng)
        } else {
            x = rng.uniform() * maxX; y = rng.uniform() * maxY
        }
        return (x, y)
    }

    /// A point beside a random object: a normal offset of SD `nearObjectSD`, redrawn (up to 50
    /// times) while within `nearObjectInner` px of the object.
    func besideObject(_ task: ImageTask, rng: SeededRandom) -> (Double, Double) {
        let k = rng.int(task.objectCount), s = population.nearObjectSD, inner2 = population.nearObjectInner * population.nearObjectInner
        var dx = 0.0, dy = 0.0
        for _ in 0..<50 {
            dx = rng.gaussian(sigma: s); dy = rng.gaussian(sigma: s)
            if dx * dx + dy * dy > inner2 { break }
        }
        return (task.xs[k] + dx, task.ys[k] + dy)
    }
}

/// Rounds half away from zero, like `rounded()`, without a call into libm (hot in the click loop).
@inline(__always) func roundToPixel(_ v: Double) -> Double {
    guard abs(v) < 1e15 else { return v.rounded() }
    return Double(Int64(v + (v >= 0 ? 0.5 : -0.5)))
}
