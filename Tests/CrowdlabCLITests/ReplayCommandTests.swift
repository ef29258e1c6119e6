import Foundation
import XCTest

/// crowdlab replay as a user runs it.
final class ReplayCommandTests: XCTestCase {
    func testReplayWritesTheContractAndWhatEachImageUsed() throws {
        let cli = CLIRunner()
        let out = cli.temp() + "/replay"
        let set = "Data/quanti-us/synth-tissue"
        let r = try cli.run(["replay", set + "/export.json", "--policy", "adaptive", "--truth", set, "--orders", "2", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("adaptive:3,15,0.15: "), r.out)
        XCTAssertTrue(r.out.contains("consensus F1 "), r.out)
        let csv = try String(contentsOfFile: out + "/consensus.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("image,x,y,support"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/replay.json"))) as? [String: Any])
        XCTAssertEqual(json["policy"] as? String, "adaptive:3,15,0.15")
        let images = try XCTUnwrap(json["images"] as? [String: Int])
        XCTAssertEqual(images.count, 9)
        XCTAssertEqual(images.values.reduce(0, +), json["assignments"] as? Int)
        XCTAssertEqual((json["orders"] as? [Any])?.count, 2)
        // The first order's misses by cause are its 900 true spots less those found.
        let errors = try XCTUnwrap(json["errors"] as? [String: Int])
        let found = Int(((json["recall"] as! Double) * 900).rounded())
        XCTAssertEqual(errors.filter { $0.key.hasPrefix("missed_") }.values.reduce(0, +), 900 - found)
        XCTAssertTrue(r.out.contains("first order missed \(900 - found): "), r.out)
        let bad = try cli.run(["replay", set + "/export.json", "--policy", "fixed:0", "--out", out + "2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--policy: \"fixed:0\": expected fixed:K"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "2"))
    }

    /// `--curve` writes the fixed designs' curve beside the policy, as a page and as JSON.
    func testReplayCurveWritesTheFixedDesignsBesideThePolicy() throws {
        let cli = CLIRunner()
        let set = "Data/quanti-us/synth-tissue", out = cli.temp() + "/curve"
        let r = try cli.run(["replay", set + "/export.json", "--truth", set, "--orders", "2", "--curve", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("fixed designs need "), r.out)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/curve.json"))) as? [String: Any])
        let designs = try XCTUnwrap(json["designs"] as? [[String: Any]])
        XCTAssertEqual(designs.map { $0["policy"] as! String }, (3...15).map { "fixed:\($0)" } + ["adaptive:3,15,0.15"])
        XCTAssertEqual(designs[0]["assignments"] as? [Int], [27, 27])
        for d in designs {
            let errors = try XCTUnwrap(d["mean_errors"] as? [String: Double], "every design's errors by cause")
            XCTAssertEqual(errors.keys.sorted(), ["false_beside_true_object", "false_elsewhere", "missed_not_clicked", "missed_taken_by_neighbour",
                                                  "missed_too_few_workers", "missed_turned_down"])
        }
        XCTAssertTrue(try String(contentsOfFile: out + "/curve.html", encoding: .utf8).contains("Where the errors are"))
        let gap = try XCTUnwrap(designs.last?["against_reference"] as? [String: Any])
        XCTAssertEqual(gap["reference"] as? String, "fixed:10")
        let f1 = designs.map { $0["f1"] as! [Double] }
        XCTAssertEqual(gap["f1_gap"] as! Double, zip(f1.last!, f1[7]).map { $0 - $1 }.reduce(0, +) / 2, accuracy: 1e-12)
        let oracle = try XCTUnwrap(json["oracle"] as? [String: Any])
        XCTAssertEqual(oracle["reference"] as? String, "fixed:10")
        XCTAssertEqual((oracle["workers"] as? [String: Int])?.count, 9)
        XCTAssertLessThan(oracle["assignments"] as! Int, 90)
        XCTAssertTrue(r.out.contains("an oracle choosing each image's workers by the truth needs "), r.out)
        let html = try String(contentsOfFile: out + "/curve.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<svg") && html.contains("synth-tissue/export.json") && html.contains("adaptive:3,15,0.15") && html.contains("How much a stopping rule could save"))
        XCTAssertTrue(html.contains(" ± ") && html.contains("standard error"))
        let bad = try cli.run(["replay", set + "/export.json", "--curve", "--out", out + "2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--curve: needs --truth"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "2"))
    }

    /// Several settings weighed on one pilot: each played over the same orders as a replay of it alone.
    func testSeveralPoliciesArePlayedBesideTheCurve() throws {
        let cli = CLIRunner()
        let set = "Data/quanti-us/smfish-inverted", out = cli.temp() + "/curve"
        let policies = ["adaptive:3,15,0.3", "adaptive:3,10,0.1", "fixed:4", "adaptive:3,15,0.3"]
        let r = try cli.run(["replay", set + "/export.json", "--truth", set, "--orders", "2", "--curve", "--out", out]
                            + policies.flatMap { ["--policy", $0] })
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/curve.json"))) as? [String: Any])
        let designs = try XCTUnwrap(json["designs"] as? [[String: Any]])
        XCTAssertEqual(designs.map { $0["policy"] as! String }, (3...15).map { "fixed:\($0)" } + ["adaptive:3,15,0.3", "adaptive:3,10,0.1"])
        let alone = try cli.run(["replay", set + "/export.json", "--policy", "adaptive:3,10,0.1", "--truth", set, "--orders", "2", "--out", out + "-alone"])
        XCTAssertEqual(alone.status, 0, alone.err)
        let aloneJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "-alone/replay.json"))) as? [String: Any])
        XCTAssertEqual(designs.last?["mean_assignments"] as? Double, aloneJSON["mean_assignments"] as? Double)
        XCTAssertEqual(designs.last?["mean_f1"] as? Double, aloneJSON["mean_f1"] as? Double)
        XCTAssertTrue(r.out.contains("adaptive:3,10,0.1: "), r.out)
        let html = try String(contentsOfFile: out + "/curve.html", encoding: .utf8)
        XCTAssertTrue(html.contains("adaptive:3,15,0.3") && html.contains("adaptive:3,10,0.1"))
        let bad = try cli.run(["replay", set + "/export.json", "--policy", "fixed:3", "--policy", "adaptive", "--out", out + "2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--policy: one policy, or several with --curve"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "2"))
    }

    /// The same paid-for submissions, their consensus hearing the images: the same workers, more spots.
    func testReplayWithImageEvidenceFindsMoreWithTheSameWorkers() throws {
        let cli = CLIRunner()
        let set = "Data/quanti-us/smfish-inverted", out = cli.temp()
        func replay(_ extra: [String], _ name: String) throws -> (line: String, json: [String: Any]) {
            let r = try cli.run(["replay", set + "/export.json", "--policy", "fixed:6", "--truth", set, "--out", out + "/" + name] + extra)
            XCTAssertEqual(r.status, 0, r.err)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/\(name)/replay.json"))) as? [String: Any])
            return (r.out, json)
        }
        let vote = try replay([], "vote"), heard = try replay(["--images", set + "/images", "--image-evidence"], "heard")
        XCTAssertEqual(vote.json["images"] as? [String: Int], heard.json["images"] as? [String: Int], "the policy decides by the vote alone")
        XCTAssertGreaterThan(heard.json["recall"] as! Double, vote.json["recall"] as! Double)
        XCTAssertTrue(heard.line.contains("image evidence: "), heard.line)
        XCTAssertFalse(vote.line.contains("image evidence"), vote.line)
        let bad = try cli.run(["replay", set + "/export.json", "--image-evidence", "--out", out + "/bad"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--image-evidence: needs --images"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/bad"))
    }

    /// An outline export is replayed by its outlines: the shape consensus of what was paid for is
    /// written as consensus_shapes.json; image evidence, which hears the images for clicks, is refused.
    func testReplayOfOutlinesWritesTheirConsensus() throws {
        let cli = CLIRunner()
        let set = "Data/quanti-us/circle-spots", out = cli.temp()
        let r = try cli.run(["replay", set + "/export.json", "--policy", "fixed:25", "--truth", set, "--out", out + "/all"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("fixed:25: 400.0 of 400 assignments"), r.out)
        XCTAssertTrue(r.out.contains("wrote \(out)/all/consensus_shapes.json, replay.json"), r.out)
        let shapes = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/all/consensus_shapes.json"))) as? [[String: Any]])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/all/consensus.csv"))
        let analysed = try cli.run(["analyze", set + "/export.json", "--truth", set, "--out", out + "/analyze"])
        XCTAssertEqual(analysed.status, 0, analysed.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/all/consensus_shapes.json")),
                       try Data(contentsOf: URL(fileURLWithPath: out + "/analyze/consensus_shapes.json")), "all workers: analyze's outlines")
        XCTAssertGreaterThan(shapes.count, 600)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/all/replay.json"))) as? [String: Any])
        XCTAssertGreaterThan(json["f1"] as! Double, 0.85)
        // The curve runs to --curve-to, as far as the workers an image has.
        let curve = try cli.run(["replay", set + "/export.json", "--truth", set, "--curve", "--curve-to", "30", "--out", out + "/curve"])
        XCTAssertEqual(curve.status, 0, curve.err)
        let designs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/curve/curve.json"))) as? [String: Any])?["designs"] as? [[String: Any]])
        XCTAssertEqual(designs.map { $0["policy"] as! String }, (3...25).map { "fixed:\($0)" } + ["adaptive:3,15,0.15"])
        XCTAssertEqual(designs[22]["mean_f1"] as! Double, json["f1"] as! Double, accuracy: 1e-12, "fixed:25 is every worker")
        let short = try cli.run(["replay", set + "/export.json", "--truth", set, "--curve", "--curve-to", "2", "--out", out + "/short"])
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.err.contains("--curve-to: must be 3…1000"), short.err)
        // Clicks and outlines in one export: it is replayed by its clicks, and the outlines left out are counted.
        let outlines = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CLIRunner.root + "/" + set + "/export.json"))) as? [Any])
        let clicks = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CLIRunner.root + "/Data/quanti-us/synth-cells/export.json"))) as? [Any])
        try JSONSerialization.data(withJSONObject: clicks + outlines).write(to: URL(fileURLWithPath: out + "/mixed.json"))
        let mixed = try cli.run(["replay", out + "/mixed.json", "--policy", "fixed:5", "--out", out + "/mixed"])
        XCTAssertEqual(mixed.status, 0, mixed.err)
        XCTAssertTrue(mixed.err.contains("note: 400 record(s) of other tools than crosshairs left out"), mixed.err)
        let mixedJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/mixed/replay.json"))) as? [String: Any])
        XCTAssertEqual((mixedJSON["images"] as? [String: Int])?.count, 9, "the click images")
        let bad = try cli.run(["replay", set + "/export.json", "--images", set + "/images", "--image-evidence", "--out", out + "/bad"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--image-evidence: hears the images for clicks"), bad.err)
        XCTAssertEqual(bad.err.split(separator: "\n").count, 1, bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/bad"))
    }
}
