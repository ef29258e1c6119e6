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

    /// Several exports replayed as one job: each on its own, as it would be replayed alone, the
    /// figures pooled; the truth goes with each export in order, `--truth-image` with the export
    /// holding that image; an image in two exports, a missing truth, or two tools are refused.
    func testSeveralExportsAreReplayedAsOneJob() throws {
        let cli = CLIRunner()
        let out = cli.temp()
        let cells = "Data/quanti-us/synth-cells", fish = "Data/quanti-us/smfish-inverted"
        let r = try cli.run(["replay", cells + "/export.json", fish + "/export.json", "--truth", cells, "--truth", fish,
                             "--policy", "adaptive:3,8,0.15", "--orders", "2", "--out", out + "/job"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("over 2 exports"), r.out)
        func json(_ dir: String) throws -> [String: Any] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/replay.json"))) as? [String: Any])
        }
        var alone: [[String: Any]] = []
        for set in [cells, fish] {
            let a = try cli.run(["replay", set + "/export.json", "--truth", set, "--policy", "adaptive:3,8,0.15", "--orders", "2",
                                 "--out", out + "/" + (set as NSString).lastPathComponent])
            XCTAssertEqual(a.status, 0, a.err)
            alone.append(try json(out + "/" + (set as NSString).lastPathComponent))
        }
        let job = try json(out + "/job")
        XCTAssertEqual(job["exports"] as? [String], [cells + "/export.json", fish + "/export.json"])
        XCTAssertEqual(job["assignments"] as? Int, alone.map { $0["assignments"] as! Int }.reduce(0, +))
        XCTAssertEqual(job["images"] as? [String: Int], (alone[0]["images"] as! [String: Int]).merging(alone[1]["images"] as! [String: Int]) { a, _ in a })
        // Pooled counts: 900 + 643 true spots, each export's found and false objects added.
        let missed = alone.map { ($0["errors"] as! [String: Int]).filter { $0.key.hasPrefix("missed_") }.values.reduce(0, +) }
        let falseObjects = alone.map { ($0["errors"] as! [String: Int]).filter { $0.key.hasPrefix("false_") }.values.reduce(0, +) }
        let tp = 1543 - missed.reduce(0, +), fp = falseObjects.reduce(0, +)
        XCTAssertEqual(job["recall"] as! Double, Double(tp) / 1543, accuracy: 1e-12)
        XCTAssertEqual(job["precision"] as! Double, Double(tp) / Double(tp + fp), accuracy: 1e-12)
        let csv = try String(contentsOfFile: out + "/job/consensus.csv", encoding: .utf8)
        let parts = try [cells, fish].map { try String(contentsOfFile: out + "/" + ($0 as NSString).lastPathComponent + "/consensus.csv", encoding: .utf8) }
        XCTAssertEqual(csv, parts[0] + parts[1].split(separator: "\n", maxSplits: 1)[1], "each export's objects, one header")
        // --truth-image goes with the export that holds that image: an expert's spots on one field.
        let field = "C2-ISP_293T_TFRC_InSituPrep_20180712_1_MMStack_Pos0_300_inv"
        let one = try cli.run(["replay", cells + "/export.json", fish + "/export.json", "--truth", cells, "--truth", fish + "/" + field + ".csv",
                               "--truth-image", field + ".png", "--policy", "fixed:30", "--out", out + "/field"])
        XCTAssertEqual(one.status, 0, one.err)
        let scored = try json(out + "/field"), errors = scored["errors"] as! [String: Int]
        let found = 900 + 145 - errors.filter { $0.key.hasPrefix("missed_") }.values.reduce(0, +)
        XCTAssertEqual(scored["recall"] as! Double, Double(found) / 1045, accuracy: 1e-12, "synth-cells' 900 spots and the field's 145")
        for (args, message) in [(["--truth", cells], "--truth: one per export (2 given)"),
                                (["--truth", cells, "--truth", cells], "synth-cells/export.json: image "),
                                (["--truth", cells, "--truth", fish, "--truth-image", "nowhere.png"], "--truth-image: no export holds an image nowhere.png")] {
            let second = args.count == 4 && args[3] == cells ? cells + "/export.json" : fish + "/export.json"
            let bad = try cli.run(["replay", cells + "/export.json", second] + args + ["--out", out + "/bad"])
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.err.contains(message), bad.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/bad"))
        }
        let tools = try cli.run(["replay", cells + "/export.json", "Data/quanti-us/circle-spots/export.json", "--out", out + "/bad"])
        XCTAssertNotEqual(tools.status, 0)
        XCTAssertTrue(tools.err.contains("one job is replayed by one tool"), tools.err)
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
