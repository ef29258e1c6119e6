import Foundation
import Randomness

/// One worker doing one image, on the marketplace clock (seconds from the job's posting).
public struct Assignment: Sendable, Equatable {
    public var image: Int
    public var worker: Int
    public var acceptTime: Double
    /// Filled in once the annotation is made (accept + first-click delay + clicks × period).
    public var submitTime: Double
}

/// A discrete-event marketplace: workers arrive at the HIT list (a Poisson process whose rate grows
/// with pay), are drawn by their Pareto activity (so a fifth of them do most of the work), take the
/// HIT if the pay is worth the work, do a run of images one after another, and leave.
public struct Marketplace: Sendable {
    public let pool: CrowdPool
    public let pay: Double

    public init(pool: CrowdPool, pay: Double) { self.pool = pool; self.pay = pay }

    public struct Schedule: Sendable {
        public var assignments: [Assignment]
        /// Arrivals that looked at the HIT and left without taking it.
        public var declined: Int
    }

    /// Schedules `replicates` distinct workers on each image. `expectedSeconds(image, worker)` is the
    /// time the worker is expected to spend on the image (used to advance that worker's clock).
    public func schedule(images: Int, objectsPerImage: [Double], replicates: Int, seed: UInt64,
                         expectedSeconds: (Int, Int) -> Double) -> Schedule {
        let p = pool.population
        let rng = SeededRandom(seed: SeededRandom.derive(seed, 0x5EED))
        let workers = pool.workers
        precondition(workers.count >= replicates, "the pool must hold at least as many workers as replicates")
        // Cumulative activity for drawing arrivals.
        var cumulative: [Double] = []
        var total = 0.0
        for w in workers { total += w.activity; cumulative.append(total) }
        let meanActivity = total / Double(workers.count)
        let rate = p.arrivalsPerHour * pow(max(pay, 1e-6) / p.referencePay, p.arrivalElasticity) / 3600
        var remaining = [Int](repeating: replicates, count: images)
        var open = Set(0..<images)
        var done = [Set<Int>](repeating: [], count: workers.count)
        var busyUntil = [Double](repeating: 0, count: workers.count)
        var assignments: [Assignment] = []
        var declined = 0
        var clock = 0.0
        var nextImage = 0
        var guardCount = 0
        while !open.isEmpty {
            guardCount += 1
            if guardCount > 50_000_000 { break }
            clock += rng.exponential(mean: 1 / rate)
            let u = rng.uniform() * total
            var lo = 0, hi = workers.count - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < u { lo = mid + 1 } else { hi = mid } }
            let w = lo
            // A worker who is still busy comes back when free: skipping them would let quick,
            // sloppy workers take more images than their activity says.
            let start = max(clock, busyUntil[w])
            // The HIT's complexity as the worker sees it: the next open image's objects.
            let objects = objectsPerImage[nextImage % images]
            let effort = p.effort(objects: objects, pay: pay)
            if rng.uniform() > effort.acceptance { declined += 1; continue }
            let wanted = max(1, rng.poisson(p.imagesPerWorker * effort.images * workers[w].activity / meanActivity))
            var t = start
            var taken = 0
            // Take open images in posting order that this worker has not done.
            var k = 0
            let order = open.count == images ? Array(0..<images) : open.sorted()
            while taken < wanted && k < order.count {
                let image = order[(k + nextImage) % order.count]
                k += 1
                guard remaining[image] > 0, !done[w].contains(image) else { continue }
                done[w].insert(image)
                remaining[image] -= 1
                if remaining[image] == 0 { open.remove(image) }
                assignments.append(Assignment(image: image, worker: w, acceptTime: t, submitTime: t))
                t += expectedSeconds(image, w)
                taken += 1
            }
            busyUntil[w] = t
            nextImage += 1
        }
        return Schedule(assignments: assignments, declined: declined)
    }
}
