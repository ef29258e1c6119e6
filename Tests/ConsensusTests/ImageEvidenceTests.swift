import XCTest
import Imaging
import Randomness
@testable import Consensus

/// Image evidence: candidates the vote turned down, heard on the image's pixels.
final class ImageEvidenceTests: XCTestCase {
    /// A 100x100 field of Gaussian spots on camera noise, dark spots on light when `inverted`.
    func field(spots: [(Double, Double)], inverted: Bool, seed: UInt64, blob: (Double, Double)? = nil) -> Image {
        let rng = SeededRandom(seed: seed)
        var picture = Image(width: 100, height: 100)
        for row in 0..<100 {
            for col in 0..<100 {
                var v = 60 + rng.gaussian(sigma: 6)
                for (x, y) in spots {
                    let dx = Double(col) - x, dy = Double(100 - row) - y
                    v += 80 * exp(-(dx * dx + dy * dy) / (2 * 1.75 * 1.75))
                }
                if let (x, y) = blob {
                    let dx = Double(col) - x, dy = Double(100 - row) - y
                    v += 120 * exp(-(dx * dx + dy * dy) / (2 * 6 * 6))
                }
                if inverted { v = 255 - v }
                picture[col, row] = UInt16(min(255, max(0, v.rounded())))
            }
        }
        return picture
    }

    /// 30 workers: eight spots clicked by 24 each, one faint-to-the-crowd spot by 2, an empty place by 2.
    func crowd() -> (ClickJob, spots: [(Double, Double)], weak: (Double, Double), empty: (Double, Double)) {
        let strong: [(Double, Double)] = [(15, 15), (15, 50), (15, 85), (50, 15), (50, 85), (85, 15), (85, 50), (85, 85)]
        let weak = (50.0, 50.0), empty = (30.0, 68.0)
        let rng = SeededRandom(seed: 7)
        var clicks: [(Int, Double, Double)] = []
        func click(_ w: Int, _ p: (Double, Double)) { clicks.append((w, (p.0 + rng.gaussian(sigma: 1)).rounded(), (p.1 + rng.gaussian(sigma: 1)).rounded())) }
        for w in 0..<30 {
            for (k, s) in strong.enumerated() where (w + k) % 5 != 0 { click(w, s) }
            if w < 2 { click(w, weak) }
            if w == 2 || w == 3 { click(w, empty) }
        }
        return (job(clicks, workers: 30), strong + [weak], weak, empty)
    }

    func near(_ c: ImageConsensus, _ p: (Double, Double)) -> Bool {
        c.points.contains { hypot($0.x - p.0, $0.y - p.1) <= 3 }
    }

    func testASpotTheImageShowsIsAdmittedAndAnEmptyPlaceIsNot() {
        let (job, spots, weak, empty) = crowd()
        let vote = AgreementConsensus().consensus(job)[0]
        XCTAssertEqual(vote.points.count, 8, "the vote keeps the eight spots 24 of 30 workers clicked")
        XCTAssertFalse(near(vote, weak), "two of 30 workers are below the vote")
        for inverted in [false, true] {
            let method = ImageEvidenceConsensus(images: ["img.png": field(spots: spots, inverted: inverted, seed: 3)])
            let c = method.consensus(job)[0]
            XCTAssertTrue(near(c, weak), "inverted \(inverted): the image shows the spot two workers clicked")
            XCTAssertFalse(near(c, empty), "inverted \(inverted): nothing in the image where two workers clicked an empty place")
            XCTAssertEqual(c.points.count, 9)
            XCTAssertEqual(c.diagnostics.evidenceTested, 2)
            XCTAssertEqual(c.diagnostics.evidenceAdmitted, 1)
            let marked = c.points.filter(\.admittedByImage)
            XCTAssertEqual(marked.count, 1, "inverted \(inverted): the admitted object, and only it, is marked as the image's")
            XCTAssertTrue(marked.allSatisfy { hypot($0.x - weak.0, $0.y - weak.1) <= 3 })
        }
        XCTAssertFalse(vote.points.contains(where: \.admittedByImage), "the vote marks nothing as the image's")
    }

    /// A broad bright patch two workers clicked stands out at the spot scale too, but it is not
    /// shaped like the spots the crowd agreed on.
    func testAPatchShapedUnlikeTheAcceptedSpotsIsRefused() {
        let (base, spots, weak, _) = crowd()
        let patch = (72.0, 32.0)
        var job = base
        for w in 4...5 {
            job.images[0].xs.append(patch.0 + Double(w - 4)); job.images[0].ys.append(patch.1)
            job.images[0].worker.append(Int32(w)); job.images[0].timestamp.append(0)
        }
        var method = ImageEvidenceConsensus(images: ["img.png": field(spots: spots, inverted: false, seed: 3, blob: patch)])
        let shaped = method.consensus(job)[0]
        XCTAssertTrue(near(shaped, weak))
        XCTAssertFalse(near(shaped, patch), "the patch is refused for its shape")
        method.requireAcceptedShape = false
        XCTAssertTrue(near(method.consensus(job)[0], patch), "without the shape test its response alone would admit it")
    }

    /// Exports from other tools may hold clicks far outside the image: they are tested like any
    /// candidate, on the pixel nearest them, and the image shows nothing there.
    func testClicksFarOutsideTheImageAreHandled() {
        let (base, spots, weak, _) = crowd()
        var job = base
        for w in 6...7 {
            job.images[0].xs.append(1e12); job.images[0].ys.append(-1e12)
            job.images[0].worker.append(Int32(w)); job.images[0].timestamp.append(0)
        }
        let c = ImageEvidenceConsensus(images: ["img.png": field(spots: spots, inverted: false, seed: 3)]).consensus(job)[0]
        XCTAssertTrue(near(c, weak))
        XCTAssertFalse(c.points.contains { $0.x > 100 || $0.y < 0 }, "nothing admitted off the image")
        XCTAssertEqual(c.points.count, 9, "the far clicks do not disturb the vote on the image")
        XCTAssertEqual(c.diagnostics.evidenceTested, 3, "the far pair is a candidate, tested and refused")
    }

    /// The re-run without the bottom third of workers keeps the full crowd's filter scale, as it
    /// keeps its click spread, and filters only at that scale and the one the shape is read against.
    func testTheRerunKeepsTheScaleItWasGiven() {
        let (job, spots, weak, _) = crowd()
        let method = ImageEvidenceConsensus(images: ["img.png": field(spots: spots, inverted: false, seed: 3)])
        let first = method.consensus(job)
        let chosen = try! XCTUnwrap(first[0].diagnostics.evidenceScalePx)
        let kept = method.keepingScale(of: first) as! ImageEvidenceConsensus
        XCTAssertEqual(kept.fixedScales, ["img.png": chosen])
        XCTAssertEqual(SpotField.filtered(method.scales, keeping: chosen).count, 2)
        XCTAssertTrue(SpotField.filtered(method.scales, keeping: chosen).contains(chosen))
        let again = kept.consensus(job)[0]
        XCTAssertEqual(again.diagnostics.evidenceScalePx, chosen)
        XCTAssertTrue(near(again, weak))
        XCTAssertEqual(again.points, first[0].points, "the same crowd heard at the same scale gives the same answer")
        XCTAssertEqual(SpotField.filtered(method.scales, keeping: 2.5), method.scales, "a scale not tried is not kept")
    }

    func testWithoutItsImageAnImageKeepsTheVote() {
        let (job, spots, _, _) = crowd()
        let elsewhere = ImageEvidenceConsensus(images: ["other.png": field(spots: spots, inverted: false, seed: 3)])
        let c = elsewhere.consensus(job)[0]
        XCTAssertEqual(c.points, AgreementConsensus().consensus(job)[0].points)
        XCTAssertNil(c.diagnostics.evidenceTested)
    }

    /// The real smFISH fields (an expert's spots as truth) and a real crowd on synthetic cell images.
    func testOnRealCrowdsRecallRisesAndPrecisionHolds() throws {
        for set in ["smfish-inverted", "synth-cells"] {
            let e = try ExportReader.read(path: dataPath("\(set)/export.json"))
            let truth = try TruthSet.load(path: dataPath(set), export: e)
            var pictures: [String: Image] = [:]
            for name in e.imageNames { pictures[name] = try PNG.read(path: dataPath("\(set)/images/\(name)")) }
            let vote = Analysis.run(export: e, truth: truth)
            var options = AnalysisOptions()
            options.method = ImageEvidenceConsensus(images: pictures)
            let heard = Analysis.run(export: e, truth: truth, options: options)
            let (v, h) = (vote.overall!, heard.overall!)
            XCTAssertGreaterThan(h.recall, v.recall + 0.015, "\(set): recall \(v.recall) → \(h.recall)")
            XCTAssertGreaterThan(h.f1, v.f1, "\(set): F1 \(v.f1) → \(h.f1)")
            XCTAssertGreaterThan(h.precision, v.precision - 0.015, "\(set): precision \(v.precision) → \(h.precision)")
            for (a, b) in zip(vote.consensus, heard.consensus) {
                XCTAssertTrue(a.points.allSatisfy { p in b.points.contains { $0.x == p.x && $0.y == p.y } }, "\(set): every object of the vote stays")
            }
        }
    }
}
