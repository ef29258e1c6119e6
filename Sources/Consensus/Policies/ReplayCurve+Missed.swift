import Foundation

extension ReplayCurve {
    /// The objects fixed:K's consensus was expected to miss that twice the workers find
    /// (`MissedObjects`), against what fixed:2K found in the same orders and fixed:K did not: the
    /// estimate checked on the export itself, no truth needed.
    public struct MissedCheck: Sendable, Equatable {
        public var workers: Int
        /// Images with an estimate, and the objects summed over them: means over the orders.
        public var images: Double
        public var expected: Double
        public var found: Double
    }

    /// One check for every fixed:K whose fixed:2K was played over the same orders; objects match
    /// within `radius`.
    public func missedChecks(radius: Double) -> [MissedCheck] {
        let byWorkers = Dictionary(fixed.map { ($0.fixedWorkers!, $0) }, uniquingKeysWith: { first, _ in first })
        return fixed.compactMap { few in
            guard let many = byWorkers[2 * few.fixedWorkers!], few.imageMissed.count == many.imageObjects.count,
                  !few.imageMissed.isEmpty else { return nil }
            var expected = 0.0, found = 0.0, images = 0
            for o in few.imageMissed.indices {
                for (image, missed) in few.imageMissed[o].sorted(by: { $0.key < $1.key }) {
                    guard let a = many.imageObjects[o][image], let b = few.imageObjects[o][image] else { continue }
                    expected += missed
                    found += Double(matchPoints(ax: a.xs, ay: a.ys, bx: b.xs, by: b.ys, radius: radius).unmatchedA)
                    images += 1
                }
            }
            guard images > 0 else { return nil }
            let orders = Double(few.imageMissed.count)
            return MissedCheck(workers: few.fixedWorkers!, images: Double(images) / orders,
                               expected: expected / orders, found: found / orders)
        }
    }
}
