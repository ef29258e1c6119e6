import Consensus
import Imaging
import XCTest
@testable import Crowd

/// How visible objects are in colour frames: seen in the view they stand out in most.
final class VisibilityTests: XCTestCase {
    /// An 80 x 80 RGB frame: a bright, noisy green field (cytoplasm) and four blue discs (nuclei)
    /// over a dark, quiet blue channel; and the same frame's luma as a grey image.
    func frame() -> (rgb: Image, luma: Image, xs: [Double], ys: [Double]) {
        let w = 80, h = 80
        var rgb = Image(width: w, height: h, channels: 3, bitDepth: 8), luma = Image(width: w, height: h)
        var k: UInt32 = 12345
        func noise() -> UInt16 { k = k &* 1664525 &+ 1013904223; return UInt16(k >> 24) % 40 }
        let centres = [(20, 20), (60, 20), (20, 60), (60, 60)]
        for r in 0..<h {
            for c in 0..<w {
                let i = (r * w + c) * 3
                rgb.samples[i + 1] = 60 + noise()
                rgb.samples[i + 2] = 10 + noise() / 8
                for (cc, rr) in centres where (c - cc) * (c - cc) + (r - rr) * (r - rr) <= 9 { rgb.samples[i + 2] += 80 }
                luma.samples[r * w + c] = UInt16((0.7152 * Double(rgb.samples[i + 1]) + 0.0722 * Double(rgb.samples[i + 2])).rounded())
            }
        }
        return (rgb, luma, centres.map { Double($0.0) }, centres.map { Double(h - $0.1) })
    }

    func testBlueNucleiOnANoisyGreenFieldAreSeenByTheirColour() {
        let f = frame()
        let seen = Visibility.contrast(image: f.rgb, xs: f.xs, ys: f.ys)
        let byLuma = Visibility.contrast(image: f.luma, xs: f.xs, ys: f.ys)
        XCTAssertGreaterThan(seen.min()!, 10, "\(seen)")
        XCTAssertLessThan(byLuma.max()!, 3, "luma alone hides them: \(byLuma)")
    }

    func testAGreyFrameStoredAsRGBIsMeasuredAsGrey() {
        let f = frame()
        var rgb = Image(width: 80, height: 80, channels: 3, bitDepth: 8)
        for i in 0..<(80 * 80) { for c in 0..<3 { rgb.samples[i * 3 + c] = f.luma.samples[i] } }
        let stored = Visibility.contrast(image: rgb, xs: f.xs, ys: f.ys), grey = Visibility.contrast(image: f.luma, xs: f.xs, ys: f.ys)
        for (a, b) in zip(stored, grey) { XCTAssertEqual(a, b, accuracy: 1e-9) }  // luma's weights sum to 1 within rounding
    }
}
