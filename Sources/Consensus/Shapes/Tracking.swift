import Foundation

/// One object followed over frames.
public struct Track: Sendable, Codable, Equatable {
    /// (frame index, index of the object in that frame, x, y).
    public var frames: [Int]
    public var objects: [Int]
    public var xs: [Double]
    public var ys: [Double]

    /// Speed in px per frame from a least-squares line through position against frame (steady
    /// motion: the jitter of each position averages out instead of adding to every step).
    public var fittedSpeed: Double? {
        guard frames.count >= 3 else { return nil }
        let t = frames.map(Double.init)
        let mt = t.reduce(0, +) / Double(t.count), mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        var stt = 0.0, stx = 0.0, sty = 0.0
        for i in t.indices { stt += (t[i] - mt) * (t[i] - mt); stx += (t[i] - mt) * (xs[i] - mx); sty += (t[i] - mt) * (ys[i] - my) }
        guard stt > 0 else { return nil }
        return hypot(stx / stt, sty / stt)
    }

    /// Mean speed in px per frame over the linked steps (gaps divide by their length).
    public var meanSpeed: Double? {
        guard frames.count >= 2 else { return nil }
        var s = 0.0
        for i in 1..<frames.count { s += hypot(xs[i] - xs[i - 1], ys[i] - ys[i - 1]) / Double(frames[i] - frames[i - 1]) }
        return s / Double(frames.count - 1)
    }
}

/// Linear assignment tracking in the manner of TrackMate's LAP tracker (Jaqaman et al., Nat. Methods
/// 5:695, 2008): objects of consecutive frames are linked by a Hungarian assignment on squared
/// distance with a maximum linking distance; then track ends are joined to track starts up to
/// `maxGap` frames later within `gapDistance`, again by one assignment, so an object missed in a
/// frame does not break its track.
public struct Tracker: Sendable {
    public var maxLinkDistance = 15.0
    public var maxGap = 2
    public var gapDistance = 20.0

    public init() {}

    public func link(frames: [[(Double, Double)]]) -> [Track] {
        var tracks: [Track] = []
        var open: [Int: Int] = [:]   // object index in the previous frame -> track
        for (f, objects) in frames.enumerated() {
            var next: [Int: Int] = [:]
            let prev = open.keys.sorted()
            if !prev.isEmpty && !objects.isEmpty {
                let big = maxLinkDistance * maxLinkDistance * 4 + 1
                var cost = [[Double]](repeating: [Double](repeating: big, count: objects.count), count: prev.count)
                for (i, p) in prev.enumerated() {
                    let t = tracks[open[p]!]
                    for (j, o) in objects.enumerated() {
                        let d2 = pow(o.0 - t.xs.last!, 2) + pow(o.1 - t.ys.last!, 2)
                        if d2 <= maxLinkDistance * maxLinkDistance { cost[i][j] = d2 }
                    }
                }
                for (i, j) in assign(cost) where cost[i][j] < big {
                    let k = open[prev[i]]!
                    tracks[k].frames.append(f); tracks[k].objects.append(j)
                    tracks[k].xs.append(objects[j].0); tracks[k].ys.append(objects[j].1)
                    next[j] = k
                }
            }
            for j in objects.indices where next[j] == nil {
                tracks.append(Track(frames: [f], objects: [j], xs: [objects[j].0], ys: [objects[j].1]))
                next[j] = tracks.count - 1
            }
            open = next
        }
        return closeGaps(tracks)
    }

    /// Joins track ends to later track starts across up to `maxGap` missing frames.
    func closeGaps(_ input: [Track]) -> [Track] {
        guard maxGap > 0, input.count > 1 else { return input }
        let ends = input.indices, starts = input.indices
        let big = gapDistance * gapDistance * 4 + 1
        var cost = [[Double]](repeating: [Double](repeating: big, count: input.count), count: input.count)
        for a in ends {
            for b in starts where a != b {
                let gap = input[b].frames.first! - input[a].frames.last!
                guard gap >= 2, gap <= maxGap + 1 else { continue }
                let d2 = pow(input[b].xs.first! - input[a].xs.last!, 2) + pow(input[b].ys.first! - input[a].ys.last!, 2)
                if d2 <= gapDistance * gapDistance { cost[a][b] = d2 }
            }
        }
        var successor = [Int?](repeating: nil, count: input.count)
        var hasPredecessor = [Bool](repeating: false, count: input.count)
        for (a, b) in assign(cost) where cost[a][b] < big {
            successor[a] = b; hasPredecessor[b] = true
        }
        var out: [Track] = []
        for start in input.indices where !hasPredecessor[start] {
            var t = input[start]
            var k = start
            while let n = successor[k] {
                t.frames += input[n].frames; t.objects += input[n].objects; t.xs += input[n].xs; t.ys += input[n].ys
                k = n
            }
            out.append(t)
        }
        return out.sorted { ($0.frames.first!, $0.objects.first!) < ($1.frames.first!, $1.objects.first!) }
    }
}

/// Hungarian assignment for any rectangular matrix: (row, column) pairs.
func assign(_ cost: [[Double]]) -> [(Int, Int)] {
    guard let m = cost.first?.count, m > 0 else { return [] }
    if cost.count <= m { return hungarian(cost).enumerated().map { ($0.offset, $0.element) } }
    let transposed = (0..<m).map { j in cost.map { $0[j] } }
    return hungarian(transposed).enumerated().map { ($0.element, $0.offset) }
}
