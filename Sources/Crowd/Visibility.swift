import Consensus
import Foundation
import Imaging

/// How visible each object is in the picture, as a person sees it: the local contrast
/// `(peak − local background) / noise`, where the peak is read from the image smoothed at the
/// spot scale (σ = 1 px), the background is the median of a ring 5-10 px around the object, and
/// the noise is the image's own (1.4826 × the median absolute deviation of its high-pass part).
/// A nominal SNR ignores what a structured background does to a spot; this does not.
public enum Visibility {
    public static func contrast(image: Image, xs: [Double], ys: [Double]) -> [Double] {
        let w = image.width, h = image.height
        let grey = image.greyValues()
        let smooth = gaussianBlur(grey, width: w, height: h, sigma: 1)
        let broad = gaussianBlur(grey, width: w, height: h, sigma: 2)
        let highPass = zip(grey, broad).map { $0 - $1 }
        let mid = median(highPass)
        let noise = max(1.4826 * median(highPass.map { abs($0 - mid) }), 1e-6)
        var out: [Double] = []
        out.reserveCapacity(xs.count)
        for (x, y) in zip(xs, ys) {
            let c = min(max(Int(x.rounded()), 0), w - 1), r = min(max(Int((Double(h) - y).rounded()), 0), h - 1)
            var ring: [Double] = []
            for rr in max(0, r - 10)...min(h - 1, r + 10) {
                for cc in max(0, c - 10)...min(w - 1, c + 10) {
                    let d2 = (rr - r) * (rr - r) + (cc - c) * (cc - c)
                    if d2 >= 25 && d2 <= 100 { ring.append(grey[rr * w + cc]) }
                }
            }
            let bg = ring.isEmpty ? mid : median(ring)
            out.append((smooth[r * w + c] - bg) / noise)
        }
        return out
    }
}
