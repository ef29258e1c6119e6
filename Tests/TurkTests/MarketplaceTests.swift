import Consensus
import Foundation
import Imaging
import Phantoms
import XCTest
@testable import Turk

/// One requester's session, run against any backend: the in-process marketplace and the live client
/// talking to the same marketplace over HTTP must behave the same.
struct RequesterSession {
    let backend: any TurkBackend
    /// Moves the marketplace clock on by so many seconds.
    let advance: (Double) async throws -> Void

    func run(file: StaticString = #filePath, line: UInt = #line) async throws {
        let balance = try await backend.send(GetAccountBalance())
        XCTAssertEqual(balance.AvailableBalance, "10000.00", file: file, line: line)

        // A spots phantom with its truth, uploaded as a requester would.
        var scene = SpotsScene()
        scene.count = 40...40
        scene.snr = 12...20
        let phantom = scene.render(seed: 5)
        let png = try PNG.encode(phantom.image)
        let url = try await backend.putImage(name: "spots_0005.png", png: png, truthCSV: truthCSV(phantom.truth))
        XCTAssertTrue(url.hasSuffix("/images/spots_0005.png"), file: file, line: line)
        let question = HTMLQuestion.make(imageURL: url, tool: .crosshairs, instructions: "Click every spot.")

        let created = try await backend.send(CreateHIT(maxAssignments: 5, lifetimeInSeconds: 86_400, assignmentDurationInSeconds: 3600,
                                                       reward: "0.05", title: "Click the spots", description: "Click the centre of every bright spot.",
                                                       question: question, uniqueRequestToken: "session-hit-1", autoApprovalDelayInSeconds: 7 * 86_400))
        let hit = try XCTUnwrap(created.HIT, file: file, line: line)
        XCTAssertEqual(hit.HITStatus, .Assignable, file: file, line: line)
        XCTAssertEqual(hit.NumberOfAssignmentsAvailable, 5, file: file, line: line)
        // The same token again is refused, naming the HIT it made.
        do {
            _ = try await backend.send(CreateHIT(maxAssignments: 5, lifetimeInSeconds: 86_400, assignmentDurationInSeconds: 3600, reward: "0.05",
                                                 title: "Click the spots", description: "d", question: question, uniqueRequestToken: "session-hit-1"))
            XCTFail("a reused UniqueRequestToken must be refused", file: file, line: line)
        } catch let e as TurkError {
            XCTAssertEqual(e.type, "RequestError", file: file, line: line)
            XCTAssertTrue(e.message.contains(hit.HITId), file: file, line: line)
        }
        // Rewards and fees of all five assignments are held while the HIT is open.
        let held = try await backend.send(GetAccountBalance())
        XCTAssertEqual(held.OnHoldBalance, "0.30", file: file, line: line)
        XCTAssertEqual(held.AvailableBalance, "9999.70", file: file, line: line)

        // Simulated workers come, work and submit as the marketplace clock runs.
        var submitted: [HITAssignment] = []
        for _ in 0..<200 {
            try await advance(600)
            submitted = try await allAssignments(hit.HITId)
            if submitted.count == 5 { break }
        }
        XCTAssertEqual(submitted.count, 5, "five workers should have submitted within the simulated day", file: file, line: line)
        XCTAssertEqual(Set(submitted.map(\.WorkerId)).count, 5, "distinct workers", file: file, line: line)
        XCTAssertEqual(Set(submitted.map(\.AssignmentId)).count, 5, file: file, line: line)
        let doneResponse = try await backend.send(GetHIT(hitId: hit.HITId))
        let done = try XCTUnwrap(doneResponse.HIT, file: file, line: line)
        XCTAssertEqual(done.HITStatus, .Reviewable, file: file, line: line)

        // Review states: Reviewable, then Reviewing and back.
        let reviewable = try await backend.send(ListReviewableHITs())
        XCTAssertEqual(reviewable.HITs?.map(\.HITId), [hit.HITId], file: file, line: line)
        _ = try await backend.send(UpdateHITReviewStatus(hitId: hit.HITId))
        let reviewing = try await backend.send(ListReviewableHITs(status: "Reviewing"))
        XCTAssertEqual(reviewing.HITs?.map(\.HITId), [hit.HITId], file: file, line: line)
        _ = try await backend.send(UpdateHITReviewStatus(hitId: hit.HITId, revert: true))
        let reverted = try await backend.send(GetHIT(hitId: hit.HITId))
        XCTAssertEqual(reverted.HIT?.HITStatus, .Reviewable, file: file, line: line)

        // Answers are QuestionFormAnswers holding the worker's raw_data; clicks land on the spots
        // (within 16 px: careless workers point with 2.5 times the median error).
        var near = 0, clicks = 0
        var farDistances: [Int] = []
        for a in submitted {
            XCTAssertEqual(a.AssignmentStatus, .Submitted, file: file, line: line)
            let accept = try XCTUnwrap(a.AcceptTime), submit = try XCTUnwrap(a.SubmitTime)
            XCTAssertGreaterThan(submit, accept, file: file, line: line)
            XCTAssertLessThanOrEqual(submit, accept + 3600, file: file, line: line)
            let record = try AnswerFormat.exportRecord(answer: try XCTUnwrap(a.Answer), image: "spots_0005.png", width: 300, height: 300,
                                                       workerId: a.WorkerId, submitTime: submit)
            for v in record.allVertices {
                clicks += 1
                let d = phantom.truth.map { hypot($0.col - v.x, (300 - $0.row) - v.y) }.min() ?? .infinity
                if d <= 16 { near += 1 } else { farDistances.append(Int(d)) }
            }
        }
        XCTAssertGreaterThan(clicks, 5 * 10, "workers click most of 40 bright spots", file: file, line: line)
        XCTAssertGreaterThan(Double(near) / Double(clicks), 0.9, "clicks are on the spots (\(near) of \(clicks) within 16 px, the rest: \(farDistances.sorted().prefix(40)))", file: file, line: line)

        // Paging returns each assignment once.
        let firstPage = try await backend.send(ListAssignmentsForHIT(hitId: hit.HITId, maxResults: 2))
        XCTAssertEqual(firstPage.Assignments?.count, 2, file: file, line: line)
        XCTAssertNotNil(firstPage.NextToken, file: file, line: line)
        let paged = try await backend.allAssignments(hitId: hit.HITId, pageSize: 2).map(\.AssignmentId)
        XCTAssertEqual(paged, submitted.map(\.AssignmentId), file: file, line: line)

        // Review: approve four, reject one; approving the rejected one again is refused.
        for a in submitted.prefix(4) { _ = try await backend.send(ApproveAssignment(assignmentId: a.AssignmentId)) }
        _ = try await backend.send(RejectAssignment(assignmentId: submitted[4].AssignmentId, feedback: "Clicks were not on the spots."))
        do {
            _ = try await backend.send(ApproveAssignment(assignmentId: submitted[4].AssignmentId))
            XCTFail("approving a rejected assignment without OverrideRejection must fail", file: file, line: line)
        } catch let e as TurkError {
            XCTAssertEqual(e.turkErrorCode, "AWS.MechanicalTurk.InvalidAssignmentState", file: file, line: line)
        }
        let approved = try await backend.send(ListAssignmentsForHIT(hitId: hit.HITId, statuses: [.Approved]))
        XCTAssertEqual(approved.NumResults, 4, file: file, line: line)

        // A bonus sent twice with one token is paid once.
        for _ in 0..<2 {
            _ = try await backend.send(SendBonus(workerId: submitted[0].WorkerId, bonusAmount: "0.10", assignmentId: submitted[0].AssignmentId,
                                                 reason: "Careful work", uniqueRequestToken: "bonus-1"))
        }
        let bonuses = try await backend.send(ListBonusPayments(hitId: hit.HITId))
        XCTAssertEqual(bonuses.BonusPayments?.count, 1, file: file, line: line)
        XCTAssertEqual(bonuses.BonusPayments?.first?.BonusAmount, "0.10", file: file, line: line)

        // To the cent: 4 x (0.05 + 0.01 fee) for the approved, nothing for the rejected, 0.10 + 0.02 for the bonus.
        let after = try await backend.send(GetAccountBalance())
        XCTAssertEqual(after.AvailableBalance, "9999.64", file: file, line: line)
        XCTAssertEqual(after.OnHoldBalance, "0.00", file: file, line: line)

        // Errors as the service gives them.
        do {
            _ = try await backend.send(GetHIT(hitId: "3NOSUCHHIT00000000000000000000"))
            XCTFail("unknown HIT", file: file, line: line)
        } catch let e as TurkError {
            XCTAssertEqual(e.type, "RequestError", file: file, line: line)
            XCTAssertEqual(e.turkErrorCode, "AWS.MechanicalTurk.HitDoesNotExist", file: file, line: line)
        }
        do {
            _ = try await backend.send(CreateHIT(maxAssignments: 100_000, lifetimeInSeconds: 3600, assignmentDurationInSeconds: 600,
                                                 reward: "1.00", title: "t", description: "d", question: question))
            XCTFail("a HIT costing more than the balance must be refused", file: file, line: line)
        } catch let e as TurkError {
            XCTAssertEqual(e.turkErrorCode, "AWS.MechanicalTurk.InsufficientFunds", file: file, line: line)
        }

        // Blocks and qualifications: a HIT only for holders of a qualification nobody holds stays untouched.
        _ = try await backend.send(CreateWorkerBlock(workerId: "AUNWANTED00001", reason: "Test"))
        _ = try await backend.send(CreateWorkerBlock(workerId: submitted[4].WorkerId, reason: "Off-target clicks"))
        _ = try await backend.send(DeleteWorkerBlock(workerId: "AUNWANTED00001"))
        let blocks = try await backend.send(ListWorkerBlocks())
        XCTAssertEqual(blocks.WorkerBlocks?.map(\.WorkerId), [submitted[4].WorkerId], file: file, line: line)
        let notified = try await backend.send(NotifyWorkers(subject: "Thanks", message: "More HITs soon.", workerIds: [submitted[0].WorkerId, "ANEVERWORKED01"]))
        XCTAssertEqual(notified.NotifyWorkersFailureStatuses?.map(\.WorkerId), ["ANEVERWORKED01"], file: file, line: line)
        let qualResponse = try await backend.send(CreateQualificationType(name: "Spot expert", description: "Passed the spot test"))
        let qual = try XCTUnwrap(qualResponse.QualificationType)
        let fetched = try await backend.send(GetQualificationType(id: qual.QualificationTypeId))
        XCTAssertEqual(fetched.QualificationType?.Name, "Spot expert", file: file, line: line)
        _ = try await backend.send(AssociateQualificationWithWorker(qualificationTypeId: qual.QualificationTypeId, workerId: "AOFFLINEEXPERT", integerValue: 90))
        let gatedResponse = try await backend.send(CreateHIT(maxAssignments: 3, lifetimeInSeconds: 86_400, assignmentDurationInSeconds: 3600,
                                                                   reward: "0.05", title: "Experts only", description: "d", question: question,
                                                                   qualificationRequirements: [QualificationRequirement(QualificationTypeId: qual.QualificationTypeId, Comparator: "Exists")]))
        let gated = try XCTUnwrap(gatedResponse.HIT)
        try await advance(6 * 3600)
        let untouchedResponse = try await backend.send(GetHIT(hitId: gated.HITId))
        let untouched = try XCTUnwrap(untouchedResponse.HIT)
        XCTAssertEqual(untouched.NumberOfAssignmentsAvailable, 3, file: file, line: line)
        // More assignments can be added (below 10), and the extension is held from the balance.
        _ = try await backend.send(CreateAdditionalAssignmentsForHIT(hitId: gated.HITId, number: 2, uniqueRequestToken: "extend-1"))
        _ = try await backend.send(CreateAdditionalAssignmentsForHIT(hitId: gated.HITId, number: 2, uniqueRequestToken: "extend-1"))
        let extended = try await backend.send(GetHIT(hitId: gated.HITId))
        XCTAssertEqual(extended.HIT?.MaxAssignments, 5, "a repeated token extends once", file: file, line: line)
        let holding = try await backend.send(GetAccountBalance())
        XCTAssertEqual(holding.OnHoldBalance, "0.30", file: file, line: line)
        // Expire it, and it can be deleted.
        _ = try await backend.send(UpdateExpirationForHIT(hitId: gated.HITId, expireAt: 0))
        _ = try await backend.send(DeleteHIT(hitId: gated.HITId))
        let listed = try await backend.send(ListHITs())
        XCTAssertEqual(listed.HITs?.map(\.HITId), [hit.HITId], file: file, line: line)
    }

    func allAssignments(_ hit: String) async throws -> [HITAssignment] { try await backend.allAssignments(hitId: hit) }
}

final class MarketplaceTests: XCTestCase {
    func temporaryStore() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crowdlab-turk-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("market.sqlite").path
    }

    func frozenOptions() -> MarketplaceOptions {
        var o = MarketplaceOptions()
        o.clockSpeed = 0
        o.seed = 7
        return o
    }

    func testInProcessMarketplace() async throws {
        let market = try LocalMarketplace(path: temporaryStore(), options: frozenOptions())
        try await RequesterSession(backend: market, advance: { try market.advance(seconds: $0) }).run()
    }

    func testLiveClientAgainstTheServer() async throws {
        let market = try LocalMarketplace(path: temporaryStore(), options: frozenOptions())
        let server = TurkServer(market: market)
        let (portStream, portSink) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run(port: 0, logLevel: .critical) { portSink.yield($0) } }
        defer { serving.cancel() }
        var port = 0
        for await p in portStream { port = p; break }
        let client = try LiveTurkClient(endpoint: "http://127.0.0.1:\(port)",
                                        credentials: AWSCredentials(accessKey: "AKIDCROWDLAB", secretKey: "crowdlab-local-secret"))
        try await RequesterSession(backend: client, advance: { try market.advance(seconds: $0) }).run()

        // A wrong secret is refused with the AWS error, and not retried into success.
        let wrong = try LiveTurkClient(endpoint: "http://127.0.0.1:\(port)", credentials: AWSCredentials(accessKey: "AKIDCROWDLAB", secretKey: "nope"))
        do {
            _ = try await wrong.send(GetAccountBalance())
            XCTFail("bad signature accepted")
        } catch let e as TurkError {
            XCTAssertEqual(e.type, "InvalidSignatureException")
        }
    }

    func testStateSurvivesReopeningAndTheClockResumes() async throws {
        let path = temporaryStore()
        var hitId = ""
        var clock = 0.0
        do {
            let market = try LocalMarketplace(path: path, options: frozenOptions())
            let png = try PNG.encode(SpotsScene().render(seed: 1).image)
            _ = try await market.putImage(name: "a.png", png: png, truthCSV: nil)
            let hit = try await market.send(CreateHIT(maxAssignments: 3, lifetimeInSeconds: 86_400, assignmentDurationInSeconds: 3600, reward: "0.02",
                                                      title: "t", description: "d", question: HTMLQuestion.make(imageURL: "/images/a.png", tool: .crosshairs, instructions: "i")))
            hitId = try XCTUnwrap(hit.HIT?.HITId)
            try market.advance(seconds: 3 * 3600)
            clock = market.now()
        }
        let reopened = try LocalMarketplace(path: path, options: frozenOptions())
        XCTAssertEqual(reopened.now(), clock, accuracy: 1e-3, "the clock resumes where it stopped")
        let hit = try await reopened.send(GetHIT(hitId: hitId))
        XCTAssertEqual(hit.HIT?.MaxAssignments, 3)
        // Without truth the simulated workers found the spots in the pixels themselves.
        let work = try await reopened.send(ListAssignmentsForHIT(hitId: hitId))
        XCTAssertGreaterThan(work.NumResults ?? 0, 0)
    }

    func testSameSeedSameMarket() async throws {
        func runOnce() async throws -> [String] {
            let market = try LocalMarketplace(path: temporaryStore(), options: frozenOptions())
            let png = try PNG.encode(SpotsScene().render(seed: 2).image)
            let url = try await market.putImage(name: "b.png", png: png, truthCSV: truthCSV(SpotsScene().render(seed: 2).truth))
            let hit = try await market.send(CreateHIT(maxAssignments: 4, lifetimeInSeconds: 86_400, assignmentDurationInSeconds: 3600, reward: "0.03",
                                                      title: "t", description: "d", question: HTMLQuestion.make(imageURL: url, tool: .crosshairs, instructions: "i")))
            try market.advance(seconds: 12 * 3600)
            let a = try await market.send(ListAssignmentsForHIT(hitId: hit.HIT!.HITId))
            // Times relative to the HIT's creation: the clock starts at the wall time of the run.
            let created = hit.HIT!.CreationTime
            return (a.Assignments ?? []).map { "\($0.AssignmentId) \($0.WorkerId) \(($0.SubmitTime ?? 0) - created) \($0.Answer?.count ?? 0) \($0.Answer?.hashValue ?? 0)" }
        }
        let first = try await runOnce(), second = try await runOnce()
        XCTAssertEqual(first.count, 4)
        XCTAssertTrue(first == second, "the same seed must give the same market:\n\(first.joined(separator: "\n"))\nvs\n\(second.joined(separator: "\n"))")
    }

    func testBadRequestsNameTheField() throws {
        let market = try LocalMarketplace(path: temporaryStore(), options: frozenOptions())
        XCTAssertThrowsError(try market.handle(operation: "CreateHIT", body: Array(#"{"Reward":"0.05"}"#.utf8))) { e in
            XCTAssertTrue((e as? TurkError)?.message.contains("LifetimeInSeconds") == true, "\(e)")
        }
        XCTAssertThrowsError(try market.handle(operation: "GetHIT", body: Array("{".utf8))) { e in
            XCTAssertEqual((e as? TurkError)?.type, "SerializationException")
        }
        XCTAssertThrowsError(try market.handle(operation: "NoSuchOperation", body: [])) { e in
            XCTAssertEqual((e as? TurkError)?.type, "UnknownOperationException")
        }
    }

    func testSpotDetectorFindsPhantomSpots() {
        var scene = SpotsScene()
        scene.snr = 10...20
        let p = scene.render(seed: 9)
        let found = SpotDetector.detect(p.image)
        let hits = p.truth.filter { t in found.contains { hypot($0.col - t.col, $0.row - t.row) <= 3 } }.count
        XCTAssertGreaterThan(Double(hits) / Double(p.truth.count), 0.85)
        XCTAssertLessThan(Double(found.count), Double(p.truth.count) * 1.2)
    }
}

final class MarketplaceClockTests: XCTestCase {
    /// Submitted work is approved automatically after the HIT's delay, and paid then.
    func testAutoApprovalAfterTheDelay() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crowdlab-turk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var o = MarketplaceOptions()
        o.clockSpeed = 0; o.seed = 3
        let market = try LocalMarketplace(path: dir.appendingPathComponent("m.sqlite").path, options: o)
        let phantom = SpotsScene().render(seed: 4)
        let url = try await market.putImage(name: "c.png", png: try PNG.encode(phantom.image), truthCSV: truthCSV(phantom.truth))
        let created = try await market.send(CreateHIT(maxAssignments: 3, lifetimeInSeconds: 86_400, assignmentDurationInSeconds: 3600, reward: "0.10",
                                                      title: "t", description: "d", question: HTMLQuestion.make(imageURL: url, tool: .crosshairs, instructions: "i"),
                                                      autoApprovalDelayInSeconds: 3600))
        let hit = try XCTUnwrap(created.HIT)
        try market.advance(seconds: 6 * 3600)
        let submitted = try await market.allAssignments(hitId: hit.HITId)
        XCTAssertEqual(submitted.count, 3)
        for a in submitted {
            XCTAssertEqual(a.AssignmentStatus, .Approved, "approved automatically an hour after submission")
            let approval = try XCTUnwrap(a.ApprovalTime), submit = try XCTUnwrap(a.SubmitTime)
            XCTAssertEqual(approval - submit, 3600, accuracy: 1e-6)
            XCTAssertEqual(try XCTUnwrap(a.AutoApprovalTime), approval, accuracy: 1e-6)
        }
        let balance = try await market.send(GetAccountBalance())
        XCTAssertEqual(balance.AvailableBalance, "9999.64", "3 x (0.10 + 0.02)")
    }
}

/// The live client retries what the service asks it to retry, and nothing else.
final class LiveClientRetryTests: XCTestCase {
    func testThrottlingIsRetriedThenSucceeds() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crowdlab-turk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var o = MarketplaceOptions()
        o.clockSpeed = 0
        o.throttleFirstRequests = 2
        let market = try LocalMarketplace(path: dir.appendingPathComponent("m.sqlite").path, options: o)
        let (portStream, portSink) = AsyncStream<Int>.makeStream()
        let serving = Task { try await TurkServer(market: market).run(port: 0, logLevel: .critical) { portSink.yield($0) } }
        defer { serving.cancel() }
        var port = 0
        for await p in portStream { port = p; break }
        let credentials = AWSCredentials(accessKey: "AKIDCROWDLAB", secretKey: "crowdlab-local-secret")
        let patient = try LiveTurkClient(endpoint: "http://127.0.0.1:\(port)", credentials: credentials, maxRetries: 3)
        let balance = try await patient.send(GetAccountBalance())
        XCTAssertEqual(balance.AvailableBalance, "10000.00", "two throttled answers, then the real one")
        market.throttleRemaining(2)
        let impatient = try LiveTurkClient(endpoint: "http://127.0.0.1:\(port)", credentials: credentials, maxRetries: 0)
        do {
            _ = try await impatient.send(GetAccountBalance())
            XCTFail("without retries the throttling reaches the caller")
        } catch let e as TurkError {
            XCTAssertEqual(e.type, "ThrottlingException")
        }
    }
}
