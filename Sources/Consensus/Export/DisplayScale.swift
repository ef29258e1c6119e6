import Foundation

/// How large the portal showed an image. Quanti.us fits an image wider than its viewer into the
/// viewer and records a click on screen pixel i at image pixel `round(s·i)`, s = image width over
/// viewer width; so on a scaled image some columns and rows never occur (on the real 700 px wide
/// smFISH field, shown at 500 px, every 7 columns hold clicks at 5). A worker's pointing error and
/// the blobs they can tell apart are then s times larger in image pixels.
public enum DisplayScale {
    /// Distinct columns and rows needed before a lattice is believed: a random column falls on a
    /// lattice of scale s with chance 1/s, so 40 on one by chance has odds (1/s)^40, 1e-6 at s = 1.4
    /// and 2 % at the smallest scale read (1.1); but the columns clicked on an unscaled image are
    /// runs of neighbours, and any lattice of s ≥ 1.1 leaves a gap in every 11.
    public static let minimumDistinct = 40

    /// The scale the clicks show (1 when they fill every pixel; nil when too few to tell): the
    /// sparsest lattice `round(s·i)`, s = width / d for a viewer width d, that holds 99 % of the
    /// distinct columns and of the distinct rows. Rows count from the top (the portal's screen
    /// rows), `row = height − y`.
    public static func measure(xs: [Double], ys: [Double], width: Int, height: Int) -> Double? {
        let cols = Set(xs.filter { $0 == $0.rounded() && $0 >= 0 }.map { Int($0) })
        let rows = Set(ys.filter { $0 == $0.rounded() }.map { height - Int($0) }.filter { $0 >= 0 })
        guard width > 1, cols.count >= minimumDistinct, rows.count >= minimumDistinct else { return nil }
        // Widest scale first: a lattice nearly as dense as the pixels (s near 1) holds anything, so
        // scales below 1.1 are read as 1.
        for viewer in max(1, width / 4)..<width {
            let s = Double(width) / Double(viewer)
            if s < 1.1 { break }
            if holds(cols, scale: s) && holds(rows, scale: s) { return s }
        }
        return 1
    }

    /// Whether 99 % of `values` lie on the lattice (stops at the first miss too many).
    static func holds(_ values: Set<Int>, scale s: Double) -> Bool {
        let allowed = values.count / 100
        var misses = 0
        for v in values where !recordable(v, scale: s) {
            misses += 1
            if misses > allowed { return false }
        }
        return true
    }

    /// Whether some screen pixel i records image pixel v: `round(s·i) = v` for an i near v/s.
    @inline(__always) static func recordable(_ v: Int, scale s: Double) -> Bool {
        let target = Double(v), i = (target / s).rounded()
        return ((i - 1) * s).rounded() == target || (i * s).rounded() == target || ((i + 1) * s).rounded() == target
    }

    /// A coordinate as the portal records it on an image shown at scale s: the nearest screen
    /// pixel, mapped back to the nearest image pixel.
    @inline(__always) public static func record(_ v: Double, scale s: Double) -> Double {
        ((v / s).rounded() * s).rounded()
    }
}
