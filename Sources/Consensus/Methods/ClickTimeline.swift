import Foundation

/// One worker's clicks on one image in the order they were made, with the pause and the move
/// between successive clicks (two clicks in the same millisecond make no step). Analysis (click
/// periods, Fitts' law, the learning curve) and calibration read the same timeline.
public struct ClickTimeline: Sendable {
    /// Positions in the clicks given, in time order (ties in the order given).
    public var order: [Int]
    /// Seconds between successive clicks, and the distance moved (px).
    public var periods: [Double], steps: [Double]

    /// `clicks` are indices into `im`, in the order they appear in the export.
    public init(_ im: ImageClicks, clicks idx: [Int]) {
        order = idx.indices.sorted { im.timestamp[idx[$0]] != im.timestamp[idx[$1]] ? im.timestamp[idx[$0]] < im.timestamp[idx[$1]] : $0 < $1 }
        periods = []; steps = []
        for j in 1..<max(1, order.count) {
            let a = idx[order[j]], b = idx[order[j - 1]]
            guard im.timestamp[a] > im.timestamp[b] else { continue }
            periods.append((im.timestamp[a] - im.timestamp[b]) / 1000)
            steps.append(dist2(im.xs[a], im.ys[a], im.xs[b], im.ys[b]).squareRoot())
        }
    }
}
