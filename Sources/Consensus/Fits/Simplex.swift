import CGSL
import Foundation

/// Minimises a function of a few parameters without derivatives: GSL's Nelder-Mead simplex
/// (`gsl_multimin_fminimizer_nmsimplex2`), for likelihoods whose gradients are not worth writing.
public enum Simplex {
    private final class Context {
        let f: ([Double]) -> Double
        init(_ f: @escaping ([Double]) -> Double) { self.f = f }
    }

    /// The minimum of `f` from `initial`, first steps of `step`: the best point once the simplex
    /// is `tolerance` across, or after `maxIterations` (along a direction in which `f` no longer
    /// changes, any point is as good); nil on a non-finite answer.
    public static func minimize(_ f: @escaping ([Double]) -> Double, initial: [Double], step: Double = 1,
                                tolerance: Double = 1e-5, maxIterations: Int = 2000) -> (x: [Double], value: Double)? {
        let p = initial.count
        guard p > 0 else { return nil }
        crowdlab_gsl_quiet_errors()
        let unmanaged = Unmanaged.passRetained(Context(f))
        defer { unmanaged.release() }
        var fn = gsl_multimin_function()
        fn.n = p
        fn.params = unmanaged.toOpaque()
        fn.f = { x, data -> Double in
            let c = Unmanaged<Context>.fromOpaque(data!).takeUnretainedValue()
            let v = c.f((0..<Int(x!.pointee.size)).map { gsl_vector_get(x, $0) })
            return v.isFinite ? v : .greatestFiniteMagnitude
        }
        guard let s = gsl_multimin_fminimizer_alloc(crowdlab_gsl_multimin_fminimizer_nmsimplex2(), p) else { return nil }
        defer { gsl_multimin_fminimizer_free(s) }
        let x0 = gsl_vector_alloc(p)!, steps = gsl_vector_alloc(p)!
        defer { gsl_vector_free(x0); gsl_vector_free(steps) }
        for k in 0..<p { gsl_vector_set(x0, k, initial[k]); gsl_vector_set(steps, k, step) }
        guard gsl_multimin_fminimizer_set(s, &fn, x0, steps) == GSL_SUCCESS else { return nil }
        for _ in 0..<maxIterations {
            guard gsl_multimin_fminimizer_iterate(s) == GSL_SUCCESS,
                  gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), tolerance) != GSL_SUCCESS else { break }
        }
        let x = (0..<p).map { gsl_vector_get(s.pointee.x, $0) }
        let v = s.pointee.fval
        return x.allSatisfy(\.isFinite) && v.isFinite && v < .greatestFiniteMagnitude ? (x, v) : nil
    }
}
