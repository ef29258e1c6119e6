import Foundation

/// Detection counts against a reference, with the derived rates.
public struct DetectionScore: Sendable, Codable, Equatable {
    public var tp = 0, fp = 0, fn = 0
    public init(tp: Int = 0, fp: Int = 0, fn: Int = 0) { self.tp = tp; self.fp = fp; self.fn = fn }
    public var precision: Double { tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp) }
    public var recall: Double { tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn) }
    public var f1: Double { let p = precision, r = recall; return p + r == 0 ? 0 : 2 * p * r / (p + r) }
    /// A worker whose clicks are mostly false: at least 5 clicks, under half of them right. These
    /// are the rare poor workers the consensus dilutes; the learning curve and `calibrate` set them apart.
    public static func isMostlyFalse(truePositives tp: Int, clicks: Int) -> Bool { clicks >= 5 && Double(tp) < (1 - mostlyFalseShare) * Double(clicks) }
    /// The share of false clicks above which a worker's clicks are mostly false.
    public static let mostlyFalseShare = 0.5
    public static func + (a: DetectionScore, b: DetectionScore) -> DetectionScore {
        DetectionScore(tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn)
    }
    enum CodingKeys: String, CodingKey { case tp, fp, fn, precision, recall, f1 }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tp, forKey: .tp); try c.encode(fp, forKey: .fp); try c.encode(fn, forKey: .fn)
        try c.encode(precision, forKey: .precision); try c.encode(recall, forKey: .recall); try c.encode(f1, forKey: .f1)
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tp = try c.decode(Int.self, forKey: .tp); fp = try c.decode(Int.self, forKey: .fp); fn = try c.decode(Int.self, forKey: .fn)
    }
}

/// Scores consensus points against truth with one-to-one matching within `radius`.
/// Returns the counts and the distances of the true positives.
public func scoreAgainstTruth(_ points: [ConsensusPoint], _ truth: TruthPoints, radius: Double) -> (DetectionScore, [Double]) {
    let m = matchPoints(ax: points.map(\.x), ay: points.map(\.y), bx: truth.xs, by: truth.ys, radius: radius)
    return (DetectionScore(tp: m.pairs.count, fp: m.unmatchedA, fn: m.unmatchedB), m.pairs.map(\.2))
}

/// The default match radius: 8 px, or twice the object FWHM when it is known
/// (FWHM = 2·sqrt(2 ln 2)·σ of a Gaussian spot).
public func defaultMatchRadius(objectFWHM: Double? = nil) -> Double {
    if let f = objectFWHM, f > 0 { return 2 * f }
    return 8
}
