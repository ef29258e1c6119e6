import Foundation

public func median(_ values: [Double]) -> Double {
    quantiles(values, [0.5])[0]
}

/// Moves the k-th smallest element to index k, smaller ones before it (Hoare's selection with a
/// median-of-three pivot): linear time on average, so quantiles of large arrays need no full sort.
func select(_ a: inout [Double], _ k: Int, _ lo0: Int = 0, _ hi0: Int? = nil) {
    var lo = lo0, hi = hi0 ?? a.count - 1
    while hi > lo {
        if hi - lo < 16 {
            for i in (lo + 1)...hi { var j = i; let v = a[i]; while j > lo && a[j - 1] > v { a[j] = a[j - 1]; j -= 1 }; a[j] = v }
            return
        }
        let mid = lo + (hi - lo) / 2
        if a[mid] < a[lo] { a.swapAt(mid, lo) }
        if a[hi] < a[lo] { a.swapAt(hi, lo) }
        if a[hi] < a[mid] { a.swapAt(hi, mid) }
        let pivot = a[mid]
        var i = lo, j = hi
        while i <= j {
            while a[i] < pivot { i += 1 }
            while a[j] > pivot { j -= 1 }
            if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
        }
        if k <= j { hi = j } else if k >= i { lo = i } else { return }
    }
}

public func quantile(_ values: [Double], _ q: Double) -> Double {
    quantiles(values, [q])[0]
}

/// Several quantiles (linear interpolation between order statistics, as numpy's default),
/// by selection rather than a full sort.
public func quantiles(_ values: [Double], _ qs: [Double]) -> [Double] {
    guard !values.isEmpty else { return qs.map { _ in .nan } }
    var s = values
    if s.count <= 64 { s.sort(by: <) }
    func order(_ k: Int) -> Double {
        if s.count > 64 { select(&s, k) }
        return s[k]
    }
    return qs.map { q in
        let h = Double(s.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, s.count - 1)
        let a = order(lo)
        if hi == lo || h == Double(lo) { return a }
        // After selecting lo, the next order statistic is the minimum of what lies above it.
        var b = Double.infinity
        if s.count > 64 { for i in (lo + 1)..<s.count where s[i] < b { b = s[i] } } else { b = s[hi] }
        return a + (h - Double(lo)) * (b - a)
    }
}

public func mean(_ values: [Double]) -> Double {
    values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
}

/// Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values.
public func sampleStandardDeviation(_ values: [Double]) -> Double {
    guard values.count > 1 else { return 0 }
    let m = mean(values)
    return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
}

/// Median of `values[i]` for the given indices, sorting a small scratch array in place.
@inline(__always) func median(of indices: [Int], in values: [Double]) -> Double {
    var v = [Double](); v.reserveCapacity(indices.count)
    for i in indices { v.append(values[i]) }
    v.sort(by: <)
    let n = v.count
    if n == 0 { return .nan }
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])
}

@inline(__always) func dist2(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
    let dx = ax - bx, dy = ay - by
    return dx * dx + dy * dy
}
