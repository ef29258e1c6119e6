import XCTest
@testable import Consensus

final class FitsTests: XCTestCase {
    func testLevenbergMarquardtRecoversAnExponential() throws {
        // y = 3·exp(-0.5 x) + 1, exact data.
        let xs = (0..<20).map { Double($0) * 0.5 }
        let ys = xs.map { 3 * exp(-0.5 * $0) + 1 }
        let r = try XCTUnwrap(NonlinearLeastSquares.fit(xs: xs, ys: ys, initial: [1, -0.1, 0]) { p, x in
            let e = exp(p[1] * x)
            return (p[0] * e + p[2], [e, p[0] * x * e, 1])
        })
        XCTAssertEqual(r.parameters[0], 3, accuracy: 1e-6)
        XCTAssertEqual(r.parameters[1], -0.5, accuracy: 1e-6)
        XCTAssertEqual(r.parameters[2], 1, accuracy: 1e-6)
        XCTAssertTrue(r.converged)
    }

    func testFittsFitRecoversParametersWithErrors() throws {
        // t = 0.3 + 0.4·log2((12 + s)/s) with deterministic ±2 % wiggle over s = 0.5…10 px.
        let s = (0..<40).map { 0.5 + Double($0) * 0.25 }
        let t = s.enumerated().map { k, v in (0.3 + 0.4 * log2((12 + v) / v)) * (1 + 0.02 * sin(Double(k) * 1.7)) }
        let f = try XCTUnwrap(FittsLaw.fit(rmse: s, period: t, amplitude: 20))
        XCTAssertFalse(f.amplitudeFixed)
        XCTAssertEqual(f.result.parameters[1], 0.4, accuracy: 0.05)
        XCTAssertEqual(f.result.parameters[2], 12, accuracy: 2.5)
        XCTAssertGreaterThan(f.result.standardErrors[1], 0)
        // The true b lies within three standard errors.
        XCTAssertLessThan(abs(f.result.parameters[1] - 0.4), 3 * f.result.standardErrors[1] + 0.01)
    }

    func testFittsFallsBackToMeasuredAmplitudeWhenCIsUndetermined() throws {
        // Period independent of error: c cannot be determined, so it is fixed at the amplitude.
        let s = (0..<30).map { 1 + Double($0) * 0.2 }
        let t = s.enumerated().map { k, _ in 1.0 + 0.05 * sin(Double(k)) }
        let f = try XCTUnwrap(FittsLaw.fit(rmse: s, period: t, amplitude: 25))
        XCTAssertTrue(f.amplitudeFixed)
        XCTAssertEqual(f.result.parameters[2], 25)
        XCTAssertEqual(f.result.parameters[1], 0, accuracy: 0.1)
    }

    func testLinearFit() throws {
        let l = try XCTUnwrap(linearFit(xs: [1, 2, 3, 4], ys: [3, 5, 7, 9]))
        XCTAssertEqual(l.intercept, 1, accuracy: 1e-12)
        XCTAssertEqual(l.slope, 2, accuracy: 1e-12)
    }
}
