/// A uniform grid over 2-D points for fixed-radius neighbour queries: the crowd's clicks are
/// dense and evenly spread over an image, where a grid beats a tree and needs no balancing.
public struct GridIndex: Sendable {
    let cell: Double
    let minX: Double, minY: Double
    let nx: Int, ny: Int
    let starts: [Int32]
    let items: [Int32]
    public let xs: [Double], ys: [Double]

    public init(xs: [Double], ys: [Double], cell: Double) {
        self.xs = xs; self.ys = ys
        let c = max(cell, 1e-6)
        self.cell = c
        let mnx = xs.min() ?? 0, mny = ys.min() ?? 0
        let mxx = xs.max() ?? 0, mxy = ys.max() ?? 0
        minX = mnx; minY = mny
        nx = Int(min(4095, max(0, ((mxx - mnx) / c).rounded(.down)))) + 1
        ny = Int(min(4095, max(0, ((mxy - mny) / c).rounded(.down)))) + 1
        var counts = [Int32](repeating: 0, count: nx * ny + 1)
        var cellOf = [Int](repeating: 0, count: xs.count)
        for i in 0..<xs.count {
            let cx = Self.cell(xs[i], mnx, c, nx), cy = Self.cell(ys[i], mny, c, ny)
            cellOf[i] = cy * nx + cx
            counts[cellOf[i] + 1] += 1
        }
        for i in 1..<counts.count { counts[i] += counts[i - 1] }
        var fill = counts
        var items = [Int32](repeating: 0, count: xs.count)
        for i in 0..<xs.count {
            items[Int(fill[cellOf[i]])] = Int32(i)
            fill[cellOf[i]] += 1
        }
        starts = counts
        self.items = items
    }

    /// Calls `body` with every point index within `r` of (x, y), in a fixed order.
    public func forEach(near x: Double, _ y: Double, within r: Double, _ body: (Int, Double) -> Void) {
        let r2 = r * r
        let (x0, x1, y0, y1) = cellRanges(x, y, r)
        for cy in y0...y1 {
            for cx in x0...x1 {
                let c = cy * nx + cx
                for k in Int(starts[c])..<Int(starts[c + 1]) {
                    let i = Int(items[k])
                    let d = dist2(x, y, xs[i], ys[i])
                    if d <= r2 { body(i, d) }
                }
            }
        }
    }

    /// The cells a disc of radius `r` about (x, y) touches, as inclusive ranges, for hot loops
    /// that walk `items[starts[c]..<starts[c+1]]` themselves instead of taking a closure.
    @inline(__always) func cellRanges(_ x: Double, _ y: Double, _ r: Double) -> (x0: Int, x1: Int, y0: Int, y1: Int) {
        (Self.cell(x - r, minX, cell, nx), Self.cell(x + r, minX, cell, nx), Self.cell(y - r, minY, cell, ny), Self.cell(y + r, minY, cell, ny))
    }

    /// The cell of a coordinate, clamped into `0..<n` before the conversion: points beyond the
    /// grid's 4096 cells are stored in its edge cell, so queries that reach past it look there too,
    /// and a coordinate far off (an export may hold 1e12) cannot overflow `Int`.
    @inline(__always) static func cell(_ v: Double, _ origin: Double, _ size: Double, _ n: Int) -> Int {
        let k = ((v - origin) / size).rounded(.down)
        return !(k > 0) ? 0 : (k >= Double(n - 1) ? n - 1 : Int(k))
    }

    public func neighbours(of x: Double, _ y: Double, within r: Double) -> [Int] {
        var out: [Int] = []
        forEach(near: x, y, within: r) { i, _ in out.append(i) }
        return out
    }
}
