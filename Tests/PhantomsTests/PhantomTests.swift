import Foundation
import XCTest
@testable import Imaging
@testable import Phantoms

final class PhantomTests: XCTestCase {
    /// Mean of the 3x3 neighbourhood, in counts above the image median (the background).
    func brightness(_ img: Image, _ col: Int, _ row: Int) -> Double {
        var s = 0.0, n = 0.0
        for r in max(0, row - 1)...min(img.height - 1, row + 1) {
            for c in max(0, col - 1)...min(img.width - 1, col + 1) { s += Double(img[c, r]); n += 1 }
        }
        return s / n
    }

    func medianCount(_ img: Image) -> Double {
        let s = img.samples.sorted()
        return Double(s[s.count / 2])
    }

    /// Nuclei drawn with larger semi-axes cover more of the frame each, in proportion to their
    /// area, and stay at least the packing distance apart.
    func testNucleiGrowWithTheirRadius() {
        func bluePixelsPerNucleus(_ scene: NucleiScene) -> Double {
            let p = scene.render(seed: 4)
            let blue = (0..<(p.image.width * p.image.height)).map { p.image.samples[$0 * 3 + 2] }
            let background = blue.sorted()[blue.count / 2]
            return Double(blue.filter { $0 > background + 40 }.count) / Double(p.truth.count)
        }
        var wide = NucleiScene()
        wide.radius = 9...13
        let ratio = bluePixelsPerNucleus(wide) / bluePixelsPerNucleus(NucleiScene())
        XCTAssertEqual(ratio, 4, accuracy: 1.5, "twice the radius, about four times the area")
        let truth = wide.layout(seed: 4).truth
        for (i, a) in truth.enumerated() {
            for b in truth[(i + 1)...] { XCTAssertGreaterThanOrEqual(hypot(a.col - b.col, a.row - b.row), 1.8 * 9 - 1e-9) }
        }
    }

    func testSpotsAreBrightAtTheTruthByTheirSNRAndNotElsewhere() {
        var scene = SpotsScene()
        scene.count = 80...80
        let p = scene.render(seed: 7)
        XCTAssertEqual(p.truth.count, 80)
        XCTAssertEqual(p.image.width, 300)
        let bg = medianCount(p.image)
        // Noise in counts: the spread of pixels far from every spot.
        var far: [Double] = []
        for r in stride(from: 2, to: 298, by: 3) {
            for c in stride(from: 2, to: 298, by: 3) where p.truth.allSatisfy({ abs($0.col - Double(c)) > 8 || abs($0.row - Double(r)) > 8 }) {
                far.append(Double(p.image[c, r]))
            }
        }
        let noise = (far.map { ($0 - bg) * ($0 - bg) }.reduce(0, +) / Double(far.count)).squareRoot()
        var high = 0
        for t in p.truth {
            let peak = Double(p.image[Int(t.col), Int(t.row)]) - bg
            // Measured peak SNR follows the nominal one (within noise and neighbouring spots).
            if peak / noise > 0.5 * t.snr { high += 1 }
        }
        XCTAssertGreaterThan(Double(high) / 80, 0.95, "spots are bright at the truth")
        // Random places (away from spots) are at background.
        let atFar = far.prefix(200).map { $0 - bg }.reduce(0, +) / 200
        XCTAssertLessThan(abs(atFar), noise)
    }

    func testTruthBrightnessGrowsWithSNR() {
        var scene = SpotsScene()
        scene.count = 150...150
        let p = scene.render(seed: 3)
        let bg = medianCount(p.image)
        let lo = p.truth.filter { $0.snr < 8 }.map { brightness(p.image, Int($0.col), Int($0.row)) - bg }
        let hi = p.truth.filter { $0.snr > 16 }.map { brightness(p.image, Int($0.col), Int($0.row)) - bg }
        XCTAssertGreaterThan(hi.reduce(0, +) / Double(hi.count), 1.8 * lo.reduce(0, +) / Double(lo.count))
    }

    func testSameSeedSameBytesOtherSeedOtherBytes() throws {
        for scene in [SpotsScene() as any PhantomScene, TranswellScene()] {
            let a = scene.render(seed: 11), b = scene.render(seed: 11), c = scene.render(seed: 12)
            XCTAssertEqual(try PNG.encode(a.image), try PNG.encode(b.image))
            XCTAssertEqual(truthCSV(a.truth), truthCSV(b.truth))
            XCTAssertNotEqual(try PNG.encode(a.image), try PNG.encode(c.image))
        }
    }

    func testRenderingInParallelGivesTheSameBytes() throws {
        let scene = SpotsScene()
        let serial = try (0..<6).map { try PNG.encode(scene.render(seed: UInt64($0)).image) }
        final class Box: @unchecked Sendable { var items = [Data](repeating: Data(), count: 6); let lock = NSLock() }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            let d = try! PNG.encode(scene.render(seed: UInt64(i)).image)
            box.lock.lock(); box.items[i] = d; box.lock.unlock()
        }
        XCTAssertEqual(serial, box.items)
    }

    func testSixteenBitAndBackgrounds() {
        var scene = SpotsScene()
        scene.camera.bitDepth = 16
        scene.background = .tissue
        let p = scene.render(seed: 5)
        XCTAssertEqual(p.image.bitDepth, 16)
        XCTAssertGreaterThan(p.image.samples.max()!, 255, "uses the 16-bit range")
        scene.background = .cells
        XCTAssertNotEqual(scene.render(seed: 5).image.samples, p.image.samples)
    }

    /// A layout is the render's truth without its pixels: the same random draws in the same order.
    func testLayoutHasTheRendersTruthAndABlankImage() {
        var scenes: [any PhantomScene] = [TranswellScene()]
        for b in Background.allCases { var s = SpotsScene(); s.background = b; scenes.append(s) }
        var dense = SpotsScene(); dense.density = 0.001; scenes.append(dense)
        for scene in scenes {
            for seed: UInt64 in [1, 77] {
                let full = scene.render(seed: seed), layout = scene.layout(seed: seed)
                XCTAssertEqual(layout.truth, full.truth, "\(scene.name) seed \(seed)")
                XCTAssertFalse(layout.truth.isEmpty)
                XCTAssertEqual(layout.image.width, full.image.width); XCTAssertEqual(layout.image.height, full.image.height)
                XCTAssertTrue(layout.image.samples.allSatisfy { $0 == 0 })
                XCTAssertFalse(full.image.samples.allSatisfy { $0 == 0 })
            }
        }
    }

    func testTranswellHasCellsAndDimmerPores() {
        let p = TranswellScene().render(seed: 2)
        let cells = p.truth.filter { $0.kind == .cell }, pores = p.truth.filter { $0.kind == .pore }
        XCTAssertGreaterThanOrEqual(cells.count, 20)
        XCTAssertGreaterThan(pores.count, 50)
        let bg = medianCount(p.image)
        let cellB = cells.map { brightness(p.image, Int($0.col), Int($0.row)) - bg }.reduce(0, +) / Double(cells.count)
        let poreB = pores.map { brightness(p.image, Int($0.col), Int($0.row)) - bg }.reduce(0, +) / Double(pores.count)
        XCTAssertGreaterThan(poreB, 0, "pores are visible")
        XCTAssertGreaterThan(cellB, 1.3 * poreB, "cells are brighter than pores on average (by design not by much: easy to confuse)")
    }
}
