import Foundation

/// JSON numbers read straight from bytes, correctly rounded.
///
/// The grammar is RFC 8259's: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. The value
/// takes Clinger's fast path (W. D. Clinger, "How to read floating point numbers accurately",
/// PLDI 1990): when the significant digits fit a 53-bit integer m and the decimal exponent e is
/// within ±22, both m and 10^|e| are exact doubles, so one IEEE multiplication or division gives
/// the correctly rounded value. Click coordinates and timestamps (`123.25`, `0.5`, `1765.000244`)
/// all take it. Up to 19 digits at any exponent (the shortest round-trip text of a transformed
/// coordinate, `86.41975230000001`) take the Eisel-Lemire algorithm (D. Lemire, "Number parsing at
/// a gigabyte per second", Software: Practice and Experience 51, 2021; as Go's strconv has it): one
/// or two 64 x 64-bit products with a 128-bit power of ten, which either gives the correctly
/// rounded value or says it cannot. What neither settles (more than 19 digits, a halfway case,
/// subnormals, overflow) goes to the C library's `strtod`, which rounds correctly too.
public enum DecimalNumber {
    /// What a scan found: the value, or where the token stops being a number.
    public enum Scan: Equatable {
        case value(Double, end: Int)
        case malformed(at: Int)
    }

    /// Exact powers of ten as doubles (10^22 is the largest that is exact).
    static let powers: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    /// Scans the number that starts at `start` in `bytes`.
    public static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Scan {
        let n = bytes.count
        var p = start
        @inline(__always) func digit(_ i: Int) -> UInt64? {
            guard i < n else { return nil }
            let d = bytes[i] &- 0x30
            return d < 10 ? UInt64(d) : nil
        }
        let negative = p < n && bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        var mantissa: UInt64 = 0, significant = 0, exponent = 0
        var dropped = false
        // Integer part: one 0, or digits not starting with 0.
        guard let first = digit(p) else { return .malformed(at: p) }
        if first == 0 {
            p += 1
            if digit(p) != nil { return .malformed(at: p) }
        } else {
            while let d = digit(p) {
                if significant < 19 { mantissa = mantissa &* 10 &+ d; significant += 1 } else { exponent += 1; dropped = dropped || d != 0 }
                p += 1
            }
        }
        // Fraction: a point and at least one digit.
        if p < n && bytes[p] == UInt8(ascii: ".") {
            p += 1
            guard digit(p) != nil else { return .malformed(at: p) }
            while let d = digit(p) {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ d; exponent -= 1
                    if mantissa != 0 { significant += 1 }
                } else {
                    dropped = dropped || d != 0
                }
                p += 1
            }
        }
        // Exponent: e or E, a sign, at least one digit (clamped: far past any double).
        if p < n && (bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E")) {
            p += 1
            var minus = false
            if p < n && (bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-")) { minus = bytes[p] == UInt8(ascii: "-"); p += 1 }
            guard digit(p) != nil else { return .malformed(at: p) }
            var e = 0
            while let d = digit(p) { if e < 100_000 { e = e * 10 + Int(d) }; p += 1 }
            exponent += minus ? -e : e
        }
        if !dropped && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            var v = Double(mantissa)
            v = exponent < 0 ? v / powers[-exponent] : v * powers[exponent]
            return .value(negative ? -v : v, end: p)
        }
        if !dropped, let v = eiselLemire(mantissa, exponent, negative) { return .value(v, end: p) }
        return .value(strtod(bytes, start, p), end: p)
    }

    /// `mantissa · 10^exponent` correctly rounded, or nil when the 128-bit product cannot decide.
    static func eiselLemire(_ mantissa: UInt64, _ exponent: Int, _ negative: Bool) -> Double? {
        if mantissa == 0 { return negative ? -0.0 : 0 }
        guard exponent >= PowersOfTen.minimum, exponent <= PowersOfTen.maximum else { return nil }
        let clz = mantissa.leadingZeroBitCount
        let m = mantissa << UInt64(clz)
        var exp2 = UInt64(bitPattern: Int64(((217_706 * exponent) >> 16) + 64 + 1023)) &- UInt64(clz)
        let power = PowersOfTen.table[exponent - PowersOfTen.minimum]
        var (xHi, xLo) = m.multipliedFullWidth(by: power.high)
        // Too close to a rounding boundary for the high half alone: bring in the low half.
        if xHi & 0x1FF == 0x1FF && xLo &+ m < m {
            let (yHi, yLo) = m.multipliedFullWidth(by: power.low)
            var mergedHi = xHi
            let mergedLo = xLo &+ yHi
            if mergedLo < xLo { mergedHi &+= 1 }
            if mergedHi & 0x1FF == 0x1FF && mergedLo &+ 1 == 0 && yLo &+ m < m { return nil }
            xHi = mergedHi; xLo = mergedLo
        }
        let msb = xHi >> 63
        var significand = xHi >> (msb + 9)
        exp2 = exp2 &- (1 ^ msb)
        // Exactly halfway between two doubles: round-half-even needs the exact value.
        if xLo == 0 && xHi & 0x1FF == 0 && significand & 3 == 1 { return nil }
        significand += significand & 1
        significand >>= 1
        if significand >> 53 > 0 { significand >>= 1; exp2 &+= 1 }
        // Subnormal, infinite or NaN territory.
        if exp2 &- 1 >= 0x7FF - 1 { return nil }
        var bits = exp2 << 52 | significand & 0x000F_FFFF_FFFF_FFFF
        if negative { bits |= 0x8000_0000_0000_0000 }
        return Double(bitPattern: bits)
    }

    /// The C library's reading of the token `bytes[start..<end]` (already checked against the grammar).
    static func strtod(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double {
        var buf = [CChar](repeating: 0, count: end - start + 1)
        for i in start..<end { buf[i - start] = CChar(bitPattern: bytes[i]) }
        return buf.withUnsafeBufferPointer { Foundation.strtod($0.baseAddress!, nil) }
    }

    /// A whole string as a JSON number, or nil when it is not one.
    public static func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { b in
            if case .value(let v, let end) = scan(b, from: 0), end == b.count { return v }
            return nil
        }
    }
}

/// 128-bit significands of 10^q for q in -348...347 (the same as of 5^q; the power of two is in the
/// exponent), built once with exact integer arithmetic as fast_float's table is: 5^q truncated
/// for q >= 0; for q < 0, ⌊2^b / 5^-q⌋ + 1 cut to 128 bits.
enum PowersOfTen {
    static let minimum = -348, maximum = 347
    static let table: [(high: UInt64, low: UInt64)] = built()

    /// The table in one pass: 5^k by one multiplication a step, and ⌊2^b / 5^k⌋ as ⌊2^K / 5^k⌋ (one
    /// division by 5 a step, exact since ⌊⌊a/m⌋/5⌋ = ⌊a/5m⌋) shifted right by K − b. Building
    /// each entry from 1, as `significand` does, is quadratic and took 14 ms, the first fractional
    /// number's cost in every `crowdlab analyze`.
    static func built() -> [(high: UInt64, low: UInt64)] {
        let wide = 2048   // K: above every b (2 · 809 + 128 at q = -348)
        var power = BigUInt(1), reciprocal = BigUInt(1)
        reciprocal.shiftLeft(by: wide)
        var negative: [(high: UInt64, low: UInt64)] = [], positive: [(high: UInt64, low: UInt64)] = []
        positive.append(normalized(power))
        for k in 1...max(-minimum, maximum) {
            power.multiply(by: 5)
            reciprocal.divide(by: 5)
            if k <= maximum { positive.append(normalized(power)) }
            if k <= -minimum {
                let z = power.bitLength   // 5^k is no power of two for k >= 1: the least z with 2^z >= 5^k
                let b = k <= 27 ? z + 127 : 2 * z + 128
                var n = reciprocal
                n.shiftRight(by: wide - b)
                n.addOne()
                negative.append(normalized(n))
            }
        }
        return negative.reversed() + positive
    }

    static func normalized(_ value: BigUInt) -> (high: UInt64, low: UInt64) {
        var n = value
        let bits = n.bitLength
        if bits < 128 { n.shiftLeft(by: 128 - bits) } else if bits > 128 { n.shiftRight(by: bits - 128) }
        return (n.word64(1), n.word64(0))
    }

    /// One entry from scratch: the definition `built()` is checked against.
    static func significand(_ q: Int) -> (high: UInt64, low: UInt64) {
        var n: BigUInt
        if q >= 0 {
            n = BigUInt(1)
            for _ in 0..<q { n.multiply(by: 5) }
        } else {
            var power = BigUInt(1)
            for _ in 0..<(-q) { power.multiply(by: 5) }
            // z: the least with 2^z >= 5^-q.
            let z = power.isPowerOfTwo ? power.bitLength - 1 : power.bitLength
            let b = q >= -27 ? z + 127 : 2 * z + 128
            n = BigUInt(1)
            n.shiftLeft(by: b)
            for _ in 0..<(-q) { n.divide(by: 5) }
            n.addOne()
        }
        return normalized(n)
    }
}

/// Just enough of an unsigned big integer for the table: 32-bit limbs, least significant first.
struct BigUInt {
    var limbs: [UInt32]
    init(_ v: UInt32) { limbs = [v] }

    var bitLength: Int {
        guard let top = limbs.lastIndex(where: { $0 != 0 }) else { return 0 }
        return top * 32 + (32 - limbs[top].leadingZeroBitCount)
    }
    var isPowerOfTwo: Bool { limbs.filter { $0 != 0 }.count == 1 && limbs.first { $0 != 0 }!.nonzeroBitCount == 1 }

    mutating func multiply(by k: UInt32) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let t = UInt64(limbs[i]) * UInt64(k) + carry
            limbs[i] = UInt32(truncatingIfNeeded: t); carry = t >> 32
        }
        if carry > 0 { limbs.append(UInt32(carry)) }
    }

    mutating func divide(by k: UInt32) {
        var remainder: UInt64 = 0
        for i in limbs.indices.reversed() {
            let t = remainder << 32 | UInt64(limbs[i])
            limbs[i] = UInt32(t / UInt64(k)); remainder = t % UInt64(k)
        }
    }

    mutating func addOne() {
        for i in limbs.indices {
            limbs[i] &+= 1
            if limbs[i] != 0 { return }
        }
        limbs.append(1)
    }

    mutating func shiftLeft(by s: Int) {
        let words = s / 32, bits = s % 32
        var out = [UInt32](repeating: 0, count: words) + limbs + [0]
        if bits > 0 {
            for i in stride(from: out.count - 1, through: words, by: -1) {
                out[i] = out[i] << UInt32(bits) | (i > words ? out[i - 1] >> UInt32(32 - bits) : 0)
            }
        }
        limbs = out
    }

    mutating func shiftRight(by s: Int) {
        let words = s / 32, bits = s % 32
        guard words < limbs.count else { limbs = [0]; return }
        var out = Array(limbs[words...])
        if bits > 0 {
            for i in out.indices {
                out[i] = out[i] >> UInt32(bits) | (i + 1 < out.count ? out[i + 1] << UInt32(32 - bits) : 0)
            }
        }
        limbs = out
    }

    /// The 64-bit word `k` (0: least significant).
    func word64(_ k: Int) -> UInt64 {
        func limb(_ i: Int) -> UInt64 { i < limbs.count ? UInt64(limbs[i]) : 0 }
        return limb(2 * k + 1) << 32 | limb(2 * k)
    }
}
