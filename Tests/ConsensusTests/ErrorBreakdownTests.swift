import XCTest
@testable import Consensus

/// The errors of a consensus by cause (`ErrorBreakdown`).
final class ErrorBreakdownTests: XCTestCase {
    /// One object of each cause, laid out by hand: a pair 2 px apart clicked as one, a spot one
    /// worker clicked, a spot nobody clicked, a spot three workers clicked that has no object, a
    /// second object beside a found spot, and an object far from every spot.
    func testEachCauseIsNamed() {
        var clicks = ImageClicks(image: "img.png", width: 100, height: 100, workers: Array(0..<10), xs: [], ys: [], worker: [], timestamp: [])
        func click(_ w: Int, _ x: Double, _ y: Double) -> Int {
            clicks.xs.append(x); clicks.ys.append(y); clicks.worker.append(Int32(w)); clicks.timestamp.append(0)
            return clicks.count - 1
        }
        // Ten workers click between the pair at (20, 20) and (22, 20), half of them nearer each.
        let pair = (0..<10).map { click($0, $0 < 5 ? 20.6 : 21.4, 20 + Double($0 % 3) * 0.3) }
        let found = (0..<10).map { click($0, 40, 80) }
        let beside = [click(0, 45, 80), click(1, 45, 81)]
        _ = click(3, 60, 60)                              // one worker on the spot at (60, 60)
        _ = (4..<7).map { click($0, 70, 40) }             // three on (70, 40), no object formed
        let stray = (0..<4).map { click($0, 90, 90) }
        let points = [
            ConsensusPoint(x: 21, y: 20, support: 10, weightedSupport: 10, members: pair),
            ConsensusPoint(x: 40, y: 80, support: 10, weightedSupport: 10, members: found),
            ConsensusPoint(x: 45, y: 80.5, support: 2, weightedSupport: 2, members: beside),
            ConsensusPoint(x: 90, y: 90, support: 4, weightedSupport: 4, members: stray),
        ]
        let truth = TruthPoints(xs: [20, 22, 40, 60, 80, 70], ys: [20, 20, 80, 60, 20, 40], snr: nil, source: "hand")
        let e = ErrorBreakdown.of(points, truth: truth, clicks: clicks, matchRadius: 8, pointingRadius: 4, vote: 2)
        XCTAssertEqual(e.missedTakenByNeighbour, 1)
        XCTAssertEqual(e.missedTooFewWorkers, 1)
        XCTAssertEqual(e.missedNotClicked, 1)
        XCTAssertEqual(e.missedTurnedDown, 1)
        XCTAssertEqual(e.falseBesideTrueObject, 1)
        XCTAssertEqual(e.falseElsewhere, 1)
        let (score, _) = scoreAgainstTruth(points, truth, radius: 8)
        XCTAssertEqual(e.missed, score.fn)
        XCTAssertEqual(e.falseObjects, score.fp)
        // Without a vote every miss someone clicked is turned down; with a vote of four, three workers are too few.
        XCTAssertEqual(ErrorBreakdown.of(points, truth: truth, clicks: clicks, matchRadius: 8, pointingRadius: 4, vote: nil).missedTurnedDown, 2)
        XCTAssertEqual(ErrorBreakdown.of(points, truth: truth, clicks: clicks, matchRadius: 8, pointingRadius: 4, vote: 4).missedTooFewWorkers, 2)
        XCTAssertEqual(e.sentence, "missed 4: 1 clicked by no worker, 1 by fewer workers than the vote, 1 turned down, 1 taken by a neighbour's object; false 2: 1 beside a true object, 1 elsewhere")
    }

    /// On the real crowds the causes add up to each image's misses and false objects, and fall
    /// where the images say they should: spots nobody clicked on the faint (SNR 5) images, spots
    /// taken by a neighbour's object on the crowded (150-spot) ones and on the widest smFISH field.
    func testRealCrowdsMissFaintSpotsAndCloseNeighbours() throws {
        for set in ["synth-cells", "synth-tissue", "smfish-inverted"] {
            let e = try ExportReader.read(path: dataPath("\(set)/export.json"))
            let r = Analysis.run(export: e, truth: try TruthSet.load(path: dataPath(set), export: e))
            for row in r.images {
                XCTAssertEqual(row.errors?.missed, row.score?.fn, "\(set) \(row.image)")
                XCTAssertEqual(row.errors?.falseObjects, row.score?.fp, "\(set) \(row.image)")
            }
            XCTAssertEqual(r.errors?.missed, r.overall?.fn)
            func sum(_ rows: [ImageRow], _ cause: KeyPath<ErrorBreakdown, Int>) -> Int { rows.reduce(0) { $0 + $1.errors![keyPath: cause] } }
            if set == "smfish-inverted" {
                let widest = r.images.first { $0.image.hasSuffix("_700_inv.png") }!
                XCTAssertGreaterThan(sum([widest], \.missedTakenByNeighbour), sum(r.images.filter { $0.image != widest.image }, \.missedTakenByNeighbour))
                continue
            }
            let faint = r.images.filter { $0.image.contains("_snr5_") }, crowded = r.images.filter { $0.image.contains("nspots150_") }
            XCTAssertGreaterThan(sum(faint, \.missedNotClicked), sum(r.images.filter { !$0.image.contains("_snr5_") }, \.missedNotClicked), set)
            XCTAssertGreaterThan(sum(crowded, \.missedTakenByNeighbour), sum(r.images.filter { !$0.image.contains("nspots150_") }, \.missedTakenByNeighbour), set)
        }
    }
}
