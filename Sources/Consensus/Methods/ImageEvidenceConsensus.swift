import Foundation
import Imaging

/// The agreement vote, with the image heard for the candidates it turned down.
///
/// On a dense field each worker clicks a few dozen of a few hundred spots, so a real spot may have
/// two or three supporters where the vote asks for four; the clicks alone cannot tell it from a
/// coincidence, but the pixels can. A candidate two or more workers clicked is admitted when the
/// image shows a spot of its own under it:
/// 1. **The spot filter from the accepted objects.** A difference of Gaussians, G(s) − G(3s) (the
///    blob detector of Marr & Hildreth 1980 and Lowe 2004), at the scale in `scales` where the
///    accepted objects stand out most (median response), its sign set so they are peaks (bright or
///    dark spots, as the smFISH fields shown inverted), normalised to a robust z (median, MAD).
/// 2. **The null from the image's own background**: the response on a grid of points farther than
///    the cluster radius from every click, places no worker took for an object. No noise model is
///    assumed; texture, gradients and camera noise are in the null as they are.
/// 3. **A test per candidate**: its response (the largest within 2 px, as on the null's points)
///    must exceed the null's 1 − α/m quantile, m the candidates tested on the image (Bonferroni:
///    the chance of admitting any background point on an image is at most α); the spot it climbs
///    to must not be an accepted or already admitted object's (peaks within `sameSpotDistance`),
///    since fragments of an accepted object's clicks sit on its spot; and the spot must be shaped
///    like the accepted ones (its response at another scale against the chosen one within the
///    range theirs span).
/// Without an image, or with fewer than `minimumAccepted` objects to read the filter from, an image
/// keeps the vote's answer.
public struct ImageEvidenceConsensus: PointConsensusMethod {
    public static let methodName = "agreement+image"
    public var name: String { Self.methodName }
    public var vote = AgreementConsensus()
    /// The images by file name, as the export names them (row 0 at the top).
    public var images: [String: Image]
    /// Family-wise chance per image of admitting a background point.
    public var alpha = 0.05
    /// Spot filter scales tried, in pixels.
    public var scales: [Double] = [1, 1.5, 2, 3, 4]
    /// Peaks closer than this are one spot (in pixels).
    public var sameSpotDistance = 3.0
    public var minimumAccepted = 5
    /// Admit only spots shaped like the accepted objects (step 3).
    public var requireAcceptedShape = true
    /// Spacing of the background grid (pixels).
    public var backgroundStep = 3
    /// The filter scale to use per image instead of choosing one (the filtered re-run keeps the
    /// full crowd's, as it keeps its click spread: it measures the workers, not the filter).
    public var fixedScales: [String: Double] = [:]

    public init(images: [String: Image]) { self.images = images }

    public func votesNeeded(workers: Int) -> Int? { vote.votesNeeded(workers: workers) }

    public func keepingScale(of consensus: [ImageConsensus]) -> any PointConsensusMethod {
        var fixed = self
        if let v = vote.keepingScale(of: consensus) as? AgreementConsensus { fixed.vote = v }
        for c in consensus { if let s = c.diagnostics.evidenceScalePx { fixed.fixedScales[c.image] = s } }
        return fixed
    }

    public func consensus(_ job: ClickJob) -> [ImageConsensus] {
        admitting(askingEveryCandidate.consensus(job), job)
    }

    /// Without some workers: the vote's re-run on the full crowd's clusters, then the pixels heard
    /// at the full crowd's filter scales.
    public func rerun(_ consensus: [ImageConsensus], of job: ClickJob, without dropped: Set<Int>) -> [ImageConsensus] {
        guard let me = keepingScale(of: consensus) as? ImageEvidenceConsensus else { return self.consensus(job.without(workers: dropped)) }
        return me.admitting(me.askingEveryCandidate.rerun(consensus, of: job, without: dropped), job.without(workers: dropped))
    }

    /// The vote, reporting every candidate it turned down.
    var askingEveryCandidate: AgreementConsensus {
        var asked = vote
        asked.reportNearMisses = true
        asked.nearMissMargin = .infinity
        return asked
    }

    func admitting(_ voted: [ImageConsensus], _ job: ClickJob) -> [ImageConsensus] {
        let me = self
        return Array(job.images.indices).parallelMap { k in
            me.admit(job.images[k], voted[k])
        }
    }

    /// One image: the vote's objects plus the candidates its pixels vouch for.
    func admit(_ im: ImageClicks, _ voted: ImageConsensus) -> ImageConsensus {
        var out = voted
        out.nearMisses = vote.reportNearMisses ? voted.nearMisses.filter(withinOneVote(of: voted)) : []
        guard let picture = images[im.image], picture.width == im.width, picture.height == im.height,
              voted.points.count >= minimumAccepted else { return out }
        let field = SpotField(picture, at: voted.points, scales: scales, keeping: fixedScales[im.image])
        let clearance = voted.diagnostics.radiusPx ?? vote.pilotRadius
        let background = field.background(clearOf: im, by: clearance, step: backgroundStep)
        let tested = voted.nearMisses
        out.diagnostics.evidenceTested = Double(tested.count)
        out.diagnostics.evidenceScalePx = field.scale
        out.diagnostics.evidenceAdmitted = 0
        guard !tested.isEmpty, Double(background.count) * alpha / Double(tested.count) >= 1 else { return out }
        let threshold = quantile(background, 1 - alpha / Double(tested.count))
        out.diagnostics.evidenceThreshold = threshold
        // The test reads the response within 2 px, as on the background; which spot a candidate is
        // on is the local maximum it climbs to.
        let responses = tested.map { field.response(at: $0) }
        var spots = voted.points.map { field.spot(from: $0) }
        let shapes = voted.points.map { field.shape(at: $0) }
        let shapeRange = requireAcceptedShape ? shapes.min()!...shapes.max()! : -Double.infinity...Double.infinity
        var admitted = Set<Int>()
        for i in tested.indices.sorted(by: { (responses[$0], $1) > (responses[$1], $0) })
        where responses[i] > threshold && shapeRange.contains(field.shape(at: tested[i])) {
            let s = field.spot(from: tested[i])
            guard spots.allSatisfy({ hypot(Double($0.col - s.col), Double($0.row - s.row)) > sameSpotDistance }) else { continue }
            spots.append(s)
            admitted.insert(i)
        }
        let kept = tested.indices.filter(admitted.contains).map { tested[$0] }
        out.nearMisses.removeAll(where: kept.contains)
        out.points += kept.map { var p = $0; p.admittedByImage = true; return p }
        out.diagnostics.evidenceAdmitted = Double(admitted.count)
        return out
    }

    /// The near-misses as the vote alone reports them: one weighted vote short.
    func withinOneVote(of c: ImageConsensus) -> (ConsensusPoint) -> Bool {
        let need = c.diagnostics.minWeightedSupport ?? 0
        let margin = vote.nearMissMargin
        return { $0.weightedSupport >= need - margin - 1e-9 }
    }
}

/// What the images added over a job: images heard, candidates tested, objects admitted.
public struct EvidenceTotals: Sendable, Equatable {
    public var heard = 0, unheard = 0, tested = 0, admitted = 0

    public init(_ consensus: [ImageConsensus]) {
        for c in consensus {
            guard let t = c.diagnostics.evidenceTested else { unheard += 1; continue }
            heard += 1
            tested += Int(t)
            admitted += Int(c.diagnostics.evidenceAdmitted ?? 0)
        }
    }

    public var sentence: String {
        "\(admitted) of \(tested) turned-down candidates admitted on \(heard) images"
            + (unheard == 0 ? "" : " (\(unheard) images kept the vote: no image of the export's size, or too few objects to read the spots from)")
    }
}

/// The robust-z spot response of one image at each scale, and the scale its accepted objects pick.
struct SpotField {
    let width: Int, height: Int
    /// The response at the scale the accepted objects pick, and at the scale a spot's shape is
    /// read against (the largest tried, or the smallest when the largest is the one picked).
    let z: [Double], other: [Double]
    let scale: Double

    /// With `keeping`, only that scale (and the one its shape is read against) is filtered.
    init(_ picture: Image, at objects: [ConsensusPoint], scales: [Double], keeping kept: Double? = nil) {
        width = picture.width; height = picture.height
        let grey = picture.greyValues()
        let (w, h) = (width, height)
        let at = objects.map { p in let (c, r) = Self.pixel(p, w, h); return r * w + c }
        // Spots are peaks or troughs: the side the accepted objects lie on, against the whole image.
        let smooth = gaussianBlur(grey, width: w, height: h, sigma: 1.5)
        let sign = median(at.map { smooth[$0] }) >= median(smooth) ? 1.0 : -1.0
        var responses: [[Double]] = [], used: [Double] = [], scores: [Double] = []
        for s in Self.filtered(scales, keeping: kept) {
            let fine = gaussianBlur(grey, width: w, height: h, sigma: s), broad = gaussianBlur(grey, width: w, height: h, sigma: 3 * s)
            let d = zip(fine, broad).map { sign * ($0 - $1) }
            let centre = median(d)
            let spread = 1.4826 * median(d.map { abs($0 - centre) })
            guard spread > 0 else { continue }
            let z = d.map { ($0 - centre) / spread }
            responses.append(z); used.append(s)
            scores.append(median(at.map { z[Self.peakIndex(z, $0, w, h)] }))
        }
        if responses.isEmpty { responses = [[Double](repeating: 0, count: w * h)]; used = [scales.first ?? 1]; scores = [0] }
        let chosen = kept.flatMap { used.firstIndex(of: $0) }
            ?? scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
        z = responses[chosen]
        other = responses[chosen == responses.count - 1 ? 0 : responses.count - 1]
        scale = used[chosen]
    }

    /// The scales to filter at: all, or the kept one and the one its shape is read against.
    static func filtered(_ scales: [Double], keeping kept: Double?) -> [Double] {
        guard let kept, let i = scales.firstIndex(of: kept), scales.count > 1 else { return scales }
        let other = i == scales.count - 1 ? 0 : scales.count - 1
        return [scales[min(i, other)], scales[max(i, other)]]
    }

    /// The pixel of the largest response within 2 px (a consensus centre is a median of clicks,
    /// good to a pixel or two).
    static func peakIndex(_ z: [Double], _ i: Int, _ w: Int, _ h: Int) -> Int {
        let r0 = i / w, c0 = i % w
        var best = i
        for r in max(0, r0 - 2)...min(h - 1, r0 + 2) { for c in max(0, c0 - 2)...min(w - 1, c0 + 2) where z[r * w + c] > z[best] { best = r * w + c } }
        return best
    }

    static func windowMax(_ z: [Double], _ i: Int, _ w: Int, _ h: Int) -> Double { z[peakIndex(z, i, w, h)] }

    /// How the spot under a point answers at another scale than the chosen one, as an angle:
    /// its shape and size, whatever its contrast. A spot the crowd missed is fainter than the ones it
    /// found, not shaped otherwise; texture and edges are.
    func shape(at p: ConsensusPoint) -> Double {
        let (c, r) = pixel(p)
        let i = Self.peakIndex(z, r * width + c, width, height)
        return atan2(other[i], z[i])
    }

    func pixel(_ p: ConsensusPoint) -> (col: Int, row: Int) {
        Self.pixel(p, width, height)
    }

    /// The pixel under a point in click coordinates (y from the bottom), clamped into the image;
    /// clamped as a Double first, so a far-off centre cannot overflow the conversion.
    static func pixel(_ p: ConsensusPoint, _ w: Int, _ h: Int) -> (col: Int, row: Int) {
        let col = Int(min(max(p.x.rounded(), 0), Double(w - 1)))
        let row = Int(min(max(Double(h) - p.y.rounded(), 0), Double(h - 1)))
        return (col, row)
    }

    /// The response a test reads at a point: its maximum within 2 px.
    func response(at p: ConsensusPoint) -> Double {
        let (c, r) = pixel(p)
        return Self.windowMax(z, r * width + c, width, height)
    }

    /// The spot a point lies on: the local maximum steepest ascent reaches from it.
    func spot(from p: ConsensusPoint) -> (col: Int, row: Int) {
        var (c, r) = pixel(p)
        for _ in 0..<(width + height) {
            var (bc, br) = (c, r)
            for rr in max(0, r - 1)...min(height - 1, r + 1) {
                for cc in max(0, c - 1)...min(width - 1, c + 1) where z[rr * width + cc] > z[br * width + bc] { (bc, br) = (cc, rr) }
            }
            if bc == c && br == r { break }
            (c, r) = (bc, br)
        }
        return (c, r)
    }

    /// The response's 2 px window maximum on a grid of points farther than `clearance` from every click.
    func background(clearOf im: ImageClicks, by clearance: Double, step: Int) -> [Double] {
        let clicks = GridIndex(xs: im.xs, ys: im.ys, cell: clearance)
        var out: [Double] = []
        for r in stride(from: 2, to: height - 2, by: step) {
            for c in stride(from: 2, to: width - 2, by: step) {
                var clicked = false
                clicks.forEach(near: Double(c), Double(height - r), within: clearance) { _, _ in clicked = true }
                if !clicked { out.append(Self.windowMax(z, r * width + c, width, height)) }
            }
        }
        return out
    }
}
