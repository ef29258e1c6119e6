import Consensus
import Foundation
import Randomness

/// A simulated crowd job: the marketplace decides who does which image and when; each worker then
/// annotates their images in order (so learning follows their own history). The result is a
/// Quanti.us export, the same schema the real portal writes, and the marketplace's figures.
public struct CrowdSimulation: Sendable {
    public var population: Population
    public var replicates: Int
    public var pay: Double
    public var seed: UInt64
    /// Workers in the pool; by default enough that replicates and participation are not limited by it.
    public var poolSize: Int?

    public init(population: Population, replicates: Int, pay: Double, seed: UInt64, poolSize: Int? = nil) {
        self.population = population; self.replicates = replicates; self.pay = pay; self.seed = seed; self.poolSize = poolSize
    }

    public struct Result: Sendable {
        public var export: QuantiusExport
        public var pool: CrowdPool
        public var assignments: [Assignment]
        public var declinedArrivals: Int
        public var hours: Double
        public var clicks: Int
        /// Annotations over the hours from the job's posting to its last submission.
        public var annotationsPerHour: Double { hours > 0 ? Double(clicks) / hours : 0 }
        /// The collection rate while the job is under way: annotations submitted between the 10th
        /// and 90th percentile of submission times, per hour of that span (the start-up and the
        /// wait for the last few assignments left out, as a rate read off a running job).
        public var steadyAnnotationsPerHour: Double {
            let done = zip(assignments.map(\.submitTime), clicksPerAssignment).sorted { $0.0 < $1.0 }
            guard done.count >= 10 else { return annotationsPerHour }
            let lo = done[done.count / 10].0, hi = done[done.count * 9 / 10].0
            guard hi > lo else { return annotationsPerHour }
            let n = done.filter { $0.0 > lo && $0.0 <= hi }.reduce(0) { $0 + $1.1 }
            return Double(n) / ((hi - lo) / 3600)
        }

        /// Clicks of each assignment, in the order of `assignments`.
        public var clicksPerAssignment: [Int]
        public var imagesPerWorker: [Int]
    }

    public func run(_ inputTasks: [ImageTask]) -> Result {
        // Each object's salience offset, drawn once per image so every worker sees the same object.
        let visibilitySD = population.objectVisibilitySD, seed = seed, shownTo = population
        var prepared: [ImageTask] = Array(inputTasks.indices).parallelMap { k in
            var task = inputTasks[k].asShown(to: shownTo)
            if visibilitySD > 0 {
                let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xB0B0_0000 &+ UInt64(k)))
                for j in task.visibility.indices { task.visibility[j] += rng.gaussian(sigma: visibilitySD) }
            }
            return task
        }
        // Look-alikes draw false clicks as objects draw true ones, by the psychometric curve, times
        // what contrast adds beyond it (`structureContrastSlope`).
        let population = population
        for k in prepared.indices where prepared[k].structure != nil {
            prepared[k].structure = prepared[k].structure!.weighted { population.lookAlikeWeight($0) }
        }
        let tasks = prepared
        let readingOrders: [[Int]] = tasks.parallelMap { $0.readingOrder }
        let annotatorForTasks = Annotator(population: population)
        let detectabilities: [[Double]] = tasks.parallelMap { annotatorForTasks.detectability($0) }
        let objects = tasks.map { Double($0.objectCount) }
        let (pool, schedule) = market(objectsPerImage: objects)
        let annotator = Annotator(population: population)
        // Each worker's assignments in order; workers are simulated in parallel, each with its own
        // random stream, so the export does not depend on the number of threads.
        var byWorker = [[Int]](repeating: [], count: pool.workers.count)
        for (k, a) in schedule.assignments.enumerated() { byWorker[a.worker].append(k) }
        // Busiest workers first, so the parallel loop ends balanced (a few workers do most images).
        let active = byWorker.indices.filter { !byWorker[$0].isEmpty }
            .sorted { byWorker[$0].count != byWorker[$1].count ? byWorker[$0].count > byWorker[$1].count : $0 < $1 }
        let jobs = byWorker
        let firstDelay = population.firstClickDelay
        let perWorker: [[(assignment: Int, clicks: [Vertex], submit: Double)]] = active.parallelMap { w in
            let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(w) &+ 1))
            var index = 0
            return jobs[w].map { k in
                let a = schedule.assignments[k]
                var clicks: [Vertex] = []
                annotator.annotate(tasks[a.image], readingOrder: readingOrders[a.image], detectability: detectabilities[a.image], worker: pool.workers[w],
                                   budget: population.clickBudget(pay: pay, patience: pool.workers[w].patience), annotationIndex: &index, rng: rng, into: &clicks)
                let submit = a.acceptTime + (clicks.last?.timestamp ?? firstDelay * 1000) / 1000 + 2
                return (k, clicks, submit)
            }
        }
        var clicksOf = [[Vertex]](repeating: [], count: schedule.assignments.count)
        var assignments = schedule.assignments
        for list in perWorker {
            for item in list {
                clicksOf[item.assignment] = item.clicks
                assignments[item.assignment].submitTime = item.submit
            }
        }
        // Records ordered by image, then by submission, as a portal export lists them.
        let order = assignments.indices.sorted {
            let a = assignments[$0], b = assignments[$1]
            return a.image != b.image ? a.image < b.image : (a.submitTime != b.submitTime ? a.submitTime < b.submitTime : $0 < $1)
        }
        let done = assignments, clicksDone = clicksOf
        let records: [ExportRecord] = order.parallelMap { k in record(tasks[done[k].image], pool.workers[done[k].worker], done[k].submitTime, clicksDone[k]) }
        let hours = (assignments.map(\.submitTime).max() ?? 0) / 3600
        var images = [Int](repeating: 0, count: pool.workers.count)
        for a in assignments { images[a.worker] += 1 }
        return Result(export: QuantiusExport(records: records), pool: pool, assignments: assignments,
                      declinedArrivals: schedule.declined, hours: hours, clicks: clicksOf.reduce(0) { $0 + $1.count },
                      clicksPerAssignment: clicksOf.map(\.count), imagesPerWorker: images.filter { $0 > 0 })
    }
}

extension CrowdSimulation {
    /// The pool and the marketplace's schedule for images of these object counts, each image taking
    /// a worker the time they are expected to spend on it.
    func market(objectsPerImage objects: [Double]) -> (CrowdPool, Marketplace.Schedule) {
        let meanObjects = objects.isEmpty ? 0 : objects.reduce(0, +) / Double(objects.count)
        let size = poolSize ?? Marketplace.poolSize(population: population, images: objects.count, replicates: replicates, objects: meanObjects, pay: pay)
        let pool = CrowdPool(population: population, size: size, seed: seed)
        let schedule = Marketplace(pool: pool, pay: pay).schedule(
            images: objects.count, objectsPerImage: objects, replicates: replicates, seed: seed,
            expectedSeconds: { image, w in expectedSeconds(objects: objects[image], worker: pool.workers[w]) })
        return (pool, schedule)
    }

    /// Seconds a worker is expected to spend on an image: the first click's delay, the clicks their
    /// detection and budget allow at their click period, and a few seconds to submit.
    func expectedSeconds(objects: Double, worker wk: WorkerAgent) -> Double {
        let clicks = min(objects * wk.plateau, population.clickBudget(pay: pay, patience: wk.patience))
        return population.firstClickDelay + clicks * wk.period + 5
    }

    /// Hours from posting to the last submission for a job of `images` images of `objects` objects,
    /// from the marketplace alone (no annotations made): how a job's time grows with its size is
    /// not linear, since more images bring more workers at once.
    public func expectedHours(images: Int, objectsPerImage objects: Double) -> Double {
        let (pool, schedule) = market(objectsPerImage: Array(repeating: objects, count: images))
        let last = schedule.assignments.map { $0.acceptTime + expectedSeconds(objects: objects, worker: pool.workers[$0.worker]) }.max() ?? 0
        return last / 3600
    }
}

/// One submission as the portal exports it.
func record(_ task: ImageTask, _ worker: WorkerAgent, _ submit: Double, _ clicks: [Vertex]) -> ExportRecord {
    ExportRecord(imageFilename: task.name, workerID: worker.id, annotationType: .crosshairs, width: task.width,
                 height: task.height, timeWhenCompleted: portalTime(submit), rawData: [clicks])
}

/// Seconds after the job's posting (Monday 5 January 2026, 09:00 UTC) in the portal's format,
/// `Mon Jan 05 09:00:00 UTC 2026`.
public func portalTime(_ seconds: Double) -> String {
    portalTimestamp(epochSeconds: 1_767_603_600 + seconds.rounded(.down))   // 2026-01-05T09:00:00Z
}
