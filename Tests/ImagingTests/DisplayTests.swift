import XCTest
@testable import Imaging

final class DisplayTests: XCTestCase {
    /// The contrast stretch as a sort gives its quantiles.
    func reference(_ img: Image) -> [UInt16] {
        let grey: [Double] = (0..<(img.width * img.height)).map { i in
            if img.channels == 1 { return Double(img.samples[i]) }
            return (Double(img.samples[i * 3]) + Double(img.samples[i * 3 + 1]) + Double(img.samples[i * 3 + 2])) / 3
        }
        let sorted = grey.sorted()
        let lo = sorted[Int(Double(sorted.count - 1) * 0.005)], hi = max(sorted[Int(Double(sorted.count - 1) * 0.995)], lo + 1)
        return grey.flatMap { g -> [UInt16] in
            let v = UInt16(max(0, min(255, ((g - lo) / (hi - lo) * 255).rounded())))
            return [v, v, v]
        }
    }

    /// The 0.5 % and 99.5 % quantiles read off a histogram are the sorted values' own, for grey and
    /// RGB, 8- and 16-bit, and for a flat picture.
    func testTheContrastStretchSpansTheQuantiles() {
        var state: UInt64 = 7
        func next() -> UInt16 { state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt16(truncatingIfNeeded: state >> 40) }
        for (channels, depth) in [(1, 8), (1, 16), (3, 16)] {
            var img = Image(width: 83, height: 41, channels: channels, bitDepth: depth)
            for i in 0..<img.samples.count { img.samples[i] = depth == 8 ? next() & 255 : next() % 4000 + 100 }
            let shown = img.rgb8ForDisplay()
            XCTAssertEqual(shown.channels, 3)
            XCTAssertEqual(shown.samples, reference(img), "\(channels) channels, \(depth) bits")
            XCTAssertEqual(shown.samples.max(), 255)
            XCTAssertEqual(shown.samples.min(), 0)
        }
        let flat = Image(width: 10, height: 10, bitDepth: 16, fill: 500)
        XCTAssertEqual(flat.rgb8ForDisplay().samples, reference(flat))
    }
}
