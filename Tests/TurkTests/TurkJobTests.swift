import Consensus
import Foundation
import XCTest
import Lab
@testable import Turk

/// A scenario run as a Mechanical Turk job on the in-process marketplace: posted, collected,
/// reviewed, and resumed after an interruption without double posting or double payment.
final class TurkJobTests: XCTestCase {
    func testSubmitCollectReviewAndResume() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crowdlab-job-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let scenario = (dir as NSString).appendingPathComponent("tiny.yaml")
        try """
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
        """.write(toFile: scenario, atomically: true, encoding: .utf8)
        var options = MarketplaceOptions()
        options.clockSpeed = 0
        options.seed = 5
        let market = try LocalMarketplace(path: (dir as NSString).appendingPathComponent("market.sqlite"), options: options)
        let job = (dir as NSString).appendingPathComponent("job")

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
}
