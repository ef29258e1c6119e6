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
            manifest = try await newManifest(s, scenarioPath: scenarioPath, overrides: overrides, backend: name, endpoint: endpoint,
                                             client: client, job: job, imageBaseURL: imageBaseURL)
        }
        if manifest.images.isEmpty { try renderImages(s, into: &manifest, job: job) }
        for (k, image) in manifest.images.enumerated() where image.hitId == nil {
            progress(k, manifest.images.count)
            manifest.images[k].hitId = try await post(image, of: manifest, scenario: s, client: client, job: job)
            manifest.images[k].assignments = manifest.replicates
            try manifest.save(job: job)
        }
        progress(manifest.images.count, manifest.images.count)
        return manifest
    }

    /// Where a job keeps what it posted: `job/images` (the PNGs) and `job/truth` (their truth CSVs).
    static func folders(job: String) -> (images: String, truth: String) {
        ((job as NSString).appendingPathComponent("images"), (job as NSString).appendingPathComponent("truth"))
    }

    /// A new job's manifest: its id (a digest of where it is, the endpoint and the scenario), the
    /// HIT's terms, its policy and the score the workers must hold.
    static func newManifest(_ s: Scenario, scenarioPath: String, overrides: [String], backend name: String, endpoint: String,
                            client: any TurkBackend, job: String, imageBaseURL: String?) async throws -> TurkJobManifest {
        let absolute = URL(fileURLWithPath: job).standardizedFileURL.path
        let digest = SHA256.hash(data: Array("\(absolute)|\(endpoint)|\(s.seed)|\(s.name)".utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        let base = imageBaseURL ?? (endpoint + "/images")
        let rewardCents = Int((s.pay * 100).rounded())
        let adaptive = s.policy == .adaptive
        var manifest = TurkJobManifest(jobId: "\(s.name)-\(digest)", scenario: scenarioPath, overrides: overrides, backend: name, endpoint: endpoint,
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
        return manifest
    }

    /// The images and truth, rendered as `crowdlab run` renders them, into `job/images` and `job/truth`.
    static func renderImages(_ s: Scenario, into manifest: inout TurkJobManifest, job: String) throws {
        let (imagesDir, truthDir) = folders(job: job)
        try FileManager.default.createDirectory(atPath: imagesDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: truthDir, withIntermediateDirectories: true)
        let scene = s.scene
        for i in 0..<s.images {
            let name = String(format: "%@_%04d.png", s.sceneKind.rawValue, i)
            let p = scene.render(seed: SeededRandom.derive(s.seed, UInt64(i)))
            try AtomicFile.write(try PNG.encode(p.image), to: (imagesDir as NSString).appendingPathComponent(name))
            try AtomicFile.write(truthCSV(p.truth), to: (truthDir as NSString).appendingPathComponent((name as NSString).deletingPathExtension + ".csv"))
            manifest.images.append(.init(name: name, width: p.image.width, height: p.image.height, hitId: nil))
        }
        try manifest.save(job: job)
    }

    /// Uploads one image when the backend hosts images and posts its HIT; the HIT's id. A HIT posted
    /// before an interruption is found by its token, not posted twice.
    static func post(_ image: TurkJobManifest.Image, of manifest: TurkJobManifest, scenario s: Scenario, client: any TurkBackend, job: String) async throws -> String {
        if client.hostsImages {
            let (imagesDir, truthDir) = folders(job: job)
            let png = try Data(contentsOf: URL(fileURLWithPath: (imagesDir as NSString).appendingPathComponent(image.name)))
            let truth = try String(contentsOfFile: (truthDir as NSString).appendingPathComponent((image.name as NSString).deletingPathExtension + ".csv"), encoding: .utf8)
            _ = try await client.putImage(name: image.name, png: png, truthCSV: truth)
        }
        let question = HTMLQuestion.make(imageURL: "\(manifest.imageBaseURL)/\(image.name)", tool: HTMLQuestion.Tool(rawValue: s.tool.rawValue) ?? .crosshairs, instructions: manifest.instructions)
        let token = "\(manifest.jobId)-\(image.name)"
        do {
            let r = try await client.send(CreateHIT(maxAssignments: manifest.replicates, lifetimeInSeconds: manifest.lifetimeSeconds,
                                                    assignmentDurationInSeconds: manifest.assignmentSeconds, reward: manifest.reward,
                                                    title: manifest.title, description: "Image annotation for \(s.name): \(image.name)",
                                                    question: question, requesterAnnotation: token, uniqueRequestToken: token,
                                                    autoApprovalDelayInSeconds: manifest.autoApprovalSeconds, keywords: "image, annotation, science",
                                                    qualificationRequirements: manifest.scoreRequirement))
            return r.HIT?.HITId ?? ""
        } catch let e as TurkError where e.turkErrorCode == "AWS.MechanicalTurk.HitAlreadyExists" {
            // Posted before an interruption: the HIT carries the token as its annotation.
            guard let hit = try await client.hit(requesterAnnotation: token) else { throw e }
            return hit.HITId
        }
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

    /// One image's HIT as the service reports it.
    public struct ImageStatus: Sendable {
        public var image: String, hitId: String, status: String
        public var available: Int, pending: Int, submitted: Int, approved: Int, rejected: Int
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

}
