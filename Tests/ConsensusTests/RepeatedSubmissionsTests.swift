import XCTest
@testable import Consensus
import Randomness

/// A worker's second submission on an image (a second HIT on it, or two downloads of one job
/// joined) must not count against them: each worker's first on an image counts, and what is left
/// out is counted.
final class RepeatedSubmissionsTests: XCTestCase {
    func workersByID(_ r: AnalysisResult) -> [String: WorkerRow] {
        Dictionary(uniqueKeysWithValues: r.workers.map { ($0.worker, $0) })
    }

    func testTwoDownloadsJoinedGiveTheOneDownloadsAnswer() throws {
        let e = try ExportReader.read(path: dataPath("smfish-inverted/export.json"))
        var twice = e.records + e.records
        let rng = SeededRandom(seed: 8)
        for i in stride(from: twice.count - 1, to: 0, by: -1) { twice.swapAt(i, rng.int(i + 1)) }
        let joined = QuantiusExport(records: twice)

        let once = Analysis.run(export: e, truth: nil)
        let kept = joined.keepingFirstSubmissions()
        XCTAssertEqual(kept.repeatedSubmissionsLeftOut, e.records.count)
        XCTAssertEqual(kept.records.count, e.records.count)
        let again = Analysis.run(export: kept, truth: nil)
        XCTAssertEqual(again.crowd.repeatedRecordsLeftOut, e.records.count)
        XCTAssertEqual(again.consensus.map { $0.points.count }.reduce(0, +), once.consensus.map { $0.points.count }.reduce(0, +))
        let a = workersByID(once), b = workersByID(again)
        for (id, w) in a {
            XCTAssertEqual(b[id]?.annotations, w.annotations, id)
            XCTAssertEqual(b[id]?.reliability ?? -1, w.reliability ?? -1, accuracy: 1e-12, id)
        }

        // Pooled instead, every click has a twin from the same worker, and a worker clicks an object
        // once: the twins form a second copy of every object, and every worker's clicks count twice.
        let pooled = Analysis.run(export: joined, truth: nil)
        let objects = { (r: AnalysisResult) in r.consensus.map { $0.points.count }.reduce(0, +) }
        XCTAssertGreaterThan(Double(objects(pooled)), 1.8 * Double(objects(once)))
        for (id, w) in workersByID(pooled) { XCTAssertEqual(w.annotations, 2 * a[id]!.annotations, id) }
    }

    func record(_ worker: String, _ image: String = "a.png", _ type: AnnotationType = .crosshairs,
                time: String?, clicks: Int) -> ExportRecord {
        ExportRecord(imageFilename: image, workerID: worker, annotationType: type, width: 100, height: 100, timeWhenCompleted: time,
                     rawData: [(0..<clicks).map { Vertex(x: Double(10 + $0), y: 20, timestamp: Double(1000 * $0)) }])
    }

    func testTheFirstCompletedCountsWhateverTheListing() {
        // PDT then UTC: the zone is the portal's for the whole export; 17:05 comes after 16:30.
        let early = record("W1", time: "Thu Jul 19 16:30:29 PDT 2018", clicks: 5)
        let late = record("W1", time: "Thu Jul 19 17:05:00 PDT 2018", clicks: 9)
        let unreadable = record("W1", time: "yesterday", clicks: 7)
        let other = record("W2", time: "Thu Jul 19 18:00:00 PDT 2018", clicks: 3)
        let outline = record("W1", "a.png", .polygon, time: "Thu Jul 19 18:00:00 PDT 2018", clicks: 4)
        let elsewhere = record("W1", "b.png", time: "Thu Jul 19 18:00:00 PDT 2018", clicks: 2)
        for listing in [[late, unreadable, early, other, outline, elsewhere], [early, other, outline, late, elsewhere, unreadable],
                        [elsewhere, outline, unreadable, other, late, early]] {
            let kept = QuantiusExport(records: listing).keepingFirstSubmissions()
            XCTAssertEqual(kept.repeatedSubmissionsLeftOut, 2)
            XCTAssertEqual(Set(kept.records.map { "\($0.workerID) \($0.imageFilename) \($0.annotationType) \($0.vertexCount)" }),
                           ["W1 a.png crosshairs 5", "W2 a.png crosshairs 3", "W1 a.png polygon 4", "W1 b.png crosshairs 2"])
            XCTAssertEqual(kept.records.map(\.vertexCount), listing.map(\.vertexCount).filter { $0 != 9 && $0 != 7 }, "the export's order stays")
        }
        // Times that do not read: the canonical order decides, the same for any listing.
        let x = record("W1", time: nil, clicks: 6), y = record("W1", time: "soon", clicks: 8)
        XCTAssertEqual(QuantiusExport(records: [x, y]).keepingFirstSubmissions().records,
                       QuantiusExport(records: [y, x]).keepingFirstSubmissions().records)
        XCTAssertNotNil(QuantiusExport(records: [x, y]).keepingFirstSubmissions().repeatedSubmissionsNote(file: "e.json"))
        let clean = QuantiusExport(records: [early, other]).keepingFirstSubmissions()
        XCTAssertEqual(clean.records, [early, other])
        XCTAssertNil(clean.repeatedSubmissionsNote(file: "e.json"))
    }
}
