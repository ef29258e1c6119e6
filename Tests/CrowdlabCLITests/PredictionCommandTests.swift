import Foundation
import XCTest

/// calibrate, validate and predict on the real pilot shipped in Data/, as a user runs them.
final class PredictionCommandTests: XCTestCase {
    let cli = CLIRunner()
    let smfish = "Data/quanti-us/smfish-inverted"

    func testCalibrateThenPredictGivesIntervalsAndIsRepeatable() throws {
        let dir = cli.temp()
        let cal = try cli.run(["calibrate", smfish + "/export.json", "--truth", smfish, "--images", smfish + "/images", "--out", dir + "/pilot.yaml", "--report", dir + "/report"])
        XCTAssertEqual(cal.status, 0, cal.err)
        let page = try String(contentsOfFile: dir + "/report/report.html", encoding: .utf8)
        for part in ["Detection by visibility", "Clicks per worker on each image", "False positives by annotation index", "Pointing: RMSE and click period"] {
            XCTAssertTrue(page.contains(part), part)
        }
        XCTAssertTrue(page.contains("<td>3</td>"), "one row per image of the pilot")
        let yaml = try String(contentsOfFile: dir + "/pilot.yaml", encoding: .utf8)
        XCTAssertTrue(yaml.contains("uncertainty:"), "the fitted errors are written for predict")
        // simulate takes what calibrate wrote.
        let sim = try cli.run(["simulate", "--truth", smfish, "--images", smfish + "/images", "--replicates", "5", "--population", dir + "/pilot.yaml", "--out", dir + "/sim.json"])
        XCTAssertEqual(sim.status, 0, sim.err)
        let args = ["predict", "--population", dir + "/pilot.yaml", "--truth", smfish, "--images", smfish + "/images", "--replicates", "10", "--seeds", "4"]
        let a = try cli.run(args + ["--json", dir + "/a.json"]), b = try cli.run(args + ["--json", dir + "/b.json"])
        XCTAssertEqual(a.status, 0, a.err); XCTAssertEqual(b.status, 0, b.err)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.json"))
        XCTAssertEqual(bytes, try Data(contentsOf: URL(fileURLWithPath: dir + "/b.json")), "same seeds, same prediction")
        let j = try JSONSerialization.jsonObject(with: bytes) as! [String: Any]
        XCTAssertEqual(j["level"] as? Double, 0.9)
        let consensus = j["consensus"] as! [String: [String: Double]]
        for figure in ["precision", "recall"] {
            let i = consensus[figure]!
            XCTAssertLessThanOrEqual(i["low"]!, i["mean"]!); XCTAssertLessThanOrEqual(i["mean"]!, i["high"]!)
            XCTAssertGreaterThanOrEqual(i["low"]!, 0); XCTAssertLessThanOrEqual(i["high"]!, 1)
            XCTAssertGreaterThan(i["high"]! - i["low"]!, 0, "an interval, not a point")
        }
        XCTAssertEqual((j["images"] as! [String: Any]).count, 3)
    }

    func testValidateSetsRealAgainstPredicted() throws {
        let dir = cli.temp()
        let r = try cli.run(["validate", "Data/quanti-us/synth-cells/export.json", "--calibrate-on", "Data/quanti-us/synth-tissue/export.json",
                             "--seeds", "2", "--json", dir + "/v.json"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("synth-cells (30 per image), calibrated on synth-tissue"), r.out)
        XCTAssertTrue(r.out.contains("consensus recall"), r.out)
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/v.json"))) as! [[String: Any]]
        XCTAssertEqual(rows.count, 1)
        let real = rows[0]["real"] as! [String: Any], predicted = rows[0]["predicted"] as! [String: Any]
        XCTAssertEqual(real["recall"] as! Double, predicted["recall"] as! Double, accuracy: 0.08)
        // The misses by cause, real against predicted: the real count is the analysis's.
        let realErrors = real["errors"] as! [String: Double], predictedErrors = predicted["errors"] as! [String: Double]
        XCTAssertEqual(Set(realErrors.keys), Set(predictedErrors.keys))
        XCTAssertEqual(realErrors["missed_not_clicked"], 95, "synth-cells: 95 of its spots no worker clicked")
        XCTAssertTrue(r.out.contains("missed: neighbour "), r.out)
        // A pilot kept apart from its truth and images names them.
        try FileManager.default.copyItem(atPath: "Data/quanti-us/synth-tissue/export.json", toPath: dir + "/tissue-pilot.json")
        let apart = try cli.run(["validate", "Data/quanti-us/synth-cells/export.json", "--calibrate-on", dir + "/tissue-pilot.json", "--seeds", "2",
                                 "--calibrate-on-truth", "Data/quanti-us/synth-tissue", "--calibrate-on-images", "Data/quanti-us/synth-tissue/images"])
        XCTAssertEqual(apart.status, 0, apart.err)
        XCTAssertTrue(apart.out.contains("calibrated on tissue-pilot"), apart.out)
        XCTAssertEqual(apart.out.components(separatedBy: "\n").dropFirst().joined(), r.out.components(separatedBy: "\n").dropFirst().filter { !$0.hasPrefix("wrote") }.joined(),
                       "the same pilot gives the same prediction wherever it lies")
        // Outlines cannot be calibrated on: the error says what the export holds.
        let outlines = try cli.run(["validate", "Data/quanti-us/circle-spots/export.json", "--pilot-workers", "3"])
        XCTAssertNotEqual(outlines.status, 0)
        XCTAssertTrue(outlines.err.contains("no crosshair submissions (") && outlines.err.contains("polygon"), outlines.err)
        // One crowd alone cannot be left out.
        let one = try cli.run(["validate", "Data/quanti-us/synth-cells/export.json"])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.err.contains("leave-one-out needs two crowds or more"), one.err)
    }

    /// Pilots of 10 workers per image drawn from the synth-tissue crowd predict the whole crowd of
    /// 30: the real precision and recall lie inside each pilot's 90 % intervals.
    func testPilotsDrawnFromACrowdPredictTheWholeCrowd() throws {
        let dir = cli.temp()
        let r = try cli.run(["validate", "Data/quanti-us/synth-tissue/export.json", "--pilot-workers", "10", "--pilots", "2", "--seeds", "4", "--json", dir + "/p.json",
                             "--pilots-out", dir + "/pilots"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("synth-tissue: pilots of 10 workers per image, each predicting the whole crowd (30 per image)"), r.out)
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/p.json"))) as! [[String: Any]]
        XCTAssertEqual(rows.count, 2)
        for row in rows {
            XCTAssertEqual(row["pilotSubmissions"] as? Int, 90, "10 workers on each of 9 images")
            XCTAssertEqual(row["realRecall"] as! Double, 0.884, accuracy: 0.001)
            XCTAssertEqual(row["recallInside"] as? Bool, true, "\(row)")
            XCTAssertEqual(row["precisionInside"] as? Bool, true, "\(row)")
        }
        // Each pilot's population, as calibrate writes one: simulate reads it, and predict gives
        // from it the interval the check set the real crowd against (its fitted errors included).
        for draw in 1...2 {
            let yaml = dir + "/pilots/synth-tissue-pilot-\(draw).yaml"
            let sim = try cli.run(["simulate", "--truth", "Data/quanti-us/synth-tissue", "--images", "Data/quanti-us/synth-tissue/images", "--replicates", "2", "--population", yaml, "--out", dir + "/sim\(draw).json"])
            XCTAssertEqual(sim.status, 0, sim.err)
        }
        let predicted = try cli.run(["predict", "--population", dir + "/pilots/synth-tissue-pilot-1.yaml", "--truth", "Data/quanti-us/synth-tissue",
                                     "--images", "Data/quanti-us/synth-tissue/images", "--replicates", "30", "--seeds", "4", "--json", dir + "/predict.json"])
        XCTAssertEqual(predicted.status, 0, predicted.err)
        let fromFile = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/predict.json"))) as! [String: Any]
        let fileRecall = (fromFile["consensus"] as! [String: [String: Double]])["recall"]!
        let checkRecall = (rows[0]["predicted"] as! [String: [String: Double]])["recall"]!
        // The two take the images in different orders, so their simulated crowds differ by chance
        // (within 0.01 here); the population's fitted errors left out, the mean moves by 0.016.
        for end in ["low", "mean", "high"] { XCTAssertEqual(fileRecall[end]!, checkRecall[end]!, accuracy: 0.012, end) }
        let bad = try cli.run(["validate", "Data/quanti-us/synth-tissue/export.json", "--pilot-workers", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--pilot-workers: must be 2 or more"), bad.err)
    }

    func testCalibrateNamesAMissingImage() throws {
        let dir = cli.temp()
        let r = try cli.run(["calibrate", smfish + "/export.json", "--truth", smfish, "--images", "Data/quanti-us/synth-cells/images", "--out", dir + "/p.yaml"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("Data/quanti-us/synth-cells/images/C2-ISP_293T"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/p.yaml"), "no file written")
    }
}
