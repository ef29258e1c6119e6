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
