import XCTest
@testable import Consensus
import Randomness

/// The portal lists an export's records in no fixed order, and the same submissions listed another
/// way (a second download, two exports joined) must give the same answer: the consensus, its
/// confidences, the shapes and a replay depend only on what the records hold.
final class RecordOrderTests: XCTestCase {
    func shuffled(_ e: QuantiusExport, seed: UInt64) -> QuantiusExport {
        var records = e.records
        let rng = SeededRandom(seed: seed)
        for i in stride(from: records.count - 1, to: 0, by: -1) { records.swapAt(i, rng.int(i + 1)) }
        XCTAssertNotEqual(records.map(\.workerID), e.records.map(\.workerID), "the shuffle moved records")
        return QuantiusExport(records: records)
    }

    /// Every object of every image, with what `consensus.csv` says of it, in one order.
    func objects(_ r: AnalysisResult) -> [String] {
        r.consensus.flatMap { c in
            c.points.map { p in "\(c.image) \(p.x) \(p.y) \(p.support) \(String(format: "%.9f %.9f", p.weightedSupport, p.confidence ?? -1))" }
        }.sorted()
    }

    func testShuffledRecordsGiveTheSameConsensus() throws {
        for set in ["smfish-inverted", "synth-cells"] {
            let e = try ExportReader.read(path: dataPath("\(set)/export.json"))
            let original = Analysis.run(export: e, truth: nil)
            for seed: UInt64 in [1, 2] {
                let again = Analysis.run(export: shuffled(e, seed: seed), truth: nil)
                XCTAssertEqual(objects(again), objects(original), "\(set), shuffle \(seed)")
                let missed = Dictionary(uniqueKeysWithValues: original.images.map { ($0.image, $0.expectedMissedObjects) })
                for row in again.images { XCTAssertEqual(row.expectedMissedObjects, missed[row.image]!, "\(set) \(row.image)") }
            }
        }
    }

    func testShuffledOutlinesGiveTheSameShapes() throws {
        let e = try ExportReader.read(path: dataPath("circle-spots/export.json"))
        func shapes(_ e: QuantiusExport) -> [String] {
            ShapeConsensusMethod().consensus(ShapeJob(export: e)).shapes.map { "\($0.image) \($0.support) \($0.centroid) \($0.points)" }.sorted()
        }
        let original = shapes(e)
        XCTAssertGreaterThan(original.count, 600)
        XCTAssertEqual(shapes(shuffled(e, seed: 3)), original)
    }

    func testAReplayDoesNotFollowTheExportsListing() throws {
        let e = try ExportReader.read(path: dataPath("synth-tissue/export.json"))
        var policy = AdaptiveReplicates(); policy.cap = 8
        let a = Replay.run(e, policy: policy, seed: 4), b = Replay.run(shuffled(e, seed: 5), policy: policy, seed: 4)
        XCTAssertEqual(a.workersPerImage, b.workersPerImage)
        XCTAssertEqual(Set(a.export.records.map { "\($0.imageFilename) \($0.workerID)" }),
                       Set(b.export.records.map { "\($0.imageFilename) \($0.workerID)" }))
        XCTAssertLessThan(a.assignments, 9 * 8, "some images settle before the cap")
    }
}
