import Foundation
import HeapModule

/// The classic automatic pipeline biologists run in FIJI before crowds: smooth, threshold (Otsu),
/// split touching objects by a marker-based watershed, and keep particles within a size range.
/// It is the baseline the crowd is compared with (Hughes et al. 2018, Fig. 1c).
public enum ClassicSegmentation {
    public struct Particle: Sendable, Equatable {
        /// Centroid: column, and row from the top.
        public var col: Double, row: Double
        public var area: Int
    }

    /// Otsu's threshold of a grey field (maximises between-class variance over a 256-bin histogram).
    public static func otsu(_ v: [Double]) -> Double {
        guard let lo = v.min(), let hi = v.max(), hi > lo else { return v.first ?? 0 }
        var hist = [Double](repeating: 0, count: 256)
        for x in v { hist[min(255, Int((x - lo) / (hi - lo) * 255))] += 1 }
        let total = Double(v.count)
        var sumAll = 0.0
        for i in 0..<256 { sumAll += Double(i) * hist[i] }
        var wB = 0.0, sumB = 0.0, best = 0.0, bestT = 0
        for t in 0..<256 {
            wB += hist[t]
            if wB == 0 { continue }
            let wF = total - wB
            if wF == 0 { break }
            sumB += Double(t) * hist[t]
            let mB = sumB / wB, mF = (sumAll - sumB) / wF
            let between = wB * wF * (mB - mF) * (mB - mF)
            if between > best { best = between; bestT = t }
        }
        return lo + (Double(bestT) + 0.5) / 255 * (hi - lo)
    }

    /// Particles of an image: Gaussian smoothing (σ px), Otsu foreground, watershed on the smoothed
    /// intensity from markers (local maxima at least `markerSeparation` px apart), then every region.
    public static func particles(_ image: Image, sigma: Double = 1.5, markerSeparation: Int = 4) -> [Particle] {
        let w = image.width, h = image.height
        let smooth = gaussianBlur(image.greyValues(), width: w, height: h, sigma: sigma)
        let t = otsu(smooth)
        let fg = smooth.map { $0 > t }
        // Markers: foreground pixels that are the maximum of their (2s+1)^2 neighbourhood.
        var label = [Int32](repeating: 0, count: w * h)
        var markers = 0
        for i in localMaxima(smooth, width: w, height: h, radius: markerSeparation, where: { fg[$0] }) {
            markers += 1; label[i] = Int32(markers)
        }
        // Priority flood from the markers, brightest first, within the foreground.
        var heap = Heap<FloodPixel>()
        for i in 0..<(w * h) where label[i] > 0 { heap.insert(FloodPixel(value: smooth[i], index: i)) }
        while let i = heap.popMax()?.index {
            let r = i / w, c = i % w
            for (dr, dc) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                let rr = r + dr, cc = c + dc
                guard rr >= 0, rr < h, cc >= 0, cc < w else { continue }
                let j = rr * w + cc
                if fg[j] && label[j] == 0 { label[j] = label[i]; heap.insert(FloodPixel(value: smooth[j], index: j)) }
            }
        }
        var area = [Int](repeating: 0, count: markers + 1), sc = [Double](repeating: 0, count: markers + 1), sr = sc
        for i in 0..<(w * h) where label[i] > 0 {
            let k = Int(label[i]); area[k] += 1; sc[k] += Double(i % w); sr[k] += Double(i / w)
        }
        return (1...max(1, markers)).compactMap { k in
            guard k <= markers, area[k] > 0 else { return nil }
            return Particle(col: sc[k] / Double(area[k]), row: sr[k] / Double(area[k]), area: area[k])
        }
    }

    /// The particle-size filter: keep particles whose area lies in the range.
    public static func filter(_ p: [Particle], area: ClosedRange<Int>) -> [Particle] { p.filter { area.contains($0.area) } }
}

/// Pixels (indices, reading order) that pass `include` and are the maximum of their (2r+1)²
/// neighbourhood, clipped at the edges; ties go to the first pixel in reading order, so a plateau
/// gives one maximum.
public func localMaxima(_ v: [Double], width w: Int, height h: Int, radius s: Int, where include: (Int) -> Bool) -> [Int] {
    var out: [Int] = []
    for r in 0..<h {
        for c in 0..<w where include(r * w + c) {
            let value = v[r * w + c]
            var isMax = true
            scan: for rr in max(0, r - s)...min(h - 1, r + s) {
                for cc in max(0, c - s)...min(w - 1, c + s) where rr != r || cc != c {
                    let u = v[rr * w + cc]
                    if u > value || (u == value && rr * w + cc < r * w + c) { isMax = false; break scan }
                }
            }
            if isMax { out.append(r * w + c) }
        }
    }
    return out
}

/// A pixel in the flood's queue: brighter first, then the lower index (a total order, so the
/// flood is the same on every run).
struct FloodPixel: Comparable {
    var value: Double, index: Int
    static func < (a: FloodPixel, b: FloodPixel) -> Bool { a.value != b.value ? a.value < b.value : a.index > b.index }
}

/// Finds bright spots the way an eye finds them in a fluorescence image: a difference of Gaussians
/// at the spot scale (σ and 2σ) enhances blobs of about that size, and every local maximum of it
/// (5 x 5 neighbourhood) standing more than `threshold` noise units above zero is a spot, the
/// noise being 1.4826 x the median absolute deviation of the response. Used where no truth exists.
public enum SpotDetector {
    public static func detect(_ image: Image, sigma: Double = 1.75, threshold: Double = 5) -> [(col: Double, row: Double)] {
        let w = image.width, h = image.height
        let grey = image.greyValues()
        let fine = gaussianBlur(grey, width: w, height: h, sigma: sigma)
        let broad = gaussianBlur(grey, width: w, height: h, sigma: 2 * sigma)
        let dog = zip(fine, broad).map { $0 - $1 }
        let sorted = dog.sorted()
        guard !sorted.isEmpty else { return [] }
        let mid = sorted[sorted.count / 2]
        let deviations = dog.map { abs($0 - mid) }.sorted()
        let noise = max(1.4826 * deviations[deviations.count / 2], 1e-9)
        // Away from the border (2 px), so every maximum is judged on a full neighbourhood.
        let peaks = localMaxima(dog, width: w, height: h, radius: 2, where: { i in
            let r = i / w, c = i % w
            return r >= 2 && r < h - 2 && c >= 2 && c < w - 2 && dog[i] - mid > threshold * noise
        })
        return peaks.map { (col: Double($0 % w), row: Double($0 / w)) }
    }
}

/// The classic automatic pipelines the crowd is compared with.
public enum ClassicShapes {
    /// Foreground mask: Gaussian smoothing then Otsu's threshold.
    public static func mask(_ image: Image, sigma: Double) -> [Bool] {
        let smooth = gaussianBlur(image.greyValues(), width: image.width, height: image.height, sigma: sigma)
        let t = ClassicSegmentation.otsu(smooth)
        return smooth.map { $0 > t }
    }

    /// Connected components (8-neighbour) of a mask: a label per pixel (-1 background) and sizes.
    public static func components(_ mask: [Bool], width: Int, height: Int, eight: Bool = true) -> (labels: [Int], sizes: [Int]) {
        var labels = [Int](repeating: -1, count: mask.count)
        var sizes: [Int] = []
        var stack: [Int] = []
        for start in mask.indices where mask[start] && labels[start] < 0 {
            let label = sizes.count
            var size = 0
            labels[start] = label; stack.append(start)
            while let p = stack.popLast() {
                size += 1
                let r = p / width, c = p % width
                for dr in -1...1 { for dc in -1...1 where (dr != 0 || dc != 0) && (eight || dr == 0 || dc == 0) {
                    let rr = r + dr, cc = c + dc
                    guard rr >= 0, rr < height, cc >= 0, cc < width else { continue }
                    let q = rr * width + cc
                    if mask[q] && labels[q] < 0 { labels[q] = label; stack.append(q) }
                } }
            }
            sizes.append(size)
        }
        return (labels, sizes)
    }

    /// Contrast segmentation of a single large object (the tissue): smoothing, Otsu, the largest
    /// connected region with its holes filled. Returns its area in px².
    public static func largestRegionArea(_ image: Image, sigma: Double = 2) -> Double {
        let w = image.width, h = image.height
        let m = mask(image, sigma: sigma)
        let (labels, sizes) = components(m, width: w, height: h, eight: false)
        guard let best = sizes.indices.max(by: { sizes[$0] < sizes[$1] }) else { return 0 }
        // Holes: background not reachable from the border.
        let region = labels.map { $0 == best }
        let (bgLabels, _) = components(region.map { !$0 }, width: w, height: h, eight: false)
        var outside = Set<Int>()
        for c in 0..<w { outside.insert(bgLabels[c]); outside.insert(bgLabels[(h - 1) * w + c]) }
        for r in 0..<h { outside.insert(bgLabels[r * w]); outside.insert(bgLabels[r * w + w - 1]) }
        var area = 0
        for i in region.indices where region[i] || !outside.contains(bgLabels[i]) { area += 1 }
        return Double(area)
    }

    /// Zhang-Suen thinning of a mask to one-pixel-wide lines.
    public static func thin(_ input: [Bool], width: Int, height: Int) -> [Bool] {
        var m = input
        var changed = true
        func at(_ r: Int, _ c: Int) -> Bool { r >= 0 && r < height && c >= 0 && c < width && m[r * width + c] }
        while changed {
            changed = false
            for pass in 0..<2 {
                var remove: [Int] = []
                for r in 0..<height { for c in 0..<width where m[r * width + c] {
                    let p = [at(r - 1, c), at(r - 1, c + 1), at(r, c + 1), at(r + 1, c + 1), at(r + 1, c), at(r + 1, c - 1), at(r, c - 1), at(r - 1, c - 1)]
                    let b = p.filter { $0 }.count
                    guard b >= 2 && b <= 6 else { continue }
                    var a = 0
                    for k in 0..<8 where !p[k] && p[(k + 1) % 8] { a += 1 }
                    guard a == 1 else { continue }
                    if pass == 0 {
                        guard !(p[0] && p[2] && p[4]), !(p[2] && p[4] && p[6]) else { continue }
                    } else {
                        guard !(p[0] && p[2] && p[6]), !(p[0] && p[4] && p[6]) else { continue }
                    }
                    remove.append(r * width + c)
                } }
                for i in remove { m[i] = false }
                if !remove.isEmpty { changed = true }
            }
        }
        return m
    }

    /// The junction-splitting skeleton pipeline for filaments: smoothing, Otsu, thinning, junction
    /// pixels (3 or more skeleton neighbours) removed, and the length of every remaining branch
    /// (orthogonal steps 1, diagonal √2) of at least `minimumLength` px. Crossing filaments come
    /// out as junction-bounded pieces, which is why it undercounts long filaments.
    public static func skeletonBranchLengths(_ image: Image, sigma: Double = 1, minimumLength: Double = 5) -> [Double] {
        let w = image.width, h = image.height
        var skeleton = thin(mask(image, sigma: sigma), width: w, height: h)
        func neighbours(_ r: Int, _ c: Int) -> Int {
            var n = 0
            for dr in -1...1 { for dc in -1...1 where dr != 0 || dc != 0 {
                let rr = r + dr, cc = c + dc
                if rr >= 0, rr < h, cc >= 0, cc < w, skeleton[rr * w + cc] { n += 1 }
            } }
            return n
        }
        var junctions: [Int] = []
        for r in 0..<h { for c in 0..<w where skeleton[r * w + c] && neighbours(r, c) >= 3 { junctions.append(r * w + c) } }
        for j in junctions { skeleton[j] = false }
        let (labels, sizes) = components(skeleton, width: w, height: h)
        var lengths = [Double](repeating: 0, count: sizes.count)
        for r in 0..<h { for c in 0..<w {
            let l = labels[r * w + c]
            guard l >= 0 else { continue }
            // Links to the right, down, and the diagonals below, each counted once.
            if c + 1 < w, labels[r * w + c + 1] == l { lengths[l] += 1 }
            if r + 1 < h, labels[(r + 1) * w + c] == l { lengths[l] += 1 }
            if r + 1 < h, c + 1 < w, labels[(r + 1) * w + c + 1] == l, labels[r * w + c + 1] != l, labels[(r + 1) * w + c] != l { lengths[l] += 2.0.squareRoot() }
            if r + 1 < h, c >= 1, labels[(r + 1) * w + c - 1] == l, labels[r * w + c - 1] != l, labels[(r + 1) * w + c] != l { lengths[l] += 2.0.squareRoot() }
        } }
        return lengths.filter { $0 >= minimumLength }
    }
}
