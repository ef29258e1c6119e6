import CGSL
import Foundation
import Randomness

extension Population {
    /// Scales (a width, a budget, an error, a spread) are fitted as logarithms: drawn so, they stay
    /// positive and their draws centre on the estimate.
    static let logScaleKeys: Set<String> = ["detection.width", "effort.tolerated_annotations", "pointing.rmse_median_px", "effort.patience_log_sd", "false_positives.near_object_sd_px"]

    /// A population drawn from this one's fitted errors: the values with a standard error drawn
    /// together from a multivariate normal with the fitted correlations (scales on a log scale),
    /// each kept within the file's range. What the calibration does not know, as populations.
    public func drawn(seed: UInt64) -> Population {
        var fields: [(key: String, path: WritableKeyPath<Population, Double>, range: ClosedRange<Double>, se: Double)] = []
        for section in Self.sections {
            for f in section.fields {
                let key = section.name + "." + f.key
                guard case .number(let path) = f.slot, let se = standardErrors[key], se.isFinite, se > 0 else { continue }
                fields.append((key, path, f.range, se))
            }
        }
        guard !fields.isEmpty else { return self }
        let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xD1CE))
        let z = fields.map { _ in rng.gaussian(sigma: 1) }
        let w = correlatedNormals(z, correlation: fields.indices.map { i in fields.indices.map { j in
            i == j ? 1 : (correlations[fields[i].key + "|" + fields[j].key] ?? correlations[fields[j].key + "|" + fields[i].key] ?? 0)
        } })
        var p = self
        for (i, f) in fields.enumerated() {
            let v = self[keyPath: f.path]
            let drawn = Self.logScaleKeys.contains(f.key) && v > 0 ? v * exp(w[i] * f.se / v) : v + w[i] * f.se
            p[keyPath: f.path] = min(max(drawn, f.range.lowerBound), f.range.upperBound)
        }
        return p
    }
}

/// `L·z` for the Cholesky factor L of a correlation matrix (GSL); `z` itself when the matrix is not
/// positive definite (the correlations of separate fits need not be jointly consistent).
func correlatedNormals(_ z: [Double], correlation r: [[Double]]) -> [Double] {
    let n = z.count
    guard n > 1 else { return z }
    crowdlab_gsl_quiet_errors()
    let m = gsl_matrix_alloc(n, n)!
    defer { gsl_matrix_free(m) }
    for i in 0..<n { for j in 0..<n { gsl_matrix_set(m, i, j, r[i][j]) } }
    guard gsl_linalg_cholesky_decomp1(m) == Int32(GSL_SUCCESS) else { return z }
    return (0..<n).map { i in (0...i).reduce(0.0) { $0 + gsl_matrix_get(m, i, $1) * z[$1] } }
}
