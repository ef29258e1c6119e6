import XCTest
@testable import Randomness

/// The seeded streams everything random in crowdlab draws from.
final class SeededRandomTests: XCTestCase {
    static func draws(_ seed: UInt64) -> [Double] {
        let r = SeededRandom(seed: seed)
        return (0..<8).map { _ in r.uniform() } + (0..<4).map { _ in r.gaussian(sigma: 2) } + [Double(r.int(1000)), Double(r.poisson(3))]
    }

    func testTheSameSeedGivesTheSameStream() {
        XCTAssertEqual(Self.draws(42), Self.draws(42))
        XCTAssertNotEqual(Self.draws(42), Self.draws(43))
    }

    /// Tasks seeded by `derive` get different, reproducible streams, whichever thread runs them.
    func testDerivedStreamsAreDistinctAndIndependentOfThreads() {
        let seeds = (0..<64).map { SeededRandom.derive(7, UInt64($0)) }
        XCTAssertEqual(Set(seeds).count, 64)
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var rows = [[Double]](repeating: [], count: 64)
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let d = Self.draws(seeds[i])
            results.lock.lock(); results.rows[i] = d; results.lock.unlock()
        }
        XCTAssertEqual(results.rows, seeds.map(Self.draws))
    }

    /// Mersenne Twister through GSL: uniform draws fill [0, 1) evenly, Gaussians have the asked spread.
    func testDistributionsHaveTheirMoments() {
        let r = SeededRandom(seed: 1)
        let u = (0..<100_000).map { _ in r.uniform() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / 1e5, 0.5, accuracy: 0.005)
        let g = (0..<100_000).map { _ in r.gaussian(sigma: 3) }
        let m = g.reduce(0, +) / 1e5
        XCTAssertEqual((g.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 1e5).squareRoot(), 3, accuracy: 0.05)
        let ints = (0..<10_000).map { _ in r.int(10) }
        XCTAssertEqual(Set(ints), Set(0..<10))
    }
}
