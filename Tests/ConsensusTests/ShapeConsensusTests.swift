import Foundation
import XCTest
@testable import Consensus

final class ShapeConsensusTests: XCTestCase {
    func testGeometry() {
        let sx = [0.0, 10, 10, 0], sy = [0.0, 0, 10, 10]
        XCTAssertEqual(Geometry.area(sx, sy), 100, accuracy: 1e-9)
        let c = Geometry.centroid(sx, sy, closed: true)
        XCTAssertEqual(c.x, 5, accuracy: 1e-9); XCTAssertEqual(c.y, 5, accuracy: 1e-9)
        XCTAssertEqual(Geometry.length(sx, sy, closed: true), 40, accuracy: 1e-9)
        XCTAssertEqual(Geometry.distance(5, 12, to: sx, sy, closed: true), 2, accuracy: 1e-9)
        XCTAssertEqual(ksStatistic([1, 2, 3], [1, 2, 3]), 0, accuracy: 1e-12)
        XCTAssertEqual(ksStatistic([1, 2, 3], [4, 5, 6]), 1, accuracy: 1e-12)
        XCTAssertEqual(ksStatistic([1, 2, 3, 4], [3, 4, 5, 6]), 0.5, accuracy: 1e-12)
    }

    func testPeriodicSplineThroughACircleKeepsItsArea() {
        // Eight points on a circle of radius 20: the spline's area is near πr², the polygon's is 2√2 r².
        let xs = (0..<8).map { 50 + 20 * cos(Double($0) * .pi / 4) }, ys = (0..<8).map { 50 + 20 * sin(Double($0) * .pi / 4) }
        let (ox, oy) = ShapeConsensusMethod.periodicSpline(xs, ys, points: 64)
        XCTAssertEqual(ox.count, 64)
        XCTAssertEqual(Geometry.area(ox, oy), Double.pi * 400, accuracy: Double.pi * 400 * 0.01)
        XCTAssertLessThan(Geometry.area(xs, ys), Double.pi * 400 * 0.91)
    }

    func testLineLengthStraightAndBent() {
        // A straight line with ±1 px jitter: Deming gives the extent, not the jittery polyline length.
        let xs = (0...50).map { Double($0) * 2 }, ys = (0...50).map { 10 + ($0 % 2 == 0 ? 0.8 : -0.8) }
        let (straight, method) = ShapeConsensusMethod.lineLength(xs, ys)
        XCTAssertEqual(method, "deming")
        XCTAssertEqual(straight, 100, accuracy: 0.5)
        XCTAssertGreaterThan(Geometry.length(xs, ys, closed: false), 102)
        // A half circle of radius 30: arc length π·30.
        let ax = (0...60).map { 50 + 30 * cos(Double($0) * .pi / 60) }, ay = (0...60).map { 50 + 30 * sin(Double($0) * .pi / 60) }
        let (bent, m2) = ShapeConsensusMethod.lineLength(ax, ay)
        XCTAssertEqual(m2, "arc")
        XCTAssertEqual(bent, .pi * 30, accuracy: 1.0)
    }

    func testConsensusOutlineOfNoisyOutlines() {
        // Five workers outline the same 12-px-radius disc with jitter and different vertex counts;
        // one draws an errant outline three times too large around the same centre.
        var shapes: [WorkerShape] = []
        for w in 0..<5 {
            let n = 8 + w * 2
            var xs: [Double] = [], ys: [Double] = []
            for k in 0..<n {
                let angle: Double = 2 * Double.pi * Double(k) / Double(n) + Double(w)
                let rx: Double = 11 + Double((w * 7 + k) % 3), ry: Double = 11 + Double((w * 5 + k) % 3)
                xs.append(100 + rx * cos(angle)); ys.append(100 + ry * sin(angle))
            }
            shapes.append(WorkerShape(image: "a.png", worker: "W\(w)", kind: .polygon, xs: xs, ys: ys))
        }
        let ex = (0..<10).map { 100 + 36 * cos(2 * .pi * Double($0) / 10) }, ey = (0..<10).map { 100 + 36 * sin(2 * .pi * Double($0) / 10) }
        shapes.append(WorkerShape(image: "a.png", worker: "W9", kind: .polygon, xs: ex, ys: ey))
        let records = Dictionary(grouping: shapes, by: \.worker).map { w, s in
            ExportRecord(imageFilename: "a.png", workerID: w, annotationType: .polygon, width: 200, height: 200, timeWhenCompleted: nil,
                         rawData: s.map { sh in zip(sh.xs, sh.ys).map { Vertex(x: $0, y: $1, timestamp: 0) } })
        }.sorted { $0.workerID < $1.workerID }
        let result = ShapeConsensusMethod().consensus(ShapeJob(export: QuantiusExport(records: records)))
        XCTAssertEqual(result.shapes.count, 1)
        let shape = try! XCTUnwrap(result.shapes.first)
        XCTAssertEqual(result.errant, 1, "the outline three times too large is rejected")
        XCTAssertEqual(shape.support, 5)
        XCTAssertEqual(try XCTUnwrap(shape.area), Double.pi * 144, accuracy: Double.pi * 144 * 0.08)
        XCTAssertEqual(shape.centroid[0], 100, accuracy: 1); XCTAssertEqual(shape.centroid[1], 100, accuracy: 1)
    }

    /// Real polygons: on circle-spots (25 workers circled 20-83 spots per image), consensus
    /// centroids match the true spot centres at 8 px with F1 >= 0.80; a vote fixed at a share of
    /// the workers (the point rule) loses the spots few workers circled.
    func testCircleSpotsRealPolygons() throws {
        let export = try ExportReader.read(path: dataPath("circle-spots/export.json"))
        let truth = try TruthSet.load(path: dataPath("circle-spots"), export: export)
        XCTAssertTrue(truth.imagesWithoutTruth.isEmpty)
        let result = ShapeAnalysis.run(export: export, pointTruth: truth, shapeTruth: nil)
        let s = try XCTUnwrap(result.score)
        print(String(format: "circle-spots shape consensus: P %.3f R %.3f F1 %.3f (%d errant, %d unsupported, %d degenerate)",
                     s.precision, s.recall, s.f1, result.consensus.errant, result.consensus.unsupported, result.job.degenerateShapes))
        XCTAssertGreaterThanOrEqual(s.f1, 0.80)
        var fixedShare = ShapeConsensusMethod()
        fixedShare.centroidGrouping.supportBasis = .workers
        let fixed = try XCTUnwrap(ShapeAnalysis.run(export: export, pointTruth: truth, shapeTruth: nil, method: fixedShare).score)
        print(String(format: "  with a vote of 1/8 of the workers: P %.3f R %.3f F1 %.3f", fixed.precision, fixed.recall, fixed.f1))
        XCTAssertLessThan(fixed.recall, s.recall)
        // Sixteen separate images, not a movie: nothing is linked from one to the next.
        XCTAssertFalse(result.isMovie)
        XCTAssertTrue(result.tracks.isEmpty)
        XCTAssertEqual(result.areaOverTime.map(\.image), result.job.images.map(\.image))
    }

    /// Frames are one stem and a number before the extension, no number twice; any other set of
    /// names (the real exports' spot images, two stems, a repeated frame) is not a movie.
    func testFrameSequenceTellsAMovieFromSeparateImages() {
        XCTAssertEqual(FrameSequence.order(["tissue_0002.png", "tissue_0000.png", "tissue_0001.png"]), [1, 2, 0])
        XCTAssertEqual(FrameSequence.order(["t9.png", "t10.png", "t8.png"]), [2, 0, 1])
        XCTAssertEqual(FrameSequence.order(["frame_1", "frame_3"]), [0, 1], "no extension; frames may skip")
        XCTAssertNil(FrameSequence.order(["snr_5_0_density_0.002_spots.png", "snr_5_0_density_0.004_spots.png"]))
        XCTAssertNil(FrameSequence.order(["MAX_ISP_300_1_nspots50_spot_sig1.75_snr5_2.5spot_img.png",
                                          "MAX_ISP_300_1_nspots50_spot_sig1.75_snr10_2.5spot_img.png"]))
        XCTAssertNil(FrameSequence.order(["a_0001.png", "b_0002.png"]), "two stems")
        XCTAssertNil(FrameSequence.order(["t_01.png", "t_1.png"]), "frame 1 twice")
        XCTAssertNil(FrameSequence.order(["t_0001.png"]), "one frame")
    }

    func testTrackerLinksAcrossAGap() {
        // Two objects moving right at 3 px per frame; the first is missed in frame 2.
        var frames: [[(Double, Double)]] = []
        for f in 0..<6 {
            var o: [(Double, Double)] = [(50 + 3 * Double(f), 100 - 1 * Double(f))]
            if f != 2 { o.insert((10 + 3 * Double(f), 20), at: 0) }
            frames.append(o)
        }
        let tracks = Tracker().link(frames: frames)
        XCTAssertEqual(tracks.count, 2)
        XCTAssertEqual(tracks.map(\.frames.count).sorted(), [5, 6])
        for t in tracks { XCTAssertEqual(try XCTUnwrap(t.meanSpeed), t.frames.count == 6 ? (10.0).squareRoot() : 3, accuracy: 1e-9) }
    }
}
