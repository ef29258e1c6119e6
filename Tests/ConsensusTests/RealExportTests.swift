import XCTest
@testable import Consensus

/// The consensus core on real Quanti.us crowds (synth-cells and synth-tissue: 30 workers per
/// image, truth known). The method never sees the truth; it is used only to score.
final class RealExportTests: XCTestCase {
    func analyse(_ set: String, method: any PointConsensusMethod = AgreementConsensus()) throws -> AnalysisResult {
        let e = try ExportReader.read(path: dataPath("\(set)/export.json"))
        let t = try TruthSet.load(path: dataPath(set), export: e)
        var o = AnalysisOptions(); o.method = method
        return Analysis.run(export: e, truth: t, options: o)
    }

    func testBlindConsensusMeetsTheBarOnBothSetsTogether() throws {
        let cells = try analyse("synth-cells"), tissue = try analyse("synth-tissue")
        let all = cells.overall! + tissue.overall!
        XCTAssertEqual(all.tp + all.fn, 1800, "every true spot of the 18 images is counted")
        XCTAssertGreaterThanOrEqual(all.precision, 0.97, "precision \(all.precision)")
        XCTAssertGreaterThanOrEqual(all.f1, 0.90, "F1 \(all.f1)")
    }

    /// The re-run without some workers votes on the full crowd's clusters less their clicks: with
    /// nobody dropped it is the consensus itself; without a third of a real crowd it holds none of
    /// their clicks and finds about what clustering the rest from scratch finds.
    func testTheRerunWithoutSomeWorkersSharesTheClusters() throws {
        let e = try ExportReader.read(path: dataPath("synth-tissue/export.json"))
        let t = try TruthSet.load(path: dataPath("synth-tissue"), export: e)
        let job = ClickJob(export: e), method = AgreementConsensus()
        let full = method.consensus(job)
        XCTAssertTrue(full.allSatisfy { $0.clusters.count == $0.candidateSupports.count })
        XCTAssertEqual(method.rerun(full, of: job, without: []).map(\.points), full.map(\.points))
        let dropped = Set(stride(from: 0, to: job.workerIDs.count, by: 3))
        let shared = method.rerun(full, of: job, without: dropped)
        let kept = job.without(workers: dropped)
        for (k, c) in shared.enumerated() {
            XCTAssertTrue(c.points.allSatisfy { p in p.members.allSatisfy { !dropped.contains(Int(kept.images[k].worker[$0])) } })
            XCTAssertEqual(c.diagnostics.sigmaPx, full[k].diagnostics.sigmaPx, "the full crowd's spread")
            XCTAssertEqual(c.diagnostics.workers, Double(kept.images[k].workers.count))
        }
        let again = method.keepingScale(of: full).consensus(kept)
        func f1(_ c: [ImageConsensus]) -> Double {
            c.reduce(DetectionScore()) { $0 + scoreAgainstTruth($1.points, t.byImage[$1.image]!, radius: 8).0 }.f1
        }
        XCTAssertEqual(f1(shared), f1(again), accuracy: 0.01, "shared \(f1(shared)), clustered again \(f1(again))")
        XCTAssertNotEqual(shared.map(\.points), full.map(\.points))
    }

    func testDefaultBeatsTheBaselines() throws {
        let ours = try analyse("synth-tissue").overall!.f1
        let sub = try analyse("synth-tissue", method: SubtractiveClustering()).overall!.f1
        let db = try analyse("synth-tissue", method: DensityConsensus()).overall!.f1
        XCTAssertGreaterThan(ours, sub + 0.1, "subtractive at radius 0.1 merges neighbouring spots")
        XCTAssertGreaterThan(ours, db)
    }

    /// The portal showed the 700 px wide smFISH field in a 500 px viewer: its clicks fall on the
    /// lattice round(1.4·i), and the narrower fields' and the synthetic images' fill every pixel.
    func testTheWideSmFISHFieldWasShownScaled() throws {
        let job = ClickJob(export: try ExportReader.read(path: dataPath("smfish-inverted/export.json")))
        let scale = Dictionary(uniqueKeysWithValues: job.images.map { im in
            (im.width, DisplayScale.measure(xs: im.xs, ys: im.ys, width: im.width, height: im.height))
        })
        XCTAssertEqual(scale[700]!!, 1.4, accuracy: 1e-12)
        XCTAssertEqual(scale[500]!!, 1)
        XCTAssertEqual(scale[300]!!, 1)
        for im in ClickJob(export: try ExportReader.read(path: dataPath("synth-cells/export.json"))).images {
            XCTAssertEqual(DisplayScale.measure(xs: im.xs, ys: im.ys, width: im.width, height: im.height), 1, im.image)
        }
        // Too few clicks to tell.
        XCTAssertNil(DisplayScale.measure(xs: [1, 2, 3], ys: [1, 2, 3], width: 700, height: 450))
        // Columns recorded at round(1.4·i) are on the lattice; the ones in between are not.
        XCTAssertTrue([101, 102, 104, 105, 106].allSatisfy { DisplayScale.recordable($0, scale: 1.4) })
        XCTAssertFalse([100, 103, 107, 110].contains { DisplayScale.recordable($0, scale: 1.4) })
    }

    func testTruthIsFlippedToClickCoordinates() throws {
        // Median distance from a click to its nearest true spot is 2-3 px with y = height - row.
        let e = try ExportReader.read(path: dataPath("synth-cells/export.json"))
        let t = try TruthSet.load(path: dataPath("synth-cells"), export: e)
        XCTAssertTrue(t.imagesWithoutTruth.isEmpty)
        var d: [Double] = []
        for r in e.records.prefix(30) {
            let tp = t.byImage[r.imageFilename]!
            for v in r.allVertices { d.append(zip(tp.xs, tp.ys).map { dist2(v.x, v.y, $0, $1) }.min()!.squareRoot()) }
        }
        XCTAssertLessThan(median(d), 3.5)
    }

    /// A truth written with 1-based pixel indices (every object a pixel right and a pixel down)
    /// moves the reported offset by that pixel and leaves the workers' pointing error where it was.
    func testATruthOffByAPixelIsReportedAsAnOffsetNotAsPointingError() throws {
        let e = try ExportReader.read(path: dataPath("synth-cells/export.json"))
        let t = try TruthSet.load(path: dataPath("synth-cells"), export: e)
        var shifted = t
        shifted.byImage = t.byImage.mapValues { p in var p = p; p.xs = p.xs.map { $0 + 1 }; p.ys = p.ys.map { $0 - 1 }; return p }
        let a = Analysis.run(export: e, truth: t), b = Analysis.run(export: e, truth: shifted)
        let before = try XCTUnwrap(a.crowd.truthOffsetPx), after = try XCTUnwrap(b.crowd.truthOffsetPx)
        XCTAssertLessThan(hypot(before[0], before[1]), 0.5, "the synthetic truth shares the clicks' convention: \(before)")
        // Most of the pixel: strays within the radius, and the matching's preference for near
        // pairs, hold the mean back.
        XCTAssertTrue((0.5...1).contains(before[0] - after[0]), "\(before) → \(after)")
        XCTAssertTrue((0.5...1).contains(after[1] - before[1]), "\(before) → \(after)")
        for (i, row) in b.images.enumerated() {
            let o = try XCTUnwrap(row.truthOffsetPx), o0 = try XCTUnwrap(a.images[i].truthOffsetPx)
            XCTAssertTrue((0.4...1).contains(o0[0] - o[0]), "\(row.image): \(o0) → \(o)")
        }
        let rmse = try XCTUnwrap(a.crowd.medianWorkerRmsePx), rmseShifted = try XCTUnwrap(b.crowd.medianWorkerRmsePx)
        XCTAssertEqual(rmseShifted, rmse, accuracy: 0.05, "taken about the offset; about the truth itself it would be near \((rmse * rmse + 2).squareRoot())")
        XCTAssertNil(Analysis.run(export: e, truth: nil).crowd.truthOffsetPx, "no truth, no offset")
    }

    func testWorkerStatisticsLookLikeARealCrowd() throws {
        let r = try analyse("synth-cells")
        XCTAssertEqual(r.workers.count, 81)
        let rmse = try XCTUnwrap(r.crowd.medianWorkerRmsePx)
        XCTAssertGreaterThan(rmse, 1.5); XCTAssertLessThan(rmse, 4)     // data README: 2.7 px
        let period = try XCTUnwrap(r.crowd.medianClickPeriodS)
        XCTAssertGreaterThan(period, 0.5); XCTAssertLessThan(period, 2)  // about 1 s
        let fitts = try XCTUnwrap(r.fitts)
        XCTAssertGreaterThan(fitts.b, 0, "slower workers are more accurate")
        XCTAssertEqual(r.filtered.droppedWorkers.count, 27)
        let filtered = try XCTUnwrap(r.filtered.score)
        XCTAssertGreaterThanOrEqual(filtered.precision, r.overall!.precision - 0.01)
    }

    func testWorkerScoreFormula() throws {
        // One image, consensus of three objects; worker 0 finds all, worker 3 finds one and clicks a stray.
        var clicks: [(Int, Double, Double)] = []
        for w in 0..<3 { for x in [10.0, 40, 70] { clicks.append((w, x, 50)) } }
        clicks += [(3, 10, 50), (3, 90, 90)]
        let j = job(clicks, workers: 4)
        var ex: [ExportRecord] = []
        for w in 0..<4 {
            let v = clicks.filter { $0.0 == w }.enumerated().map { Vertex(x: $1.1, y: $1.2, timestamp: Double($0 * 1000)) }
            ex.append(ExportRecord(imageFilename: j.images[0].image, workerID: "W\(w)", annotationType: .crosshairs, width: 100, height: 100, rawData: [v]))
        }
        let r = Analysis.run(export: QuantiusExport(records: ex), truth: nil)
        XCTAssertEqual(r.consensus[0].points.count, 3)
        let w3 = r.workers.first { $0.worker == "W3" }!
        // tp 1, fp 1, fn 2: 1 - (1 + 0.2·2)/(2·1) = 0.3
        XCTAssertEqual(w3.score, 0.3, accuracy: 1e-12)
        XCTAssertEqual(r.workers.first { $0.worker == "W0" }!.score, 1)
    }

    func testLearningCurveLeavesOutWorkersWhoseClicksAreMostlyFalse() throws {
        // Four workers click the same six objects; worker 4 adds ten stray clicks to four right ones.
        let objects: [Double] = [10, 25, 40, 55, 70, 85]
        var ex: [ExportRecord] = []
        func record(_ w: Int, _ pts: [(Double, Double)]) -> ExportRecord {
            ExportRecord(imageFilename: "img.png", workerID: "W\(w)", annotationType: .crosshairs, width: 100, height: 100,
                         rawData: [pts.enumerated().map { Vertex(x: $1.0, y: $1.1, timestamp: Double($0 * 1000)) }])
        }
        for w in 0..<4 { ex.append(record(w, objects.map { ($0, 50) })) }
        let stray = (0..<10).map { (Double(5 + 9 * $0), 90.0) }
        ex.append(record(4, objects.prefix(4).map { ($0, 50) } + stray))
        let truth = TruthSet(byImage: ["img.png": TruthPoints(xs: objects, ys: objects.map { _ in 50 }, snr: nil, source: "test")],
                             imagesWithoutTruth: [], unusedTruthFiles: [])
        var o = AnalysisOptions(); o.learningWindow = 5
        let r = Analysis.run(export: QuantiusExport(records: ex), truth: truth, options: o)
        XCTAssertEqual(r.crowd.learningExcludedWorkers, 1)
        // The four good workers made no false click: the curve over them is flat at zero.
        XCTAssertEqual(r.crowd.learningCurve.map(\.falsePositives).reduce(0, +), 0)
        XCTAssertEqual(r.crowd.learningCurve.first?.annotations, 4 * 6)
        // Without the stray clicks nobody is left out.
        ex[4] = record(4, objects.map { ($0, 50) })
        XCTAssertEqual(Analysis.run(export: QuantiusExport(records: ex), truth: truth, options: o).crowd.learningExcludedWorkers, 0)
    }
}
