import XCTest
@testable import Consensus

final class AgreementConsensusTests: XCTestCase {
    /// Ten workers click three objects with small offsets; one worker also double-clicks an object
    /// and one adds a stray click far away.
    func crowd() -> ClickJob {
        let objects: [(Double, Double)] = [(20, 20), (60, 25), (40, 70)]
        let offsets: [(Double, Double)] = [(0, 0), (1, 0), (-1, 1), (0, -1), (2, 1), (-1, -1), (1, 2), (0, 1), (-2, 0), (1, -2)]
        var clicks: [(Int, Double, Double)] = []
        for w in 0..<10 {
            for o in objects { clicks.append((w, o.0 + offsets[w].0, o.1 + offsets[w].1)) }
        }
        clicks.append((3, 21, 20))   // a second click on object 0 by worker 3
        clicks.append((7, 90, 90))   // a stray click
        return job(clicks, workers: 10)
    }

    func testFindsEachObjectOnceWithDistinctWorkerSupport() {
        let c = AgreementConsensus().consensus(crowd())[0]
        XCTAssertEqual(c.points.count, 3)
        for p in c.points { XCTAssertEqual(p.support, 10, "support counts distinct workers") }
        let sorted = c.points.sorted { $0.x < $1.x }
        XCTAssertEqual(sorted[0].x, 20, accuracy: 1); XCTAssertEqual(sorted[0].y, 20, accuracy: 1)
        XCTAssertEqual(sorted[2].x, 60, accuracy: 1)
        XCTAssertFalse(c.points.contains { abs($0.x - 90) < 5 }, "a lone stray click is not an object")
    }

    /// Coordinates far off the image (another tool's export may hold 1e12) land in the clustering
    /// grid's edge cell: the objects on the image are still found, the far clicks stay strays.
    func testClicksFarOffTheImageLeaveItsObjects() {
        var far = crowd()
        for (x, y) in [(1e12, -1e12), (-3e15, 40), (40, 7e14)] {
            far.images[0].xs.append(x); far.images[0].ys.append(y); far.images[0].worker.append(1); far.images[0].timestamp.append(0)
        }
        let c = AgreementConsensus().consensus(far)[0]
        XCTAssertEqual(c.points.count, 3)
        XCTAssertTrue(c.points.allSatisfy { $0.support == 10 && $0.x < 100 && $0.y < 100 })
    }

    func testMedianCentreIgnoresAStrayMember() {
        // Five workers at (50,50), one at (54,50): the median stays at 50, a mean would move to 50.67.
        let clicks = (0..<5).map { ($0, 50.0, 50.0) } + [(5, 54.0, 50.0)]
        let c = AgreementConsensus().consensus(job(clicks, workers: 6))[0]
        XCTAssertEqual(c.points.count, 1)
        XCTAssertEqual(c.points[0].x, 50)
    }

    func testTwoCloseObjectsClickedByTheSameWorkersStaySeparate() {
        // Objects 5 px apart, every worker clicks both: the worker constraint keeps them apart.
        var clicks: [(Int, Double, Double)] = []
        for w in 0..<8 { clicks.append((w, 30, 30)); clicks.append((w, 35, 30)) }
        let c = AgreementConsensus().consensus(job(clicks, workers: 8))[0]
        XCTAssertEqual(c.points.count, 2)
        XCTAssertEqual(Set(c.points.map(\.x)), [30, 35])
    }

    func testVoteScalesWithReplicates() {
        // Two of 30 workers agree on a spot: below 30/8. Two of 5 workers: enough.
        var clicks: [(Int, Double, Double)] = [(0, 10, 10), (1, 10, 11)]
        for w in 2..<30 { clicks.append((w, 80, 80)) }
        let many = AgreementConsensus().consensus(job(clicks, workers: 30))[0]
        XCTAssertFalse(many.points.contains { $0.x < 20 })
        let few = AgreementConsensus().consensus(job([(0, 10, 10), (1, 10, 11), (2, 80, 80), (3, 80, 80), (4, 80, 81)], workers: 5))[0]
        XCTAssertTrue(few.points.contains { $0.x < 20 })
    }

    func testSigmaIsMeasuredFromTheClicks() {
        // Offsets with known spread: σ estimated within a factor of the truth, and it scales.
        func spread(_ k: Double) -> Double {
            var clicks: [(Int, Double, Double)] = []
            let offs: [(Double, Double)] = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1), (0, 0)]
            for o in 0..<6 { for w in 0..<10 { clicks.append((w, 30 + Double(o % 3) * 30 + offs[w].0 * k, 30 + Double(o / 3) * 30 + offs[w].1 * k)) } }
            return AgreementConsensus().estimateSigma(job(clicks, workers: 10))
        }
        let s1 = spread(1), s2 = spread(2)
        XCTAssertEqual(s2 / s1, 2, accuracy: 0.2)
        XCTAssertGreaterThan(s1, 0.5); XCTAssertLessThan(s1, 2)
    }

    func testUnreliableWorkersCountLess() {
        // Worker 9 clicks everywhere: its weight falls below the others'.
        var clicks: [(Int, Double, Double)] = []
        for o in 0..<5 { for w in 0..<9 { clicks.append((w, Double(10 + o * 15), 50)) } }
        for k in 0..<20 { clicks.append((9, Double(5 + k * 4), 90)) }
        let c = AgreementConsensus().consensus(job(clicks, workers: 10))[0]
        XCTAssertEqual(c.points.count, 5)
        for p in c.points {
            XCTAssertEqual(p.support, 9)
            XCTAssertGreaterThan(p.weightedSupport, 9.5, "reliable workers weigh more than the crowd's mean")
        }
    }
}
