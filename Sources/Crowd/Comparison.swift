import Consensus
import Foundation

/// Figures for comparing a simulated crowd with a real one on the same truth.
public enum CrowdComparison {
    /// Share of (worker, object) pairs in which the worker clicked the object (one-to-one within
    /// `radius`), by SNR band of the truth. Bands are [lower, upper).
    public static func detectionBySNR(export: QuantiusExport, truth: TruthSet, bands: [Double], radius: Double = 8) -> [(band: String, rate: Double, pairs: Int)] {
        detectionByBand(export: export, truth: truth, values: { truth.byImage[$0]?.snr }, bands: bands, radius: radius)
    }

    /// The same by any per-object value (`values(image)`, one per truth object: SNR, measured contrast).
    public static func detectionByBand(export: QuantiusExport, truth: TruthSet, values: (String) -> [Double]?, bands: [Double], radius: Double = 8) -> [(band: String, rate: Double, pairs: Int)] {
        var hits = [Double](repeating: 0, count: bands.count - 1), pairs = [Double](repeating: 0, count: bands.count - 1)
        for r in export.records where r.annotationType == .crosshairs {
            guard let t = truth.byImage[r.imageFilename], let v = values(r.imageFilename), v.count == t.count else { continue }
            let clicks = r.allVertices
            let m = matchPoints(ax: clicks.map(\.x), ay: clicks.map(\.y), bx: t.xs, by: t.ys, radius: radius)
            var found = [Bool](repeating: false, count: t.count)
            for p in m.pairs { found[p.1] = true }
            for (j, s) in v.enumerated() {
                guard let b = (0..<(bands.count - 1)).first(where: { s >= bands[$0] && s < bands[$0 + 1] }) else { continue }
                pairs[b] += 1; hits[b] += found[j] ? 1 : 0
            }
        }
        return (0..<(bands.count - 1)).map { b in
            ("\(formatNumber(bands[b]))-\(formatNumber(bands[b + 1]))", pairs[b] > 0 ? hits[b] / pairs[b] : .nan, Int(pairs[b]))
        }
    }
}
