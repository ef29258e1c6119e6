import Consensus
import Crowd
import Crypto
import Foundation
import Imaging
import Phantoms
import Randomness
import Reports
import Lab

/// A scenario run on a Mechanical Turk backend instead of the built-in simulation: images posted as
/// HITs, answers collected into a Quanti.us export, analysed by the same code, assignments
/// approved or rejected by the worker score and bonuses paid. Everything the job did is kept in
/// `JOB/job.json`, written atomically after every step, and every request that moves money or
/// creates work carries a UniqueRequestToken derived from the job, so an interrupted step can be
/// run again without posting or paying anything twice.
public struct TurkJobManifest: Codable, Sendable {
    /// One image of the job and the HIT that shows it.
    public struct Image: Codable, Sendable {
        public var name: String
        public var width: Int
        public var height: Int
        public var hitId: String?
        /// Assignments the HIT holds now (an adaptive job adds to them).
        public var assignments: Int? = nil
    }

    public var version = 1
    public var jobId: String
    public var scenario: String
    public var overrides: [String]
    public var backend: String
    public var endpoint: String
    public var imageBaseURL: String
    public var reward: String
    public var replicates: Int
    public var title: String
    public var instructions: String
    public var lifetimeSeconds: Int
    public var assignmentSeconds: Int
    public var autoApprovalSeconds: Int
    public var images: [Image]
    /// Review decisions already made, by assignment id ("Approved" / "Rejected").
    public var reviewed: [String: String] = [:]
    /// Bonuses already paid, by assignment id (dollars).
    public var bonuses: [String: String] = [:]
    /// The replicate policy when adaptive (`adaptive:3,9,0.15`): HITs start with its START
    /// assignments and `crowdlab job extend` adds more; nil for a fixed job.
    public var policy: String? = nil
    /// The qualification type holding workers' scores, once `review --record-scores` made or found it.
    public var scoreQualificationId: String? = nil
    /// The score HITs require (`job.require_score`), and of which qualification type.
    public var requiredScore: Int? = nil
    /// How a `job.policy: verify` job's second stage is posted; nil for other jobs.
    public var verifyPlan: VerifyPlan? = nil
    /// The verify stage once `crowdlab job verify` has drawn its questions.
    public var verify: VerifyPart? = nil

    /// The verify stage's design, fixed when the job is submitted.
    public struct VerifyPlan: Codable, Sendable {
        public var workersPerQuestion: Int
        public var questionsPerHIT: Int
        public var reward: String
    }

    /// The verify stage's questions and HITs. The questions refer to the consensus of exactly the
    /// first-stage assignments listed, so collecting again decides the same objects.
    public struct VerifyPart: Codable, Sendable {
        public var questions: [VerifyStage.Question]
        public var firstStageAssignments: [String]
        /// One per HIT of `questionsPerHIT` questions, nil until posted.
        public var hitIds: [String?]
    }

    /// The HITs' requirement on an earlier job's score, if the scenario asks for one.
    public var scoreRequirement: [QualificationRequirement]? {
        guard let id = scoreQualificationId, let score = requiredScore else { return nil }
        return [QualificationRequirement(QualificationTypeId: id, Comparator: "GreaterThanOrEqualTo", IntegerValues: [score])]
    }

    /// Assignments the job has asked for so far (a posted verify stage's included).
    public var assignmentsAsked: Int {
        images.reduce(0) { $0 + ($1.assignments ?? replicates) }
            + (verify?.hitIds.compactMap { $0 }.count ?? 0) * (verifyPlan?.workersPerQuestion ?? 0)
    }

    /// The manifest in `JOB/job.json`; a missing or foreign file is a one-line error naming it.
    public static func load(job: String) throws -> TurkJobManifest {
        let path = (job as NSString).appendingPathComponent("job.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "no job here: run `crowdlab job submit` first")
        }
        do { return try JSONDecoder().decode(TurkJobManifest.self, from: data) } catch {
            throw InputError(file: path, message: "not a crowdlab job manifest (\(error))")
        }
    }

    /// Writes `JOB/job.json` atomically (after every step, so an interruption loses nothing).
    public func save(job: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: (job as NSString).appendingPathComponent("job.json"))
    }
}

/// The steps of a Mechanical Turk job: submit, status, extend (adaptive), collect, review.
public enum TurkJob {
    /// Creates (or resumes) a job: renders the scenario's images into `job/images` with their
    /// truth, uploads them when the backend hosts images, and posts one HIT per image.
    public static func submit(scenarioPath: String, overrides: [String], backend name: String, endpoint: String,
                              client: any TurkBackend, job: String, imageBaseURL: String?, progress: (Int, Int) -> Void = { _, _ in }) async throws -> TurkJobManifest {
        let s = try Scenario.load(path: scenarioPath, overrides: overrides)
        var manifest: TurkJobManifest
        if let existing = try? TurkJobManifest.load(job: job) {
            manifest = existing   // resume: same ids, same tokens
        } else {
            let absolute = URL(fileURLWithPath: job).standardizedFileURL.path
            let digest = SHA256.hash(data: Array("\(absolute)|\(endpoint)|\(s.seed)|\(s.name)".utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
            let base = imageBaseURL ?? (endpoint + "/images")
            let rewardCents = Int((s.pay * 100).rounded())
            let adaptive = s.policy == .adaptive
            manifest = TurkJobManifest(jobId: "\(s.name)-\(digest)", scenario: scenarioPath, overrides: overrides, backend: name, endpoint: endpoint,
                                       imageBaseURL: base.hasSuffix("/") ? String(base.dropLast()) : base, reward: Money.string(cents: rewardCents),
                                       replicates: adaptive ? s.adaptive.start : s.replicates, title: "Click the centre of every object in the image",
                                       instructions: s.description.isEmpty ? "Click once on the centre of every bright object." : "Click once on the centre of every bright object. (\(s.description))",
                                       lifetimeSeconds: 7 * 86_400, assignmentSeconds: 3600, autoApprovalSeconds: 3 * 86_400, images: [])
            if adaptive { manifest.policy = s.adaptive.description }
            if s.policy == .verify {
                manifest.policy = s.policyDescription
                manifest.verifyPlan = .init(workersPerQuestion: s.verify.workersPerQuestion, questionsPerHIT: s.verify.questionsPerHIT,
                                            reward: Money.string(cents: Int(((s.verifyPay ?? s.pay) * 100).rounded())))
            }
            if let score = s.requireScore {
                guard let type = try await scoreQualification(client) else {
                    throw InputError(file: scenarioPath, field: "job.require_score", message: "no worker scores on this marketplace yet: run `crowdlab job review --record-scores` on an earlier job first")
                }
                manifest.scoreQualificationId = type
                manifest.requiredScore = score
            }
        }
        // The images and truth, rendered as `crowdlab run` renders them.
        let scene = s.scene
        let imagesDir = (job as NSString).appendingPathComponent("images"), truthDir = (job as NSString).appendingPathComponent("truth")
        try FileManager.default.createDirectory(atPath: imagesDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: truthDir, withIntermediateDirectories: true)
        if manifest.images.isEmpty {
            for i in 0..<s.images {
                let name = String(format: "%@_%04d.png", s.sceneKind.rawValue, i)
                let p = scene.render(seed: SeededRandom.derive(s.seed, UInt64(i)))
                try AtomicFile.write(try PNG.encode(p.image), to: (imagesDir as NSString).appendingPathComponent(name))
                try AtomicFile.write(truthCSV(p.truth), to: (truthDir as NSString).appendingPathComponent((name as NSString).deletingPathExtension + ".csv"))
                manifest.images.append(.init(name: name, width: p.image.width, height: p.image.height, hitId: nil))
            }
            try manifest.save(job: job)
        }
        for (k, image) in manifest.images.enumerated() where image.hitId == nil {
            progress(k, manifest.images.count)
            if client.hostsImages {
                let png = try Data(contentsOf: URL(fileURLWithPath: (imagesDir as NSString).appendingPathComponent(image.name)))
                let truth = try String(contentsOfFile: (truthDir as NSString).appendingPathComponent((image.name as NSString).deletingPathExtension + ".csv"), encoding: .utf8)
                _ = try await client.putImage(name: image.name, png: png, truthCSV: truth)
            }
            let question = HTMLQuestion.make(imageURL: "\(manifest.imageBaseURL)/\(image.name)", tool: HTMLQuestion.Tool(rawValue: s.tool.rawValue) ?? .crosshairs, instructions: manifest.instructions)
            let token = "\(manifest.jobId)-\(image.name)"
            let hitId: String
            do {
                let r = try await client.send(CreateHIT(maxAssignments: manifest.replicates, lifetimeInSeconds: manifest.lifetimeSeconds,
                                                        assignmentDurationInSeconds: manifest.assignmentSeconds, reward: manifest.reward,
                                                        title: manifest.title, description: "Image annotation for \(s.name): \(image.name)",
                                                        question: question, requesterAnnotation: token, uniqueRequestToken: token,
                                                        autoApprovalDelayInSeconds: manifest.autoApprovalSeconds, keywords: "image, annotation, science",
                                                        qualificationRequirements: manifest.scoreRequirement))
                hitId = r.HIT?.HITId ?? ""
            } catch let e as TurkError where e.turkErrorCode == "AWS.MechanicalTurk.HitAlreadyExists" {
                // Posted before an interruption: the HIT carries the token as its annotation.
                guard let hit = try await client.hit(requesterAnnotation: token) else { throw e }
                hitId = hit.HITId
            }
            manifest.images[k].hitId = hitId
            manifest.images[k].assignments = manifest.replicates
            try manifest.save(job: job)
        }
        progress(manifest.images.count, manifest.images.count)
        return manifest
    }

    /// Mechanical Turk cannot extend a HIT created with fewer than 10 assignments to 10 or more, so
    /// an adaptive job that starts below 10 stops at 9 whatever its policy's cap.
    public static func assignmentCap(_ policy: any ReplicatePolicy) -> Int {
        policy.start < 10 ? min(policy.cap, 9) : policy.cap
    }

    /// What one `extend` round did, image by image.
    public struct Extension: Sendable {
        /// Images given one more assignment in this round.
        public var extended: [String] = []
        public var settled = 0, capped = 0, waiting = 0
        /// Images whose HIT expired before its slots were taken: left with the answers they have.
        public var expired = 0
        /// Answers that could not be read, left out of the decision (`collect` names them).
        public var unreadable = 0
        public var cap = 0
    }

    /// One round of an adaptive job: every image whose answers are all in is given one more
    /// assignment (`CreateAdditionalAssignmentsForHIT`) while its consensus is unsettled, up to the
    /// cap; the same decision `crowdlab replay` makes after each arrival. The HIT's own
    /// MaxAssignments is what counts, and each request carries a UniqueRequestToken naming the
    /// assignment it adds, so a round interrupted after a request and run again adds nothing twice.
    public static func extend(_ m: inout TurkJobManifest, client: any TurkBackend, job: String) async throws -> Extension {
        let manifestPath = (job as NSString).appendingPathComponent("job.json")
        guard let text = m.policy, m.verifyPlan == nil else {
            throw InputError(file: manifestPath, field: "policy", message: m.verifyPlan != nil
                ? "a verify job is not extended: its second stage is posted by `crowdlab job verify`"
                : "a job of fixed replicates has nothing to extend (set job.policy: adaptive in the scenario)")
        }
        let policy = try ReplicatePolicies.parse(text, option: manifestPath)
        var out = Extension(cap: assignmentCap(policy))
        for (k, image) in m.images.enumerated() {
            guard let hitId = image.hitId else { out.waiting += 1; continue }
            let hit = try await client.send(GetHIT(hitId: hitId)).HIT
            let asked = hit?.MaxAssignments ?? image.assignments ?? m.replicates
            m.images[k].assignments = asked
            let submitted = try await client.allAssignments(hitId: hitId)
            if submitted.count < asked {
                // Open slots of an expired HIT are never taken (UpdateExpirationForHIT reopens it).
                let open = hit.map { $0.HITStatus == .Assignable || $0.NumberOfAssignmentsPending > 0 } ?? true
                if open { out.waiting += 1 } else { out.expired += 1 }
                continue
            }
            if asked >= out.cap { out.capped += 1; continue }
            let read = answers(submitted.filter { $0.AssignmentStatus != .Rejected }, image: image)
            out.unreadable += read.unreadable.count
            guard Replay.wantsAnother(read.records, policy: policy) else { out.settled += 1; continue }
            _ = try await client.send(CreateAdditionalAssignmentsForHIT(hitId: hitId, number: 1,
                                                                        uniqueRequestToken: "\(m.jobId)-\(image.name)-to-\(asked + 1)"))
            m.images[k].assignments = asked + 1
            try m.save(job: job)
            out.extended.append(image.name)
        }
        try m.save(job: job)
        return out
    }

    /// The name of the qualification type that carries workers' scores from job to job.
    public static let scoreQualificationName = "crowdlab worker score"

    /// The requester's score qualification type, if an earlier review made it.
    public static func scoreQualification(_ client: any TurkBackend) async throws -> String? {
        let found = try await client.send(ListQualificationTypes(query: scoreQualificationName, mustBeOwnedByCaller: true, maxResults: 100))
        return found.QualificationTypes?.first { $0.Name == scoreQualificationName }?.QualificationTypeId
    }

    /// A worker's score on the job as a qualification value: the Quanti.us score (1 is perfect,
    /// below 0 worse than clicking nothing) as a percentage, clamped to 0-100.
    public static func qualificationValue(score: Double) -> Int { Int((min(1, max(0, score)) * 100).rounded()) }

    /// Records every worker's score on this job in the score qualification type (made once per
    /// requester account, found by name afterwards), so a later job can require it
    /// (`job.require_score`). A worker who did several jobs keeps the latest score. Idempotent.
    public static func recordScores(_ m: inout TurkJobManifest, collected: Collected, client: any TurkBackend, job: String) async throws -> (type: String, workers: Int) {
        var type = try await scoreQualification(client)
        if type == nil {
            let created = try await client.send(CreateQualificationType(name: scoreQualificationName,
                description: "The worker's accuracy on an earlier crowdlab job (0-100: clicks that agree with the consensus, missed objects weighing 0.2)"))
            type = created.QualificationType?.QualificationTypeId
        }
        guard let id = type else { throw TurkError.request("CreateQualificationType returned no id") }
        var recorded = 0
        for w in collected.analysis.workers where w.annotations > 0 || w.images > 0 {
            _ = try await client.send(AssociateQualificationWithWorker(qualificationTypeId: id, workerId: w.worker,
                                                                       integerValue: qualificationValue(score: w.score)))
            recorded += 1
        }
        m.scoreQualificationId = m.scoreQualificationId ?? id
        try m.save(job: job)
        return (id, recorded)
    }

    /// One image's HIT as the service reports it.
    public struct ImageStatus: Sendable {
        public var image: String, hitId: String, status: String
        public var available: Int, pending: Int, submitted: Int, approved: Int, rejected: Int
    }

    /// Each image's HIT, then each verify HIT: its state and how many assignments are open,
    /// under way and submitted.
    public static func status(_ m: TurkJobManifest, client: any TurkBackend) async throws -> [ImageStatus] {
        var out: [ImageStatus] = []
        for image in m.images {
            guard let id = image.hitId else {
                out.append(ImageStatus(image: image.name, hitId: "-", status: "not posted", available: 0, pending: 0, submitted: 0, approved: 0, rejected: 0))
                continue
            }
            out.append(try await row(image.name, hitId: id))
        }
        for (h, id) in (m.verify?.hitIds ?? []).enumerated() {
            let name = "verify-\(h + 1)"
            if let id { out.append(try await row(name, hitId: id)) } else {
                out.append(ImageStatus(image: name, hitId: "-", status: "not posted", available: 0, pending: 0, submitted: 0, approved: 0, rejected: 0))
            }
        }
        return out

        func row(_ name: String, hitId id: String) async throws -> ImageStatus {
            let hit = try await client.send(GetHIT(hitId: id)).HIT
            let a = try await client.allAssignments(hitId: id)
            return ImageStatus(image: name, hitId: id, status: hit?.HITStatus.rawValue ?? "?",
                               available: hit?.NumberOfAssignmentsAvailable ?? 0, pending: hit?.NumberOfAssignmentsPending ?? 0,
                               submitted: a.filter { $0.AssignmentStatus == .Submitted }.count,
                               approved: a.filter { $0.AssignmentStatus == .Approved }.count,
                               rejected: a.filter { $0.AssignmentStatus == .Rejected }.count)
        }
    }

    /// The answers collected so far, as an export and its analysis.
    public struct Collected: Sendable {
        public var export: QuantiusExport
        /// Assignment id of each export record, in record order.
        public var assignmentIds: [String]
        public var analysis: AnalysisResult
        /// Answers that could not be read (kept out of the export, counted and named here).
        public var unreadable: [String]
        /// The verify stage's answers and what they decided, once it is posted.
        public var verify: VerifyCollected? = nil
        /// First-stage answers that came in after the verify stage drew its questions: in the
        /// export, left out of the analysis (its questions refer to the consensus without them).
        public var late = 0
    }

    /// A HIT's assignments as export records (in order, with their assignment ids), and a line for
    /// each answer that cannot be read.
    static func answers(_ assignments: [HITAssignment], image: TurkJobManifest.Image) -> (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) {
        var out: (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) = ([], [], [])
        for a in assignments {
            do {
                out.records.append(try AnswerFormat.exportRecord(answer: a.Answer ?? "", image: image.name, width: image.width, height: image.height,
                                                                 workerId: a.WorkerId, submitTime: a.SubmitTime ?? 0))
                out.assignmentIds.append(a.AssignmentId)
            } catch {
                out.unreadable.append("\(a.AssignmentId) (worker \(a.WorkerId), \(image.name)): \(error)")
            }
        }
        return out
    }

    /// Every image's answers so far, in image order.
    static func firstStage(_ m: TurkJobManifest, client: any TurkBackend) async throws -> (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) {
        var out: (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) = ([], [], [])
        for image in m.images {
            guard let hitId = image.hitId else { continue }
            let read = answers(try await client.allAssignments(hitId: hitId), image: image)
            out.records += read.records; out.assignmentIds += read.assignmentIds; out.unreadable += read.unreadable
        }
        return out
    }

    /// The job's answers analysed as `crowdlab run` analyses a simulated crowd's: the scenario's
    /// method (with near misses for a verify job) against the truth in `job/truth`.
    static func analyse(_ m: TurkJobManifest, _ export: QuantiusExport, job: String) throws -> (AnalysisResult, TruthSet) {
        let s = try Scenario.load(path: m.scenario, overrides: m.overrides)
        let truth = try TruthSet.load(path: (job as NSString).appendingPathComponent("truth"), export: export)
        var options = AnalysisOptions()
        options.method = try s.pointMethod(images: s.imageEvidence ? try jobImages(export, job: job) : nil)
        options.matchRadius = s.matchRadius
        return (Analysis.run(export: export, truth: truth, options: options), truth)
    }

    /// The images the job posted (`job/images`), by name, for a scenario whose analysis hears them.
    static func jobImages(_ export: QuantiusExport, job: String) throws -> [String: Image] {
        let dir = (job as NSString).appendingPathComponent("images")
        let (found, missing) = try PNG.read(folder: dir, names: export.imageNames)
        if let name = missing.first { throw ImageError(file: (dir as NSString).appendingPathComponent(name), message: "cannot be read (the job posted it)") }
        return found
    }

    /// Every submitted answer as a Quanti.us export (`job/export.json`), analysed with the
    /// scenario's method against the truth; outputs as `crowdlab analyze` writes them, in
    /// `job/analysis`. A verify job's posted second stage decides the objects it asked about.
    public static func collect(_ m: TurkJobManifest, client: any TurkBackend, job: String) async throws -> Collected {
        let read = try await firstStage(m, client: client)
        let export = QuantiusExport(records: read.records)
        try ExportWriter.write(export, to: (job as NSString).appendingPathComponent("export.json"))
        var preface: [(String, String)] = [("job", "\(m.images.count) HITs, \(m.assignmentsAsked) assignments\(m.policy.map { " (\($0))" } ?? "") at $\(m.reward) on \(m.backend) (\(m.endpoint))")]
        var c: Collected
        if let part = m.verify, let plan = m.verifyPlan {
            let used = Set(part.firstStageAssignments)
            let kept = zip(read.records, read.assignmentIds).filter { used.contains($0.1) }.map(\.0)
            let (first, truth) = try analyse(m, QuantiusExport(records: kept), job: job)
            let decided = try await verified(first, part: part, plan: plan, client: client, job: job)
            c = Collected(export: export, assignmentIds: read.assignmentIds, analysis: Analysis.rescored(first, consensus: decided.consensus, truth: truth),
                          unreadable: read.unreadable + decided.unreadable, verify: decided.summary, late: read.records.count - kept.count)
            preface.append(("verify stage", "\(part.questions.count) undecided objects asked in \(part.hitIds.count) HITs of \(plan.workersPerQuestion) assignments at $\(plan.reward); \(decided.summary.answeredQuestions) answered: \(decided.summary.removed) first-stage objects turned down, \(decided.summary.added) near misses confirmed"))
        } else {
            c = Collected(export: export, assignmentIds: read.assignmentIds, analysis: try analyse(m, export, job: job).0, unreadable: read.unreadable)
        }
        preface.append(("answers", "\(read.records.count) collected, \(c.unreadable.count) unreadable\(c.late > 0 ? ", \(c.late) arrived after the verify stage was drawn (left out of the analysis)" : "")"))
        let stage = try OutputStage(destination: (job as NSString).appendingPathComponent("analysis"))
        try AnalysisOutputs.write(c.analysis, metrics: AnalysisOutputs.metrics(c.analysis), into: stage)
        try stage.write(AnalysisReport.html(c.analysis, exportName: "job \(m.jobId) (\(m.backend))", overlays: [], preface: preface), "report.html")
        try stage.commit()
        return c
    }

    /// How `review` decides: agreement with the consensus, and who earns a bonus.
    public struct ReviewPolicy: Sendable {
        /// Reject a worker's assignments when under this share of their clicks agree with the consensus.
        public var minimumPrecision = 0.5
        /// Workers with at least this many annotations are judged; fewer are approved (too little to tell).
        public var minimumAnnotations = 5
        /// The top share of workers by score receive the bonus on each approved assignment.
        public var bonusTopShare = 0.2
        public var bonusCents: Int
        public init(bonusCents: Int) { self.bonusCents = bonusCents }
    }

    /// What one review did (decisions and bonuses made now; those made before are counted apart).
    public struct ReviewOutcome: Sendable {
        public var approved = 0, rejected = 0, bonuses = 0, alreadyReviewed = 0
        public var bonusCents = 0
    }

    /// Approves or rejects every submitted assignment by its worker's agreement with the consensus,
    /// and pays the top workers a bonus; resumable (decisions are checked against the service and
    /// the manifest, bonuses carry a UniqueRequestToken).
    public static func review(_ m: inout TurkJobManifest, collected: Collected, client: any TurkBackend, policy: ReviewPolicy, job: String) async throws -> ReviewOutcome {
        var outcome = ReviewOutcome()
        let rows = Dictionary(uniqueKeysWithValues: collected.analysis.workers.map { ($0.worker, $0) })
        let ranked = collected.analysis.workers.filter { $0.annotations > 0 }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.worker < $1.worker }
        let topCount = Int((Double(ranked.count) * policy.bonusTopShare).rounded(.down))
        let top = Set(ranked.prefix(topCount).map(\.worker))
        for (k, record) in collected.export.records.enumerated() {
            let id = collected.assignmentIds[k]
            let worker = record.workerID
            let assignment = try await client.send(GetAssignment(assignmentId: id)).Assignment
            guard let status = assignment?.AssignmentStatus else { continue }
            var approvedNow = status == .Approved
            if status == .Submitted {
                let row = rows[worker]
                let judged = (row?.annotations ?? 0) >= policy.minimumAnnotations
                let poor = judged && (row?.vsConsensus.precision ?? 1) < policy.minimumPrecision
                let empty = record.isEmpty
                if poor || empty {
                    let why = empty ? "No annotations were submitted." :
                        String(format: "Only %.0f%% of your clicks agreed with the other workers' consensus (%.0f%% needed).",
                               100 * (row?.vsConsensus.precision ?? 0), 100 * policy.minimumPrecision)
                    _ = try await client.send(RejectAssignment(assignmentId: id, feedback: why))
                    m.reviewed[id] = "Rejected"; outcome.rejected += 1
                } else {
                    _ = try await client.send(ApproveAssignment(assignmentId: id, feedback: "Thank you."))
                    m.reviewed[id] = "Approved"; outcome.approved += 1; approvedNow = true
                }
                try m.save(job: job)
            } else {
                outcome.alreadyReviewed += 1
            }
            if approvedNow && top.contains(worker) && policy.bonusCents > 0 && m.bonuses[id] == nil {
                let amount = Money.string(cents: policy.bonusCents)
                _ = try await client.send(SendBonus(workerId: worker, bonusAmount: amount, assignmentId: id,
                                                    reason: "Among the most accurate workers on this job.", uniqueRequestToken: "\(m.jobId)-bonus-\(id)"))
                m.bonuses[id] = amount; outcome.bonuses += 1; outcome.bonusCents += policy.bonusCents
                try m.save(job: job)
            }
        }
        // Verify answers: approved when every question was answered, rejected when unreadable.
        if let v = collected.verify {
            let verdicts = v.assignmentIds.map { ($0, true) } + v.unreadableAssignmentIds.map { ($0, false) }
            for (id, readable) in verdicts {
                guard try await client.send(GetAssignment(assignmentId: id)).Assignment?.AssignmentStatus == .Submitted else { outcome.alreadyReviewed += 1; continue }
                if readable {
                    _ = try await client.send(ApproveAssignment(assignmentId: id, feedback: "Thank you."))
                    m.reviewed[id] = "Approved"; outcome.approved += 1
                } else {
                    _ = try await client.send(RejectAssignment(assignmentId: id, feedback: "Not every question was answered yes or no."))
                    m.reviewed[id] = "Rejected"; outcome.rejected += 1
                }
                try m.save(job: job)
            }
        }
        return outcome
    }
}
