import Foundation

/// Truth of a phantom movie frame (`<id>_truth.json`): objects in image coordinates (row from the
/// top), converted here to the export's (`y` from the bottom edge).
public struct ShapeTruth: Sendable, Codable {
    public struct Object: Sendable, Codable {
        public var id: String
        public var track: String
        public var kind: String
        public var label: String?
        public var points: [[Double]]
    }
    public var width: Int
    public var height: Int
    public var objects: [Object]

    /// The objects with `y` from the bottom edge.
    public func inExportCoordinates() -> [Object] {
        objects.map { o in
            var c = o
            c.points = o.points.map { [$0[0], Double(height) - $0[1]] }
            return c
        }
    }

    /// Loads `<stem>_truth.json` for each image of the export from a folder.
    public static func load(folder: String, images: [String]) throws -> [String: ShapeTruth] {
        var out: [String: ShapeTruth] = [:]
        for im in images {
            let stem = (im as NSString).deletingPathExtension
            let path = (folder as NSString).appendingPathComponent(stem + "_truth.json")
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do { out[im] = try JSONDecoder().decode(ShapeTruth.self, from: data) } catch {
                throw InputError(file: (path as NSString).lastPathComponent, message: "not a truth JSON (\(error))")
            }
        }
        return out
    }
}

/// The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs.
public func ksStatistic(_ a: [Double], _ b: [Double]) -> Double {
    guard !a.isEmpty, !b.isEmpty else { return 1 }
    let x = a.sorted(), y = b.sorted()
    var i = 0, j = 0, d = 0.0
    while i < x.count && j < y.count {
        let v = min(x[i], y[j])
        while i < x.count && x[i] <= v { i += 1 }
        while j < y.count && y[j] <= v { j += 1 }
        d = max(d, abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)))
    }
    return d
}

/// The shape side of `crowdlab analyze`: consensus shapes, their areas and lengths, scored against
/// point truth (objects the outlines should enclose) or shape truth (outlines and traces), and
/// tracked across frames.
public struct ShapeAnalysisResult: Sendable {
    public var job: ShapeJob
    public var consensus: ShapeConsensusMethod.Result
    /// Consensus centroids against the truth's objects (point truth, or the centroids of shape truth).
    public var score: DetectionScore?
    public var perImage: [(image: String, score: DetectionScore)]
    /// Matched polygons: relative area error |A - A_true| / A_true, by image.
    public var areaErrors: [(image: String, error: Double)]
    /// Per image (in frame order for a movie): consensus area and true area (summed over its polygons).
    public var areaOverTime: [(image: String, consensus: Double, truth: Double?)]
    /// Lengths: consensus traces, single workers' traces, truth's traces.
    public var consensusLengths: [Double]
    public var workerLengths: [Double]
    public var truthLengths: [Double]
    /// Whether the images are the frames of one movie (`FrameSequence`): only then are objects
    /// tracked and areas read as a time course.
    public var isMovie: Bool
    /// Consensus objects linked frame to frame, in frame order (none unless `isMovie`).
    public var tracks: [Track]
    /// Tracks of `minimumTrackFrames` or more (a speed fitted over fewer is dominated by the
    /// jitter of each position) matched to a true track: fitted speed and the truth's (px/frame).
    public var velocities: [(track: Int, speed: Double, truth: Double)]
    /// Labelled keypoints (labelled crosshairs on movie frames): per label, the consensus position
    /// per frame (median of the workers' clicks) and its distance to the truth.
    public var keypoints: [KeypointTrajectory]
}

public struct KeypointTrajectory: Sendable, Codable {
    public var label: String
    public var frames: [Int]
    public var xs: [Double]
    public var ys: [Double]
    public var errors: [Double]
    public var rmse: Double? { errors.isEmpty ? nil : (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot() }
}

public enum ShapeAnalysis {
    /// Labelled crosshairs: annotation k of a record is the click for the frame's k-th labelled
    /// point object; the consensus per label and frame is the median of the workers' clicks.
    public static func keypointTrajectories(export: QuantiusExport, truth: [String: ShapeTruth]) -> [KeypointTrajectory] {
        let frames = export.imageNames.sorted()
        var out: [String: KeypointTrajectory] = [:]
        var order: [String] = []
        let byImage = Dictionary(grouping: export.records.filter { $0.annotationType == .crosshairs }, by: \.imageFilename)
        for (f, image) in frames.enumerated() {
            guard let t = truth[image] else { continue }
            let points = t.inExportCoordinates().filter { $0.kind == "point" && $0.label != nil }
            guard !points.isEmpty else { continue }
            for (k, o) in points.enumerated() {
                let label = o.label!
                let clicks = (byImage[image] ?? []).compactMap { r -> Vertex? in k < r.rawData.count ? r.rawData[k].first : nil }
                guard !clicks.isEmpty else { continue }
                let x = median(clicks.map(\.x)), y = median(clicks.map(\.y))
                if out[label] == nil { out[label] = KeypointTrajectory(label: label, frames: [], xs: [], ys: [], errors: []); order.append(label) }
                out[label]!.frames.append(f); out[label]!.xs.append(x); out[label]!.ys.append(y)
                out[label]!.errors.append(hypot(x - o.points[0][0], y - o.points[0][1]))
            }
        }
        return order.map { out[$0]! }
    }

    public static func run(export: QuantiusExport, pointTruth: TruthSet?, shapeTruth: [String: ShapeTruth]?,
                           method: ShapeConsensusMethod = ShapeConsensusMethod(), matchRadius: Double = 8,
                           minimumTrackFrames: Int = 8) -> ShapeAnalysisResult {
        let job = ShapeJob(export: export)
        let consensus = method.consensus(job)
        var total = DetectionScore()
        var perImage: [(String, DetectionScore)] = []
        var areaErrors: [(String, Double)] = []
        var areaOverTime: [(String, Double, Double?)] = []
        var truthLengths: [Double] = []
        var scored = false
        let byImage = Dictionary(grouping: consensus.shapes, by: \.image)
        for im in job.images {
            let shapes = byImage[im.image] ?? []
            let cx = shapes.map { $0.centroid[0] }, cy = shapes.map { $0.centroid[1] }
            var tx: [Double] = [], ty: [Double] = []
            var truthAreas: [Double] = []
            if let t = pointTruth?.byImage[im.image] { tx = t.xs; ty = t.ys; scored = true }
            else if let t = shapeTruth?[im.image] {
                scored = true
                for o in t.inExportCoordinates() {
                    let xs = o.points.map { $0[0] }, ys = o.points.map { $0[1] }
                    let closed = o.kind == "polygon"
                    let c = Geometry.centroid(xs, ys, closed: closed)
                    tx.append(c.x); ty.append(c.y)
                    truthAreas.append(closed ? Geometry.area(xs, ys) : .nan)
                    if o.kind == "polyline" { truthLengths.append(Geometry.length(xs, ys, closed: false)) }
                }
            }
            let consensusArea = shapes.compactMap(\.area).reduce(0, +)
            let trueArea = truthAreas.filter { !$0.isNaN }.reduce(0, +)
            areaOverTime.append((im.image, consensusArea, truthAreas.contains { !$0.isNaN } ? trueArea : nil))
            // Images without truth are not scored (the truth set lists them).
            guard pointTruth?.byImage[im.image] != nil || shapeTruth?[im.image] != nil else { continue }
            // Large objects (tissue) are matched at a radius that grows with their size.
            let radius = max(matchRadius, shapes.compactMap(\.area).map { 0.5 * ($0 / Double.pi).squareRoot() }.max() ?? 0)
            let m = matchPoints(ax: cx, ay: cy, bx: tx, by: ty, radius: radius)
            let s = DetectionScore(tp: m.pairs.count, fp: m.unmatchedA, fn: m.unmatchedB)
            total = total + s
            perImage.append((im.image, s))
            for (a, b, _) in m.pairs where b < truthAreas.count && !truthAreas[b].isNaN {
                if let area = shapes[a].area { areaErrors.append((im.image, abs(area - truthAreas[b]) / truthAreas[b])) }
            }
        }
        let workerLengths = job.images.flatMap { $0.shapes.filter { !$0.isClosed }.map { Geometry.length($0.xs, $0.ys, closed: false) } }
        let frameOrder = FrameSequence.order(job.images.map(\.image))
        let frames = (frameOrder ?? []).map { job.images[$0] }
        let tracks = Tracker().link(frames: frames.map { im in (byImage[im.image] ?? []).map { ($0.centroid[0], $0.centroid[1]) } })
        let velocities = shapeTruth.map { trackVelocities(tracks, frames: frames.map(\.image), truth: $0, matchRadius: matchRadius, minimumTrackFrames: minimumTrackFrames) } ?? []
        let keypoints = shapeTruth.map { keypointTrajectories(export: export, truth: $0) } ?? []
        if let frameOrder { areaOverTime = frameOrder.map { areaOverTime[$0] } }
        return ShapeAnalysisResult(job: job, consensus: consensus, score: scored ? total : nil, perImage: perImage, areaErrors: areaErrors,
                                   areaOverTime: areaOverTime, consensusLengths: consensus.shapes.compactMap(\.length),
                                   workerLengths: workerLengths, truthLengths: truthLengths, isMovie: frameOrder != nil, tracks: tracks,
                                   velocities: velocities, keypoints: keypoints)
    }

    /// Each track of `minimumTrackFrames` or more with the speed fitted to it, against the speed of
    /// the true track nearest its start (within twice the match radius); objects that do not travel
    /// (the tissue) have no speed to compare.
    static func trackVelocities(_ tracks: [Track], frames: [String], truth: [String: ShapeTruth], matchRadius: Double,
                                minimumTrackFrames: Int) -> [(Int, Double, Double)] {
        var velocities: [(Int, Double, Double)] = []
        var truthTracks: [String: [(frame: Int, x: Double, y: Double)]] = [:]
        for (f, image) in frames.enumerated() {
            for o in truth[image]?.inExportCoordinates() ?? [] where o.kind != "point" {
                let c = Geometry.centroid(o.points.map { $0[0] }, o.points.map { $0[1] }, closed: o.kind == "polygon")
                truthTracks[o.track, default: []].append((f, c.x, c.y))
            }
        }
        let truthSpeed = truthTracks.mapValues { Track(frames: $0.map(\.frame), objects: $0.map { _ in 0 }, xs: $0.map(\.x), ys: $0.map(\.y)).fittedSpeed }
        for (k, t) in tracks.enumerated() where t.frames.count >= minimumTrackFrames {
            guard let speed = t.fittedSpeed else { continue }
            var best: (String, Double)? = nil
            for id in truthTracks.keys.sorted() {
                guard let p = truthTracks[id]!.first(where: { $0.frame == t.frames[0] }) else { continue }
                let d = hypot(p.x - t.xs[0], p.y - t.ys[0])
                if d <= 2 * matchRadius, d < (best?.1 ?? .infinity) { best = (id, d) }
            }
            // Objects that do not travel (the tissue) have no speed to compare.
            if let (id, _) = best, let v = truthSpeed[id] ?? nil, v >= 0.2 { velocities.append((k, speed, v)) }
        }
        return velocities
    }
}
