import Foundation
import XCTest

/// Movies and shapes through the command line: generate, simulate --tool, analyze.
final class ShapeCommandTests: XCTestCase {
    let runner = CLIRunner()

    func testTissueMovieEndToEnd() throws {
        let dir = runner.temp()
        var r = try runner.run(["generate", "tissue", "--count", "8", "--seed", "3", "--out", dir + "/frames"])
        XCTAssertEqual(r.status, 0, r.err)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/frames")
        XCTAssertEqual(files.filter { $0.hasSuffix("_truth.json") }.count, 8)
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/frames/tissue_0000_truth.json"))) as! [String: Any]
        let objects = truth["objects"] as! [[String: Any]]
        XCTAssertEqual(objects.first?["kind"] as? String, "polygon")
        XCTAssertEqual(objects.first?["track"] as? String, "tissue")

        r = try runner.run(["simulate", "--truth", dir + "/frames", "--tool", "polygon", "--replicates", "6", "--seed", "2", "--out", dir + "/export.json"])
        XCTAssertEqual(r.status, 0, r.err)
        r = try runner.run(["analyze", dir + "/export.json", "--truth", dir + "/frames", "--images", dir + "/frames", "--out", dir + "/analysis"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("median area error"), r.out)
        XCTAssertTrue(r.out.contains("classic contrast segmentation"), r.out)
        let shapes = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/analysis/consensus_shapes.json"))) as! [[String: Any]]
        XCTAssertEqual(shapes.count, 8, "one consensus outline per frame")
        XCTAssertEqual(Set(shapes.map { $0["kind"] as! String }), ["polygon"])
        for s in shapes {
            XCTAssertGreaterThanOrEqual(s["support"] as! Int, 2)
            XCTAssertGreaterThan((s["points"] as! [[Double]]).count, 8)
        }
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/analysis/metrics.json"))) as! [String: Any]
        let shapeMetrics = try XCTUnwrap(metrics["shapes"] as? [String: Any])
        XCTAssertLessThan(shapeMetrics["median_area_error"] as! Double, 0.05)
        XCTAssertEqual((shapeMetrics["areas"] as! [Any]).count, 8)
        let html = try String(contentsOfFile: dir + "/analysis/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("Area over time"))
    }

    func testUnknownToolIsRefused() throws {
        let dir = runner.temp()
        _ = try runner.run(["generate", "filaments", "--count", "2", "--seed", "1", "--out", dir + "/f"])
        let r = try runner.run(["simulate", "--truth", dir + "/f", "--tool", "lasso", "--replicates", "3", "--out", dir + "/x.json"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("--tool"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.json"))
    }
}
