import Consensus
import Foundation
import Randomness

/// Simulated workers answering a verify stage's yes/no questions ("is there an object at the
/// crosshair?") from the crowd model: a point within `radius` of an object is confirmed with the
/// worker's detection of that object (the psychometric curve times their attention; on a crop no
/// click budget crowds it out), any other point is confirmed at the worker's false-click rate once
/// past learning. Each HIT of `questionsPerHIT` questions goes to `workersPerQuestion` distinct
/// workers of a fresh pool, drawn evenly (verify HITs are short: who does them is not modelled by
/// activity).
public struct VerifierCrowd: Sendable {
    public var population: Population
    public var seed: UInt64
    /// How close an object must be to the crosshair to count as the one asked about.
    public var radius: Double
    public var poolSize = 60

    public init(population: Population, seed: UInt64, radius: Double) {
        self.population = population; self.seed = seed; self.radius = radius
    }

    /// Answers per question, in the questions' order; `tasks` by image name (export coordinates).
    public func answer(_ questions: [VerifyStage.Question], tasks: [String: ImageTask], stage: VerifyStage) -> [[VerifyStage.Answer]] {
        let size = max(poolSize, 2 * stage.workersPerQuestion)
        let pool = CrowdPool(population: population, size: size, seed: SeededRandom.derive(seed, 0x7E_41F1)).workers
        let annotator = Annotator(population: population)
        let hits = stage.hits(questions: questions.count)
        let perHIT: [[[VerifyStage.Answer]]] = Array(0..<hits).parallelMap { h in
            let rng = SeededRandom(seed: SeededRandom.derive(seed, 0x7E_0000 &+ UInt64(h)))
            var order = Array(pool.indices)
            for i in 0..<stage.workersPerQuestion { order.swapAt(i, i + rng.int(order.count - i)) }
            let workers = order.prefix(stage.workersPerQuestion).map { pool[$0] }
            let range = (h * stage.questionsPerHIT)..<min(questions.count, (h + 1) * stage.questionsPerHIT)
            return range.map { k in
                let v = tasks[questions[k].image].flatMap { Self.visibility(x: questions[k].x, y: questions[k].y, in: $0, radius: radius) }
                return workers.map { w in VerifyStage.Answer(worker: w.id, yes: rng.uniform() < Self.yesProbability(w, visibility: v, annotator)) }
            }
        }
        return perHIT.flatMap { $0 }
    }

    /// How long a verifier takes over one question: a glance at the crop and a click.
    public static let secondsPerQuestion = 2.0

    /// The chance that `worker` says yes: their detection of the object at the crosshair
    /// (`visibility`), or their false-click rate past learning when nothing is there.
    public static func yesProbability(_ worker: WorkerAgent, visibility: Double?, _ annotator: Annotator) -> Double {
        visibility.map { annotator.detection(worker, $0) } ?? annotator.falsePositiveRate(worker, annotator.population.learningAnnotations)
    }

    /// The visibility of the object nearest (x, y) within `radius` (export coordinates), if any.
    public static func visibility(x: Double, y: Double, in task: ImageTask, radius: Double) -> Double? {
        var best: (Double, Double)? = nil
        for i in task.xs.indices {
            let d = (task.xs[i] - x) * (task.xs[i] - x) + (task.ys[i] - y) * (task.ys[i] - y)
            if d <= radius * radius && d < (best?.0 ?? .infinity) { best = (d, task.visibility[i]) }
        }
        return best?.1
    }
}
