import Consensus
import Foundation

/// Figures for comparing a simulated crowd with a real one on the same truth.
public enum CrowdComparison {
    /// Share of (worker, object) pairs in which the worker clicked the object (one-to-one within
    /// `radius`), by SNR band of the truth. Bands are [lower, upper).
    public static func detectionBySNR(export: QuantiusExport, truth: TruthSet, bands: [Double], radius: Double = 8) -> [(band: String, rate: Double, pairs: Int)] {
        var hits = [Double](repeating: 0, count: bands.count - 1), pairs = [Double](repeating: 0, count: bands.count - 1)
        for r in export.records where r.annotationType == .crosshairs {
            guard let t = truth.byImage[r.imageFilename], let snr = t.snr else { continue }
            let v = r.allVertices
            let m = matchPoints(ax: v.map(\.x), ay: v.map(\.y), bx: t.xs, by: t.ys, radius: radius)
            var found = [Bool](repeating: false, count: t.count)
            for p in m.pairs { found[p.1] = true }
            for (j, s) in snr.enumerated() {
                guard let b = (0..<(bands.count - 1)).first(where: { s >= bands[$0] && s < bands[$0 + 1] }) else { continue }
                pairs[b] += 1; hits[b] += found[j] ? 1 : 0
            }
        }
        return (0..<(bands.count - 1)).map { b in
            ("\(formatNumber(bands[b]))-\(formatNumber(bands[b + 1]))", pairs[b] > 0 ? hits[b] / pairs[b] : .nan, Int(pairs[b]))
        }
    }
}
