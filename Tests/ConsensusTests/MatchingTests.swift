import XCTest
@testable import Consensus

final class MatchingTests: XCTestCase {
    func testHungarianOnAKnownMatrix() {
        // Optimal: row0→col1 (1), row1→col0 (2), row2→col2 (2): total 5; greedy would take (0,0)=… worse.
        let cost: [[Double]] = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        let a = hungarian(cost)
        XCTAssertEqual(a, [1, 0, 2])
        XCTAssertEqual(zip(0..., a).map { cost[$0][$1] }.reduce(0, +), 5)
    }

    func testHungarianRectangular() {
        let a = hungarian([[10, 1, 10, 10], [1, 10, 10, 10]])
        XCTAssertEqual(a, [1, 0])
    }

    func testMatchingMaximisesPairsBeforeDistance() {
        // a0 is closest to b0, but taking that pair leaves a1 unmatched; one-to-one gives two pairs.
        let m = matchPoints(ax: [0, -6], ay: [0, 0], bx: [-1, 7], by: [0, 0], radius: 8)
        XCTAssertEqual(m.pairs.count, 2)
        XCTAssertEqual(m.pairs.map(\.1), [1, 0])
        XCTAssertEqual(m.unmatchedA, 0); XCTAssertEqual(m.unmatchedB, 0)
    }

    func testRadiusIsRespected() {
        let m = matchPoints(ax: [0], ay: [0], bx: [8.01], by: [0], radius: 8)
        XCTAssertEqual(m.pairs.count, 0)
        XCTAssertEqual(matchPoints(ax: [0], ay: [0], bx: [8], by: [0], radius: 8).pairs.count, 1)
    }

    func testScoreAgainstTruth() {
        let pts = [ConsensusPoint(x: 1, y: 1, support: 3, weightedSupport: 3, members: []),
                   ConsensusPoint(x: 50, y: 50, support: 3, weightedSupport: 3, members: [])]
        let truth = TruthPoints(xs: [0, 20], ys: [0, 20], snr: nil, source: "t")
        let (s, d) = scoreAgainstTruth(pts, truth, radius: 8)
        XCTAssertEqual(s, DetectionScore(tp: 1, fp: 1, fn: 1))
        XCTAssertEqual(s.precision, 0.5); XCTAssertEqual(s.f1, 0.5)
        XCTAssertEqual(d[0], 2.0.squareRoot(), accuracy: 1e-12)
    }
}
