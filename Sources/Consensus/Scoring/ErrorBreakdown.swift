import Foundation

/// Where a consensus's errors against the truth come from: each missed object and each false
/// object given one cause, read off the clicks. The causes call for different remedies (more
/// workers, higher pay or contrast, a larger display), which the F1 alone does not say.
///
/// A missed object is, in this order of precedence:
/// - **not clicked**: no click within the pointing radius lies nearer to it than to another true
///   object (its clicks).
/// - **taken by a neighbour**: half or more of its clicks belong to consensus objects matched to
///   other true objects. The crowd clicked the two as one, or the consensus joined them; more
///   workers do not part them.
/// - **too few workers**: fewer workers made its clicks than the vote asks: one more worker, or a
///   few, could carry it.
/// - **turned down**: as many workers as the vote asks made its clicks, and the consensus did not keep
///   it (their weights fell short, or their clicks went to separate clusters). For methods without
///   a vote, every miss some worker clicked.
///
/// A false object is **beside a true object** when a true object lies within the match radius
/// (taken by another consensus object: a duplicate or fragment), else **elsewhere** (structure or
/// background several workers took for an object).
///
/// The pointing radius is twice the image's measured click spread σ, which holds 86 % of a
/// worker's clicks on an object under the Gaussian pointing error; half the match radius when the
/// method measures no σ.
public struct ErrorBreakdown: Sendable, Codable, Equatable {
    public var missedTakenByNeighbour = 0
    public var missedNotClicked = 0
    public var missedTooFewWorkers = 0
    public var missedTurnedDown = 0
    public var falseBesideTrueObject = 0
    public var falseElsewhere = 0

    public init() {}

    /// Every cause: its key in metrics.json, its name on a page, a short name for table columns.
    public static var causes: [(key: String, name: String, short: String, count: WritableKeyPath<ErrorBreakdown, Int>)] { [
        ("missed_not_clicked", "missed: clicked by no worker", "no worker", \.missedNotClicked),
        ("missed_too_few_workers", "missed: too few workers", "too few", \.missedTooFewWorkers),
        ("missed_turned_down", "missed: turned down", "turned down", \.missedTurnedDown),
        ("missed_taken_by_neighbour", "missed: taken by a neighbour", "neighbour", \.missedTakenByNeighbour),
        ("false_beside_true_object", "false: beside a true object", "beside", \.falseBesideTrueObject),
        ("false_elsewhere", "false: elsewhere", "elsewhere", \.falseElsewhere),
    ] }
    public static var missedCauses: [(key: String, name: String, short: String, count: WritableKeyPath<ErrorBreakdown, Int>)] {
        causes.filter { $0.key.hasPrefix("missed_") }
    }
    public static var falseCauses: [(key: String, name: String, short: String, count: WritableKeyPath<ErrorBreakdown, Int>)] {
        causes.filter { $0.key.hasPrefix("false_") }
    }

    /// Each cause's count, in `causes` order.
    public var counts: [Int] { Self.causes.map { self[keyPath: $0.count] } }
    /// Each cause's count by its metrics.json key.
    public var byKey: [String: Int] { Self.byKey(counts) }
    /// Values in `causes` order (counts, or their means over runs) by the causes' keys.
    public static func byKey<T>(_ values: [T]) -> [String: T] { Dictionary(uniqueKeysWithValues: zip(causes.map(\.key), values)) }
    public var missed: Int { Self.missedCauses.reduce(0) { $0 + self[keyPath: $1.count] } }
    public var falseObjects: Int { Self.falseCauses.reduce(0) { $0 + self[keyPath: $1.count] } }

    public static func + (a: ErrorBreakdown, b: ErrorBreakdown) -> ErrorBreakdown {
        var s = a
        for c in causes { s[keyPath: c.count] += b[keyPath: c.count] }
        return s
    }

    /// The breakdown of one image's consensus, matched to its truth one-to-one within
    /// `matchRadius` as `scoreAgainstTruth` matches it (so `missed` is its fn, `falseObjects` its fp);
    /// `matching`: that matching, when the caller has it already.
    public static func of(_ points: [ConsensusPoint], truth: TruthPoints, clicks: ImageClicks, matchRadius: Double,
                          pointingRadius: Double, vote: Int?, matching: PointMatching? = nil) -> ErrorBreakdown {
        let m = matching ?? matchPoints(ax: points.map(\.x), ay: points.map(\.y), bx: truth.xs, by: truth.ys, radius: matchRadius)
        var pointMatched = [Bool](repeating: false, count: points.count)
        var truthMatched = [Bool](repeating: false, count: truth.count)
        for p in m.pairs { pointMatched[p.0] = true; truthMatched[p.1] = true }
        // Each click's object, where that object was matched to a true one.
        var inMatchedObject = [Bool](repeating: false, count: clicks.count)
        for k in points.indices where pointMatched[k] { for i in points[k].members { inMatchedObject[i] = true } }
        let truthGrid = GridIndex(xs: truth.xs, ys: truth.ys, cell: matchRadius)
        let clickGrid = GridIndex(xs: clicks.xs, ys: clicks.ys, cell: pointingRadius)
        var b = ErrorBreakdown()
        for t in 0..<truth.count where !truthMatched[t] {
            // Its clicks: those within the pointing radius that lie nearer to it than to any other true object.
            var workers = Set<Int32>(), own = 0, taken = 0
            clickGrid.forEach(near: truth.xs[t], truth.ys[t], within: pointingRadius) { i, d in
                var nearer = false
                truthGrid.forEach(near: clicks.xs[i], clicks.ys[i], within: d.squareRoot()) { u, e in if u != t && e < d { nearer = true } }
                guard !nearer else { return }
                workers.insert(clicks.worker[i]); own += 1
                if inMatchedObject[i] { taken += 1 }
            }
            if workers.isEmpty { b.missedNotClicked += 1 }
            else if 2 * taken >= own { b.missedTakenByNeighbour += 1 }
            else if let vote, workers.count < vote { b.missedTooFewWorkers += 1 }
            else { b.missedTurnedDown += 1 }
        }
        for k in points.indices where !pointMatched[k] {
            var nearTruth = false
            truthGrid.forEach(near: points[k].x, points[k].y, within: matchRadius) { _, _ in nearTruth = true }
            if nearTruth { b.falseBesideTrueObject += 1 } else { b.falseElsewhere += 1 }
        }
        return b
    }

    /// One line for a terminal: the misses and false objects by cause, the empty causes left out.
    public var sentence: String {
        func list(_ parts: [(Int, String)]) -> String {
            let kept = parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
            return kept.isEmpty ? "" : ": " + kept.joined(separator: ", ")
        }
        return "missed \(missed)" + list([(missedNotClicked, "clicked by no worker"), (missedTooFewWorkers, "by fewer workers than the vote"),
                                          (missedTurnedDown, "turned down"), (missedTakenByNeighbour, "taken by a neighbour's object")])
            + "; false \(falseObjects)" + list([(falseBesideTrueObject, "beside a true object"), (falseElsewhere, "elsewhere")])
    }
}
