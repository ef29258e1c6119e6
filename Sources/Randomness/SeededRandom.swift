import CGSL

/// A seeded Mersenne Twister from GSL (`gsl_rng_mt19937`): the same seed gives the same stream on
/// every machine. Not shared between threads: give each parallel task its own, seeded from the
/// task's index, so results do not depend on the number of threads.
public final class SeededRandom {
    private let rng: OpaquePointer
    public init(seed: UInt64) {
        rng = OpaquePointer(gsl_rng_alloc(crowdlab_gsl_rng_mt19937()))
        gsl_rng_set(UnsafeMutablePointer(rng), UInt(truncatingIfNeeded: seed))
    }
    deinit { gsl_rng_free(UnsafeMutablePointer(rng)) }

    var ptr: UnsafeMutablePointer<gsl_rng> { UnsafeMutablePointer(rng) }

    /// Uniform on [0, 1).
    public func uniform() -> Double { gsl_rng_uniform(ptr) }
    /// Uniform integer in 0..<n.
    public func int(_ n: Int) -> Int { Int(gsl_rng_uniform_int(ptr, UInt(n))) }
    public func gaussian(sigma: Double) -> Double { gsl_ran_gaussian_ziggurat(ptr, sigma) }
    public func poisson(_ mu: Double) -> Int { Int(gsl_ran_poisson(ptr, mu)) }
    public func pareto(a: Double, b: Double) -> Double { gsl_ran_pareto(ptr, a, b) }
    public func beta(_ a: Double, _ b: Double) -> Double { gsl_ran_beta(ptr, a, b) }
    public func exponential(mean: Double) -> Double { gsl_ran_exponential(ptr, mean) }

    /// A seed for sub-stream `index` derived from a master seed (SplitMix64), so parallel tasks get
    /// independent, reproducible streams.
    public static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var z = seed &+ 0x9E3779B97F4A7C15 &* (index &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
