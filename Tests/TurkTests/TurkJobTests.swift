import Consensus
import Crowd
import Foundation
import XCTest
import Lab
@testable import Turk

/// A scenario run as a Mechanical Turk job on the in-process marketplace: posted, collected,
/// reviewed, and resumed after an interruption without double posting or double payment.
final class TurkJobTests: XCTestCase {
    /// A scenario file, a frozen-clock marketplace and a job folder in a fresh temporary folder.
    func setUpJob(_ yaml: String, marketSeed: UInt64) throws -> (scenario: String, market: LocalMarketplace, job: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crowdlab-job-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let scenario = (dir as NSString).appendingPathComponent("scenario.yaml")
        try yaml.write(toFile: scenario, atomically: true, encoding: .utf8)
        var options = MarketplaceOptions()
        options.clockSpeed = 0
        options.seed = marketSeed
        let market = try LocalMarketplace(path: (dir as NSString).appendingPathComponent("market.sqlite"), options: options)
        return (scenario, market, (dir as NSString).appendingPathComponent("job"))
    }

    func testSubmitCollectReviewAndResume() async throws {
        let (scenario, market, job) = try setUpJob("""
        name: tiny
        seed: 3
        scene:
          kind: spots
          images: 2
          objects: 30-40
          snr: 8-20
        job:
          replicates: 3
          pay_usd: 0.04
        """, marketSeed: 5)

        var m = try await TurkJob.submit(scenarioPath: scenario, overrides: [], backend: "local", endpoint: "http://127.0.0.1", client: market,
                                         job: job, imageBaseURL: nil)
        XCTAssertEqual(m.images.count, 2)
        XCTAssertTrue(m.images.allSatisfy { $0.hitId != nil })

        // Interrupted after posting the second HIT but before saving its id: the resume finds it.
        let lost = m.images[1].hitId
        m.images[1].hitId = nil
        try m.save(job: job)
        m = try await TurkJob.submit(scenarioPath: scenario, overrides: [], backend: "local", endpoint: "http://127.0.0.1", client: market,
                                     job: job, imageBaseURL: nil)
        XCTAssertEqual(m.images[1].hitId, lost, "the same HIT, not a second one")
        let listed = try await market.send(ListHITs())
        XCTAssertEqual(listed.NumResults, 2)

        try market.advance(seconds: 24 * 3600)
        let status = try await TurkJob.status(m, client: market)
        XCTAssertEqual(status.map(\.submitted), [3, 3])

        let collected = try await TurkJob.collect(m, client: market, job: job)
        XCTAssertEqual(collected.export.records.count, 6)
        XCTAssertTrue(collected.unreadable.isEmpty)
        XCTAssertTrue(FileManager.default.fileExists(atPath: (job as NSString).appendingPathComponent("analysis/report.html")))
        let exported = try ExportReader.read(path: (job as NSString).appendingPathComponent("export.json"))
        XCTAssertEqual(exported.clickCount, collected.export.clickCount)
        let overall = try XCTUnwrap(collected.analysis.overall)
        XCTAssertGreaterThan(overall.precision, 0.9, "three workers on bright spots agree on real ones")

        var policy = TurkJob.ReviewPolicy(bonusCents: 2)
        policy.bonusTopShare = 0.5
        let first = try await TurkJob.review(&m, collected: collected, client: market, policy: policy, job: job)
        XCTAssertEqual(first.approved + first.rejected, 6)
        XCTAssertGreaterThan(first.bonuses, 0)
        // Reviewing again changes nothing and pays nothing.
        let again = try await TurkJob.review(&m, collected: collected, client: market, policy: policy, job: job)
        XCTAssertEqual(again.approved + again.rejected + again.bonuses, 0)
        XCTAssertEqual(again.alreadyReviewed, 6)

        // The balance to the cent: each approved assignment 0.04 + 0.01 fee, each bonus 0.02 + 0.01 fee.
        let spent = first.approved * 5 + first.bonuses * 3
        let balance = try await market.send(GetAccountBalance())
        XCTAssertEqual(balance.AvailableBalance, Money.string(cents: 1_000_000 - spent))
        XCTAssertEqual(balance.OnHoldBalance, "0.00")
    }

    /// An adaptive job: HITs start with 3 assignments and `extend` adds one at a time to the images
    /// still unsettled, up to the cap, never twice for the same step, with fees to the cent.
    func testAdaptiveJobAddsAssignmentsWhereTheConsensusIsUnsettled() async throws {
        let (scenario, market, job) = try setUpJob("""
        name: adaptive
        seed: 4
        scene:
          kind: spots
          images: 4
          objects: 20-140
          snr: 4-20
        job:
          pay_usd: 0.04
          policy: adaptive
          adaptive_start: 3
          adaptive_cap: 15
          adaptive_threshold: 0.1
        """, marketSeed: 9)
        var m = try await TurkJob.submit(scenarioPath: scenario, overrides: [], backend: "local", endpoint: "http://127.0.0.1", client: market,
                                         job: job, imageBaseURL: nil)
        XCTAssertEqual(m.policy, "adaptive:3,15,0.1")
        for image in m.images { let hit = try await market.send(GetHIT(hitId: image.hitId!)).HIT; XCTAssertEqual(hit?.MaxAssignments, 3) }

        // Nothing answered yet: every image waits.
        var round = try await TurkJob.extend(&m, client: market, job: job)
        XCTAssertEqual(round.waiting, 4)
        XCTAssertTrue(round.extended.isEmpty)
        var rounds = 0
        repeat {
            try market.advance(seconds: 24 * 3600)
            round = try await TurkJob.extend(&m, client: market, job: job)
            rounds += 1
            XCTAssertEqual(round.cap, 9, "a HIT of 3 cannot be extended to 10 or more")
        } while !round.extended.isEmpty && rounds < 10
        XCTAssertEqual(round.settled + round.capped, 4, "every image ends settled or at the cap")
        let asked = m.images.map { $0.assignments ?? 0 }
        XCTAssertTrue(asked.allSatisfy { (3...9).contains($0) }, "\(asked)")
        XCTAssertGreaterThan(asked.max()!, asked.min()!, "the dense, faint images get more workers than the sparse bright ones: \(asked)")
        for image in m.images {
            let hit = try await market.send(GetHIT(hitId: image.hitId!)).HIT
            XCTAssertEqual(hit?.MaxAssignments, image.assignments, "the manifest agrees with the service")
        }

        // Interrupted after a request but before the manifest was saved, then run again: the
        // service's count is what counts, and the same token adds nothing.
        let k = try XCTUnwrap(m.images.indices.first { (m.images[$0].assignments ?? 0) > 3 })
        let hitId = m.images[k].hitId!, before = m.images[k].assignments!
        _ = try await market.send(CreateAdditionalAssignmentsForHIT(hitId: hitId, number: 1, uniqueRequestToken: "\(m.jobId)-\(m.images[k].name)-to-\(before)"))
        let retried = try await market.send(GetHIT(hitId: hitId)).HIT?.MaxAssignments
        XCTAssertEqual(retried, before, "a retried token adds nothing")
        m.images[k].assignments = before - 1
        try m.save(job: job)
        var reloaded = try TurkJobManifest.load(job: job)
        _ = try await TurkJob.extend(&reloaded, client: market, job: job)
        XCTAssertEqual(reloaded.images[k].assignments, before)

        // Collected and reviewed: what was paid is what was asked, to the cent (0.04 + 0.01 fee each).
        let collected = try await TurkJob.collect(reloaded, client: market, job: job)
        XCTAssertEqual(collected.export.records.count, reloaded.assignmentsAsked)
        let review = try await TurkJob.review(&reloaded, collected: collected, client: market, policy: .init(bonusCents: 0), job: job)
        XCTAssertEqual(review.approved + review.rejected + review.alreadyReviewed, reloaded.assignmentsAsked, "some were approved automatically after 3 days")
        var approved = 0
        for image in reloaded.images { approved += try await market.allAssignments(hitId: image.hitId!).filter { $0.AssignmentStatus == .Approved }.count }
        XCTAssertGreaterThan(approved, 0)
        let balance = try await market.send(GetAccountBalance())
        XCTAssertEqual(balance.AvailableBalance, Money.string(cents: 1_000_000 - approved * 5))

        // A fixed job has nothing to extend: one line naming the manifest's field.
        reloaded.policy = nil
        do { _ = try await TurkJob.extend(&reloaded, client: market, job: job); XCTFail("a fixed job was extended") } catch {
            XCTAssertTrue("\(error)".contains("job.json: field policy"), "\(error)")
        }
    }

    /// A verify job: the first stage's undecided objects posted as yes/no HITs of their own type,
    /// answered by the simulated workers from the crowd model, resumed without double posting, and
    /// deciding those objects in `collect`; paid to the cent.
    func testVerifyStagePostedAsItsOwnHITTypeAndDecided() async throws {
        let (scenario, market, job) = try setUpJob("""
        name: verify
        seed: 6
        scene:
          kind: spots
          images: 3
          objects: 60-120
          snr: 3-12
        job:
          replicates: 5
          pay_usd: 0.04
          policy: verify
          verify_workers: 3
          verify_questions_per_hit: 10
          verify_pay_usd: 0.03
        analysis:
          method: agreement
        """, marketSeed: 13)
        var m = try await TurkJob.submit(scenarioPath: scenario, overrides: [], backend: "local", endpoint: "http://127.0.0.1", client: market,
                                         job: job, imageBaseURL: nil)
        XCTAssertEqual(m.policy, "verify:5,3,10")
        var round = try await TurkJob.verify(&m, client: market, job: job)
        XCTAssertFalse(round.drawn, "nothing is asked before the first stage is in")
        XCTAssertEqual(round.waiting, 3)

        try market.advance(seconds: 24 * 3600)
        round = try await TurkJob.verify(&m, client: market, job: job)
        XCTAssertTrue(round.drawn)
        XCTAssertGreaterThan(round.questions, 10, "faint dense images leave objects undecided")
        XCTAssertEqual(round.hits, (round.questions + 9) / 10)
        XCTAssertEqual(round.postedNow, round.hits)
        let imageHITs = Set(m.images.map { $0.hitId! })
        var listed = try await market.send(ListHITs(maxResults: 100)).HITs ?? []
        XCTAssertEqual(listed.count, 3 + round.hits)
        let verifyHITs = listed.filter { !imageHITs.contains($0.HITId) }
        let imageType = try XCTUnwrap(listed.first { imageHITs.contains($0.HITId) }?.HITTypeId)
        for hit in verifyHITs {
            XCTAssertNotEqual(hit.HITTypeId, imageType, "the verify stage is a HIT type of its own")
            XCTAssertEqual(hit.Reward, "0.03")
            XCTAssertEqual(hit.MaxAssignments, 3)
            XCTAssertEqual(hit.Title, "Is there an object at the crosshair?")
            XCTAssertNotNil(hit.Question.flatMap(VerifyQuestion.items(inQuestion:)), "the page carries its points")
        }

        // Interrupted after posting the last verify HIT but before saving its id: the resume finds it.
        let last = m.verify!.hitIds.count - 1, lost = m.verify!.hitIds[last]
        m.verify!.hitIds[last] = nil
        try m.save(job: job)
        var reloaded = try TurkJobManifest.load(job: job)
        round = try await TurkJob.verify(&reloaded, client: market, job: job)
        XCTAssertEqual(round.postedNow, 1)
        XCTAssertEqual(reloaded.verify!.hitIds[last], lost, "the same HIT, not a second one")
        listed = try await market.send(ListHITs(maxResults: 100)).HITs ?? []
        XCTAssertEqual(listed.count, 3 + round.hits)

        try market.advance(seconds: 24 * 3600)
        let status = try await TurkJob.status(reloaded, client: market)
        XCTAssertEqual(status.filter { $0.image.hasPrefix("verify-") }.map(\.submitted), Array(repeating: 3, count: round.hits))
        let collected = try await TurkJob.collect(reloaded, client: market, job: job)
        let v = try XCTUnwrap(collected.verify)
        XCTAssertEqual(v.answers, 3 * round.hits)
        XCTAssertEqual(v.answeredQuestions, round.questions)
        XCTAssertTrue(collected.unreadable.isEmpty, "\(collected.unreadable)")

        // The verifiers answered from the crowd model: their yes share is the model's chance of a
        // yes for that worker at that point (detection of the object there, else a false click),
        // so the page's crops point where the questions do.
        var said = 0.0, expected = 0.0, variance = 0.0
        for (h, hitId) in reloaded.verify!.hitIds.enumerated() {
            for a in try await market.allAssignments(hitId: hitId!) {
                let worker = try XCTUnwrap(market.pool.workers.first { $0.id == a.WorkerId })
                let fields = Dictionary(AnswerFormat.parse(a.Answer ?? ""), uniquingKeysWith: { x, _ in x })
                for k in TurkJob.questionRange(h, plan: reloaded.verifyPlan!, count: round.questions) {
                    let q = reloaded.verify!.questions[k]
                    let task = try await market.store.db.read { db in try market.task(db, image: q.image) }
                    let v = VerifierCrowd.visibility(x: q.x, y: q.y, in: try XCTUnwrap(task), radius: LocalMarketplace.verifyRadius)
                    let p = VerifierCrowd.yesProbability(worker, visibility: v, market.annotator)
                    said += fields[VerifyQuestion.field(k - h * 10)] == "yes" ? 1 : 0
                    expected += p; variance += p * (1 - p)
                }
            }
        }
        XCTAssertEqual(said, expected, accuracy: 4 * variance.squareRoot(), "yes answers \(said), the model expects \(expected)")
        XCTAssertGreaterThan(expected, 0)
        let (first, _) = try TurkJob.analyse(reloaded, QuantiusExport(records: collected.export.records), job: job)
        let before = first.consensus.reduce(0) { $0 + $1.points.count }, after = collected.analysis.consensus.reduce(0) { $0 + $1.points.count }
        XCTAssertEqual(after, before - v.removed + v.added)
        print(String(format: "verify job: %d questions in %d HITs, %d answers: %.0f yes (the model expects %.1f); %d first-stage objects turned down, %d near misses confirmed; F1 %.3f -> %.3f (precision %.3f -> %.3f, recall %.3f -> %.3f)",
                     round.questions, round.hits, v.answers, said, expected, v.removed, v.added, first.overall?.f1 ?? 0, collected.analysis.overall?.f1 ?? 0,
                     first.overall?.precision ?? 0, collected.analysis.overall?.precision ?? 0, first.overall?.recall ?? 0, collected.analysis.overall?.recall ?? 0))
        XCTAssertGreaterThan(v.removed + v.added, 0)

        // Reviewed and paid: 0.04 + 0.01 fee per image assignment, 0.03 + 0.01 per verify assignment.
        let review = try await TurkJob.review(&reloaded, collected: collected, client: market, policy: .init(bonusCents: 0), job: job)
        XCTAssertEqual(review.approved + review.rejected + review.alreadyReviewed, 15 + 3 * round.hits)
        var cents = 0
        for hit in listed {
            let approved = try await market.allAssignments(hitId: hit.HITId).filter { $0.AssignmentStatus == .Approved }.count
            cents += approved * (imageHITs.contains(hit.HITId) ? 5 : 4)
        }
        let balance = try await market.send(GetAccountBalance())
        XCTAssertEqual(balance.AvailableBalance, Money.string(cents: 1_000_000 - cents))
        XCTAssertEqual(balance.OnHoldBalance, "0.00")

        // A verify job is not extended: one line naming the manifest's field.
        do { _ = try await TurkJob.extend(&reloaded, client: market, job: job); XCTFail("a verify job was extended") } catch {
            XCTAssertTrue("\(error)".contains("job.json: field policy"), "\(error)")
        }
    }

    /// Pools from history: one job's review records each worker's score, and the next job's HITs
    /// go only to those who scored well; the simulated workers keep their identity across jobs.
    func testScoresRecordedByOneJobPoolTheNext() async throws {
        let first = """
        name: first
        seed: 6
        scene:
          kind: spots
          images: 6
          objects: 40-80
          snr: 6-20
        job:
          replicates: 6
          pay_usd: 0.04
        """
        let (scenario, market, job) = try setUpJob(first, marketSeed: 21)
        // Nothing recorded yet: a job that requires a score is refused in one line.
        let pooledText = first.replacingOccurrences(of: "name: first", with: "name: second").replacingOccurrences(of: "seed: 6", with: "seed: 7")
            + "\n  require_score: 60\n"
        let pooled = (scenario as NSString).deletingLastPathComponent + "/second.yaml"
        try pooledText.write(toFile: pooled, atomically: true, encoding: .utf8)
        let secondJob = (job as NSString).deletingLastPathComponent + "/second-job"
        do {
            _ = try await TurkJob.submit(scenarioPath: pooled, overrides: [], backend: "local", endpoint: "http://127.0.0.1", client: market, job: secondJob, imageBaseURL: nil)
            XCTFail("submitted without scores")
        } catch { XCTAssertTrue("\(error)".contains("field job.require_score: no worker scores"), "\(error)") }
        try? FileManager.default.removeItem(atPath: secondJob)

        var m = try await TurkJob.submit(scenarioPath: scenario, overrides: [], backend: "local", endpoint: "http://127.0.0.1", client: market, job: job, imageBaseURL: nil)
        try market.advance(seconds: 24 * 3600)
        let collected = try await TurkJob.collect(m, client: market, job: job)
        let recorded = try await TurkJob.recordScores(&m, collected: collected, client: market, job: job)
        XCTAssertEqual(recorded.workers, collected.analysis.workers.count)
        let again = try await TurkJob.recordScores(&m, collected: collected, client: market, job: job)
        XCTAssertEqual(again.type, recorded.type, "the same qualification type, found by name")
        let firstScores = Dictionary(uniqueKeysWithValues: collected.analysis.workers.map { ($0.worker, TurkJob.qualificationValue(score: $0.score)) })

        let second = try await TurkJob.submit(scenarioPath: pooled, overrides: [], backend: "local", endpoint: "http://127.0.0.1", client: market, job: secondJob, imageBaseURL: nil)
        let hit = try await market.send(GetHIT(hitId: second.images[0].hitId!)).HIT
        XCTAssertEqual(hit?.QualificationRequirements?.first?.QualificationTypeId, recorded.type)
        XCTAssertEqual(hit?.QualificationRequirements?.first?.IntegerValues, [60])
        try market.advance(seconds: 24 * 3600)
        let pooledAnswers = try await TurkJob.collect(second, client: market, job: secondJob)
        XCTAssertGreaterThan(pooledAnswers.export.records.count, 0)
        for w in pooledAnswers.analysis.workers {
            XCTAssertGreaterThanOrEqual(firstScores[w.worker] ?? -1, 60, "\(w.worker) scored under 60 on the first job")
        }
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(1, xs.count)) }
        let before = mean(collected.analysis.workers.map(\.score)), after = mean(pooledAnswers.analysis.workers.map(\.score))
        print(String(format: "pools: first job %d workers, mean score %.3f; second job (require_score 60) %d workers, %d answers, mean score %.3f",
                     collected.analysis.workers.count, before, pooledAnswers.analysis.workers.count, pooledAnswers.export.records.count, after))
        XCTAssertGreaterThan(after, before, "the pooled crowd scores better: \(before) -> \(after)")
    }
}
