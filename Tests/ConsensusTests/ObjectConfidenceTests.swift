import XCTest
@testable import Consensus

/// Object confidence and worker coverage on real crowds with truth (the truth only scores).
final class ObjectConfidenceTests: XCTestCase {
    func analyse(_ set: String) throws -> AnalysisResult {
        let e = try ExportReader.read(path: dataPath("\(set)/export.json"))
        return Analysis.run(export: e, truth: try TruthSet.load(path: dataPath(set), export: e))
    }

    /// Each consensus object's confidence and whether it matches a true spot.
    func labelled(_ set: String) throws -> [(confidence: Double, real: Bool)] {
        let e = try ExportReader.read(path: dataPath("\(set)/export.json"))
        let t = try TruthSet.load(path: dataPath(set), export: e)
        let r = Analysis.run(export: e, truth: t)
        var out: [(Double, Bool)] = []
        for c in r.consensus {
            guard let truth = t.byImage[c.image] else { continue }
            let m = matchPoints(ax: c.points.map(\.x), ay: c.points.map(\.y), bx: truth.xs, by: truth.ys, radius: 8)
            let matched = Set(m.pairs.map(\.0))
            for (i, p) in c.points.enumerated() { out.append((p.confidence!, matched.contains(i))) }
        }
        return out
    }

    func testConfidentObjectsAreRealAndDoubtfulOnesOftenNot() throws {
        for set in ["synth-cells", "synth-tissue", "smfish-inverted"] {
            let objects = try labelled(set)
            XCTAssertTrue(objects.allSatisfy { $0.confidence >= 0 && $0.confidence <= 1 })
            let real = objects.filter(\.real).map(\.confidence), wrong = objects.filter { !$0.real }.map(\.confidence)
            XCTAssertGreaterThan(real.reduce(0, +) / Double(real.count), wrong.reduce(0, +) / Double(wrong.count) + 0.3, "\(set): real objects are surer")
            let precision = Double(real.count) / Double(objects.count)
            let sure = objects.filter { $0.confidence >= 0.9 }, doubtful = objects.filter { $0.confidence < 0.5 }
            let sureP = Double(sure.filter(\.real).count) / Double(sure.count), doubtfulP = Double(doubtful.filter(\.real).count) / Double(max(1, doubtful.count))
            XCTAssertGreaterThan(sureP, precision, "\(set): objects at 0.9 or more are more often real than all (\(sureP) against \(precision))")
            XCTAssertLessThan(doubtfulP, precision, "\(set): objects below 0.5 are less often real (\(doubtfulP))")
        }
    }

    /// Each image's undecided candidates (what one more worker could turn) are the adaptive
    /// policy's measure, and they are many where the crowd misses most: on the faint images of the
    /// synthetic crowds and the widest smFISH field. Methods without a vote report none.
    func testUndecidedCandidatesMarkTheImagesTheCrowdHasNotSettled() throws {
        for set in ["synth-cells", "synth-tissue"] {
            let r = try analyse(set)
            for (row, c) in zip(r.images, r.consensus) { XCTAssertEqual(row.undecidedObjects, Settledness(c).undecided) }
            func perObject(_ snr: String) -> Double {
                let rows = r.images.filter { $0.image.contains("_snr\(snr)_") }
                XCTAssertEqual(rows.count, 3)
                return rows.map { Double($0.undecidedObjects!) / Double($0.consensusObjects) }.reduce(0, +) / 3
            }
            XCTAssertGreaterThan(perObject("5"), 2 * perObject("20"), set)
        }
        let smfish = try analyse("smfish-inverted")
        let worst = smfish.images.max { $0.undecidedObjects! * $1.consensusObjects < $1.undecidedObjects! * $0.consensusObjects }!
        XCTAssertTrue(worst.image.hasSuffix("_700_inv.png"), worst.image)
        XCTAssertEqual(worst.image, smfish.images.min { $0.score!.recall < $1.score!.recall }!.image, "the least settled field is the one missed most")
        let e = try ExportReader.read(path: dataPath("synth-cells/export.json"))
        var options = AnalysisOptions(); options.method = SubtractiveClustering()
        XCTAssertTrue(Analysis.run(export: e, truth: nil, options: options).images.allSatisfy { $0.undecidedObjects == nil })
    }

    func testWorkersWhoClickMoreCoverMore() throws {
        let r = try analyse("smfish-inverted")
        let ranked = r.workers.filter { $0.coverage != nil && $0.images == 3 }.sorted { $0.annotations < $1.annotations }
        let quarter = ranked.count / 4
        let low = ranked.prefix(quarter).map { $0.coverage! }, high = ranked.suffix(quarter).map { $0.coverage! }
        XCTAssertGreaterThan(high.reduce(0, +) / Double(quarter), 2 * low.reduce(0, +) / Double(quarter),
                             "the busiest quarter of workers covers far more of each field than the least busy")
        XCTAssertTrue(r.workers.allSatisfy { ($0.reliability ?? 0) >= 0 && ($0.reliability ?? 0) <= 1 })
    }
}
