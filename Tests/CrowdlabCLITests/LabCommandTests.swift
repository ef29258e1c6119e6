import Foundation
import XCTest

/// generate, simulate, calibrate, population and sweep as a user runs them.
final class LabCommandTests: XCTestCase {
    let cli = CLIRunner()

    /// A sweep over replicates says which misses they remove: the objects too few workers clicked
    /// and those nobody clicked fall from three workers to ten; the close pairs clicked as one do not.
    func testASweepShowsWhichMissesReplicatesRemove() throws {
        let out = cli.temp() + "/sweep"
        let r = try cli.run(["sweep", "Scenarios/spots-quickstart.yaml", "--vary", "job.replicates=3,10", "--seeds", "2", "--set", "scene.images=3", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0]
        func mean(_ row: Int, _ cause: String) throws -> Double { try XCTUnwrap(Double(lines[row][try XCTUnwrap(header.firstIndex(of: cause + "_mean"))])) }
        XCTAssertEqual(lines.count, 3)
        XCTAssertLessThan(try mean(2, "missed_too_few_workers"), try mean(1, "missed_too_few_workers") / 2)
        XCTAssertLessThan(try mean(2, "missed_not_clicked"), try mean(1, "missed_not_clicked") / 2)
        XCTAssertGreaterThanOrEqual(try mean(2, "missed_taken_by_neighbour"), try mean(1, "missed_taken_by_neighbour"))
        XCTAssertTrue(try String(contentsOfFile: out + "/report.html", encoding: .utf8).contains("Missed objects by cause against job.replicates"))
    }

    func testGenerateSimulateAnalyzeEndToEnd() throws {
        let dir = cli.temp()
        var r = try cli.run(["generate", "spots", "--count", "3", "--seed", "4", "--out", dir + "/spots"])
        XCTAssertEqual(r.status, 0, r.err)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/spots").sorted()
        XCTAssertEqual(files, ["spots_0000.png", "spots_0000_truth.csv", "spots_0001.png", "spots_0001_truth.csv", "spots_0002.png", "spots_0002_truth.csv"])
        r = try cli.run(["simulate", "--truth", dir + "/spots", "--images", dir + "/spots", "--replicates", "8", "--seed", "2", "--out", dir + "/export.json"])
        XCTAssertEqual(r.status, 0, r.err)
        let first = try Data(contentsOf: URL(fileURLWithPath: dir + "/export.json"))
        r = try cli.run(["simulate", "--truth", dir + "/spots", "--images", dir + "/spots", "--replicates", "8", "--seed", "2", "--out", dir + "/again.json"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/again.json")), first, "same seed, same bytes")
        r = try cli.run(["analyze", dir + "/export.json", "--truth", dir + "/spots", "--out", dir + "/an"])
        XCTAssertEqual(r.status, 0, r.err)
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/an/metrics.json"))) as! [String: Any]
        let overall = m["overall"] as! [String: Any]
        XCTAssertGreaterThan(overall["recall"] as! Double, 0.5)
        XCTAssertGreaterThan(overall["precision"] as! Double, 0.9)
    }

    func assertOneLineError(_ args: [String], contains: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try cli.run(args)
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let lines = r.err.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, r.err, file: file, line: line)
        XCTAssertTrue(r.err.contains(contains), "\(r.err) lacks \(contains)", file: file, line: line)
    }

    func testBadSceneOptionsNameTheOption() throws {
        let out = cli.temp() + "/never"
        try assertOneLineError(["generate", "spots", "--snr", "5-x", "--out", out], contains: "--snr")
        try assertOneLineError(["generate", "spots", "--spots", "90-10", "--out", out], contains: "--spots")
        try assertOneLineError(["generate", "spots", "--background", "stars", "--out", out], contains: "--background")
        try assertOneLineError(["generate", "comets", "--out", out], contains: "'comets' is invalid for '<scene>'")
        try assertOneLineError(["generate", "spots", "--bit-depth", "12", "--out", out], contains: "--bit-depth")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testBadPopulationNamesTheYAMLLine() throws {
        let dir = cli.temp()
        try "detection:\n  plateau: 0.7\npointing:\n  rmse_median_px: -3\n".write(toFile: dir + "/pop.yaml", atomically: true, encoding: .utf8)
        try "col,row,snr\n10,10,8\n".write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        try assertOneLineError(["simulate", "--truth", dir + "/t.csv", "--replicates", "3", "--population", dir + "/pop.yaml", "--out", dir + "/e.json"],
                               contains: "pop.yaml: line 4, field pointing.rmse_median_px: -3 is outside")
        try "detection:\n  plateu: 0.7\n".write(toFile: dir + "/pop.yaml", atomically: true, encoding: .utf8)
        try assertOneLineError(["simulate", "--truth", dir + "/t.csv", "--replicates", "3", "--population", dir + "/pop.yaml", "--out", dir + "/e.json"],
                               contains: "pop.yaml: line 2, field detection.plateu: unknown key (did you mean detection.plateau?)")
        try assertOneLineError(["simulate", "--truth", dir + "/t.csv", "--replicates", "0", "--out", dir + "/e.json"], contains: "--replicates")
        try assertOneLineError(["simulate", "--truth", dir + "/t.csv", "--replicates", "3", "--size", "300by300", "--out", dir + "/e.json"], contains: "--size")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/e.json"))
    }

    func testShippedPopulationsAreTheBuiltInOnes() throws {
        for preset in ["paper", "transwell", "experts"] {
            let r = try cli.run(preset == "paper" ? ["population"] : ["population", "--preset", preset])
            XCTAssertEqual(r.status, 0)
            let shipped = try String(contentsOfFile: CLIRunner.root + "/Scenarios/populations/\(preset).yaml", encoding: .utf8)
            XCTAssertEqual(r.out, shipped, "Scenarios/populations/\(preset).yaml is what `crowdlab population --preset \(preset)` prints")
        }
        let bad = try cli.run(["population", "--preset", "students"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("preset"), bad.err)
    }

    func testCalibrateWritesAReadablePopulation() throws {
        let dir = cli.temp()
        let data = CLIRunner.root + "/Data/quanti-us/synth-cells"
        let r = try cli.run(["calibrate", data + "/export.json", "--truth", data, "--out", dir + "/cells.yaml"])
        XCTAssertEqual(r.status, 0, r.err)
        let text = try String(contentsOfFile: dir + "/cells.yaml", encoding: .utf8)
        XCTAssertTrue(text.contains("measure: snr"))
        XCTAssertTrue(text.contains("fitted ±"))
        try "col,row,snr\n10,10,8\n".write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let s = try cli.run(["simulate", "--truth", dir + "/t.csv", "--replicates", "3", "--population", dir + "/cells.yaml", "--out", dir + "/e.json"])
        XCTAssertEqual(s.status, 0, s.err)
    }

    /// Nothing fits: plan names the cheapest design that meets the targets and the best within the
    /// budget, writes both, and exits 3.
    func testPlanWithNoFittingDesignNamesBothAlternativesAndExitsThree() throws {
        let runner = CLIRunner()
        let out = runner.temp() + "/plan"
        // Recall 0.95 on 500 images of 40 objects costs about $150; within $60 the best reaches about 0.55-0.86.
        let r = try runner.run(["plan", "--objects-per-image", "40", "--images", "500", "--target-recall", "0.95", "--budget", "60", "--seeds", "3", "--out", out])
        XCTAssertEqual(r.status, 3, r.err)
        XCTAssertTrue(r.out.contains("no design meets the targets within budget and deadline"), r.out)
        XCTAssertTrue(r.out.contains("cheapest meeting the targets: $"), r.out)
        XCTAssertTrue(r.out.contains("best within budget and deadline: $"), r.out)
        let plan = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/plan.json"))) as? [String: Any])
        let within = try XCTUnwrap(plan["best_within_limits"] as? [String: Any])
        XCTAssertLessThanOrEqual(try XCTUnwrap(within["cost_usd"] as? Double), 60)
        let cheapest = try XCTUnwrap(plan["cheapest_meeting_targets"] as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(cheapest["cost_usd"] as? Double), 60)
        XCTAssertEqual(cheapest["meets_targets"] as? Bool, true)
        let bad = try runner.run(["plan", "--objects-per-image", "40", "--images", "500", "--target-recall", "0.95", "--budget", "-5"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--budget: must be a positive amount in USD"), bad.err)
        for policy in ["3,2,0.1", "3,15", "x"] {
            let r = try runner.run(["plan", "--objects-per-image", "40", "--images", "500", "--target-recall", "0.9", "--adaptive", policy])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.hasPrefix("Error: --adaptive: "), r.err)
        }
    }
}
