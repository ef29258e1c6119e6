import XCTest
@testable import Imaging

final class BlurTests: XCTestCase {
    /// The textbook separable convolution with clamped edges, one pixel at a time.
    func reference(_ v: [Double], _ w: Int, _ h: Int, _ sigma: Double) -> [Double] {
        let reach = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-reach...reach).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let sum = kernel.reduce(0, +)
        kernel = kernel.map { $0 / sum }
        var tmp = [Double](repeating: 0, count: v.count), out = tmp
        for r in 0..<h { for c in 0..<w {
            var s = 0.0
            for k in -reach...reach { s += kernel[k + reach] * v[r * w + min(max(c + k, 0), w - 1)] }
            tmp[r * w + c] = s
        } }
        for r in 0..<h { for c in 0..<w {
            var s = 0.0
            for k in -reach...reach { s += kernel[k + reach] * tmp[min(max(r + k, 0), h - 1) * w + c] }
            out[r * w + c] = s
        } }
        return out
    }

    /// Every pixel sums its taps in kernel order, so the row-at-a-time passes give the textbook
    /// result to the bit, on fields narrower than the kernel's reach as well.
    func testTheBlurIsTheConvolutionToTheBit() {
        var state: UInt64 = 12345
        func next() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) * 255 }
        for (w, h, sigma) in [(37, 23, 1.0), (37, 23, 4.5), (5, 3, 12.0), (1, 9, 2.0), (64, 1, 1.5)] {
            let v = (0..<(w * h)).map { _ in next() }
            let fast = gaussianBlur(v, width: w, height: h, sigma: sigma)
            let slow = reference(v, w, h, sigma)
            XCTAssertEqual(fast.map(\.bitPattern), slow.map(\.bitPattern), "\(w)x\(h), sigma \(sigma)")
        }
        let flat = gaussianBlur([Double](repeating: 7, count: 30), width: 6, height: 5, sigma: 3)
        XCTAssertTrue(flat.allSatisfy { abs($0 - 7) < 1e-12 }, "a flat field stays flat")
    }
}
