import Foundation

extension ReplayCurve {
    /// The least any stopping rule could pay on this export: each image given the number of workers
    /// (one of the fixed designs played) that an oracle knowing the truth would choose, the fewest
    /// assignments in all for which the consensus reaches a reference design's F1 less a tolerance.
    /// Where a policy stands between the fixed curve and this figure says how much room is left
    /// for a better stopping rule.
    public struct Oracle: Sendable, Equatable {
        /// The fixed design whose F1 is to be reached (fixed:10 by default).
        public var reference: Int
        /// The reference's F1 (tp, fp and fn of each image averaged over the orders, then pooled) less the tolerance.
        public var targetF1: Double
        /// Knowing each image's F1 against the truth averaged over the orders: the assignments, and
        /// the workers chosen per image.
        public var assignments: Int
        public var workers: [String: Int]
        /// The reference's assignments on the same images (those with truth).
        public var referenceAssignments: Int
        /// Knowing also which workers each order brought: each order's least assignments for its own
        /// reference F1 less the tolerance (a bound no rule reaches, since it would know the truth
        /// of every worker to come).
        public var perOrderAssignments: [Int]
        public var share: Double { Double(assignments) / Double(max(1, referenceAssignments)) }
        public var perOrderShare: Double {
            Double(perOrderAssignments.reduce(0, +)) / Double(max(1, perOrderAssignments.count * referenceAssignments))
        }
    }

    /// The oracle for `fixed:reference` less `tolerance` (a stopping rule is held to
    /// fixed:10's F1 within 0.005). Nil when the reference was not played or no image has truth.
    public func oracle(reference: Int = ReplayCurve.reference, tolerance: Double = 0.005) -> Oracle? {
        let designs = fixed
        guard let ref = designs.first(where: { $0.fixedWorkers == reference }), let orders = ref.imageScores.indices.last.map({ $0 + 1 }),
              designs.allSatisfy({ $0.imageScores.count == orders && $0.imageWorkers.count == orders }) else { return nil }
        let images = ref.imageScores[0].keys.sorted()
        guard !images.isEmpty else { return nil }
        // Per image and design: tp, fp, fn averaged over the orders, and the workers it pays.
        func mean(_ p: Point, _ image: String) -> (tp: Double, fp: Double, fn: Double) {
            let s = p.imageScores.reduce(DetectionScore()) { $0 + ($1[image] ?? DetectionScore()) }
            let n = Double(orders)
            return (Double(s.tp) / n, Double(s.fp) / n, Double(s.fn) / n)
        }
        func choices(_ order: Int?) -> [[(workers: Int, tp: Double, fp: Double, fn: Double)]] {
            images.map { image in
                designs.map { p in
                    let w = p.imageWorkers[order ?? 0][image] ?? p.fixedWorkers!
                    if let o = order { let s = p.imageScores[o][image] ?? DetectionScore(); return (w, Double(s.tp), Double(s.fp), Double(s.fn)) }
                    let m = mean(p, image)
                    return (w, m.tp, m.fp, m.fn)
                }
            }
        }
        func target(_ c: [[(workers: Int, tp: Double, fp: Double, fn: Double)]]) -> Double {
            let k = designs.firstIndex { $0.fixedWorkers == reference }!
            let tp = c.reduce(0) { $0 + $1[k].tp }, errors = c.reduce(0) { $0 + $1[k].fp + $1[k].fn }
            return tp + errors == 0 ? 0 : 2 * tp / (2 * tp + errors) - tolerance
        }
        let expected = choices(nil), goal = target(expected)
        guard let best = Self.leastAssignments(expected, reaching: goal) else { return nil }
        let perOrder = (0..<orders).compactMap { o -> Int? in
            let c = choices(o)
            return Self.leastAssignments(c, reaching: target(c))?.total
        }
        let referenceAssignments = images.reduce(0) { $0 + (ref.imageWorkers[0][$1] ?? reference) }
        return Oracle(reference: reference, targetF1: goal, assignments: best.total,
                      workers: Dictionary(uniqueKeysWithValues: zip(images, best.workers)),
                      referenceAssignments: referenceAssignments, perOrderAssignments: perOrder)
    }

    /// Fewest workers in all, one choice per image, whose pooled counts give F1 ≥ `goal`. F1 ≥ t is
    /// linear in the counts (2(1 − t)·tp − t·(fp + fn) ≥ 0), so this is a multiple-choice knapsack,
    /// solved exactly by dynamic programming over the total workers.
    static func leastAssignments(_ choices: [[(workers: Int, tp: Double, fp: Double, fn: Double)]],
                                 reaching goal: Double) -> (total: Int, workers: [Int])? {
        let most = choices.reduce(0) { $0 + ($1.map(\.workers).max() ?? 0) }
        var best = [Double](repeating: -.infinity, count: most + 1)
        best[0] = 0
        var picked: [[Int]] = []   // picked[i][b]: the choice of image i on the best path to total b
        for c in choices {
            var next = [Double](repeating: -.infinity, count: most + 1), pick = [Int](repeating: -1, count: most + 1)
            for b in 0...most where best[b] > -.infinity {
                for (j, o) in c.enumerated() where b + o.workers <= most {
                    let v = best[b] + 2 * (1 - goal) * o.tp - goal * (o.fp + o.fn)
                    if v > next[b + o.workers] { next[b + o.workers] = v; pick[b + o.workers] = j }
                }
            }
            best = next; picked.append(pick)
        }
        guard let total = best.indices.first(where: { best[$0] >= -1e-9 }) else { return nil }
        var workers: [Int] = [], b = total
        for i in choices.indices.reversed() {
            let o = choices[i][picked[i][b]]
            workers.append(o.workers); b -= o.workers
        }
        return (total, workers.reversed())
    }
}
