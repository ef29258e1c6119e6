import ArgumentParser
import Consensus
import Foundation
import Lab
import Turk

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Run a scenario on Mechanical Turk: the local marketplace, the sandbox or the live service.",
        discussion: """
        The same job runs on every backend: `--backend local` talks to `crowdlab turk \
        serve` (simulated workers), `sandbox` and `live` to Amazon with your AWS \
        credentials (environment or ~/.aws/credentials). Everything is kept in the job \
        folder (job.json, images/, truth/, export.json, analysis/); every step can be run \
        again after an interruption without posting or paying twice.

        Example, offline:
          crowdlab turk serve --db market.sqlite --clock-speed 3600 &
          crowdlab job submit Scenarios/spots-quickstart.yaml --backend local \\
            --job out/job1
          crowdlab job status out/job1
          crowdlab job extend out/job1    # adaptive jobs: repeat while it adds
          crowdlab job verify out/job1    # verify jobs: once the first stage is in
          crowdlab job collect out/job1
          crowdlab job review out/job1
        """,
        subcommands: [JobSubmit.self, JobStatus.self, JobExtend.self, JobVerify.self, JobCollect.self, JobReview.self])
}

/// Where a job runs: the local marketplace (a `crowdlab turk serve`), Amazon's sandbox, or live.
enum Backend: String, ExpressibleByArgument, CaseIterable {
    case local, sandbox, live

    /// The backend a job folder's manifest names.
    init(manifest name: String) throws {
        guard let b = Backend(rawValue: name) else { throw CLIError("job manifest: unknown backend \(name) (local, sandbox or live)") }
        self = b
    }
}

func turkClient(backend: Backend, endpoint: String?) throws -> (LiveTurkClient, String) {
    let url: String
    let credentials: AWSCredentials
    switch backend {
    case .local:
        url = endpoint ?? "http://127.0.0.1:8443"
        credentials = (try? AWSCredentials.fromEnvironment()) ?? AWSCredentials(accessKey: "AKIDCROWDLAB", secretKey: "crowdlab-local-secret")
    case .sandbox:
        url = endpoint ?? LiveTurkClient.sandbox
        credentials = try AWSCredentials.fromEnvironment()
    case .live:
        url = endpoint ?? LiveTurkClient.production
        credentials = try AWSCredentials.fromEnvironment()
    }
    return (try LiveTurkClient(endpoint: url, credentials: credentials), url)
}

/// A job folder's manifest and a client for the backend it names.
func openJob(_ job: String) throws -> (TurkJobManifest, LiveTurkClient) {
    let m = try TurkJobManifest.load(job: job)
    return (m, try turkClient(backend: Backend(manifest: m.backend), endpoint: m.endpoint).0)
}

func describe(_ e: Error, _ context: String) -> CLIError {
    if let t = e as? TurkError { return CLIError("\(context): \(t.type): \(t.message)") }
    return CLIError("\(context): \(e)")
}

struct JobSubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Render the scenario's images and post one HIT per image.")
    @Argument(help: "Scenario YAML.") var scenario: String
    @Option(help: "local, sandbox or live.") var backend: Backend = .local
    @Option(help: "Endpoint URL (default: 127.0.0.1:8443 for local, Amazon's for sandbox and live).") var endpoint: String?
    @Option(help: "Job folder.") var job: String
    @Option(help: "Where workers load the images from (required for sandbox and live: Amazon hosts no images).") var imageBaseUrl: String?
    @Option(name: .customLong("set"), help: "Override a scenario key (key=value); repeatable.") var overrides: [String] = []

    func run() async throws {
        if backend != .local && imageBaseUrl == nil {
            throw CLIError("--image-base-url: required with --backend \(backend): upload \(job)/images/ to a web host and give its URL")
        }
        let (client, url) = try turkClient(backend: backend, endpoint: endpoint)
        let progress = Progress(stages: 1)
        progress.stage("posting HITs")
        do {
            let m = try await TurkJob.submit(scenarioPath: scenario, overrides: overrides, backend: backend.rawValue, endpoint: url, client: client, job: job,
                                             imageBaseURL: imageBaseUrl, progress: { progress.tick($0, $1, "posting HITs") })
            progress.done()
            print("job \(m.jobId): \(m.images.count) HITs of \(m.replicates) assignments at $\(m.reward) on \(backend) (\(url)); folder \(job)")
            if let plan = m.verifyPlan {
                print("verify stage (\(m.policy ?? "verify")): once every answer is in, `crowdlab job verify \(job)` posts the undecided objects as yes/no HITs of \(plan.questionsPerHIT) questions to \(plan.workersPerQuestion) workers each at $\(plan.reward)")
            } else if let policy = m.policy {
                let cap = TurkJob.assignmentCap(try ReplicatePolicies.parse(policy))
                print("adaptive (\(policy)): run `crowdlab job extend \(job)` as answers come in; it adds assignments to unsettled images, up to \(cap) per image")
            }
        } catch { throw describe(error, "job submit") }
    }
}

struct JobStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Each HIT's state and the account balance.")
    @Argument(help: "Job folder.") var job: String

    func run() async throws {
        let (m, client) = try openJob(job)
        do {
            let rows = try await TurkJob.status(m, client: client)
            print("image\tHIT\tstatus\tavailable\tpending\tsubmitted\tapproved\trejected")
            for r in rows { print("\(r.image)\t\(r.hitId)\t\(r.status)\t\(r.available)\t\(r.pending)\t\(r.submitted)\t\(r.approved)\t\(r.rejected)") }
            let done = rows.reduce(0) { $0 + $1.submitted + $1.approved + $1.rejected }
            let balance = try await client.send(GetAccountBalance())
            print("\(done) of \(m.assignmentsAsked) assignments submitted; balance $\(balance.AvailableBalance ?? "?") (on hold $\(balance.OnHoldBalance ?? "0.00"))")
        } catch { throw describe(error, "job status") }
    }
}

struct JobExtend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extend", abstract: "Adaptive jobs: one more assignment for each image whose consensus is not yet settled.",
        discussion: """
        For a job whose scenario sets job.policy: adaptive. Each image whose answers are all in \
        is given one more assignment (CreateAdditionalAssignmentsForHIT) while its consensus \
        is unsettled, up to the policy's cap (at most 9: Mechanical Turk cannot extend a HIT \
        created with fewer than 10 assignments past 9). Run it again as answers arrive until \
        it adds nothing; safe to re-run after an interruption.
        """)
    @Argument(help: "Job folder.") var job: String

    func run() async throws {
        let (loaded, client) = try openJob(job)
        var m = loaded
        do {
            let r = try await TurkJob.extend(&m, client: client, job: job)
            print("added an assignment to \(r.extended.count) image(s); \(r.settled) settled, \(r.capped) at the cap of \(r.cap), \(r.waiting) waiting for answers\(r.expired > 0 ? ", \(r.expired) expired with open slots (UpdateExpirationForHIT reopens them)" : "")\(r.unreadable > 0 ? ", \(r.unreadable) unreadable answer(s) left out (crowdlab job collect names them)" : ""); \(m.assignmentsAsked) assignments asked in all")
        } catch let e as InputError { throw e } catch { throw describe(error, "job extend") }
    }
}

struct JobVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify jobs: post the first stage's undecided objects as yes/no HITs on crops.",
        discussion: """
        For a job whose scenario sets job.policy: verify. Once every first-stage answer is in, \
        the objects the consensus accepted with less than a vote to spare, and the candidates \
        a vote short, become questions ("is there an object at the crosshair?") on close-ups \
        of the images, posted as HITs of their own type (job.verify_questions_per_hit per \
        HIT, job.verify_workers workers each, job.verify_pay_usd each). `crowdlab job \
        collect` then decides those objects by the answers. Before the first stage is in it \
        only reports; safe to re-run after an interruption.
        """)
    @Argument(help: "Job folder.") var job: String

    func run() async throws {
        let (loaded, client) = try openJob(job)
        var m = loaded
        do {
            let r = try await TurkJob.verify(&m, client: client, job: job)
            guard r.drawn else {
                print("first stage: \(r.waiting) image(s) still waiting for answers\(r.expired > 0 ? ", \(r.expired) expired with open slots" : ""); run this again when they are in")
                return
            }
            print("verify stage: \(r.questions) undecided object(s) in \(r.hits) HIT(s) (\(r.postedNow) posted now); \(r.submitted) of \(r.asked) verify assignments submitted")
        } catch let e as InputError { throw e } catch { throw describe(error, "job verify") }
    }
}

struct JobCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "collect", abstract: "Gather the answers into a Quanti.us export and analyse it against the truth.")
    @Argument(help: "Job folder.") var job: String

    func run() async throws {
        let (m, client) = try openJob(job)
        do {
            let c = try await TurkJob.collect(m, client: client, job: job)
            print("\(c.export.records.count) answers (\(c.export.clickCount) clicks) -> \(job)/export.json; analysis in \(job)/analysis")
            if let v = c.verify {
                print("verify stage: \(v.answers) answer(s) to \(v.answeredQuestions) of \(v.questions) question(s): \(v.removed) first-stage object(s) turned down, \(v.added) near miss(es) confirmed")
            }
            if c.late > 0 { print("\(c.late) first-stage answer(s) arrived after the verify questions were drawn: in export.json, left out of the analysis") }
            if !c.unreadable.isEmpty { print("skipped \(c.unreadable.count) unreadable answer(s):\n  " + c.unreadable.joined(separator: "\n  ")) }
            if let s = c.analysis.overall {
                print(String(format: "consensus vs truth: precision %.3f recall %.3f F1 %.3f", s.precision, s.recall, s.f1))
            }
        } catch { throw describe(error, "job collect") }
    }
}

struct JobReview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Approve or reject by the worker score and pay bonuses to the best workers.",
        discussion: """
        With --record-scores each worker's score (the Quanti.us score as 0-100) is kept in \
        the requester's "crowdlab worker score" qualification: a later scenario with \
        job.require_score: N posts its HITs only to workers who scored N or more.

        A worker's assignments are rejected when fewer than --min-precision of their clicks \
        agree with the consensus (judged once they made --min-annotations clicks), or when \
        empty; all others are approved. The top --bonus-share of workers by score get \
        --bonus on each approved assignment. Collects first, so it reviews what is there now.
        """)
    @Argument(help: "Job folder.") var job: String
    @Option(help: "Share of a worker's clicks that must agree with the consensus.") var minPrecision: Double = 0.5
    @Option(help: "Clicks before a worker is judged.") var minAnnotations: Int = 5
    @Option(help: "Bonus per approved assignment for the best workers, USD (default: half the reward).") var bonus: String?
    @Option(help: "Share of workers (by score) who get the bonus.") var bonusShare: Double = 0.2
    @Flag(help: "Record each worker's score (0-100) in the requester's \"crowdlab worker score\" qualification, which a later scenario's job.require_score requires.")
    var recordScores = false

    func run() async throws {
        let (loaded, client) = try openJob(job)
        var m = loaded
        guard (0...1).contains(minPrecision) else { throw CLIError("--min-precision: must be in 0…1") }
        guard (0...1).contains(bonusShare) else { throw CLIError("--bonus-share: must be in 0…1") }
        let bonusCents: Int
        if let bonus {
            guard let c = Money.cents(bonus) else { throw CLIError("--bonus: an amount in dollars such as 0.05, not \(bonus)") }
            bonusCents = c
        } else {
            bonusCents = (Money.cents(m.reward) ?? 0) / 2
        }
        var policy = TurkJob.ReviewPolicy(bonusCents: bonusCents)
        policy.minimumPrecision = minPrecision
        policy.minimumAnnotations = minAnnotations
        policy.bonusTopShare = bonusShare
        do {
            let c = try await TurkJob.collect(m, client: client, job: job)
            let r = try await TurkJob.review(&m, collected: c, client: client, policy: policy, job: job)
            print("approved \(r.approved), rejected \(r.rejected), already reviewed \(r.alreadyReviewed); \(r.bonuses) bonus(es) paid, $\(Money.string(cents: r.bonusCents))")
            if recordScores {
                let recorded = try await TurkJob.recordScores(&m, collected: c, client: client, job: job)
                print("recorded \(recorded.workers) workers' scores in qualification \(recorded.type) (\(TurkJob.scoreQualificationName)); a scenario's job.require_score posts to those at or above it")
            }
        } catch { throw describe(error, "job review") }
    }
}
