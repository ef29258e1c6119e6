import Foundation
import HeapModule
import Randomness

/// One worker doing one image, on the marketplace clock (seconds from the job's posting).
public struct Assignment: Sendable, Equatable {
    public var image: Int
    public var worker: Int
    public var acceptTime: Double
    /// Filled in once the annotation is made (accept + first-click delay + clicks × period).
    public var submitTime: Double
}

/// A discrete-event marketplace: workers look at the HIT (a Poisson process whose rate grows with
/// pay), each visitor drawn from a large pool. At a worker's first visit they decide whether the
/// pay is worth the work; those who decline do not come back, and those who take it mean to do a
/// number of the job's images: their Pareto activity times what the pay and complexity allow (so a
/// fifth of them do most of a large job). They take one image at a time, as Mechanical Turk hands out
/// assignments (the first open image they have not done), and leave when they have done what they
/// meant to or when no image is left for them; they may come back later for the rest. So when many
/// workers are at work they share the images and the job goes fast, and when few take it, it goes
/// at their pace.
public struct Marketplace: Sendable {
    public let pool: CrowdPool
    public let pay: Double

    public init(pool: CrowdPool, pay: Double) { self.pool = pool; self.pay = pay }

    public struct Schedule: Sendable {
        public var assignments: [Assignment]
        /// Workers who looked at the HIT and decided not to take it.
        public var declined: Int
    }

    /// Workers a job needs in its pool: enough that those who take it, with what they mean to do,
    /// cover the assignments four times over.
    public static func poolSize(population p: Population, images: Int, replicates: Int, objects: Double, pay: Double) -> Int {
        let e = p.effort(objects: objects, pay: pay)
        let perTaker = p.meanImagesPerTaker(cap: images, imagesShare: e.images)
        let takers = Double(images * replicates) / perTaker
        return max(replicates * 3, Int((takers / max(0.01, e.acceptance)).rounded(.up)) * 4, 20)
    }

    /// Schedules `replicates` distinct workers on each image. `expectedSeconds(image, worker)` is the
    /// time the worker is expected to spend on the image (used to advance that worker's clock).
    public func schedule(images: Int, objectsPerImage: [Double], replicates: Int, seed: UInt64,
                         expectedSeconds: (Int, Int) -> Double) -> Schedule {
        let p = pool.population
        let rng = SeededRandom(seed: SeededRandom.derive(seed, 0x5EED))
        let workers = pool.workers
        precondition(workers.count >= replicates, "the pool must hold at least as many workers as replicates")
        let rate = p.arrivalsPerSecond(pay: pay)
        var remaining = [Int](repeating: replicates, count: images)
        var openCount = images
        var done = [Set<Int>](repeating: [], count: workers.count)
        // Every open image before a worker's cursor is one they have done (images never reopen).
        var cursor = [Int](repeating: 0, count: workers.count)
        // Images a worker still means to do in this job: nil before their first visit, -1 if they declined.
        var budget = [Int?](repeating: nil, count: workers.count)
        var atWork = [Bool](repeating: false, count: workers.count)
        var free = Heap<FreeEvent>()
        var queued = 0
        func freeAt(_ time: Double, _ worker: Int) { free.insert(FreeEvent(time: time, order: queued, worker: worker)); queued += 1 }
        var assignments: [Assignment] = []
        var declined = 0
        var visits = 0, lastProgress = 0
        var arrival = rng.exponential(mean: 1 / rate)
        while openCount > 0 {
            if let next = free.min, next.time <= arrival {
                // A worker at work is free again: the next image, if they want one and one is left.
                free.removeMin()
                let w = next.worker
                var image = -1
                if let b = budget[w], b > 0 {
                    var k = cursor[w]
                    while k < images && (remaining[k] == 0 || done[w].contains(k)) { k += 1 }
                    cursor[w] = k
                    if k < images { image = k }
                }
                guard image >= 0 else { atWork[w] = false; continue }
                done[w].insert(image)
                remaining[image] -= 1
                if remaining[image] == 0 { openCount -= 1 }
                budget[w]! -= 1
                assignments.append(Assignment(image: image, worker: w, acceptTime: next.time, submitTime: next.time))
                lastProgress = visits
                freeAt(next.time + expectedSeconds(image, w), w)
                continue
            }
            if free.isEmpty && visits - lastProgress > workers.count {
                // A whole round of visits and nobody could take an image: everyone has declined or
                // done what they meant to (or all that is left for them). Another day, everyone looks
                // again and decides afresh, so the job always completes (the pool holds at least as
                // many workers as replicates); a pool sized by `poolSize` rarely needs this.
                for w in workers.indices { budget[w] = nil }
                lastProgress = visits
            }
            let clock = arrival
            arrival += rng.exponential(mean: 1 / rate)
            let w = rng.int(workers.count)
            visits += 1
            if budget[w] == nil {
                // First visit: the HIT's complexity as the worker sees it, the first open image's objects.
                var first = 0
                while first < images && remaining[first] == 0 { first += 1 }
                let effort = p.effort(objects: objectsPerImage[min(first, images - 1)], pay: pay)
                if rng.uniform() > effort.acceptance { budget[w] = -1; declined += 1; continue }
                budget[w] = max(1, rng.poisson(p.budget(activity: workers[w].activity, imagesShare: effort.images)))
            }
            if let b = budget[w], b > 0, !atWork[w] { atWork[w] = true; freeAt(clock, w) }
        }
        return Schedule(assignments: assignments, declined: declined)
    }
}

/// A worker free again at `time`; earlier first, ties in the order they were queued (a total
/// order, so schedules are reproducible).
struct FreeEvent: Comparable {
    var time: Double, order: Int, worker: Int
    static func < (a: FreeEvent, b: FreeEvent) -> Bool { a.time != b.time ? a.time < b.time : a.order < b.order }
    static func == (a: FreeEvent, b: FreeEvent) -> Bool { a.time == b.time && a.order == b.order }
}
