import Consensus
import Foundation
import Imaging

/// How visible each object is in the picture, as a person sees it: the local contrast
/// `(peak − local background) / noise`, where the peak is read from the image smoothed at the
/// spot scale (σ = 1 px), the background is the median of a ring 5-10 px around the object, and
/// the noise is the image's own (1.4826 × the median absolute deviation of its high-pass part).
/// A nominal SNR ignores what a structured background does to a spot; this does not.
///
/// Contrast is measured in the objects' polarity: a person sees dark spots on a light field
/// (inverted smFISH, brightfield) as readily as bright ones on dark, so when the objects are
/// darker than their surroundings (the median signed contrast over the objects is negative) the
/// image is read inverted.
public enum Visibility {
    public static func contrast(image: Image, xs: [Double], ys: [Double]) -> [Double] {
        Map(image: image).contrast(xs: xs, ys: ys)
    }

    /// Contrast and look-alikes of every image with truth, read from `imagesDir` (each must be there).
    public static func measure(_ truth: TruthSet, imagesDir: String) throws -> (visibility: [String: [Double]], lookAlikes: [String: LookAlikes]) {
        var v: [String: [Double]] = [:], l: [String: LookAlikes] = [:]
        for (name, t) in truth.byImage.sorted(by: { $0.key < $1.key }) {
            let file = (imagesDir as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: file) else {
                throw InputError(file: file, message: "image of the export not found (contrast is measured in it)")
            }
            (v[name], l[name]) = Map(image: try PNG.read(path: file)).objects(xs: t.xs, ys: t.ys)
        }
        return (v, l)
    }

    /// One image prepared for measuring: each way a person can see its objects (`View`), and
    /// the one the objects stand out in most.
    ///
    /// A grey image (or an RGB one whose channels are equal) has one view, its grey values. A
    /// colour image has four: its luminance (BT.709) and each of its channels. A person sees a
    /// blue nucleus on a dark field by its colour even where its luminance barely changes (blue
    /// carries 7 % of it, and the noise of the brighter channels swamps it), so the objects are
    /// measured in the view where their median contrast is largest, luminance first on a tie.
    public struct Map: Sendable {
        public let width: Int, height: Int
        let views: [View]

        public init(image: Image) {
            width = image.width; height = image.height
            let grey = image.greyValues()
            var planes = [grey]
            if image.channels >= 3 && !image.hasEqualChannels {
                planes += (0..<3).map { c in (0..<(image.width * image.height)).map { Double(image.samples[$0 * image.channels + c]) } }
            }
            views = planes.map { View(values: $0, width: image.width, height: image.height) }
        }

        /// Each object's contrast in the objects' polarity, in the view they stand out in most,
        /// and the polarity: +1 when the objects are brighter than their surroundings (median
        /// signed contrast at least 0), −1 when darker.
        public func contrastAndPolarity(xs: [Double], ys: [Double]) -> (contrast: [Double], polarity: Double) {
            let best = bestView(xs: xs, ys: ys)
            return (best.contrast, best.polarity)
        }

        public func contrast(xs: [Double], ys: [Double]) -> [Double] { contrastAndPolarity(xs: xs, ys: ys).contrast }

        /// What workers see of the objects: their contrast, and the image's look-alikes in the same
        /// view and polarity (measured once).
        public func objects(xs: [Double], ys: [Double]) -> (contrast: [Double], lookAlikes: LookAlikes) {
            let (k, contrast, sign) = bestView(xs: xs, ys: ys)
            return (contrast, views[k].lookAlikes(objectsX: xs, objectsY: ys, polarity: sign))
        }

        /// The view whose objects' median contrast (in their polarity) is largest.
        func bestView(xs: [Double], ys: [Double]) -> (view: Int, contrast: [Double], polarity: Double) {
            var best: (view: Int, contrast: [Double], polarity: Double, median: Double)?
            for (k, v) in views.enumerated() {
                let signed = zip(xs, ys).map { v.signedContrast(x: $0, y: $1) }
                let m = signed.isEmpty ? 0 : median(signed)
                let sign: Double = m >= 0 ? 1 : -1
                if let b = best, abs(m) <= b.median { continue }
                best = (k, signed.map { $0 * sign }, sign, abs(m))
            }
            return (best!.view, best!.contrast, best!.polarity)
        }
    }

    /// One grey field of an image, smoothed, with its noise.
    struct View: Sendable {
        let width: Int, height: Int
        let grey: [Double], smooth: [Double]
        let noise: Double, middle: Double

        init(values: [Double], width: Int, height: Int) {
            self.width = width; self.height = height
            grey = values
            smooth = gaussianBlur(grey, width: width, height: height, sigma: 1)
            let broad = gaussianBlur(grey, width: width, height: height, sigma: 2)
            let highPass = zip(grey, broad).map { $0 - $1 }
            let mid = median(highPass)
            middle = mid
            noise = max(1.4826 * median(highPass.map { abs($0 - mid) }), 1e-6)
        }

        /// Signed contrast at a point in click coordinates (`y` from the bottom).
        func signedContrast(x: Double, y: Double) -> Double {
            let w = width, h = height
            let c = min(max(Int(x.rounded()), 0), w - 1), r = min(max(Int((Double(h) - y).rounded()), 0), h - 1)
            var ring: [Double] = []
            ring.reserveCapacity(320)
            for rr in max(0, r - 10)...min(h - 1, r + 10) {
                for cc in max(0, c - 10)...min(w - 1, c + 10) {
                    let d2 = (rr - r) * (rr - r) + (cc - c) * (cc - c)
                    if d2 >= 25 && d2 <= 100 { ring.append(grey[rr * w + cc]) }
                }
            }
            let bg = ring.isEmpty ? middle : median(ring)
            return (smooth[r * w + c] - bg) / noise
        }

        /// Look-alikes: local maxima (7 x 7) of the smoothed image in the objects' polarity that lie
        /// farther than `clearance` px from every object and stand at least `minimum` noise units
        /// above their surroundings (3: the usual bar for telling a spot from noise), with their contrast.
        /// These are what a person may take for an object: real workers' false clicks gather on
        /// them (dust, background texture, spots the truth left out).
        func lookAlikes(objectsX xs: [Double], objectsY ys: [Double], polarity sign: Double, clearance: Double = 4, minimum: Double = 3) -> LookAlikes {
            let field = sign > 0 ? smooth : smooth.map { -$0 }
            let grid = GridIndex(xs: xs, ys: ys, cell: max(clearance, 1))
            let w = width, h = height
            // A maximum must stand out of the smoothed field's own spread to be worth a look.
            let level = median(field)
            let peaks = localMaxima(field, width: w, height: h, radius: 3) { field[$0] > level }
            var out = LookAlikes(xs: [], ys: [], visibility: [])
            for i in peaks {
                let x = Double(i % w), y = Double(h - i / w)
                if !grid.neighbours(of: x, y, within: clearance).isEmpty { continue }
                let v = signedContrast(x: x, y: y) * sign
                if v >= minimum { out.xs.append(x); out.ys.append(y); out.visibility.append(v) }
            }
            return out
        }
    }
}

/// Places in an image that look like objects but are none, where false clicks land, drawn in
/// proportion to a weight (a worker's chance of taking each for an object).
public struct LookAlikes: Sendable, Equatable {
    public var xs: [Double], ys: [Double], visibility: [Double]
    /// Running sums of the weights (empty until `weighted` is called: draws are then uniform).
    var cumulative: [Double] = []

    public init(xs: [Double], ys: [Double], visibility: [Double]) { self.xs = xs; self.ys = ys; self.visibility = visibility }

    /// The same places weighted by `weight(visibility)`.
    public func weighted(by weight: (Double) -> Double) -> LookAlikes {
        var out = self
        var total = 0.0
        out.cumulative = visibility.map { total += max(0, weight($0)); return total }
        return out
    }

    /// The place for a uniform draw `u` in [0, 1).
    func draw(_ u: Double) -> Int {
        guard let total = cumulative.last, total > 0 else { return min(xs.count - 1, Int(u * Double(xs.count))) }
        let target = u * total
        var lo = 0, hi = cumulative.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] > target { hi = mid } else { lo = mid + 1 } }
        return lo
    }
}
