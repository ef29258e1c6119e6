import Foundation
import XCTest
@testable import Consensus
import Randomness

/// Objects still missed: the capture-recapture estimate against what more workers really find.
final class MissedObjectsTests: XCTestCase {
    /// Crowds drawn from the model itself (objects of Beta-distributed visibility, stray lone
    /// clicks beside them): on faint objects, on easy ones, and between, the estimate matches the
    /// objects that eight more workers bring to the vote, summed over forty images (one image's
    /// figure is rough: the fit extrapolates from the objects two or more workers clicked).
    func testOnItsOwnModelTheEstimateCountsWhatMoreWorkersFind() throws {
        let rng = SeededRandom(seed: 11)
        let n = 8, m = 16, vote = 2
        for (a, b) in [(0.3, 1.8), (0.6, 1.8), (1.2, 1.2)] {
            var expected = 0.0, found = 0
            for _ in 0..<40 {
                var supports: [Int] = [], accepted: [Int] = []
                for _ in 0..<150 {
                    let theta = rng.beta(a, b)
                    let first = (0..<n).filter { _ in rng.uniform() < theta }.count
                    let later = (0..<(m - n)).filter { _ in rng.uniform() < theta }.count
                    if first >= 1 { supports.append(first) }
                    if first >= vote { accepted.append(first) } else if first + later >= vote { found += 1 }
                }
                supports += [Int](repeating: 1, count: 40)
                let e = try XCTUnwrap(MissedObjects.estimate(candidateSupports: supports, acceptedSupports: accepted,
                                                             workers: n, atWorkers: m, vote: vote))
                XCTAssertEqual(e.atWorkers, m)
                expected += e.expected
            }
            XCTAssertEqual(expected / Double(found), 1, accuracy: 0.15, "visibility Beta(\(a), \(b)): expected \(expected), found \(found)")
        }
    }

    /// On a real crowd the estimate of five and six workers per field meets what ten and twelve of
    /// the same workers, in the same arrival orders, found and they had not (twenty orders: on
    /// three fields which workers come first moves the figures by a fifth from five orders to five).
    func testOnTheSmFISHFieldsTheEstimateMeetsWhatTwiceTheWorkersFound() throws {
        let e = try ExportReader.read(path: dataPath("smfish-inverted/export.json"))
        let t = try TruthSet.load(path: dataPath("smfish-inverted"), export: e)
        let c = ReplayCurve.run(e, truth: t, policies: [], fixedRange: 4...12, seed: 1, orders: 20)
        let checks = c.missedChecks(radius: 8)
        XCTAssertEqual(checks.map(\.workers), [5, 6], "fixed:4 has too few workers to fit; 7 and up have no fixed:2K on the curve")
        for check in checks {
            XCTAssertEqual(check.images, 3)
            XCTAssertGreaterThan(check.found, 100, "five or six workers leave many of the 643 spots to more")
            XCTAssertEqual(check.expected / check.found, 1, accuracy: 0.3, "fixed:\(check.workers): expected \(check.expected), found \(check.found)")
        }
    }

    /// No estimate below five workers, or for a method without a vote; `analyze` gives each image
    /// its estimate at twice its workers.
    func testEstimatesNeedFiveWorkersAndAVote() throws {
        XCTAssertNil(MissedObjects.estimate(candidateSupports: [1, 2, 2, 3, 4, 4], acceptedSupports: [2, 2, 3, 4, 4], workers: 4, atWorkers: 8, vote: 2))
        XCTAssertNil(MissedObjects.estimate(candidateSupports: [1, 1, 2, 5], acceptedSupports: [2, 5], workers: 6, atWorkers: 12, vote: 2),
                     "two shared candidates are too few to fit")
        let e = try ExportReader.read(path: dataPath("synth-tissue/export.json"))
        let rows = Analysis.run(export: e, truth: nil).images
        for row in rows {
            XCTAssertEqual(row.missedAtWorkers, 2 * row.workers)
            let missed = try XCTUnwrap(row.expectedMissedObjects)
            XCTAssertTrue(missed >= 0 && missed < Double(row.consensusObjects), "\(row.image): \(missed)")
        }
        var options = AnalysisOptions()
        options.method = SubtractiveClustering()
        XCTAssertTrue(Analysis.run(export: e, truth: nil, options: options).images.allSatisfy { $0.expectedMissedObjects == nil })
    }
}
