import Foundation
import XCTest
@testable import Imaging

final class PNGTests: XCTestCase {
    var root: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    func roundTrip(_ img: Image) throws -> Image {
        let p = NSTemporaryDirectory() + "crowdlab-png-\(UUID().uuidString).png"
        try PNG.encode(img).write(to: URL(fileURLWithPath: p))
        defer { try? FileManager.default.removeItem(atPath: p) }
        return try PNG.read(path: p)
    }

    /// Noise does not compress: the stream is at its largest, and still fits the buffer it is
    /// written into in one pass.
    func testIncompressibleImagesRoundTrip() throws {
        var state: UInt64 = 99
        func next() -> UInt16 { state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt16(truncatingIfNeeded: state >> 40) }
        for (channels, depth) in [(1, 8), (3, 8), (1, 16), (3, 16)] {
            var img = Image(width: 301, height: 97, channels: channels, bitDepth: depth)
            for i in 0..<img.samples.count { img.samples[i] = depth == 8 ? next() & 255 : next() }
            XCTAssertEqual(try roundTrip(img), img, "\(channels) channels, \(depth) bits")
        }
    }

    func testRoundTrip8And16BitGreyAndRGB() throws {
        var g8 = Image(width: 7, height: 5, bitDepth: 8)
        for i in 0..<g8.samples.count { g8.samples[i] = UInt16(i * 7 % 256) }
        XCTAssertEqual(try roundTrip(g8), g8)
        var g16 = Image(width: 4, height: 3, bitDepth: 16)
        for i in 0..<g16.samples.count { g16.samples[i] = UInt16(i * 5003 % 65536) }
        XCTAssertEqual(try roundTrip(g16), g16)
        var rgb = Image(width: 3, height: 2, channels: 3, bitDepth: 8)
        for i in 0..<rgb.samples.count { rgb.samples[i] = UInt16(i * 13) }
        XCTAssertEqual(try roundTrip(rgb), rgb)
    }

    /// An RGB frame is seen by its luma: a green spot looks brighter than an equally bright blue
    /// one, and a grey pixel keeps its value.
    func testRGBIsSeenByItsLuma() throws {
        var rgb = Image(width: 3, height: 1, channels: 3, bitDepth: 8)
        rgb.samples = [0, 200, 0,  0, 0, 200,  90, 90, 90]
        let grey = try roundTrip(rgb).greyValues()
        XCTAssertEqual(grey[0], 0.7152 * 200, accuracy: 1e-9)
        XCTAssertEqual(grey[1], 0.0722 * 200, accuracy: 1e-9)
        XCTAssertEqual(grey[2], 90, accuracy: 1e-9)
        XCTAssertGreaterThan(grey[0], 5 * grey[1])
    }

    func testEncodingIsDeterministic() throws {
        var g = Image(width: 16, height: 16)
        g[3, 4] = 200
        XCTAssertEqual(try PNG.encode(g), try PNG.encode(g))
    }

    func testReadsARealImageBrightUnderTheTruth() throws {
        // The data README: the image is bright at (row = height - y, col = x) of the clicks; truth rows count from the top.
        let dir = root + "/Data/quanti-us/synth-cells"
        let name = "MAX_C3-ISP_300_1_nspots50_spot_sig1.75_snr20_2.5"
        let img = try PNG.read(path: dir + "/images/\(name)spot_img.png")
        XCTAssertEqual(img.width, 300); XCTAssertEqual(img.height, 300)
        let csv = try String(contentsOfFile: dir + "/\(name)_coord_snr_list.csv", encoding: .utf8)
        let pts = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
        func grey(_ c: Int, _ r: Int) -> Double {
            let i = img.index(c, r)
            return img.channels == 1 ? Double(img.samples[i]) : Double(img.samples[i]) + Double(img.samples[i + 1]) + Double(img.samples[i + 2])
        }
        let atTruth = pts.map { grey(Int($0[0]), Int($0[1])) }.reduce(0, +) / Double(pts.count)
        var all = 0.0
        for r in 0..<img.height { for c in 0..<img.width { all += grey(c, r) } }
        XCTAssertGreaterThan(atTruth, 1.5 * all / Double(img.width * img.height))
    }

    func testUnreadableFileIsReported() {
        let p = NSTemporaryDirectory() + "crowdlab-notpng.png"
        try? "hello".write(toFile: p, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PNG.read(path: p)) { e in XCTAssertTrue("\(e)".hasPrefix(p + ": not a readable PNG"), "\(e)") }
    }
}

final class SegmentationTests: XCTestCase {
    func testOtsuSplitsTwoLevels() {
        let v = [Double](repeating: 10, count: 50) + [Double](repeating: 200, count: 50)
        let t = ClassicSegmentation.otsu(v)
        XCTAssertGreaterThan(t, 10); XCTAssertLessThan(t, 200)
    }

    func testWatershedSplitsTouchingBlobsAndSizeFilterWorks() {
        var img = Image(width: 60, height: 40, bitDepth: 8, fill: 10)
        // Two touching discs (centres 10 px apart) and one small dot far away.
        for r in 0..<40 { for c in 0..<60 {
            let d1 = hypot(Double(c - 20), Double(r - 20)), d2 = hypot(Double(c - 30), Double(r - 20)), d3 = hypot(Double(c - 52), Double(r - 8))
            var v = 10.0
            v += 180 * exp(-d1 * d1 / (2 * 16)) + 180 * exp(-d2 * d2 / (2 * 16)) + 150 * exp(-d3 * d3 / 2)
            img[c, r] = UInt16(min(255, v))
        } }
        let p = ClassicSegmentation.particles(img, sigma: 1, markerSeparation: 3)
        XCTAssertEqual(p.count, 3, "\(p)")
        let big = ClassicSegmentation.filter(p, area: 20...10_000)
        XCTAssertEqual(big.count, 2)
        let cols = big.map(\.col).sorted()
        XCTAssertEqual(cols[0], 20, accuracy: 2, "the watershed splits the touching pair at the ridge")
        XCTAssertEqual(cols[1], 30, accuracy: 2)
        for q in big { XCTAssertEqual(q.row, 20, accuracy: 1.5) }
    }
}
