import CGSL
import Foundation

/// A fitted model: parameters, their standard errors (from the covariance at the optimum, scaled
/// by the reduced χ²), and how good the fit is.
public struct FitResult: Sendable, Codable {
    public var parameters: [Double]
    public var standardErrors: [Double]
    public var chiSquared: Double
    public var degreesOfFreedom: Int
    public var iterations: Int
    public var converged: Bool
    /// Correlations between the parameters' estimates (from the same covariance), row by row.
    public var correlations: [[Double]] = []
    enum CodingKeys: String, CodingKey { case parameters, standardErrors, chiSquared, degreesOfFreedom, iterations, converged }
}

/// Levenberg-Marquardt through GSL's `gsl_multifit_nlinear` (trust-region driver, LM step).
/// `model(p, x)` returns the model value and its gradient with respect to `p`.
public enum NonlinearLeastSquares {
    public typealias Model = (_ p: [Double], _ x: Double) -> (value: Double, gradient: [Double])

    private final class Context {
        let xs: [Double], ys: [Double], model: Model
        init(xs: [Double], ys: [Double], model: @escaping Model) { self.xs = xs; self.ys = ys; self.model = model }
    }

    public static func fit(xs: [Double], ys: [Double], initial: [Double], maxIterations: Int = 200,
                           model: @escaping Model) -> FitResult? {
        let n = xs.count, p = initial.count
        guard n > p, p > 0 else { return nil }
        crowdlab_gsl_quiet_errors()
        let ctx = Context(xs: xs, ys: ys, model: model)
        let unmanaged = Unmanaged.passRetained(ctx)
        defer { unmanaged.release() }

        var fdf = gsl_multifit_nlinear_fdf()
        fdf.f = { params, data, f -> Int32 in
            let c = Unmanaged<Context>.fromOpaque(data!).takeUnretainedValue()
            let np = Int(params!.pointee.size)
            let pv = (0..<np).map { gsl_vector_get(params, $0) }
            for i in 0..<c.xs.count { gsl_vector_set(f, i, c.model(pv, c.xs[i]).value - c.ys[i]) }
            return Int32(GSL_SUCCESS)
        }
        fdf.df = { params, data, J -> Int32 in
            let c = Unmanaged<Context>.fromOpaque(data!).takeUnretainedValue()
            let np = Int(params!.pointee.size)
            let pv = (0..<np).map { gsl_vector_get(params, $0) }
            for i in 0..<c.xs.count {
                let g = c.model(pv, c.xs[i]).gradient
                for k in 0..<np { gsl_matrix_set(J, i, k, g[k]) }
            }
            return Int32(GSL_SUCCESS)
        }
        fdf.fvv = nil
        fdf.n = n
        fdf.p = p
        fdf.params = unmanaged.toOpaque()

        var fparams = gsl_multifit_nlinear_default_parameters()
        fparams.trs = crowdlab_gsl_multifit_nlinear_trs_lm()
        guard let work = gsl_multifit_nlinear_alloc(crowdlab_gsl_multifit_nlinear_trust(), &fparams, n, p) else { return nil }
        defer { gsl_multifit_nlinear_free(work) }
        let x0 = gsl_vector_alloc(p)!
        defer { gsl_vector_free(x0) }
        for k in 0..<p { gsl_vector_set(x0, k, initial[k]) }
        guard gsl_multifit_nlinear_init(x0, &fdf, work) == Int32(GSL_SUCCESS) else { return nil }
        var info: Int32 = 0
        let status = gsl_multifit_nlinear_driver(maxIterations, 1e-10, 1e-10, 1e-10, nil, nil, &info, work)
        let xsol = gsl_multifit_nlinear_position(work)!
        let fres = gsl_multifit_nlinear_residual(work)!
        let J = gsl_multifit_nlinear_jac(work)!
        let covar = gsl_matrix_alloc(p, p)!
        defer { gsl_matrix_free(covar) }
        gsl_multifit_nlinear_covar(J, 0.0, covar)
        var chi = 0.0
        gsl_blas_ddot(fres, fres, &chi)
        let dof = n - p
        // Unweighted residuals: the variance of the data is estimated by the reduced chi-squared.
        let scale = (chi / Double(dof)).squareRoot()
        let params = (0..<p).map { gsl_vector_get(xsol, $0) }
        let errors = (0..<p).map { scale * max(0, gsl_matrix_get(covar, $0, $0)).squareRoot() }
        guard params.allSatisfy({ $0.isFinite }) else { return nil }
        let correlations = (0..<p).map { i in (0..<p).map { j -> Double in
            let d = (gsl_matrix_get(covar, i, i) * gsl_matrix_get(covar, j, j)).squareRoot()
            return d > 0 ? min(1, max(-1, gsl_matrix_get(covar, i, j) / d)) : (i == j ? 1 : 0)
        } }
        var r = FitResult(parameters: params, standardErrors: errors, chiSquared: chi, degreesOfFreedom: dof,
                          iterations: Int(gsl_multifit_nlinear_niter(work)), converged: status == Int32(GSL_SUCCESS))
        r.correlations = correlations
        return r
    }
}

/// Fitts' law for the crowd: `t = a + b·log2((c + s)/s)`, with `s` a worker's spatial error (RMSE)
/// and `t` the median click period. Slower workers point more accurately (Hughes et al. 2018, Fig. 1e).
/// In Fitts' terms `c` is the movement amplitude and `s` the target width. All three are fitted by
/// Levenberg-Marquardt; when the data cannot pin `c` down (its standard error exceeds its value,
/// common when speeds vary little), `c` is fixed at the measured amplitude (median distance between
/// a worker's successive clicks) and `a, b` are fitted alone, so the fit stays interpretable.
public enum FittsLaw {
    public static func value(_ p: [Double], _ s: Double) -> Double { p[0] + p[1] * log2((p[2] + s) / s) }

    public struct Fit: Sendable {
        public var result: FitResult
        /// True when `c` was fixed at the measured movement amplitude.
        public var amplitudeFixed: Bool
    }

    public static func fit(rmse: [Double], period: [Double], amplitude: Double) -> Fit? {
        let pairs = zip(rmse, period).filter { $0.0 > 0 && $0.0.isFinite && $0.1.isFinite }
        guard pairs.count >= 4 else { return nil }
        let s = pairs.map(\.0), t = pairs.map(\.1)
        let c0 = max(amplitude, 1)
        let l0 = s.map { log2((c0 + $0) / $0) }
        let start: [Double] = linearFit(xs: l0, ys: t).map { [$0.intercept, $0.slope] } ?? [median(t), 0.0]
        // Parametrise c = exp(q) so it stays positive; reported back as c.
        if var r = NonlinearLeastSquares.fit(xs: s, ys: t, initial: start + [log(c0)], model: { p, x in
            let c = exp(p[2])
            let l = log2((c + x) / x)
            return (p[0] + p[1] * l, [1, l, p[1] * c / ((c + x) * log(2.0))])
        }), r.standardErrors[2] < 1 {
            let c = exp(r.parameters[2])
            r.parameters[2] = c
            r.standardErrors[2] = c * r.standardErrors[2]
            return Fit(result: r, amplitudeFixed: false)
        }
        guard var r = NonlinearLeastSquares.fit(xs: s, ys: t, initial: start, model: { p, x in
            let l = log2((c0 + x) / x)
            return (p[0] + p[1] * l, [1, l])
        }) else { return nil }
        r.parameters.append(c0); r.standardErrors.append(0)
        return Fit(result: r, amplitudeFixed: true)
    }
}

/// Straight-line least squares through GSL (`gsl_fit_linear`): intercept, slope and their errors.
public func linearFit(xs: [Double], ys: [Double], weights: [Double]? = nil) -> (intercept: Double, slope: Double, seIntercept: Double, seSlope: Double)? {
    let n = xs.count
    guard n >= 3 else { return nil }
    var c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, ss = 0.0
    if let w = weights {
        _ = gsl_fit_wlinear(xs, 1, w, 1, ys, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &ss)
        let scale = ss / Double(n - 2)
        return (c0, c1, (cov00 * scale).squareRoot(), (cov11 * scale).squareRoot())
    }
    _ = gsl_fit_linear(xs, 1, ys, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &ss)
    return (c0, c1, cov00.squareRoot(), cov11.squareRoot())
}
