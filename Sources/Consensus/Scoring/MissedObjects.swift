import CGSL
import Foundation

/// Objects an image's consensus still misses that a larger crowd of the same kind would find.
///
/// Capture-recapture with objects that differ in how visible they are (the beta-binomial model of
/// R. M. Dorazio and J. A. Royle, "Mixture models for estimating the size of a closed population
/// when capture rates vary among individuals", Biometrics 59:351, 2003). Each real object has its
/// own chance θ that a worker clicks it, spread over the image's objects as Beta(a, b). The
/// candidates two or more workers clicked fit a and b by maximum likelihood, the beta-binomial
/// truncated below two, since lone clicks are mostly strays. That fit says how many real objects
/// there are (those clicked once or never included), so how many of the lone clicks are real. A
/// candidate the consensus did not keep, or an object nobody has clicked yet, is found by M workers
/// when its support reaches the vote M workers need: given s of the n workers so far, its θ is
/// Beta(a + s, b + n − s), and the chance is that beta-binomial's tail over the M − n to come. The
/// sum is the objects expected still missed. An object fainter than any the crowd clicked twice has
/// no weight in the fit: what no crowd of that kind clicks, clicks cannot count.
public enum MissedObjects {
    public struct Estimate: Sendable, Equatable {
        /// Objects a crowd of `atWorkers` workers would find that the consensus misses.
        public var expected: Double
        public var atWorkers: Int
        /// Beta(a, b): how the chance that a worker clicks an object spreads over the image's objects.
        public var a: Double, b: Double
    }

    /// The truncated fit has n − 1 support levels (2…n) for two parameters and their total: five
    /// workers are the fewest that leave one level to check the fit against.
    public static let fewestWorkers = 5
    /// The fewest candidates with two or more supporters to fit.
    public static let fewestShared = 3

    /// `candidateSupports`: every candidate's distinct workers, kept or not; `acceptedSupports`: the
    /// kept objects'; `n` workers saw the image; `vote` is what `m` workers' consensus needs.
    public static func estimate(candidateSupports: [Int], acceptedSupports: [Int], workers n: Int,
                                atWorkers m: Int, vote: Int) -> Estimate? {
        let shared = candidateSupports.filter { $0 >= 2 && $0 <= n }
        guard n >= fewestWorkers, m > n, shared.count >= fewestShared, let model = fit(shared, workers: n) else { return nil }
        let logPMF = model.logPMF(n)
        // Real objects: those two or more clicked over the share of objects that is. As a → 0 it
        // grows without bound while the share clicked by nobody tends to 1, and their product to a
        // finite limit.
        let logReal = log(Double(shared.count)) - logSumExp(logPMF[2...])
        // Candidates not kept, by support: every candidate's less the kept objects'.
        var open = [Int](repeating: 0, count: n + 1)
        for s in candidateSupports where (1...n).contains(s) { open[s] += 1 }
        let lone = Double(open[1])
        for s in acceptedSupports where (1...n).contains(s) { open[s] = max(0, open[s] - 1) }
        let realLoneShare = lone > 0 ? min(1, exp(logReal + logPMF[1]) / lone) : 0
        var expected = exp(logReal + logPMF[0]) * model.reaches(vote, from: 0, of: n, at: m)
        for s in 1...n where open[s] > 0 {
            expected += Double(open[s]) * (s == 1 ? realLoneShare : 1) * model.reaches(vote, from: s, of: n, at: m)
        }
        return expected.isFinite ? Estimate(expected: expected, atWorkers: m, a: model.a, b: model.b) : nil
    }

    /// Maximum likelihood of the beta-binomial truncated below two, over log a and log b, each held
    /// within ±12: at one end the model is a binomial already, at the other at its limit of
    /// vanishing a (the fit runs there when the supports fall steadily from two up).
    static func fit(_ supports: [Int], workers n: Int) -> BetaBinomial? {
        var counts = [Int](repeating: 0, count: n + 1)
        for s in supports { counts[s] += 1 }
        let total = Double(supports.count)
        func model(_ p: [Double]) -> BetaBinomial { BetaBinomial(a: exp(min(12, max(-12, p[0]))), b: exp(min(12, max(-12, p[1])))) }
        let negativeLogLikelihood: ([Double]) -> Double = { p in
            let logPMF = model(p).logPMF(n)
            var l = -total * logSumExp(logPMF[2...])
            for k in 2...n where counts[k] > 0 { l += Double(counts[k]) * logPMF[k] }
            return -l
        }
        guard let best = Simplex.minimize(negativeLogLikelihood, initial: [0, 0], tolerance: 1e-4) else { return nil }
        return model(best.x)
    }
}

/// ln Σ exp(x), without overflow or underflow.
func logSumExp(_ xs: ArraySlice<Double>) -> Double {
    guard let top = xs.max(), top > -.infinity else { return -.infinity }
    return top + log(xs.reduce(0) { $0 + exp($1 - top) })
}

/// The number of successes in n trials whose chance is Beta(a, b)-distributed.
struct BetaBinomial {
    var a: Double, b: Double

    /// ln P(k) for k = 0…n: the first from GSL's ln B, each next by the ratio of successive terms.
    func logPMF(_ n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n + 1)
        out[0] = gsl_sf_lnbeta(a, Double(n) + b) - gsl_sf_lnbeta(a, b)
        for k in 0..<n {
            let dk = Double(k), dn = Double(n)
            out[k + 1] = out[k] + log((dn - dk) / (dk + 1)) + log((dk + a) / (dn - dk - 1 + b))
        }
        return out
    }
    /// P(k ≥ from) in n trials.
    func tail(_ n: Int, from: Int) -> Double {
        guard from > 0 else { return 1 }
        guard from <= n else { return 0 }
        return exp(logSumExp(logPMF(n)[from...]))
    }
    /// The chance that an object with `s` of `n` workers reaches `vote` of `m`: the m − n to come
    /// click it with the chance its first n gave, Beta(a + s, b + n − s).
    func reaches(_ vote: Int, from s: Int, of n: Int, at m: Int) -> Double {
        BetaBinomial(a: a + Double(s), b: b + Double(n - s)).tail(m - n, from: vote - s)
    }
}
