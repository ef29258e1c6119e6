import Foundation

/// Minimum-cost assignment (Hungarian method with potentials, Kuhn 1955 / Munkres 1957,
/// O(n²m)) for an n×m cost matrix with n ≤ m. Returns, for each row, its column.
public func hungarian(_ cost: [[Double]]) -> [Int] {
    let n = cost.count
    guard n > 0 else { return [] }
    let m = cost[0].count
    precondition(n <= m, "hungarian needs rows <= columns")
    var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: m + 1)
    var p = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
    for i in 1...n {
        p[0] = i
        var j0 = 0
        var minv = [Double](repeating: .infinity, count: m + 1)
        var used = [Bool](repeating: false, count: m + 1)
        repeat {
            used[j0] = true
            let i0 = p[j0]
            var delta = Double.infinity, j1 = 0
            for j in 1...m where !used[j] {
                let cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                if minv[j] < delta { delta = minv[j]; j1 = j }
            }
            for j in 0...m {
                if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
            }
            j0 = j1
        } while p[j0] != 0
        repeat {
            let j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
        } while j0 != 0
    }
    var rowToCol = [Int](repeating: -1, count: n)
    for j in 1...m where p[j] != 0 { rowToCol[p[j] - 1] = j - 1 }
    return rowToCol
}

/// A one-to-one pairing of two point sets within a radius.
public struct PointMatching: Sendable {
    /// (index in a, index in b, distance)
    public var pairs: [(Int, Int, Double)]
    public var unmatchedA: Int
    public var unmatchedB: Int
}

/// One-to-one matching within `radius` that maximises the number of pairs and, among those,
/// minimises total distance. The bipartite graph of pairs closer than `radius` is split into
/// connected components and each solved exactly with the Hungarian method, so large images cost
/// little (components hold a handful of points).
public func matchPoints(ax: [Double], ay: [Double], bx: [Double], by: [Double], radius: Double) -> PointMatching {
    PointMatcher(bx: bx, by: by, radius: radius).match(ax: ax, ay: ay)
}

/// A reference point set indexed once, matched against many others (e.g. every worker of an image
/// against the image's consensus).
public struct PointMatcher: Sendable {
    public let grid: GridIndex
    public let radius: Double
    public var count: Int { grid.xs.count }

    public init(bx: [Double], by: [Double], radius: Double) {
        grid = GridIndex(xs: bx, ys: by, cell: radius)
        self.radius = radius
    }

    public func match(ax: [Double], ay: [Double]) -> PointMatching {
        let na = ax.count, nb = count
        guard na > 0, nb > 0 else { return PointMatching(pairs: [], unmatchedA: na, unmatchedB: nb) }
        var edges = [[(Int, Double)]](repeating: [], count: na)
        var degreeB = [Int32](repeating: 0, count: nb)
        var contested = false
        for i in 0..<na {
            grid.forEach(near: ax[i], ay[i], within: radius) { j, d in
                edges[i].append((j, d.squareRoot()))
                degreeB[j] += 1
                if degreeB[j] > 1 { contested = true }
            }
            if edges[i].count > 1 { contested = true; edges[i].sort { $0.0 < $1.0 } }
        }
        // The common case: every point has at most one partner within the radius.
        if !contested {
            var pairs: [(Int, Int, Double)] = []
            for i in 0..<na { if let e = edges[i].first { pairs.append((i, e.0, e.1)) } }
            return PointMatching(pairs: pairs, unmatchedA: na - pairs.count, unmatchedB: nb - pairs.count)
        }
        // Components of the bipartite graph: union-find over a-nodes 0..<na and b-nodes na..<na+nb.
        var parent = Array(0..<(na + nb))
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        for i in 0..<na { for (j, _) in edges[i] { let a = find(i), b = find(na + j); if a != b { parent[a] = b } } }
        // Nodes grouped by root with one sort; rows and columns of a component come out ascending.
        var nodes: [(root: Int, node: Int)] = []
        nodes.reserveCapacity(na + nb)
        for i in 0..<na where !edges[i].isEmpty { nodes.append((find(i), i)) }
        for j in 0..<nb where degreeB[j] > 0 { nodes.append((find(na + j), na + j)) }
        nodes.sort { $0.root != $1.root ? $0.root < $1.root : $0.node < $1.node }
        var pairs: [(Int, Int, Double)] = []
        var colIndex = [Int](repeating: -1, count: nb)
        var start = 0
        while start < nodes.count {
            var end = start
            while end < nodes.count && nodes[end].root == nodes[start].root { end += 1 }
            let rows = nodes[start..<end].filter { $0.node < na }.map(\.node)
            let cols = nodes[start..<end].filter { $0.node >= na }.map { $0.node - na }
            start = end
            if rows.count == 1 && cols.count == 1 {
                pairs.append((rows[0], cols[0], edges[rows[0]][0].1)); continue
            }
            for (k, j) in cols.enumerated() { colIndex[j] = k }
            // Cost: a large constant for "no edge" so the number of real pairs is maximised first.
            let big = 1e6 * (radius + 1)
            var cost = [[Double]](repeating: [Double](repeating: big, count: cols.count), count: rows.count)
            for (r, i) in rows.enumerated() { for (j, d) in edges[i] { cost[r][colIndex[j]] = d } }
            let transpose = rows.count > cols.count
            let matrix = transpose ? (0..<cols.count).map { c in (0..<rows.count).map { cost[$0][c] } } : cost
            let assign = hungarian(matrix)
            for (r, c) in assign.enumerated() where c >= 0 {
                let (ri, ci) = transpose ? (c, r) : (r, c)
                if cost[ri][ci] < big { pairs.append((rows[ri], cols[ci], cost[ri][ci])) }
            }
        }
        pairs.sort { $0.0 < $1.0 }
        return PointMatching(pairs: pairs, unmatchedA: na - pairs.count, unmatchedB: nb - pairs.count)
    }
}
