import Foundation

/// F1 against assignments on one real export: fixed designs over a range of K and any other
/// policies, each played over the same arrival orders, so a planner sees what every extra worker
/// buys and where a policy stands against the fixed curve at its own cost.
public struct ReplayCurve: Sendable {
    public struct Point: Sendable {
        public var policy: String
        /// Workers per image when the policy is fixed:K.
        public var fixedWorkers: Int?
        /// Each order's assignments and consensus F1.
        public var assignments: [Int]
        public var f1: [Double]
        /// Each order's score and workers used per image (what the per-image oracle chooses from).
        public var imageScores: [[String: DetectionScore]] = []
        public var imageWorkers: [[String: Int]] = []
        /// Each order's objects per image, and the objects twice the workers are expected to add
        /// (`MissedObjects`, where estimated): what `missedChecks` holds against fixed:2K.
        public var imageObjects: [[String: (xs: [Double], ys: [Double])]] = []
        public var imageMissed: [[String: Double]] = []
        /// Each order's misses and false objects by cause (clicks with truth).
        public var errors: [ErrorBreakdown] = []
        public var meanAssignments: Double { Double(assignments.reduce(0, +)) / Double(max(1, assignments.count)) }
        public var meanF1: Double { f1.reduce(0, +) / Double(max(1, f1.count)) }
        /// Standard deviation of F1 over the orders (0 for one order).
        public var sdF1: Double { sampleStandardDeviation(f1) }

        /// Adds one order: what the policy paid for and the consensus of that, scored.
        public mutating func record(_ replay: Replay.Result, _ analysed: Replay.Analysed) {
            assignments.append(replay.assignments)
            f1.append(analysed.overall?.f1 ?? 0)
            imageScores.append(analysed.imageScores)
            imageWorkers.append(replay.workersPerImage)
            imageObjects.append(analysed.imageObjects)
            imageMissed.append(analysed.imageMissed)
            if let e = analysed.errors { errors.append(e) }
        }

        /// The mean over the orders of each cause's count, in `ErrorBreakdown.causes` order; nil
        /// unless every order was broken down.
        public var meanErrors: [Double]? {
            guard !errors.isEmpty, errors.count == f1.count else { return nil }
            return errors.reduce(ErrorBreakdown(), +).counts.map { Double($0) / Double(errors.count) }
        }

        /// Adds one order whose clicks have been analysed.
        public mutating func record(_ replay: Replay.Result, _ analysis: AnalysisResult) {
            record(replay, Replay.Analysed(analysis))
        }
    }

    public var points: [Point]
    /// The fixed design the curve's page, JSON and oracle measure the others against: fixed:10, ten
    /// workers an image, a common paid design.
    public static let reference = 10
    public var fixed: [Point] { points.filter { $0.fixedWorkers != nil }.sorted { $0.fixedWorkers! < $1.fixedWorkers! } }
    public var others: [Point] { points.filter { $0.fixedWorkers == nil } }

    /// Plays `fixed:K` for every K in `fixedRange` (up to the most workers any image has) and each
    /// of `policies`, over `orders` arrival orders from `seed`, scoring each consensus against `truth`.
    /// `played` are policies a caller has already played over those orders (recorded with
    /// `Point.record`); they join the curve without being played again: a fixed design in its
    /// place among the fixed ones (outside `fixedRange` it is left off), any other ahead of `policies`.
    public static func run(_ export: QuantiusExport, truth: TruthSet, policies: [any ReplicatePolicy],
                           played: [Point] = [], fixedRange: ClosedRange<Int>, seed: UInt64, orders: Int,
                           options: AnalysisOptions = AnalysisOptions(),
                           progress: ((Int, Int) -> Void)? = nil) -> ReplayCurve {
        let most = mostWorkers(export)
        let ks = fixedRange.clamped(to: fixedRange.lowerBound...max(fixedRange.lowerBound, most))
        let playedFixed = Dictionary(played.compactMap { p in p.fixedWorkers.map { ($0, p) } }, uniquingKeysWith: { first, _ in first })
        let toPlay = ks.filter { playedFixed[$0] == nil }.count + policies.count
        var done = 0
        func playDesign(_ policy: any ReplicatePolicy, fixedWorkers k: Int?) -> Point {
            var p = Point(policy: policy.description, fixedWorkers: k)
            for o in 0..<orders {
                let r = Replay.run(export, policy: policy, seed: seed + UInt64(o))
                p.record(r, Replay.analyse(r, truth: truth, options: options))
            }
            done += 1
            progress?(done, toPlay)
            return p
        }
        let points = ks.map { playedFixed[$0] ?? playDesign(FixedReplicates(workers: $0), fixedWorkers: $0) }
            + played.filter { $0.fixedWorkers == nil } + policies.map { playDesign($0, fixedWorkers: nil) }
        return ReplayCurve(points: points)
    }

    /// The most workers any image of `export` has (submissions of the tool it is replayed by): the
    /// largest fixed design it can play.
    public static func mostWorkers(_ export: QuantiusExport) -> Int {
        var perImage: [String: Int] = [:]
        let replayed = Replay.Tool(of: export)?.annotationType
        for r in export.records where r.annotationType == replayed { perImage[r.imageFilename, default: 0] += 1 }
        return perImage.values.max() ?? 0
    }

    /// The assignments the fixed curve needs for a consensus F1 of `f1` (linear between the fixed
    /// designs around it; nil above the best of them).
    public func fixedAssignments(reaching f1: Double) -> Double? {
        let curve = fixed
        guard let first = curve.first else { return nil }
        if f1 <= first.meanF1 { return first.meanAssignments }
        for (a, b) in zip(curve, curve.dropFirst()) where b.meanF1 >= f1 && a.meanF1 < f1 {
            let t = (f1 - a.meanF1) / (b.meanF1 - a.meanF1)
            return a.meanAssignments + t * (b.meanAssignments - a.meanAssignments)
        }
        return nil
    }

    /// `point`'s F1 less `reference`'s, order by order over the same arrival orders: the mean and
    /// its standard error. The arrival order alone moves F1 (which workers came first); taken order
    /// by order most of that cancels, and a gap is read against what remains. Nil unless both were
    /// played over the same two or more orders.
    public func difference(_ point: Point, from reference: Point) -> (mean: Double, standardError: Double)? {
        let n = point.f1.count
        guard n >= 2, reference.f1.count == n else { return nil }
        let d = zip(point.f1, reference.f1).map { $0 - $1 }
        return (Consensus.mean(d), sampleStandardDeviation(d) / Double(n).squareRoot())
    }

    /// The fixed curve's F1 at `assignments` (linear between the designs around it; nil outside them).
    public func fixedF1(at assignments: Double) -> Double? {
        let curve = fixed
        for (a, b) in zip(curve, curve.dropFirst()) where a.meanAssignments <= assignments && assignments <= b.meanAssignments {
            let t = (assignments - a.meanAssignments) / max(1e-12, b.meanAssignments - a.meanAssignments)
            return a.meanF1 + t * (b.meanF1 - a.meanF1)
        }
        return curve.first { $0.meanAssignments == assignments }?.meanF1
    }
}

extension ReplayCurve.Point {
    /// A design not yet played: `record` adds its orders.
    public init(policy: String, fixedWorkers: Int? = nil) {
        self.init(policy: policy, fixedWorkers: fixedWorkers, assignments: [], f1: [])
    }
}
