import Foundation

public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let n = s.count
    return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2])
}

public func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let h = Double(s.count - 1) * q
    let lo = Int(h.rounded(.down)), hi = min(lo + 1, s.count - 1)
    return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
}

public func mean(_ values: [Double]) -> Double {
    values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
}

/// Component-wise median: a robust centre that one stray click cannot drag.
public func medianPoint(_ pts: [(Double, Double)]) -> (Double, Double) {
    (median(pts.map { $0.0 }), median(pts.map { $0.1 }))
}

@inline(__always) func dist2(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
    let dx = ax - bx, dy = ay - by
    return dx * dx + dy * dy
}
