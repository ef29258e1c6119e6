import Consensus
import Foundation

/// The second stage of a `job.policy: verify` job on Mechanical Turk: once every first-stage
/// answer is in, the objects its consensus left undecided become yes/no questions on crops
/// (`VerifyQuestion`), posted as HITs of their own type (their own title and reward), each to
/// `workersPerQuestion` workers. The questions are drawn once and kept in the manifest, and each
/// HIT carries a UniqueRequestToken naming it, so an interrupted `crowdlab job verify` run again
/// posts nothing twice. `collect` then decides those objects by the verifiers' answers, weighed by
/// each verifier's estimated reliability (`VerifyStage.posteriors`).
extension TurkJob {
    /// What one `crowdlab job verify` found and did.
    public struct VerifyRound: Sendable {
        /// First-stage images still waiting for answers, or expired with open slots.
        public var waiting = 0, expired = 0
        public var questions = 0, hits = 0
        /// Verify HITs posted by this call (the rest were posted before).
        public var postedNow = 0
        /// Verify assignments asked in all, and submitted so far.
        public var asked = 0, submitted = 0
        /// Whether the questions are drawn (every first-stage answer was in).
        public var drawn = false
    }

    /// What the verify stage's answers decided, as `collect` reports it.
    public struct VerifyCollected: Sendable {
        public var questions = 0, answeredQuestions = 0, answers = 0
        public var removed = 0, added = 0
        /// Each question's decision (is it an object?), nil while unanswered.
        public var decisions: [Bool?] = []
        /// Readable verify assignments, and those whose answers could not be read (review rejects them).
        public var assignmentIds: [String] = []
        public var unreadableAssignmentIds: [String] = []
    }

    static func stage(_ plan: TurkJobManifest.VerifyPlan) -> VerifyStage {
        var stage = VerifyStage()
        stage.workersPerQuestion = plan.workersPerQuestion
        stage.questionsPerHIT = plan.questionsPerHIT
        return stage
    }

    /// Draws the verify questions once the first stage is complete, then posts every verify HIT
    /// not yet posted. Run it again while the first stage is still open: it only reports.
    public static func verify(_ m: inout TurkJobManifest, client: any TurkBackend, job: String) async throws -> VerifyRound {
        let manifestPath = (job as NSString).appendingPathComponent("job.json")
        guard let plan = m.verifyPlan else {
            throw InputError(file: manifestPath, field: "policy", message: "this job has no verify stage (submit a scenario with job.policy: verify)")
        }
        var round = VerifyRound()
        if m.verify == nil {
            for image in m.images {
                guard let hitId = image.hitId else { round.waiting += 1; continue }
                let hit = try await client.send(GetHIT(hitId: hitId)).HIT
                let asked = hit?.MaxAssignments ?? image.assignments ?? m.replicates
                guard try await client.allAssignments(hitId: hitId).count < asked else { continue }
                let open = hit.map { $0.HITStatus == .Assignable || $0.NumberOfAssignmentsPending > 0 } ?? true
                if open { round.waiting += 1 } else { round.expired += 1 }
            }
            guard round.waiting == 0 else { return round }
            let read = try await firstStage(m, client: client)
            let (first, _) = try analyse(m, QuantiusExport(records: read.records), job: job)
            let questions = stage(plan).questions(first.consensus)
            m.verify = .init(questions: questions, firstStageAssignments: read.assignmentIds,
                             hitIds: Array(repeating: nil, count: stage(plan).hits(questions: questions.count)))
            try m.save(job: job)
        }
        guard var part = m.verify else { return round }
        round.drawn = true
        round.questions = part.questions.count
        round.hits = part.hitIds.count
        round.asked = part.hitIds.count * plan.workersPerQuestion
        let heights = Dictionary(m.images.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for h in part.hitIds.indices {
            if let id = part.hitIds[h] {
                round.submitted += try await client.allAssignments(hitId: id).count
                continue
            }
            let range = questionRange(h, plan: plan, count: part.questions.count)
            let items = part.questions[range].map { q -> VerifyQuestion.Item in
                let image = heights[q.image]
                return VerifyQuestion.Item(imageURL: "\(m.imageBaseURL)/\(q.image)", width: image?.width ?? 0, height: image?.height ?? 0,
                                           col: q.x, row: Double(image?.height ?? 0) - q.y)
            }
            let token = "\(m.jobId)-verify-\(h + 1)"
            let hitId: String
            do {
                let r = try await client.send(CreateHIT(maxAssignments: plan.workersPerQuestion, lifetimeInSeconds: m.lifetimeSeconds,
                                                        assignmentDurationInSeconds: m.assignmentSeconds, reward: plan.reward,
                                                        title: "Is there an object at the crosshair?",
                                                        description: "\(items.count) yes/no questions on close-ups of images for \(m.jobId)",
                                                        question: VerifyQuestion.make(items, instructions: verifyInstructions), requesterAnnotation: token,
                                                        uniqueRequestToken: token, autoApprovalDelayInSeconds: m.autoApprovalSeconds,
                                                        keywords: "image, yes/no, verification, science", qualificationRequirements: nil))
                hitId = r.HIT?.HITId ?? ""
            } catch let e as TurkError where e.turkErrorCode == "AWS.MechanicalTurk.HitAlreadyExists" {
                // Posted before an interruption: the HIT carries the token as its annotation.
                guard let hit = try await client.hit(requesterAnnotation: token) else { throw e }
                hitId = hit.HITId
            }
            part.hitIds[h] = hitId
            m.verify = part
            try m.save(job: job)
            round.postedNow += 1
        }
        return round
    }

    /// What a verify HIT says first: where the points come from (the page adds how to answer).
    static let verifyInstructions = "Other workers marked the bright objects in these images; these marks are the ones they did not agree on."

    /// The questions verify HIT `h` asks, by index.
    static func questionRange(_ h: Int, plan: TurkJobManifest.VerifyPlan, count: Int) -> Range<Int> {
        (h * plan.questionsPerHIT)..<min(count, (h + 1) * plan.questionsPerHIT)
    }

    /// The first stage's consensus with the verify answers so far applied: the questions answered
    /// by at least one verifier are decided by their posterior, the others keep the first stage's
    /// decision. The consensus must be the one the questions were drawn from.
    static func verified(_ first: AnalysisResult, part: TurkJobManifest.VerifyPart, plan: TurkJobManifest.VerifyPlan,
                         client: any TurkBackend, job: String) async throws -> (consensus: [ImageConsensus], summary: VerifyCollected, unreadable: [String]) {
        let drawnAgain = stage(plan).questions(first.consensus)
        guard drawnAgain == part.questions else {
            throw InputError(file: (job as NSString).appendingPathComponent("job.json"), field: "verify.questions",
                             message: "the first stage's consensus is no longer the one the verify questions were drawn from (was the scenario or its analysis changed?)")
        }
        var summary = VerifyCollected(questions: part.questions.count)
        var answers = [[VerifyStage.Answer]](repeating: [], count: part.questions.count)
        var unreadable: [String] = []
        for (h, hitId) in part.hitIds.enumerated() {
            guard let hitId else { continue }
            let range = questionRange(h, plan: plan, count: part.questions.count)
            for a in try await client.allAssignments(hitId: hitId) {
                let fields = Dictionary(AnswerFormat.parse(a.Answer ?? ""), uniquingKeysWith: { first, _ in first })
                let said = range.indices.map { k in fields[VerifyQuestion.field(k - range.lowerBound)] }
                guard said.allSatisfy({ $0 == "yes" || $0 == "no" }) else {
                    let bad = said.firstIndex { $0 != "yes" && $0 != "no" } ?? 0
                    unreadable.append("\(a.AssignmentId) (worker \(a.WorkerId), verify HIT \(h + 1)): field \(VerifyQuestion.field(bad)) is \(said[bad].map { "'\($0)'" } ?? "missing"), not yes or no")
                    summary.unreadableAssignmentIds.append(a.AssignmentId)
                    continue
                }
                for (k, s) in zip(range, said) { answers[k].append(VerifyStage.Answer(worker: a.WorkerId, yes: s == "yes")) }
                summary.assignmentIds.append(a.AssignmentId)
                summary.answers += 1
            }
        }
        let answered = answers.indices.filter { !answers[$0].isEmpty }
        summary.answeredQuestions = answered.count
        let questions = answered.map { part.questions[$0] }
        let posteriors = stage(plan).posteriors(answered.map { answers[$0] })
        summary.decisions = Array(repeating: nil, count: part.questions.count)
        for (k, q) in zip(answered, posteriors) { summary.decisions[k] = q >= 0.5 }
        summary.removed = zip(questions, posteriors).filter { $0.0.acceptedFirst && $0.1 < 0.5 }.count
        summary.added = zip(questions, posteriors).filter { !$0.0.acceptedFirst && $0.1 >= 0.5 }.count
        return (stage(plan).apply(first.consensus, questions: questions, posteriors: posteriors), summary, unreadable)
    }
}
