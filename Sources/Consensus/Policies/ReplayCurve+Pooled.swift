import Foundation

extension ReplayCurve {
    /// Several exports' curves as one job's: each export replayed and analysed on its own (its own
    /// workers' weights, its own vote), then each design's orders pooled across them. Assignments
    /// add; F1 is taken from the pooled counts of every image with truth (each image is matched to
    /// its own truth, so its true, false and missed objects add), not averaged over exports, so an
    /// export of many objects weighs as much as it holds. The curves must hold the same designs in
    /// the same order over the same number of orders; nil otherwise, or when `curves` is empty.
    public static func pooled(_ curves: [ReplayCurve]) -> ReplayCurve? {
        guard let first = curves.first else { return nil }
        let designs = first.points.map(\.policy)
        guard curves.allSatisfy({ $0.points.map(\.policy) == designs }) else { return nil }
        var points: [Point] = []
        for k in first.points.indices {
            guard let pooled = Point.pooled(curves.map { $0.points[k] }) else { return nil }
            points.append(pooled)
        }
        return ReplayCurve(points: points)
    }
}

extension ReplayCurve.Point {
    /// One design's orders pooled over several exports (`ReplayCurve.pooled`): per order, the
    /// exports' assignments summed, their per-image figures joined and F1 recomputed from the summed
    /// counts. Nil unless every point names the same design and holds the same number of orders
    /// with per-image scores.
    static func pooled(_ points: [Self]) -> Self? {
        guard let first = points.first, points.allSatisfy({ $0.policy == first.policy && $0.fixedWorkers == first.fixedWorkers }) else { return nil }
        let orders = first.assignments.count
        guard points.allSatisfy({ $0.assignments.count == orders && $0.imageScores.count == orders && $0.imageWorkers.count == orders }) else { return nil }
        var out = Self(policy: first.policy, fixedWorkers: first.fixedWorkers)
        for o in 0..<orders {
            out.assignments.append(points.reduce(0) { $0 + $1.assignments[o] })
            let scores = points.reduce(into: [String: DetectionScore]()) { $0.merge($1.imageScores[o]) { a, b in a + b } }
            out.imageScores.append(scores)
            out.f1.append(scores.values.reduce(DetectionScore(), +).f1)
            out.imageWorkers.append(points.reduce(into: [String: Int]()) { $0.merge($1.imageWorkers[o]) { a, b in a + b } })
            if points.allSatisfy({ $0.imageObjects.count == orders }) {
                out.imageObjects.append(points.reduce(into: [String: (xs: [Double], ys: [Double])]()) { $0.merge($1.imageObjects[o]) { a, _ in a } })
            }
            if points.allSatisfy({ $0.imageMissed.count == orders }) {
                out.imageMissed.append(points.reduce(into: [String: Double]()) { $0.merge($1.imageMissed[o]) { a, b in a + b } })
            }
            if points.allSatisfy({ $0.errors.count == orders }) {
                out.errors.append(points.map { $0.errors[o] }.reduce(ErrorBreakdown(), +))
            }
        }
        return out
    }
}
