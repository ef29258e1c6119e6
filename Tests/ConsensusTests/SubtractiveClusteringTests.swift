import XCTest
@testable import Consensus

/// Values worked out by hand from Chiu's rules (see each comment).
final class SubtractiveClusteringTests: XCTestCase {
    /// Points (0,0), (0,0), (1,0), (10,0); r_a = 2 px, so distances are in units of 2 px, α = 4, β = 4/1.25² = 2.56.
    /// Potentials: P1 = P2 = 1 + 1 + e^-1 = 2.3679; P3 = 1 + 2e^-1 = 1.7358; P4 = 1.
    /// Centre 1 = (0,0) (first of the tie). Reduction by 2.3679·exp(-2.56 d²):
    /// P3 = 1.7358 - 2.3679·e^-0.64 = 0.4872; P4 stays 1.
    /// Next, P4: 1/2.3679 = 0.422 lies between reject 0.15 and accept 0.5; d_min = 5 and 5 + 0.422 ≥ 1: accepted.
    /// Next, P3: 0.4872/2.3679 = 0.206, in between; d_min = 0.5 and 0.5 + 0.206 < 1: rejected, potential set to 0.
    /// Nothing positive is left: two centres.
    func testHandWorkedExample() {
        let m = SubtractiveClustering(radius: .pixels(2))
        let c = m.centres(xs: [0, 0, 1, 10], ys: [0, 0, 0, 0])
        XCTAssertEqual(c.count, 2)
        XCTAssertEqual(c[0].0, 0); XCTAssertEqual(c[1].0, 10)
    }

    /// Points (0,0), (0,0), (3,0), r_a = 2 px. P1 = 2 + e^-9 = 2.000123, P3 = 1 + 2e^-9 = 1.000247.
    /// After centre 1: P3 = 1.000247 - 2.000123·e^-5.76 = 0.993945; ratio 0.49694 is just under the
    /// accept ratio 0.5, and d_min = 1.5 gives 1.5 + 0.497 ≥ 1: accepted by the distance rule.
    /// With accept ratio 0.49 it is accepted outright; with reject ratio 0.5 it is rejected.
    func testAcceptRejectThresholds() {
        var m = SubtractiveClustering(radius: .pixels(2))
        XCTAssertEqual(m.centres(xs: [0, 0, 3], ys: [0, 0, 0]).count, 2)
        m.acceptRatio = 0.49
        XCTAssertEqual(m.centres(xs: [0, 0, 3], ys: [0, 0, 0]).count, 2)
        m.acceptRatio = 0.6; m.rejectRatio = 0.5
        XCTAssertEqual(m.centres(xs: [0, 0, 3], ys: [0, 0, 0]).count, 1)
    }

    /// The squash factor widens the reduction: with r_b = 2·r_a (β = 1), the neighbour at 1.5 r_a is
    /// reduced to 1.000247 - 2.000123·e^-2.25 = 0.78935, ratio 0.3946; 1.5 + 0.39 ≥ 1 still accepts it.
    /// At 0.5 r_a (1 px) with squash 2: P3 = 1 + 2e^-1 = 1.7358, P1 = 2.3679,
    /// reduced 1.7358 - 2.3679·e^-0.25 = -0.108: below reject, one centre.
    func testSquashFactor() {
        var m = SubtractiveClustering(radius: .pixels(2))
        m.squashFactor = 2
        XCTAssertEqual(m.centres(xs: [0, 0, 3], ys: [0, 0, 0]).count, 2)
        XCTAssertEqual(m.centres(xs: [0, 0, 1], ys: [0, 0, 0]).count, 1)
    }

    func testFractionRadiusIsRelativeToDataRange() throws {
        // Range 100 px in x; a fraction of 0.02 is 2 px: the same answer as the pixel case scaled up.
        let m = SubtractiveClustering(radius: try .init(parsing: "0.02"))
        let c = m.centres(xs: [0, 0, 1, 10, 100], ys: [0, 0, 0, 0, 0])
        XCTAssertEqual(c.map(\.0), [0, 10, 100])
        XCTAssertThrowsError(try SubtractiveClustering.Radius(parsing: "3"))
        XCTAssertEqual(try SubtractiveClustering.Radius(parsing: "8px"), .pixels(8))
    }
}
