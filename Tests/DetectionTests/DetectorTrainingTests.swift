import Consensus
import Imaging
import XCTest
@testable import Detection

/// A short training run on phantom frames of bright blobs: the loss falls, the detector finds the
/// blobs of a frame it did not see, the same seed gives the same model bytes on one thread or two,
/// and the model file is checked on load.
final class DetectorTrainingTests: XCTestCase {
    /// A 48 x 48 grey frame with Gaussian blobs (σ 2 px) on a noisy background, and their centres,
    /// each outside the others' 25 x 25 suppression window.
    func frame(_ seed: Int, blobs: Int = 4) -> (DetectorImage, [(col: Double, row: Double)]) {
        var centres: [(col: Double, row: Double)] = []
        var k = seed * 7919
        func next() -> Int { k = (k &* 1103515245 &+ 12345) & 0x7fffffff; return k }
        while centres.count < blobs {
            let c = Double(6 + next() % 36), r = Double(6 + next() % 36)
            if centres.allSatisfy({ max(abs($0.col - c), abs($0.row - r)) > 12 }) { centres.append((c, r)) }
        }
        var img = Image(width: 48, height: 48)
        for r in 0..<48 { for c in 0..<48 {
            var v = 40.0 + Double(next() % 20)
            for p in centres { v += 150 * exp(-((Double(c) - p.col) * (Double(c) - p.col) + (Double(r) - p.row) * (Double(r) - p.row)) / 8) }
            img[c, r] = UInt16(min(255, v))
        } }
        return (try! DetectorImage(img, name: "frame\(seed).png", selection: nil), centres)
    }

    func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.cropSize = 32; o.cropEpochs = 12; o.cropsPerImage = 4; o.cropBatch = 4
        o.fullEpochs = 6; o.fullBatch = 2
        o.seed = 5
        return o
    }

    func testTrainingLowersTheLossAndFindsBlobsOfANewFrame() throws {
        let train = (0..<4).map { frame($0) }
        var labels = PointLabels(byImage: [:])
        for (im, c) in train { labels.byImage[im.name] = c }
        let (detector, history, _) = try Detector.train(images: train.map(\.0), labels: labels, channelSelection: nil, options: options())
        XCTAssertLessThan(history.last!.loss, 0.5 * history.first!.loss, "\(history.map(\.loss))")
        let (test, truth) = frame(99)
        let found = try detector.detect([test])[0]
        let m = matchPoints(ax: found.map { Double($0.col) }, ay: found.map { Double($0.row) }, bx: truth.map(\.col), by: truth.map(\.row), radius: 3)
        XCTAssertGreaterThanOrEqual(m.pairs.count, 3, "found \(found) for \(truth)")
        XCTAssertLessThanOrEqual(m.unmatchedA, 1)
    }

    func testSameSeedSameModelBytesOnOneThreadOrTwo() throws {
        let train = (0..<3).map { frame($0) }
        var labels = PointLabels(byImage: [:])
        for (im, c) in train { labels.byImage[im.name] = c }
        var o = options()
        o.cropEpochs = 3; o.fullEpochs = 2
        let saved = Parallelism.maxThreads
        defer { Parallelism.maxThreads = saved }
        Parallelism.maxThreads = 1
        let one = try DetectorFile.encode(Detector.train(images: train.map(\.0), labels: labels, channelSelection: nil, options: o).detector)
        Parallelism.maxThreads = 2
        let two = try DetectorFile.encode(Detector.train(images: train.map(\.0), labels: labels, channelSelection: nil, options: o).detector)
        XCTAssertEqual(one, two)
        o.seed = 6
        let other = try DetectorFile.encode(Detector.train(images: train.map(\.0), labels: labels, channelSelection: nil, options: o).detector)
        XCTAssertNotEqual(one, other, "the seed matters")
    }

    func testModelFileRoundTripsAndRefusesDamage() throws {
        let d = Detector(network: FCRN(channels: 3, seed: 1), channelSelection: [0, 1, 2], normalisation: Normalisation(mean: [0.1, 0.2, 0.3], sd: [1, 2, 3]), sigma: 2, peak: 7)
        let data = try DetectorFile.encode(d)
        XCTAssertEqual(try DetectorFile.decode(data, name: "m.fcrn"), d)
        func refused(_ bytes: Data, _ words: String) {
            XCTAssertThrowsError(try DetectorFile.decode(bytes, name: "m.fcrn")) { e in
                XCTAssertTrue("\(e)".hasPrefix("m.fcrn"), "\(e)"); XCTAssertTrue("\(e)".contains(words), "\(e)")
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
        refused(data.prefix(data.count - 5), "truncated")
        var altered = data; altered[altered.count - 3] ^= 0x40
        refused(altered, "checksum")
        refused(Data("\u{89}PNG\r\n\u{1a}\n....".utf8), "not a crowdlab detector")
        refused(data.prefix(20), "header line does not end")
    }

    func testPeaksKeepOneMaximumPerWindowAboveTheThreshold() {
        var v = [Float](repeating: 0, count: 30 * 30)
        v[5 * 30 + 5] = 3; v[5 * 30 + 8] = 2      // within 25 x 25 of the first: suppressed
        v[25 * 30 + 25] = 1.5; v[12 * 30 + 28] = 0.5  // the second kept; the third under the threshold
        let p = Detector.peaks(v, width: 30, height: 30, threshold: 1, window: 25)
        XCTAssertEqual(p.map { [$0.col, $0.row] }, [[5, 5], [25, 25]])
    }
}

/// Detection settings fitted to labels: the level between the objects' peaks and the clutter's,
/// a window small enough to keep touching objects apart, and the paper's window where nothing
/// touches.
final class DetectionFitTests: XCTestCase {
    /// A 120 x 60 output: bumps of height `objects` at the labelled centres, `spacing` px apart in
    /// a row, and bumps of height 0.2 at unlabelled places.
    func output(objects: Float, spacing: Int) -> (Detector.Output, PointLabels) {
        var v = [Float](repeating: 0, count: 120 * 60)
        func bump(_ c: Int, _ r: Int, _ h: Float) {
            for y in 0..<60 { for x in 0..<120 {
                let d2 = Float((x - c) * (x - c) + (y - r) * (y - r))
                v[y * 120 + x] = max(v[y * 120 + x], h * exp(-d2 / 8))
            } }
        }
        let centres = stride(from: 10, to: 110, by: spacing).map { ($0, 15) }
        for (c, r) in centres { bump(c, r, objects) }
        for c in stride(from: 10, to: 110, by: 25) { bump(c, 48, 0.2) }
        var labels = PointLabels(byImage: [:])
        labels.byImage["o.png"] = centres.map { (Double($0.0), Double($0.1)) }
        return (Detector.Output(name: "o.png", width: 120, height: 60, values: v), labels)
    }

    func testTouchingDimObjectsGetALowerLevelAndASmallerWindow() {
        let (out, labels) = output(objects: 0.6, spacing: 9)
        let fit = Detector.bestDetection([out], labels: labels, radius: 4, peak: 7)
        XCTAssertEqual(fit.score.f1, 1, "\(fit)")
        XCTAssertGreaterThan(fit.settings.threshold, 0.2); XCTAssertLessThanOrEqual(fit.settings.threshold, 0.6)
        XCTAssertLessThan(fit.settings.suppression, 18, "9 px apart: a window of 19 or more joins neighbours")
        let paper = Detector.peaks(out.values, width: 120, height: 60, threshold: 1, window: 25)
        XCTAssertTrue(paper.isEmpty, "the paper's 1.0 finds none of them")
    }

    func testIsolatedBrightObjectsKeepThePaperWindow() {
        let (out, labels) = output(objects: 3, spacing: 25)
        let fit = Detector.bestDetection([out], labels: labels, radius: 4, peak: 7)
        XCTAssertEqual(fit.score.f1, 1)
        XCTAssertEqual(fit.settings.suppression, 25)
        XCTAssertEqual(fit.settings.threshold, 7 * 0.42, accuracy: 1e-9, "of equal F the highest level below the objects' 3")
    }
}
